package negative

import (
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.negative.
type Config struct {
	Lexicon     conf.File `yaml:"lexicon" doc:"A file of negative terms, one a line; empty: the built-in list." example:"lexicons/negative.txt"`
	MinComments int       `yaml:"min_comments" doc:"Comments a post needs before its share is judged."`
	MinNegative int       `yaml:"min_negative" doc:"Negative comments a post needs before it alerts."`
	MinShare    float64   `yaml:"min_share" doc:"Least share of negative comments (0 to 1) that alerts."`
	// SpikeHeight: the post's share must be at least this many times the
	// account's baseline share.
	SpikeHeight float64 `yaml:"spike_height" doc:"The post's share must be at least this many times the account's usual share."`
	Alpha       float64 `yaml:"alpha" doc:"EWMA weight of one comment in the account's usual share."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{MinComments: 10, MinNegative: 5, MinShare: 0.3, SpikeHeight: 2, Alpha: 0.02}
}

// Validate implements plugin.Validator. The lexicon's readability is
// checked when decoding.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_comments", c.MinComments, 1)
	ch.AtLeast("min_negative", c.MinNegative, 1)
	ch.Fraction("min_share", c.MinShare)
	ch.Positive("spike_height", c.SpikeHeight)
	ch.Fraction("alpha", c.Alpha)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "negative",
		Summary:   "Raises opinion.negative when the share of negative comments on a post rises well above its account's usual share.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionNegative, Name: "舆情：负面评论集中", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.OrError(New),
	})
}
