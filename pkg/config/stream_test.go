package config

import (
	"context"
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// registryDocs are registry files the streaming decoder must read exactly as
// the whole-document decoder does. streams says whether it should split
// them itself (true) or hand them to Decode (false); oneBatch lists those
// it splits only when every item fits one batch.
var registryDocs = []struct {
	name    string
	streams bool
	doc     string
}{
	{"items indented", true, `# units first
units:
  - id: u1
    name: 单位一
    head: {name: 值班主任, title: 主任}
  # a comment between items
  - {id: u2, name: 单位二, parent: u1}
accounts:
  - id: a1
    name: 账号一
    platform: weibo
    unit: u1
    source: {type: rss, url: "http://x/a1"}

  - id: a2
    name: |
      多行
      名称
    platform: wechat
    unit: u2
    source:
      type: rss
      url: http://x/a2
      interval: 10m
  - {id: a3, name: a3, platform: douyin, unit: u1, source: {type: rss, url: "http://x/a3"}}
  - id: a4
    platform: weibo
    unit: u1
    source: {type: rss, url: "http://x/a4"}
`},
	{"items at column 0, accounts first, no final newline", true, "accounts:\n- id: a1\n  platform: weibo\n  unit: u1\n  source: {type: rss, url: \"http://x/a1\"}\n- id: a2\n  platform: weibo\n  unit: u1\n  source: {type: rss, url: \"http://x/a2\"}\nunits:\n- id: u1\n  name: 单位"},
	{"crlf", true, "units:\r\n  - id: u1\r\n    name: 单位\r\naccounts:\r\n  - id: a1\r\n    unit: u1\r\n    platform: weibo\r\n    source: {type: rss, url: \"http://x/a1\"}\r\n  - id: a2\r\n    unit: u1\r\n    platform: weibo\r\n    source: {type: rss, url: \"http://x/a2\"}\r\n"},
	{"problems in items and outside", true, `units:
  - id: u1
    nmae: 单位
accounts:
  - id: a1
    unit: u1
    source: {type: rss, url: "${GOVWATCH_TEST_UNSET_VAR}"}
  - id: a2
    unit: [u1]
    source: {type: rss, url: "http://x/a2", interval: soon}
  - id: a3
    platfrom: weibo
    source: {type: rss, url: "http://x/a3", colour: red}
  - id: a4
    stale_after: 3 weeks
extra: 1
`},
	{"empty sequence then another key", true, "accounts:\n# none yet\nunits:\n  - id: u1\n"},
	{"empty sequence at the end, no final newline", true, "units:\n  - id: u1\naccounts: # none yet"},
	{"anchors shared across items", false, `accounts:
  - &base
    id: a1
    unit: u1
    platform: weibo
    source: {type: rss, url: "http://x/a1"}
  - <<: *base
    id: a2
  - <<: *base
    id: a3
  - <<: *base
    id: a4
`},
	{"flow sequence", false, "accounts: [{id: a1, unit: u1}, {id: a2, unit: u1}]\n"},
	{"document marker", false, "---\naccounts:\n  - id: a1\n"},
	{"duplicate key", false, "accounts:\n  - id: a1\naccounts:\n  - id: a2\n"},
	{"tab indentation", false, "accounts:\n\t- id: a1\n"},
	{"syntax error in an item", false, "accounts:\n  - id: a1\n  - id: [a2\n  - id: a3\n"},
	{"item less indented", false, "accounts:\n  - id: a1\n - id: a2\n"},
	{"root is a sequence", false, "- id: a1\n"},
}

var oneBatch = map[string]bool{"anchors shared across items": true}

func TestDecodeRegistryFileMatchesWholeDocument(t *testing.T) {
	for _, items := range []int{1, 2, 512} {
		old := batchItems
		batchItems = items
		t.Cleanup(func() { batchItems = old })
		for _, tc := range registryDocs {
			t.Run(fmt.Sprintf("%s/batch %d", tc.name, items), func(t *testing.T) {
				compareDecoders(t, []byte(tc.doc), tc.streams || oneBatch[tc.name] && items >= 4)
			})
		}
	}
}

func TestDecodeRegistryFileDemoRegistry(t *testing.T) {
	data, err := os.ReadFile("../../configs/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := batchItems
	batchItems = 3
	defer func() { batchItems = old }()
	f := compareDecoders(t, data, true)
	if len(f.Accounts) < 6 || len(f.Units) < 7 {
		t.Fatalf("demo registry read as %d units, %d accounts", len(f.Units), len(f.Accounts))
	}
}

// TestDecodeRegistryFileLarge cuts a generated registry of 5,000 accounts,
// some of them wrong, into the default batches.
func TestDecodeRegistryFileLarge(t *testing.T) {
	var b strings.Builder
	b.WriteString("units:\n  - {id: u1, name: 单位}\naccounts:\n")
	for i := range 5000 {
		switch {
		case i%997 == 0:
			fmt.Fprintf(&b, "  - {id: a%d, unit: u1, platform: weibo, tier: hot, source: {type: rss, url: \"http://x/%d\", interval: often}}\n", i, i)
		case i%1499 == 0:
			fmt.Fprintf(&b, "  - id: a%d\n    unit: u1\n    platfrom: weibo\n    source: {type: rss, url: \"http://x/%d\"}\n", i, i)
		default:
			fmt.Fprintf(&b, "  - {id: a%d, name: 账号%d, unit: u1, platform: weibo, source: {type: rss, url: \"http://x/%d\"}}\n", i, i, i)
		}
	}
	f := compareDecoders(t, []byte(b.String()), true)
	if len(f.Accounts) != 5000 || f.Accounts[4999].ID != "a4999" {
		t.Fatalf("read %d accounts, last %+v", len(f.Accounts), f.Accounts[len(f.Accounts)-1].ID)
	}
}

// compareDecoders decodes doc both ways and fails on any difference in the
// result, the problems or the line of any value.
func compareDecoders(t *testing.T, doc []byte, wantStream bool) RegistryFile {
	t.Helper()
	path := filepath.Join(t.TempDir(), "registry.yaml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	var whole RegistryFile
	wpos, werr := conf.Decode(path, doc, &whole)

	var probe RegistryFile
	_, _, streamed := decodeRegistryStream(context.Background(), path, filepath.Dir(path), doc, &probe, nil)
	if streamed != wantStream {
		t.Errorf("streamed = %v, want %v", streamed, wantStream)
	}

	var got RegistryFile
	spos, serr := DecodeRegistryFile(path, filepath.Dir(path), &got, nil)
	if fmt.Sprint(serr) != fmt.Sprint(werr) {
		t.Fatalf("problems differ\nstreamed:\n%v\nwhole:\n%v", serr, werr)
	}
	if !reflect.DeepEqual(got, whole) {
		t.Fatalf("decoded differently\nstreamed: %+v\nwhole:    %+v", got, whole)
	}
	if wpos == nil || spos == nil {
		if (wpos == nil) != (spos == nil) {
			t.Fatalf("positions: streamed %v, whole %v", spos, wpos)
		}
		return got
	}
	// In file order, as problems come: the streamed positions keep the
	// last batch they decoded.
	for _, p := range wpos.Paths() {
		if w, s := wpos.Line(p), spos.Line(p); w != s {
			t.Errorf("line of %s: streamed %d, whole %d", p, s, w)
		}
	}
	for _, p := range []string{"accounts[0].source.type", "accounts[1].tier", "units[0].name", "accounts[9999].id"} {
		if w, s := wpos.Line(p), spos.Line(p); w != s {
			t.Errorf("line of %s: streamed %d, whole %d", p, s, w)
		}
	}
	return got
}

// TestLoadRegistryProblemLine checks that a problem found after decoding
// (an unknown tier, far into a streamed file) still names its line.
func TestLoadRegistryProblemLine(t *testing.T) {
	var b strings.Builder
	b.WriteString("units:\n  - {id: u1, name: 单位}\naccounts:\n")
	for i := range 3000 {
		tier := ""
		if i == 2500 {
			tier = ", tier: scorching"
		}
		fmt.Fprintf(&b, "  - {id: a%d, unit: u1, platform: weibo%s, source: {type: rss, url: \"http://x/%d\"}}\n", i, tier, i)
	}
	path := filepath.Join(t.TempDir(), "registry.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadRegistry(path)
	if err == nil {
		t.Fatal("unknown tier accepted")
	}
	want := fmt.Sprintf("%s:%d: accounts[2500].tier:", path, 4+2500)
	if !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("error %q, want it to start %q", err, want)
	}
}

// BenchmarkDecodeRegistry reads a generated registry of 30,000 accounts
// (in the simulator's one-line form) streamed and whole, and loads it as
// config.Load does (loaded): streamed, each account's source decoded and
// checked, the registry built.
func BenchmarkDecodeRegistry(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("units:\n  - {id: u1, name: 单位}\naccounts:\n")
	for i := range 30000 {
		fmt.Fprintf(&sb, "  - {id: gen-%06d, name: gen-%06d, platform: weibo, unit: u1, status: active, source: {type: rss, url: \"http://127.0.0.1:8091/gen/gen-%06d.rss\"}}\n", i, i, i)
	}
	path := filepath.Join(b.TempDir(), "registry.yaml")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.Run("streamed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var f RegistryFile
			if _, err := DecodeRegistryFile(path, filepath.Dir(path), &f, nil); err != nil || len(f.Accounts) != 30000 {
				b.Fatal(err, len(f.Accounts))
			}
		}
	})
	b.Run("loaded", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reg, err := LoadRegistry(path)
			if err != nil || len(reg.Accounts()) != 30000 {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var f RegistryFile
			if _, err := conf.DecodeFile(path, &f); err != nil || len(f.Accounts) != 30000 {
				b.Fatal(err, len(f.Accounts))
			}
		}
	})
}
