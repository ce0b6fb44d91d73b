package unavailable_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "unavailable", detecttest.Configured(t, unavailable.Defaults, unavailable.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    unavailable: {consecutive: 0, window: 10, window_failures: 11, recover_after: 0}
`,
		`analyzer.detectors.unavailable.consecutive: must be at least 1, not 0`,
		`analyzer.detectors.unavailable.window_failures: must be 1 to window (10), not 11`,
		`analyzer.detectors.unavailable.recover_after: must be 1 to window (10), not 0`,
	)
}
