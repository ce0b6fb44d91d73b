package staleness_test

import (
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/config"
)

// build makes the detector of a case: the shipped defaults (reminder 10d,
// veto 14d, zombie 90d) unless the case's stale_after or detector section
// (analyzer.account_checks.staleness) says otherwise.
func build(t *testing.T) detecttest.Build {
	return func(c *detecttest.Case) any {
		cfg := config.DefaultAccountChecks().Staleness
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		stale := c.Config.StaleAfter.D()
		if stale == 0 {
			stale = 14 * 24 * time.Hour
		}
		return staleness.NewLevels(cfg.WarningAfter.D(), stale, cfg.ZombieAfter.D())
	}
}

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", build(t))
}
