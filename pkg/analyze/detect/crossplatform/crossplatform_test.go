package crossplatform_test

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect/crossplatform"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
)

// TestGolden walks testcases/<case>/ (see testcases/README.md) as they
// are, with restarts and over Redis, and with two replicas per event.
func TestGolden(t *testing.T) {
	detecttest.RunSuite(t, "testcases", detecttest.Configured(t, crossplatform.Defaults, crossplatform.New))
}

// TestReadmeSample holds the README's sample to the defaults and the
// templates in the code.
func TestReadmeSample(t *testing.T) {
	detecttest.ReadmeSample(t, "crossplatform")
}
