package crossplatform

import (
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.crossplatform.
type Config struct {
	Window   conf.Duration `yaml:"window" doc:"How far apart two posts may be published to be compared."`
	MaxPosts int           `yaml:"max_posts" doc:"Recent posts kept per unit (2 to 256)."`
	// Similarity is the least estimated Jaccard similarity of character
	// 2–3-gram shingles for two posts to be versions of one text.
	Similarity float64 `yaml:"similarity" doc:"Least estimated similarity (0 to 1) of two posts' character shingles for them to be versions of one text."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{Window: conf.Duration(48 * time.Hour), MaxPosts: 32, Similarity: 0.6}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("window", c.Window, time.Hour)
	ch.Between("max_posts", c.MaxPosts, 2, 256)
	ch.Fraction("similarity", c.Similarity)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "crossplatform",
		Summary:   "Raises consistency.cross_platform when one unit publishes the same text on two platforms with a number, date, phone or name that differs.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryConsistencyCrossPlatform, Name: "信息一致性：不同平台发布信息不一致", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}
