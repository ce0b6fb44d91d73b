package emergency

import (
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config tunes the detector: analyzer.detectors.emergency.
type Config struct {
	Lexicon conf.File `yaml:"lexicon" doc:"A file of emergency terms, one a line; empty: the built-in list." example:"lexicons/emergency.txt"`
	// Window is the counting period; each closed window updates the
	// per-term, per-region EWMA.
	Window conf.Duration `yaml:"window" doc:"The counting period; each closed window updates the usual count of each term in each region."`
	// TableSize is the number of hashed buckets per region (fixed memory).
	TableSize   int     `yaml:"table_size" doc:"Hashed buckets per region (16 to 4096): the memory bound whatever the vocabulary."`
	Alpha       float64 `yaml:"alpha" doc:"EWMA weight of a closed window."`
	Beta        float64 `yaml:"beta" doc:"SigniTrend's bias term, so a rare term is not significant on a count of one."`
	Z           float64 `yaml:"z" doc:"Score at or above which a term bursts."`
	MinCount    int     `yaml:"min_count" doc:"Posts or comments with the term in one window before it may alert."`
	MinAccounts int     `yaml:"min_accounts" doc:"Accounts of the region with the term in one window before it may alert."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{Window: conf.Duration(time.Hour), TableSize: 256, Alpha: 0.1, Beta: 1, Z: 3, MinCount: 3, MinAccounts: 2}
}

// Validate implements plugin.Validator. The lexicon's readability is
// checked when decoding.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("window", c.Window, time.Minute)
	ch.Between("table_size", c.TableSize, 16, 4096)
	ch.Fraction("alpha", c.Alpha)
	ch.Positive("beta", c.Beta)
	ch.Positive("z", c.Z)
	ch.AtLeast("min_count", c.MinCount, 1)
	ch.AtLeast("min_accounts", c.MinAccounts, 1)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "emergency",
		Summary:   "Raises opinion.emergency when emergency terms burst across the accounts of one region.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionEmergency, Name: "舆情：突发公共事件信号", Severity: model.SeverityCritical, Veto: true, Upward: true},
		},
		Templates: Templates,
		New:       detect.OrError(New),
	})
}
