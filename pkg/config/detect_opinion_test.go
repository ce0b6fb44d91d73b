package config

import (
	"strings"
	"testing"
	"time"
)

func TestOpinionDefaultsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	write(t, dir, "neg.txt", "投诉\n")
	p := write(t, dir, "govwatch.yaml", `
registry: {file: registry.yaml}
analyzer:
  opinion:
    spike: {z: 4, min_history: 12}
    negative: {lexicon: neg.txt}
    emergency: {enabled: false, window: 0s}
    cross_platform: {window: 24h}
`)
	l, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	o := l.Analyzer.Opinion
	def := DefaultOpinion()
	for _, c := range []struct {
		what      string
		got, want any
	}{
		{"spike.z", o.Spike.Z, 4.0},
		{"spike.min_history", o.Spike.MinHistory, 12},
		{"spike.spike_height (default)", o.Spike.SpikeHeight, def.Spike.SpikeHeight},
		{"spike.enabled (default)", o.Spike.Enabled, true},
		{"negative.lexicon", o.Negative.Lexicon, "neg.txt"},
		{"emergency.enabled", o.Emergency.Enabled, false},
		{"cross_platform.window", o.CrossPlatform.Window.D(), 24 * time.Hour},
		{"bought_followers.min_jump (default)", o.BoughtFollowers.MinJump, def.BoughtFollowers.MinJump},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}

func TestOpinionProblems(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	p := write(t, dir, "govwatch.yaml", `registry: {file: registry.yaml}
analyzer:
  opinion:
    spike:
      min_history: 10
      history: 5
      alpha: 1.5
    negative:
      min_share: 0
      lexicon: missing.txt
    emergency:
      window: 30s
      table_size: 100000
    bought_followers:
      min_jump: 0
    cross_platform:
      similarity: 2
`)
	_, err := Load(p)
	if err == nil {
		t.Fatal("Load accepted bad opinion settings")
	}
	msg := err.Error()
	for _, want := range []string{
		`govwatch.yaml:6: analyzer.opinion.spike.history: must be at least 10, not 5`,
		`govwatch.yaml:7: analyzer.opinion.spike.alpha: must be above 0 and at most 1, not 1.5`,
		`govwatch.yaml:9: analyzer.opinion.negative.min_share: must be above 0 and at most 1, not 0`,
		`govwatch.yaml:10: analyzer.opinion.negative.lexicon: cannot read "missing.txt"`,
		`govwatch.yaml:12: analyzer.opinion.emergency.window: must be at least 1m, not 30s`,
		`govwatch.yaml:13: analyzer.opinion.emergency.table_size: must be at most 4096, not 100000`,
		`govwatch.yaml:15: analyzer.opinion.bought_followers.min_jump: must be at least 1, not 0`,
		`govwatch.yaml:17: analyzer.opinion.cross_platform.similarity: must be above 0 and at most 1, not 2`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("problems lack %q; got:\n%s", want, msg)
		}
	}
}
