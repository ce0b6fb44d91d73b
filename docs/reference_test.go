package docs

import (
	"bytes"
	"os"
	"testing"

	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/config"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/all"
)

// TestConfigReferenceIsCurrent fails when config-reference.md is not what
// `govwatch config reference` prints: a key added, renamed or documented
// differently in a config type without `make docs`.
func TestConfigReferenceIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := config.Reference(&want); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("config-reference.md")
	if err != nil {
		t.Fatalf("%v: run make docs", err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want.Bytes(), []byte("\n"))
		for i := range max(len(gl), len(wl)) {
			var g, w []byte
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(g, w) {
				t.Fatalf("config-reference.md is stale (run make docs); first difference at line %d:\n  file: %s\n  code: %s", i+1, g, w)
			}
		}
	}
}
