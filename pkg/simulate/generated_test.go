package simulate

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"go.uber.org/zap/zaptest"

	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/registry"
)

func TestGeneratedFeedsAreDeterministic(t *testing.T) {
	a, b, other := NewGenerated(1000, 7), NewGenerated(1000, 7), NewGenerated(1000, 8)
	for _, i := range []int{0, 1, 499, 999} {
		if got, want := a.Feed(i), b.Feed(i); !bytes.Equal(got, want) {
			t.Errorf("feed %d differs between two generators of the same seed", i)
		}
		if got, want := a.ETag(i), b.ETag(i); got != want {
			t.Errorf("etag %d: got %s, want %s", i, got, want)
		}
		if a.ETag(i) == other.ETag(i) || bytes.Equal(a.Feed(i), other.Feed(i)) {
			t.Errorf("account %d: another seed gives the same feed", i)
		}
		if i > 0 && a.ETag(i) == a.ETag(i-1) {
			t.Errorf("accounts %d and %d share an etag", i-1, i)
		}
		f, err := gofeed.NewParser().ParseString(string(a.Feed(i)))
		if err != nil {
			t.Fatalf("feed %d: %v", i, err)
		}
		if n := len(f.Items); n < 3 || n > 5 {
			t.Errorf("feed %d: got %d items, want 3 to 5", i, n)
		}
		for _, it := range f.Items {
			if it.GUID == "" || it.PublishedParsed == nil || it.Title == "" {
				t.Errorf("feed %d: item %+v lacks guid, date or title", i, it)
			}
		}
	}
}

func TestGeneratedAnswers304AfterTheFirstFetch(t *testing.T) {
	g := NewGenerated(100, 1)
	ts := httptest.NewServer(g.Handler())
	defer ts.Close()

	resp, body := get(t, ts.URL+g.FeedPath(42), nil)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("first fetch: got %d with %d bytes, want 200 with the feed", resp.StatusCode, len(body))
	}
	etag := resp.Header.Get("ETag")
	if etag != g.ETag(42) {
		t.Errorf("etag: got %q, want %q", etag, g.ETag(42))
	}
	tests := []struct {
		name   string
		path   string
		hdr    map[string]string
		status int
	}{
		{"matching etag", g.FeedPath(42), map[string]string{"If-None-Match": etag}, http.StatusNotModified},
		{"another account's etag", g.FeedPath(42), map[string]string{"If-None-Match": g.ETag(41)}, http.StatusOK},
		{"no validator", g.FeedPath(42), nil, http.StatusOK},
		{"past the last account", "/gen/gen-000100.rss", nil, http.StatusNotFound},
		{"not zero-padded", "/gen/gen-42.rss", nil, http.StatusNotFound},
		{"wrong format", "/gen/gen-000042.atom", nil, http.StatusNotFound},
		{"not generated", "/gen/fz-wechat.rss", nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, ts.URL+tc.path, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Errorf("got %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == http.StatusNotModified && len(body) != 0 {
				t.Errorf("304 with a %d-byte body", len(body))
			}
		})
	}
	if f, nm := g.Served(); f != 3 || nm != 1 {
		t.Errorf("served: got %d feeds and %d not-modified, want 3 and 1", f, nm)
	}
}

// TestGeneratedKeepsNothingPerAccount serves a spread of 300,000 accounts
// and checks the heap did not grow with them.
func TestGeneratedKeepsNothingPerAccount(t *testing.T) {
	const n = 300_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	g := NewGenerated(n, 1)
	h := g.Handler()
	for i := 0; i < n; i += 300 {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, g.FeedPath(i), nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: got %d", g.FeedPath(i), rec.Code)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(g)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if perAccount := float64(grown) / n; perAccount > 1 {
		t.Errorf("heap grew %d bytes for %d accounts (%.2f B/account), want under 1 B/account", grown, n, perAccount)
	}
}

func TestGeneratedRegistryLoads(t *testing.T) {
	g := NewGenerated(50, 3)
	reg := loadGeneratedRegistry(t, g, "http://127.0.0.1:8091/")
	accts := reg.Accounts()
	if len(accts) != 50 {
		t.Fatalf("got %d accounts, want 50", len(accts))
	}
	for _, i := range []int{0, 17, 49} {
		a := accts[i]
		if got, want := a.Source.Options.(*rss.Account).URL, "http://127.0.0.1:8091"+g.FeedPath(i); got != want || a.ID != g.ID(i) || a.Source.Type != "rss" || !a.Active() {
			t.Errorf("account %d: got %s %s %s active=%v, want %s rss %s active", i, a.ID, a.Source.Type, got, a.Active(), g.ID(i), want)
		}
		if a.Platform != GeneratedPlatform(a.ID) {
			t.Errorf("account %d: platform %s, want %s", i, a.Platform, GeneratedPlatform(a.ID))
		}
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

// loadGeneratedRegistry writes g's registry for a simulator at base and
// loads it as govwatch would.
func loadGeneratedRegistry(t *testing.T, g *Generated, base string) *registry.Registry {
	t.Helper()
	var b strings.Builder
	if err := g.WriteRegistry(&b, base); err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/registry.yaml"
	if err := writeFile(path, b.String()); err != nil {
		t.Fatal(err)
	}
	reg, err := config.LoadRegistry(path)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestRunGeneratedServesUntilCanceled runs the simulator as `govwatch
// simulate --generate` does: it answers on the address it hands to ready and
// returns nil once its context is done.
func TestRunGeneratedServesUntilCanceled(t *testing.T) {
	g := NewGenerated(10, 1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunGenerated(ctx, "127.0.0.1:0", g, zaptest.NewLogger(t), func(a string) { addrs <- a })
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-done:
		t.Fatalf("RunGenerated returned before listening: %v", err)
	}
	if resp, body := get(t, "http://"+addr+g.FeedPath(3), nil); resp.StatusCode != http.StatusOK || !bytes.Equal(body, g.Feed(3)) {
		t.Fatalf("got %d with %d bytes, want 200 with feed 3", resp.StatusCode, len(body))
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunGenerated after cancel: %v, want nil", err)
	}
	if _, err := http.Get("http://" + addr + g.FeedPath(3)); err == nil {
		t.Fatalf("%s still answers after RunGenerated returned", addr)
	}
}

// TestGeneratedIncidents: with an anchor, every account's newest post is
// within two days before it, every SilentEvery-th account's is 20 days
// older, and every LeakEvery-th account's newest post carries a mobile and
// an ID number; the registry gives each unit one account per platform and
// a head with a number.
func TestGeneratedIncidents(t *testing.T) {
	anchor := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	g := NewGenerated(40, 1)
	g.SetIncidents(GeneratedIncidents{Anchor: anchor, SilentEvery: 10, LeakEvery: 20})
	mobile := regexp.MustCompile(`联系电话1[3-9]\d{9}，身份证号\d{17}[\dX]`)
	silent, leaks := 0, 0
	for i := range 40 {
		f, err := gofeed.NewParser().ParseString(string(g.Feed(i)))
		if err != nil {
			t.Fatalf("account %d: %v", i, err)
		}
		age := anchor.Sub(*f.Items[0].PublishedParsed)
		switch {
		case i%10 == 1:
			silent++
			if age < 20*24*time.Hour || age > 22*24*time.Hour {
				t.Errorf("silent account %d: newest post %s before the anchor, want 20 to 22 days", i, age)
			}
		case age < 0 || age > 48*time.Hour:
			t.Errorf("account %d: newest post %s before the anchor, want within 2 days", i, age)
		}
		leaked := mobile.MatchString(f.Items[0].Description)
		if leaked != (i%20 == 2) {
			t.Errorf("account %d: newest post leaks %v, want %v: %s", i, leaked, i%20 == 2, f.Items[0].Description)
		}
		if leaked {
			leaks++
		}
		for _, it := range f.Items[1:] {
			if mobile.MatchString(it.Description) {
				t.Errorf("account %d: an older post leaks too", i)
			}
		}
	}
	if silent != 4 || leaks != 2 {
		t.Errorf("%d silent and %d leaking accounts, want 4 and 2", silent, leaks)
	}
	quiet := NewGenerated(40, 1)
	if quiet.ETag(5) == g.ETag(5) {
		t.Error("an anchored feed has the ETag of the fixed day's")
	}

	reg := loadGeneratedRegistry(t, g, "http://127.0.0.1:8091")
	platforms := map[string]map[string]bool{}
	for _, a := range reg.Accounts() {
		if platforms[a.Unit] == nil {
			platforms[a.Unit] = map[string]bool{}
		}
		if platforms[a.Unit][a.Platform] {
			t.Errorf("unit %s has two %s accounts", a.Unit, a.Platform)
		}
		platforms[a.Unit][a.Platform] = true
		u, ok := reg.Unit(a.Unit)
		if !ok || u.Head.Mobile == "" || u.Parent != "gen" {
			t.Errorf("account %s: unit %+v, want one under gen with a head's mobile", a.ID, u)
		}
	}
	if len(platforms) != 8 {
		t.Errorf("%d units for 40 accounts, want 8", len(platforms))
	}
}
