package spike_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/spike"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunAll(t, "testcases", build(t))
}

// TestDurable replays every case with restarts and over Redis: the state
// lives in the store, so neither changes what is published.
func TestDurable(t *testing.T) {
	detecttest.RunDurable(t, "testcases", build(t))
}

// TestReplicas gives every event to two replicas at once: the alerts the
// bus keeps are those of one detector alone.
func TestReplicas(t *testing.T) {
	detecttest.RunReplicas(t, "testcases", build(t))
}

// TestReadmeSample holds the README's sample config to the defaults.
func TestReadmeSample(t *testing.T) {
	got := detecttest.ReadmeConfig(t, "README.md").Analyzer.Opinion.Spike
	if want := config.DefaultOpinion().Spike; got != want {
		t.Errorf("README sample = %+v, want the defaults %+v", got, want)
	}
}

func build(t *testing.T) detecttest.Build {
	return func(c *detecttest.Case) any {
		cfg := config.DefaultOpinion().Spike
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return spike.New(cfg)
	}
}
