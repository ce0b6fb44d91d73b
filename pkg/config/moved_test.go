package config

import (
	"strings"
	"testing"
)

// A file still using the keys the detectors' sections replaced is refused
// with a problem at each, saying where it went.
func TestMovedAnalyzerKeys(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	p := write(t, dir, "govwatch.yaml", `registry: {file: registry.yaml}
analyzer:
  stale_after: 14d
  opinion:
    spike: {z: 4}
    bought_followers: {min_jump: 100}
    cross_platform: {window: 24h}
  account_checks:
    staleness: {warning_after: 7d}
    unanswered: {sla_workdays: 3}
  texts:
    staleness: {summary: x}
`)
	got := loadProblems(t, p,
		"govwatch.yaml:3: analyzer.stale_after: moved to analyzer.detectors.staleness.stale_after",
		"govwatch.yaml:5: analyzer.opinion.spike: moved to analyzer.detectors.spike",
		"govwatch.yaml:6: analyzer.opinion.bought_followers: moved to analyzer.detectors.followers",
		"govwatch.yaml:7: analyzer.opinion.cross_platform: moved to analyzer.detectors.crossplatform",
		"govwatch.yaml:9: analyzer.account_checks.staleness: moved to analyzer.detectors.staleness",
		"govwatch.yaml:10: analyzer.account_checks.unanswered: moved to analyzer.detectors.unanswered",
		"govwatch.yaml:12: analyzer.texts.staleness: moved to analyzer.detectors.staleness.texts",
	)
	if strings.Contains(got, "unknown key") {
		t.Errorf("an old key is reported as unknown rather than moved:\n%s", got)
	}
}
