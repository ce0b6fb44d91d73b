package duplicate_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "duplicate", detecttest.Configured(t, duplicate.Defaults, duplicate.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    duplicate: {ignore_platforms: [weibo, myspace]}
`,
		`govwatch.yaml:4: analyzer.detectors.duplicate.ignore_platforms[1]: unknown platform "myspace"`,
	)
}
