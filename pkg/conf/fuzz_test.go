package conf

import (
	"os"
	"strings"
	"testing"
)

// FuzzDecode decodes fuzzed YAML strictly into a layout of plugins'
// sections, each then decoded by its owner, seeded with the shipped config
// and alias bombs. Every problem names the file, an alias problem or a key
// that is not plain its line and column; a document that decodes passes
// CheckAliases.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"../../configs/govwatch.yaml", "../../configs/roster.yaml", "../../configs/registry.yaml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("notifier:\n  route: &r {receiver: a, routes: [*r]}\n"))
	f.Add([]byte(laughs(9)))
	f.Add([]byte("name: x\nplugins:\n  web: &w {url: u, inner: {depth: 1}}\n  copy: *w\n  merged: {<<: *w, timeout: 5s}\n"))
	const file = "fuzz.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(file, "")
		var l layout
		d.Document(data, &l)
		for name, s := range l.Plugins {
			var p plug
			d.Section(s, Join("plugins", name), &p)
		}
		for _, p := range d.Problems() {
			if p.File != file {
				t.Fatalf("problem %v does not name the file", p)
			}
			if (strings.HasPrefix(p.Msg, "alias *") || strings.HasPrefix(p.Msg, "key at")) && (p.Line < 1 || !strings.Contains(p.Msg, " column ")) {
				t.Fatalf("problem %v without its line and column", p)
			}
		}
		if len(d.Problems()) == 0 {
			if err := CheckAliases(file, data); err != nil {
				t.Fatalf("decoded, but CheckAliases refuses it: %v", err)
			}
		}
	})
}
