package conf

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// laughs is the "billion laughs": levels of lists of nine aliases to the
// level above, 9^levels values from a few hundred bytes.
func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < levels; i++ {
		ref := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.Repeat(ref+", ", 8)+ref)
	}
	return b.String()
}

type aliasRoute struct {
	Receiver string       `yaml:"receiver"`
	Routes   []aliasRoute `yaml:"routes"`
}

type aliasDoc struct {
	Notifier struct {
		Route aliasRoute `yaml:"route"`
	} `yaml:"notifier"`
	Rest map[string]Section `yaml:",inline"`
}

// TestAliasesRefused: an alias inside the node it refers to, and aliases
// that expand past the bound, are problems at the alias, and decoding them
// returns at once instead of walking them for ever; a key that is not a
// plain value is a problem at the key.
func TestAliasesRefused(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		line      int
		want      string
	}{
		{
			name: "cycle in a flow mapping",
			doc:  "notifier:\n  route: &r {receiver: a, routes: [*r]}\n",
			line: 2, want: "alias *r at line 2 column 36 refers to its own anchor: a cycle",
		},
		{
			name: "cycle in a block mapping",
			doc:  "notifier:\n  route: &top\n    receiver: a\n    routes:\n      - receiver: b\n        routes:\n          - *top\n",
			line: 7, want: "alias *top at line 7 column 13 refers to its own anchor: a cycle",
		},
		{
			name: "cycle in a sequence",
			doc:  "a: &s [x, [y, *s]]\n",
			line: 1, want: "alias *s at line 1 column 15 refers to its own anchor: a cycle",
		},
		{
			// yaml.v3 hashes the keys of a mapping it merges into, and
			// panics on a key that decodes to a map.
			name: "mapping key beside a merge",
			doc:  "name: x\nplugins:\n  web: &w {url: u}\n  merged: {<<, *w, 0}\n",
			line: 4, want: "key at line 4 column 16 is a mapping or a list: keys must be plain values",
		},
		{
			name: "list key",
			doc:  "name: x\n[a, b]: 1\n",
			line: 2, want: "key at line 2 column 1 is a mapping or a list: keys must be plain values",
		},
		{
			name: "billion laughs",
			doc:  laughs(9),
			line: 7, want: "aliases expand to more than 1000000 values",
		},
		{
			name: "laughs past any int",
			doc:  laughs(40),
			line: 7, want: "aliases expand to more than 1000000 values",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "govwatch.yaml")
			var out aliasDoc
			done := make(chan error, 1)
			go func() {
				_, err := Decode(file, []byte(tc.doc), &out)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Decode still running after 10s")
			}
			ps, ok := err.(Problems)
			if !ok || len(ps) != 1 {
				t.Fatalf("got %v, want one problem", err)
			}
			p := ps[0]
			if p.File != file || p.Line != tc.line || !strings.Contains(p.Msg, tc.want) {
				t.Errorf("got %s, want %s:%d: …%s", p, file, tc.line, tc.want)
			}
			if err := CheckAliases(file, []byte(tc.doc)); err == nil || err.Error() != ps.Error() {
				t.Errorf("CheckAliases: got %v, want %v", err, ps)
			}
		})
	}
}

// TestAliasesAllowed: aliases a config uses — shared blocks, merges, the
// same anchor at many places — decode as before, up to the bound.
func TestAliasesAllowed(t *testing.T) {
	for _, tc := range []struct{ name, doc string }{
		{"shared route", "defaults: &d {receiver: a}\nnotifier:\n  route:\n    receiver: top\n    routes: [*d, *d, *d]\n"},
		{"merge", "defaults: &d {receiver: a}\nnotifier:\n  route:\n    <<: *d\n    routes: [{<<: *d}]\n"},
		{"anchor redefined", "x: &d {receiver: a}\ny: {routes: [*d]}\nz: &d {receiver: b}\nw: [*d]\n"},
		// 9^6 = 531,441 values: under 1,000,000.
		{"six levels of laughs", laughs(6)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out aliasDoc
			if _, err := Decode("f.yaml", []byte(tc.doc), &out); err != nil {
				t.Fatalf("got %v, want no problem", err)
			}
			if err := CheckAliases("f.yaml", []byte(tc.doc)); err != nil {
				t.Fatalf("CheckAliases: got %v, want nil", err)
			}
		})
	}
}

// TestAliasesBoundGrowsWithTheFile: a file larger than the bound may have
// its aliases add as many values as it holds, counted over every document
// one Aliases checks (the batches of a registry file).
func TestAliasesBoundGrowsWithTheFile(t *testing.T) {
	const anchor = "d: &d [x, x, x, x, x, x, x, x, x]\nl:\n"
	own := anchor + strings.Repeat("- [y, y, y, y, y, y, y, y, y]\n", 200_000) // 2M values
	for _, tc := range []struct {
		name    string
		aliases int // each adds 9 values
		ok      bool
	}{
		{"adds less than the file holds", 150_000, true},
		{"adds more than the file holds", 300_000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("big.yaml", []byte(own+strings.Repeat("- *d\n", tc.aliases)))
			if (err == nil) != tc.ok {
				t.Fatalf("got %v, want ok %v", err, tc.ok)
			}
		})
	}
	t.Run("over documents", func(t *testing.T) {
		batch := anchor + strings.Repeat("- *d\n", 200_000) // adds 1.8M
		if _, err := Parse("batch.yaml", []byte(batch)); err == nil {
			t.Fatal("a batch adding 1.8M values on its own passed")
		}
		a := Aliases{File: "big.yaml"}
		for i, doc := range []string{own, batch} {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
				t.Fatal(err)
			}
			if err := a.Check(&n); err != nil {
				t.Fatalf("document %d: %v, want it counted against the 2M values before it", i, err)
			}
		}
	})
}
