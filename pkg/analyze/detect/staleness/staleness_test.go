package staleness_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
)

// build makes the detector of a case: the defaults (reminder 10d, veto
// 14d, zombie 90d) unless the case's detector section
// (analyzer.detectors.staleness) says otherwise.
func build(t *testing.T) detecttest.Build {
	return detecttest.Configured(t, staleness.Defaults, func(cfg staleness.Config) *staleness.Detector {
		return staleness.NewLevels(cfg.WarningAfter.D(), cfg.StaleAfter.D(), cfg.ZombieAfter.D())
	})
}

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", build(t))
}

// TestReadmeSample holds the README's sample to the defaults and the
// templates in the code.
func TestReadmeSample(t *testing.T) {
	detecttest.ReadmeSample(t, "staleness")
}
