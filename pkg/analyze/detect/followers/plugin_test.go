package followers_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    followers:
      min_jump: 0
`,
		`govwatch.yaml:5: analyzer.detectors.followers.min_jump: must be at least 1, not 0`,
	)
}
