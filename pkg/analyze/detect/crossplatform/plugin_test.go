package crossplatform_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    crossplatform:
      similarity: 2
      max_posts: 1
`,
		`govwatch.yaml:5: analyzer.detectors.crossplatform.similarity: must be above 0 and at most 1, not 2`,
		`govwatch.yaml:6: analyzer.detectors.crossplatform.max_posts: must be 2 to 256, not 1`,
	)
}
