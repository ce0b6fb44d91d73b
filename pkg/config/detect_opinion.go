package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"time"
)

// OpinionConfig tunes the public-opinion, engagement and consistency
// detectors (analyzer.opinion). Each has its own enable flag.
type OpinionConfig struct {
	Spike           SpikeConfig         `yaml:"spike"`
	Negative        NegativeConfig      `yaml:"negative"`
	Emergency       EmergencyConfig     `yaml:"emergency"`
	BoughtFollowers FollowersConfig     `yaml:"bought_followers"`
	CrossPlatform   CrossPlatformConfig `yaml:"cross_platform"`
}

// SpikeConfig tunes opinion.spike: a post's engagement velocity against its
// account's own baseline.
type SpikeConfig struct {
	Enabled bool `yaml:"enabled"`
	// History is how many velocity samples of an account are kept; MinHistory
	// how many are needed before anything is judged.
	History    int `yaml:"history"`
	MinHistory int `yaml:"min_history"`
	// Z is the robust z-score (log velocity against the median, MAD scale)
	// at or above which a post spikes; MinScale floors the scale.
	Z        float64 `yaml:"z"`
	MinScale float64 `yaml:"min_scale"`
	// SpikeHeight is ElastAlert's ratio guard: the velocity must be at least
	// this many times the reference (the EWMA of the account's velocities).
	SpikeHeight float64 `yaml:"spike_height"`
	// ThresholdCur is the least number of new interactions between two
	// observations of a post; ThresholdRef the least reference velocity
	// (per hour) the ratio is taken against, so a quiet account (ref 0) is
	// not spiking on its first few likes.
	ThresholdCur float64 `yaml:"threshold_cur"`
	ThresholdRef float64 `yaml:"threshold_ref"`
	// Alpha is the EWMA weight of a new velocity sample.
	Alpha float64 `yaml:"alpha"`
	// MinInterval ignores re-polls closer together than this: their
	// velocities are noise.
	MinInterval conf.Duration `yaml:"min_interval"`
	// QuietAfter ends a post's spike once no observation of the post came
	// for this long (its re-polls ended).
	QuietAfter conf.Duration `yaml:"quiet_after"`
}

// NegativeConfig tunes opinion.negative: the share of negative comments on
// a post against its account's baseline share.
type NegativeConfig struct {
	Enabled bool `yaml:"enabled"`
	// Lexicon is a file of negative terms, one a line; empty: the built-in list.
	Lexicon     string  `yaml:"lexicon"`
	MinComments int     `yaml:"min_comments"`
	MinNegative int     `yaml:"min_negative"`
	MinShare    float64 `yaml:"min_share"`
	// SpikeHeight: the post's share must be at least this many times the
	// account's baseline share.
	SpikeHeight float64 `yaml:"spike_height"`
	// Alpha is the EWMA weight of one comment in the account's baseline.
	Alpha float64 `yaml:"alpha"`
}

// EmergencyConfig tunes opinion.emergency: bursts of emergency terms across
// the accounts of one region.
type EmergencyConfig struct {
	Enabled bool `yaml:"enabled"`
	// Lexicon is a file of emergency terms, one a line; empty: the built-in list.
	Lexicon string `yaml:"lexicon"`
	// Window is the counting period; each closed window updates the
	// per-term, per-region EWMA.
	Window conf.Duration `yaml:"window"`
	// TableSize is the number of hashed buckets per region (fixed memory).
	TableSize   int     `yaml:"table_size"`
	Alpha       float64 `yaml:"alpha"`
	Beta        float64 `yaml:"beta"`
	Z           float64 `yaml:"z"`
	MinCount    int     `yaml:"min_count"`
	MinAccounts int     `yaml:"min_accounts"`
}

// FollowersConfig tunes engagement.bought_followers: daily follower growth
// that engagement does not explain.
type FollowersConfig struct {
	Enabled    bool    `yaml:"enabled"`
	History    int     `yaml:"history"`
	MinHistory int     `yaml:"min_history"`
	Z          float64 `yaml:"z"`
	// MinJump is the least daily growth, in followers, ever judged a jump.
	MinJump int64 `yaml:"min_jump"`
	// MinScale floors the MAD scale as a share of the median daily growth,
	// so a perfectly steady grower does not alert on small wobbles.
	MinScale float64 `yaml:"min_scale"`
	// ExplainRatio: a day whose engagement is at least this many times its
	// usual explains its growth.
	ExplainRatio float64 `yaml:"explain_ratio"`
}

// CrossPlatformConfig tunes consistency.cross_platform.
type CrossPlatformConfig struct {
	Enabled bool `yaml:"enabled"`
	// Window is how far apart two posts may be published to be compared;
	// MaxPosts bounds the posts kept per unit.
	Window   conf.Duration `yaml:"window"`
	MaxPosts int           `yaml:"max_posts"`
	// Similarity is the least estimated Jaccard similarity of character
	// 2–3-gram shingles for two posts to be versions of one text.
	Similarity float64 `yaml:"similarity"`
}

// DefaultOpinion is the opinion detectors' part of Default.
func DefaultOpinion() OpinionConfig {
	return OpinionConfig{
		Spike: SpikeConfig{Enabled: true, History: 64, MinHistory: 8, Z: 3.5, MinScale: 0.25,
			SpikeHeight: 3, ThresholdCur: 50, ThresholdRef: 5, Alpha: 0.1, MinInterval: conf.Duration(10 * time.Minute),
			QuietAfter: conf.Duration(6 * time.Hour)},
		Negative: NegativeConfig{Enabled: true, MinComments: 10, MinNegative: 5, MinShare: 0.3,
			SpikeHeight: 2, Alpha: 0.02},
		Emergency: EmergencyConfig{Enabled: true, Window: conf.Duration(time.Hour), TableSize: 256,
			Alpha: 0.1, Beta: 1, Z: 3, MinCount: 3, MinAccounts: 2},
		BoughtFollowers: FollowersConfig{Enabled: true, History: 28, MinHistory: 7, Z: 4,
			MinJump: 500, MinScale: 0.2, ExplainRatio: 3},
		CrossPlatform: CrossPlatformConfig{Enabled: true, Window: conf.Duration(48 * time.Hour),
			MaxPosts: 32, Similarity: 0.6},
	}
}

// validateOpinion checks analyzer.opinion.
func (c *Config) validateOpinion(pos *conf.Positions) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) {
		ps = append(ps, pos.Problem("analyzer.opinion."+path, format, args...))
	}
	atLeast := func(path string, v, min int) {
		if v < min {
			bad(path, "must be at least %d, not %d", min, v)
		}
	}
	positive := func(path string, v float64) {
		if !(v > 0) {
			bad(path, "must be above 0, not %v", v)
		}
	}
	fraction := func(path string, v float64) {
		if !(v > 0 && v <= 1) {
			bad(path, "must be above 0 and at most 1, not %v", v)
		}
	}
	o := c.Analyzer.Opinion
	if s := o.Spike; s.Enabled {
		atLeast("spike.min_history", s.MinHistory, 3)
		atLeast("spike.history", s.History, s.MinHistory)
		positive("spike.z", s.Z)
		positive("spike.spike_height", s.SpikeHeight)
		fraction("spike.alpha", s.Alpha)
		if s.QuietAfter < s.MinInterval || s.QuietAfter < conf.Duration(time.Minute) {
			bad("spike.quiet_after", "must be at least min_interval and 1m, not %s", s.QuietAfter)
		}
		if s.MinScale < 0 || s.ThresholdCur < 0 || s.ThresholdRef < 0 {
			bad("spike", "min_scale, threshold_cur and threshold_ref must not be negative")
		}
	}
	if n := o.Negative; n.Enabled {
		atLeast("negative.min_comments", n.MinComments, 1)
		atLeast("negative.min_negative", n.MinNegative, 1)
		fraction("negative.min_share", n.MinShare)
		positive("negative.spike_height", n.SpikeHeight)
		fraction("negative.alpha", n.Alpha)
		c.checkFile(func(p, f string, a ...any) { bad("negative.lexicon", f, a...) }, "", n.Lexicon)
	}
	if e := o.Emergency; e.Enabled {
		if e.Window < conf.Duration(time.Minute) {
			bad("emergency.window", "must be at least 1m, not %s", e.Window)
		}
		atLeast("emergency.table_size", e.TableSize, 16)
		if e.TableSize > 4096 {
			bad("emergency.table_size", "must be at most 4096, not %d", e.TableSize)
		}
		fraction("emergency.alpha", e.Alpha)
		positive("emergency.beta", e.Beta)
		positive("emergency.z", e.Z)
		atLeast("emergency.min_count", e.MinCount, 1)
		atLeast("emergency.min_accounts", e.MinAccounts, 1)
		c.checkFile(func(p, f string, a ...any) { bad("emergency.lexicon", f, a...) }, "", e.Lexicon)
	}
	if f := o.BoughtFollowers; f.Enabled {
		atLeast("bought_followers.min_history", f.MinHistory, 3)
		atLeast("bought_followers.history", f.History, f.MinHistory)
		positive("bought_followers.z", f.Z)
		positive("bought_followers.explain_ratio", f.ExplainRatio)
		if f.MinJump < 1 {
			bad("bought_followers.min_jump", "must be at least 1, not %d", f.MinJump)
		}
		if f.MinScale < 0 {
			bad("bought_followers.min_scale", "must not be negative, not %v", f.MinScale)
		}
	}
	if x := o.CrossPlatform; x.Enabled {
		if x.Window < conf.Duration(time.Hour) {
			bad("cross_platform.window", "must be at least 1h, not %s", x.Window)
		}
		atLeast("cross_platform.max_posts", x.MaxPosts, 2)
		if x.MaxPosts > 256 {
			bad("cross_platform.max_posts", "must be at most 256, not %d", x.MaxPosts)
		}
		fraction("cross_platform.similarity", x.Similarity)
	}
	return ps
}
