package detecttest

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/config"
)

// ReadmeConfig decodes the first ```yaml block of the README at path as a
// govwatch config file (strictly, unknown keys are errors), so a test can
// hold the sample a plugin's README shows to the defaults in code.
func ReadmeConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "```yaml\n")
	if start < 0 {
		t.Fatalf("%s: no ```yaml block", path)
	}
	text = text[start+len("```yaml\n"):]
	end := strings.Index(text, "```")
	if end < 0 {
		t.Fatalf("%s: unterminated ```yaml block", path)
	}
	var c config.Config
	if _, err := conf.Decode(path, []byte(text[:end]), &c); err != nil {
		t.Fatalf("%s: sample config: %v", path, err)
	}
	return &c
}
