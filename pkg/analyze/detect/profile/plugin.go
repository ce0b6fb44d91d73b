package profile

import (
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.profile.
type Config struct {
	// AcceptAfter is how long a change is reported before it is accepted.
	AcceptAfter conf.Duration `yaml:"accept_after" doc:"How long a changed profile is reported before it becomes the accepted one and the alert resolves."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{AcceptAfter: conf.Duration(7 * 24 * time.Hour)} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("accept_after", c.AcceptAfter, time.Hour)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "profile",
		Summary:   "Raises account.profile_changed when an account's name, avatar or bio changes.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountProfileChanged, Name: "账号信息：名称、头像、简介变更", Severity: model.SeverityMinor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
