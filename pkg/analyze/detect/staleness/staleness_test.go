package staleness_test

import (
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunAll(t, "testcases", func(c *detecttest.Case) any {
		d := c.Config.StaleAfter.D()
		if d == 0 {
			d = 14 * 24 * time.Hour
		}
		return staleness.New(d)
	})
}
