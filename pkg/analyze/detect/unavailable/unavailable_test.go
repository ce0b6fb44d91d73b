package unavailable_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", func(c *detecttest.Case) any {
		cfg := config.DefaultAccountChecks().Unavailable
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return unavailable.New(unavailable.Config{Consecutive: cfg.Consecutive, Window: cfg.Window,
			WindowFailures: cfg.WindowFailures, RecoverAfter: cfg.RecoverAfter})
	})
}
