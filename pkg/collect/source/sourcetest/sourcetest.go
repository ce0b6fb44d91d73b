// Package sourcetest holds what the tests of every source folder share.
package sourcetest

import (
	"bytes"
	"os"
	"testing"
)

// Sample reads the sample.yaml of the source whose tests run (the current
// folder) and fails the test unless its README.md shows it verbatim, so the
// docs cannot drift from the sample. The test then decodes it as it needs.
func Sample(t testing.TB) []byte {
	t.Helper()
	sample, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, sample) {
		t.Errorf("got a README without sample.yaml verbatim, want it shown")
	}
	return sample
}
