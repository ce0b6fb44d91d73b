package links_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/links"
)

// TestConformance runs the golden cases of testcases/<case>/ as they are,
// with restarts, over Redis and with two replicas per event, and holds the
// README's sample to the defaults and the templates in the code.
func TestConformance(t *testing.T) {
	detecttest.Conformance(t, "links", detecttest.Configured(t, links.Defaults, func(c links.Config) *links.Detector {
		return links.New(c, nil)
	}))
}

// TestSettingsProblems: domains that are not domain names are refused at
// their line.
func TestSettingsProblems(t *testing.T) {
	detecttest.SettingsProblems(t, `    links:
      domains: {gambling: ["https://bet.example/", ".", "Casino.com"]}
      allow: ["a..b"]
`,
		`govwatch.yaml:5: analyzer.detectors.links.domains.gambling[0]: "https://bet.example/" is not a lower-case domain name`,
		`analyzer.detectors.links.domains.gambling[1]: "." is empty`,
		`analyzer.detectors.links.domains.gambling[2]: "Casino.com" is not a lower-case domain name`,
		`analyzer.detectors.links.allow[0]: "a..b" has an empty label`,
	)
}
