package duplicate_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	_, err := detecttest.LoadSection(t, t.TempDir(), `    duplicate: {ignore_platforms: [weibo, myspace]}
`)
	detecttest.WantProblems(t, err,
		`govwatch.yaml:4: analyzer.detectors.duplicate.ignore_platforms[1]: unknown platform "myspace"`,
	)
}
