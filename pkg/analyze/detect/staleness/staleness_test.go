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

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "staleness", build(t))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    staleness: {stale_after: 0s}
`,
		`govwatch.yaml:4: analyzer.detectors.staleness.stale_after: must be at least 1s, not 0s`,
	)
}
