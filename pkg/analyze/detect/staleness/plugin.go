package staleness

import (
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config sets the default thresholds: analyzer.detectors.staleness. An
// account's stale_after, stale_warning_after and zombie_after override
// them. 0 turns the reminder or the zombie level off, and so does a
// reminder not before the veto or a zombie threshold not after it.
type Config struct {
	// StaleAfter raises account.stale, the checklist's two weeks.
	StaleAfter conf.Duration `yaml:"stale_after" doc:"Silence after which an account is stale (account.stale, the checklist's veto); an account's stale_after overrides it."`
	// WarningAfter raises account.stale_warning, the reminder before the veto.
	WarningAfter conf.Duration `yaml:"warning_after" doc:"Silence after which a reminder (account.stale_warning) goes out before the veto; 0: none."`
	// ZombieAfter raises account.zombie, a candidate for closure or merger.
	ZombieAfter conf.Duration `yaml:"zombie_after" doc:"Silence after which the account is a zombie (account.zombie), a candidate for closure; 0: never."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{StaleAfter: conf.Duration(14 * day), WarningAfter: conf.Duration(10 * day), ZombieAfter: conf.Duration(90 * day)}
}

// Validate implements plugin.Validator. Levels that do not fit around
// stale_after (or an account's own) are off rather than wrong.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("stale_after", c.StaleAfter, time.Second)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "staleness",
		Summary:   "Raises account.stale_warning, account.stale and account.zombie as an active account stays silent.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountStaleWarning, Name: "账号更新：即将超期未更新", Severity: model.SeverityMinor},
			{ID: model.CategoryAccountStale, Name: "账号更新：2 周内无更新", Severity: model.SeverityCritical, Veto: true},
			{ID: model.CategoryAccountZombie, Name: "账号更新：长期不更新", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New: func(c *Config, _ detect.Deps) (detect.Detector, error) {
			return NewLevels(c.WarningAfter.D(), c.StaleAfter.D(), c.ZombieAfter.D()), nil
		},
	})
}
