package duplicate_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    duplicate: {ignore_platforms: [weibo, myspace]}
`,
		`govwatch.yaml:4: analyzer.detectors.duplicate.ignore_platforms[1]: unknown platform "myspace"`,
	)
}
