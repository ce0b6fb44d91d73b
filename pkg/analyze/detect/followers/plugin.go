package followers

import (
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.followers.
type Config struct {
	History    int     `yaml:"history" doc:"Days of follower growth kept as the account's baseline."`
	MinHistory int     `yaml:"min_history" doc:"Days needed before anything is judged."`
	Z          float64 `yaml:"z" doc:"Robust z-score of a day's growth at or above which it is a jump."`
	// MinJump is the least daily growth, in followers, ever judged a jump.
	MinJump int64 `yaml:"min_jump" doc:"Least daily growth, in followers, ever judged a jump."`
	// MinScale floors the MAD scale as a share of the median daily growth,
	// so a perfectly steady grower does not alert on small wobbles.
	MinScale float64 `yaml:"min_scale" doc:"Floor of the MAD scale as a share of the median daily growth."`
	// ExplainRatio: a day whose engagement is at least this many times its
	// usual explains its growth.
	ExplainRatio float64 `yaml:"explain_ratio" doc:"A day whose engagement is at least this many times its usual explains its growth."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{History: 28, MinHistory: 7, Z: 4, MinJump: 500, MinScale: 0.2, ExplainRatio: 3}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_history", c.MinHistory, 3)
	ch.AtLeast("history", c.History, c.MinHistory)
	ch.Positive("z", c.Z)
	ch.Positive("explain_ratio", c.ExplainRatio)
	if c.MinJump < 1 {
		ch.Errorf("min_jump", "must be at least 1, not %d", c.MinJump)
	}
	ch.NotNegative("min_scale", c.MinScale)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "followers",
		Summary:   "Raises engagement.bought_followers when an account's daily follower growth jumps without engagement to explain it.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryEngagementBoughtFollowers, Name: "违规互动：购买粉丝", Severity: model.SeverityMajor, Veto: true},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
