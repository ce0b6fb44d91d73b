package config

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// laughItems is a registry's accounts whose first item holds nine levels of
// nine aliases: 387 million values once expanded.
func laughItems(indent string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s- id: a1\n%s  unit: u1\n%s  platform: weibo\n%s  source: {type: rss, url: \"http://x/a1\"}\n", indent, indent, indent, indent)
	fmt.Fprintf(&b, "%s  l0: &l0 [x, x, x, x, x, x, x, x, x]\n", indent)
	for i := 1; i < 9; i++ {
		ref := fmt.Sprintf("*l%d", i-1)
		fmt.Fprintf(&b, "%s  l%d: &l%d [%s]\n", indent, i, i, strings.Repeat(ref+", ", 8)+ref)
	}
	return b.String()
}

// TestLoadRefusesAliasBombs: config.Load and the registry file, streamed or
// read whole, stop at an alias cycle or an alias expansion past the bound,
// and name the alias's line.
func TestLoadRefusesAliasBombs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		config   string
		registry string
		file     string // the file named, config or registry
		line     int
		want     string
	}{
		{
			name:   "route cycle",
			config: "notifier:\n  route: &r {receiver: a, routes: [*r]}\n",
			file:   "govwatch.yaml", line: 2, want: "alias *r at line 2 column 36 refers to its own anchor: a cycle",
		},
		{
			name:   "laughs in the config",
			config: "registry:\n  accounts:\n" + laughItems("    "),
			file:   "govwatch.yaml", line: 13, want: "aliases expand to more than 1000000 values",
		},
		{
			name:     "laughs in a streamed registry",
			config:   "registry: {file: registry.yaml}\n",
			registry: "units:\n  - {id: u1, name: 单位}\naccounts:\n" + laughItems("  "),
			file:     "registry.yaml", line: 14, want: "aliases expand to more than 1000000 values",
		},
		{
			name:     "cycle in a registry read whole",
			config:   "registry: {file: registry.yaml}\n",
			registry: "units: [{id: u1, name: &n [单位, *n]}]\naccounts: []\n",
			file:     "registry.yaml", line: 1, want: "alias *n at line 1 column 32 refers to its own anchor: a cycle",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.registry != "" {
				write(t, dir, "registry.yaml", tc.registry)
			}
			p := write(t, dir, "govwatch.yaml", tc.config)
			done := make(chan error, 1)
			go func() {
				_, err := Load(p)
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("Load still running after 20s")
			}
			want := fmt.Sprintf("%s:%d: ", filepath.Join(dir, tc.file), tc.line)
			if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a problem %s…%s", err, want, tc.want)
			}
		})
	}
}

// TestLoadContextStopsBetweenBatches: a registry file is read a batch at a
// time, and a done context stops the reading at the next batch with a
// problem there instead of reading on.
func TestLoadContextStopsBetweenBatches(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("units:\n  - {id: u1, name: 单位}\naccounts:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  - {id: a%d, unit: u1, platform: weibo, source: {type: rss, url: \"http://x/%d\"}}\n", i, i)
	}
	write(t, dir, "registry.yaml", b.String())
	p := write(t, dir, "govwatch.yaml", "registry: {file: registry.yaml}\n")
	if _, err := LoadContext(context.Background(), p); err != nil {
		t.Fatalf("LoadContext: %v", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("stop"))
	_, err := LoadContext(ctx, p)
	want := filepath.Join(dir, "registry.yaml") + ":2: units[0]: not read from here on: stop"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want %s", err, want)
	}
}
