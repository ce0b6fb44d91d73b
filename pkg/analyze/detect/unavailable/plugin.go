package unavailable

import (
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config sets when probes count as an outage: analyzer.detectors.unavailable.
type Config struct {
	Consecutive    int `yaml:"consecutive" doc:"Failed probes in a row that fire."`
	Window         int `yaml:"window" doc:"Probes remembered per target (1 to 100)."`
	WindowFailures int `yaml:"window_failures" doc:"Failed probes among the last window that fire."`
	RecoverAfter   int `yaml:"recover_after" doc:"Successful probes in a row that resolve."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{Consecutive: 3, Window: 10, WindowFailures: 5, RecoverAfter: 2} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("consecutive", c.Consecutive, 1)
	if c.Window < 1 || c.Window > 100 {
		ch.Errorf("window", "must be 1 to 100 probes, not %d", c.Window)
	}
	if c.WindowFailures < 1 || c.WindowFailures > c.Window {
		ch.Errorf("window_failures", "must be 1 to window (%d), not %d", c.Window, c.WindowFailures)
	}
	if c.RecoverAfter < 1 || c.RecoverAfter > c.Window {
		ch.Errorf("recover_after", "must be 1 to window (%d), not %d", c.Window, c.RecoverAfter)
	}
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "unavailable",
		Summary:   "Raises account.unavailable when an app or page fails its probes, in a row or often within a window.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountUnavailable, Name: "账号可用性：无法访问、无法下载使用", Severity: model.SeverityMajor, Veto: true},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
