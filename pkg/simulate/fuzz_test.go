package simulate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzScenario loads fuzzed scenario files, seeded with the shipped demo.
// A file that does not load says so and why; a scenario that loads encodes
// back to YAML that loads to the same scenario.
func FuzzScenario(f *testing.F) {
	b, err := os.ReadFile("../../configs/scenarios/demo.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("accounts:\n  - id: a\n    format: json\n    incidents:\n      silent_days: 15\n      gambling_spam: {days_ago: 16}\n"))
	f.Add([]byte("accounts:\n  - &a {id: a, format: rss, incidents: *a}\n"))
	dir := f.TempDir()
	path, again := filepath.Join(dir, "scenario.yaml"), filepath.Join(dir, "again.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sc, err := LoadScenario(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "load scenario") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		out, err := yaml.Marshal(sc)
		if err != nil {
			t.Fatalf("%+v does not encode: %v", sc, err)
		}
		if err := os.WriteFile(again, out, 0o600); err != nil {
			t.Fatal(err)
		}
		sc2, err := LoadScenario(again)
		if err != nil {
			t.Fatalf("loaded, but not once encoded again:\n%s\n%v", out, err)
		}
		if !reflect.DeepEqual(sc, sc2) {
			t.Fatalf("encoded as\n%s\nit loads to %+v, not %+v", out, sc2, sc)
		}
	})
}
