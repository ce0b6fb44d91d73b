package duplicate

import (
	"fmt"
	"slices"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config tunes the detector: analyzer.detectors.duplicate.
type Config struct {
	// IgnorePlatforms are platforms where a unit may run several accounts.
	IgnorePlatforms []string `yaml:"ignore_platforms" doc:"Platforms where a unit may run several accounts." example:"[other, website]"`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{IgnorePlatforms: []string{"other"}} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	for i, p := range c.IgnorePlatforms {
		if !slices.Contains(registry.Platforms, p) {
			ch.Errorf(fmt.Sprintf("ignore_platforms[%d]", i), "unknown platform %q (one of %v)", p, registry.Platforms)
		}
	}
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "duplicate",
		Summary:   "Raises account.duplicate when a unit runs more than one active account on one platform.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountDuplicate, Name: "账号信息：同一单位同类平台多个账号", Severity: model.SeverityMinor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
