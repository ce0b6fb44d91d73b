package profile_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/profile"
)

// TestConformance runs the golden cases of testcases/<case>/ (see
// testcases/README.md) as they are, with restarts and over Redis, and with
// two replicas per event, and holds the README's sample to the defaults and
// the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "profile", detecttest.Configured(t, profile.Defaults, profile.New))
}

// TestSettingsProblems: values out of range are refused at their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    profile: {accept_after: 10m}
`,
		`govwatch.yaml:4: analyzer.detectors.profile.accept_after: must be at least 1h, not 10m`,
	)
}
