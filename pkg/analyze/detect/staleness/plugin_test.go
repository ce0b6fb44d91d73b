package staleness_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    staleness: {stale_after: 0s}
`,
		`govwatch.yaml:4: analyzer.detectors.staleness.stale_after: must be at least 1s, not 0s`,
	)
}
