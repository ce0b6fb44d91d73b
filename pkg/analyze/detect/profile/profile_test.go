package profile_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/profile"
	"github.com/govwatch/govwatch/pkg/config"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", func(c *detecttest.Case) any {
		cfg := config.DefaultAccountChecks().Profile
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return profile.New(profile.Config{AcceptAfter: cfg.AcceptAfter.D()})
	})
}
