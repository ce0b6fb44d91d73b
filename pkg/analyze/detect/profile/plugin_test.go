package profile_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    profile: {accept_after: 10m}
`,
		`govwatch.yaml:4: analyzer.detectors.profile.accept_after: must be at least 1h, not 10m`,
	)
}
