package spike

import (
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.spike.
type Config struct {
	History    int     `yaml:"history" doc:"Velocity samples of an account kept as its baseline."`
	MinHistory int     `yaml:"min_history" doc:"Samples needed before anything is judged."`
	Z          float64 `yaml:"z" doc:"Robust z-score (log velocity against the median, MAD scale) at or above which a post spikes."`
	MinScale   float64 `yaml:"min_scale" doc:"Floor of the MAD scale, so a very steady account does not spike on small wobbles."`
	// SpikeHeight is ElastAlert's ratio guard: the velocity must be at
	// least this many times the reference (the EWMA of the velocities).
	SpikeHeight float64 `yaml:"spike_height" doc:"The velocity must be at least this many times the account's usual (its EWMA)."`
	// ThresholdCur and ThresholdRef keep a quiet account (reference 0)
	// from spiking on its first few likes.
	ThresholdCur float64       `yaml:"threshold_cur" doc:"Least number of new interactions between two observations of a post."`
	ThresholdRef float64       `yaml:"threshold_ref" doc:"Least reference velocity (per hour) the ratio is taken against."`
	Alpha        float64       `yaml:"alpha" doc:"EWMA weight of a new velocity sample."`
	MinInterval  conf.Duration `yaml:"min_interval" doc:"Re-polls of a post closer together than this are ignored: their velocities are noise."`
	QuietAfter   conf.Duration `yaml:"quiet_after" doc:"A post's spike ends once no observation of it came for this long."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{History: 64, MinHistory: 8, Z: 3.5, MinScale: 0.25, SpikeHeight: 3, ThresholdCur: 50, ThresholdRef: 5,
		Alpha: 0.1, MinInterval: conf.Duration(10 * time.Minute), QuietAfter: conf.Duration(6 * time.Hour)}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_history", c.MinHistory, 3)
	ch.AtLeast("history", c.History, c.MinHistory)
	ch.Positive("z", c.Z)
	ch.Positive("spike_height", c.SpikeHeight)
	ch.Fraction("alpha", c.Alpha)
	if c.QuietAfter < c.MinInterval || c.QuietAfter < conf.Duration(time.Minute) {
		ch.Errorf("quiet_after", "must be at least min_interval and 1m, not %s", c.QuietAfter)
	}
	ch.NotNegative("min_scale", c.MinScale)
	ch.NotNegative("threshold_cur", c.ThresholdCur)
	ch.NotNegative("threshold_ref", c.ThresholdRef)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "spike",
		Summary:   "Raises opinion.spike when a post's or an account's engagement grows far faster than the account's own baseline.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionSpike, Name: "舆情：互动量异常激增", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
