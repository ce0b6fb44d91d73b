package spike_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    spike:
      min_history: 10
      history: 5
      alpha: 1.5
      quiet_after: 5m
`,
		`govwatch.yaml:6: analyzer.detectors.spike.history: must be at least 10, not 5`,
		`govwatch.yaml:7: analyzer.detectors.spike.alpha: must be above 0 and at most 1, not 1.5`,
		`govwatch.yaml:8: analyzer.detectors.spike.quiet_after: must be at least min_interval and 1m, not 5m`,
	)
}
