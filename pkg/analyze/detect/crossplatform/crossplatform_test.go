package crossplatform_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGolden walks testcases/<case>/ (see testcases/README.md) as they
// are, with restarts and over Redis, and with two replicas per event.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", build(t))
}

// TestReadmeSample holds the README's sample config to the defaults.
func TestReadmeSample(t *testing.T) {
	got := detecttest.ReadmeConfig(t, "README.md").Analyzer.Opinion.CrossPlatform
	if want := config.DefaultOpinion().CrossPlatform; got != want {
		t.Errorf("README sample = %+v, want the defaults %+v", got, want)
	}
}

func build(t *testing.T) detecttest.Build {
	return func(c *detecttest.Case) any {
		cfg := config.DefaultOpinion().CrossPlatform
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return crossplatform.New(cfg)
	}
}
