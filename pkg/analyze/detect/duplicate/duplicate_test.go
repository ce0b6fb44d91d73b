package duplicate_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", func(c *detecttest.Case) any {
		cfg := config.DefaultAccountChecks().Duplicate
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return duplicate.New(duplicate.Config{IgnorePlatforms: cfg.IgnorePlatforms})
	})
}
