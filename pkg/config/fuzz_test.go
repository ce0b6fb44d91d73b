package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/conf"
)

// FuzzLoad loads fuzzed config files next to the shipped registry, roster
// and lexicons, seeded with configs/govwatch.yaml. A file that does not
// load is refused with problems, each naming a file; one that loads has
// every account it lists in the registry it built.
func FuzzLoad(f *testing.F) {
	dir, err := filepath.Abs("../../configs")
	if err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "govwatch.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(goodRegistry))
	f.Add([]byte("registry:\n  units: [{id: u, name: 单位}]\n  accounts:\n    - &a {id: a1, unit: u, platform: weibo, source: {type: rss, url: \"http://x/a\"}}\n    - {<<: *a, id: a2}\n"))
	f.Add([]byte("notifier:\n  route: &r {receiver: a, routes: [*r]}\n"))
	name := filepath.Join(dir, "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := LoadBytes(name, data, dir)
		if err != nil {
			var ps conf.Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("got %T %v, want problems", err, err)
			}
			for _, p := range ps {
				if p.File == "" {
					t.Fatalf("problem %v names no file", p)
				}
			}
			return
		}
		if l.Registry == nil {
			t.Fatal("loaded without a registry")
		}
		for _, a := range l.Config.Registry.Accounts {
			if _, ok := l.Registry.Account(a.ID); !ok {
				t.Fatalf("account %q of the file is not in the registry", a.ID)
			}
		}
	})
}

// FuzzRegistryFile reads fuzzed registry files streamed, a batch of two
// items at a time, and whole, seeded with configs/registry.yaml and the
// shapes the line splitter knows: both must give the same problems, and a
// file without problems the same accounts and the same lines. What a
// refused file decodes to is never used (yaml.v3 stops at a duplicate key,
// the batches after it do not), so it is not compared, and a file with a
// duplicate key need only be refused by both.
func FuzzRegistryFile(f *testing.F) {
	b, err := os.ReadFile("../../configs/registry.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, d := range registryDocs {
		f.Add([]byte(d.doc))
	}
	old := batchItems
	batchItems = 2
	f.Cleanup(func() { batchItems = old })
	f.Fuzz(func(t *testing.T, doc []byte) {
		path := filepath.Join(t.TempDir(), "registry.yaml")
		if err := os.WriteFile(path, doc, 0o600); err != nil {
			t.Fatal(err)
		}
		var whole RegistryFile
		if _, werr := conf.Decode(path, doc, &whole); werr != nil {
			var got RegistryFile
			_, serr := DecodeRegistryFile(path, filepath.Dir(path), &got, nil)
			if strings.Contains(werr.Error(), "already defined at line") {
				// The whole read stops at a duplicate key; the streamed
				// one goes on to the batches after it and may say more.
				if serr == nil {
					t.Fatalf("whole:\n%v\nstreamed: no problem", werr)
				}
				return
			}
			if fmt.Sprint(serr) != fmt.Sprint(werr) {
				t.Fatalf("problems differ\nstreamed:\n%v\nwhole:\n%v", serr, werr)
			}
			return
		}
		var probe RegistryFile
		_, _, streams := decodeRegistryStream(t.Context(), path, filepath.Dir(path), doc, &probe, nil)
		compareDecoders(t, doc, streams)
	})
}
