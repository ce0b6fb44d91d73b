package duplicate_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
)

// TestGolden walks testcases/<case>/; see testcases/README.md.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", func(c *detecttest.Case) any {
		cfg := duplicate.Defaults()
		if err := c.DecodeDetector(&cfg); err != nil {
			t.Fatal(err)
		}
		return duplicate.New(cfg)
	})
}

// TestReadmeSample holds the README's sample to the defaults and the
// templates in the code.
func TestReadmeSample(t *testing.T) {
	detecttest.ReadmeSample(t, "duplicate")
}
