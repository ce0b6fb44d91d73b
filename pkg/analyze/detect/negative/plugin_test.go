package negative_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    negative:
      min_share: 0
      lexicon: missing.txt
`,
		`govwatch.yaml:5: analyzer.detectors.negative.min_share: must be above 0 and at most 1, not 0`,
		`govwatch.yaml:6: analyzer.detectors.negative.lexicon: cannot read "missing.txt"`,
	)
}
