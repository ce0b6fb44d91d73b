package textscan

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func writeLex(t *testing.T, dir, name, text string, mtime time.Time) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func matches(l *Live, text string) []string {
	var out []string
	for _, f := range l.Scan(text) {
		out = append(out, f.Match)
	}
	return out
}

func TestLiveReload(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	writeLex(t, dir, "wording.typo.txt", "再接再励\n", t0)
	reg := prometheus.NewRegistry()
	l, err := NewLive(dir, reg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1 := l.Engine().Version()
	if got := testutil.ToFloat64(l.info.WithLabelValues(v1)); got != 1 {
		t.Fatalf("lexicon_info{version=%s} = %v, want 1", v1, got)
	}

	// Unchanged files: nothing to do.
	if changed, err := l.Reload(); changed || err != nil {
		t.Fatalf("Reload of unchanged files = %v, %v; want false, nil", changed, err)
	}

	// A bad file is reported and the old set stays in service.
	writeLex(t, dir, "wording.typo.txt", "再接再励\tsevere\n", t0.Add(time.Minute))
	if _, err := l.Reload(); err == nil || !strings.Contains(err.Error(), "wording.typo.txt:1") {
		t.Fatalf("Reload of a bad file: got %v, want an error naming wording.typo.txt:1", err)
	}
	if got := matches(l, "再接再励"); len(got) != 1 || l.Engine().Version() != v1 {
		t.Fatalf("after a bad reload: got %v with version %s, want the old set (%s)", got, l.Engine().Version(), v1)
	}
	if got := testutil.ToFloat64(l.reloads.WithLabelValues("error")); got != 1 {
		t.Errorf("reloads_total{result=error} = %v, want 1", got)
	}

	// A good change is swapped in, and the metric follows the version.
	writeLex(t, dir, "wording.typo.txt", "按装\n", t0.Add(2*time.Minute))
	if changed, err := l.Reload(); !changed || err != nil {
		t.Fatalf("Reload of a good change = %v, %v; want true, nil", changed, err)
	}
	v2 := l.Engine().Version()
	if got := matches(l, "再接再励，按装"); len(got) != 1 || got[0] != "按装" || v2 == v1 {
		t.Fatalf("after reload: got %v (version %s), want [按装] and a new version", got, v2)
	}
	if n := testutil.CollectAndCount(l.info); n != 1 {
		t.Errorf("lexicon_info has %d series, want only the version in use", n)
	}
	if got := testutil.ToFloat64(l.info.WithLabelValues(v2)); got != 1 {
		t.Errorf("lexicon_info{version=%s} = %v, want 1", v2, got)
	}
}

func TestLiveWatch(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	writeLex(t, dir, "wording.typo.txt", "再接再励\n", t0)
	l, err := NewLive(dir, prometheus.NewRegistry(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClock()
	hup := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Watch(t.Context(), clock, 30*time.Second, hup)
	}()
	v1 := l.Engine().Version()
	waitVersion := func(what string, changed func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !changed(l.Engine().Version()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: version still %s", what, l.Engine().Version())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	// A change is picked up at the next tick.
	writeLex(t, dir, "wording.typo.txt", "按装\n", t0.Add(time.Minute))
	if err := clock.BlockUntilContext(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(30 * time.Second)
	waitVersion("after a tick", func(v string) bool { return v != v1 })
	v2 := l.Engine().Version()

	// SIGHUP reloads at once, even when the times did not move.
	writeLex(t, dir, "wording.typo.txt", "震憾\n", t0.Add(time.Minute))
	hup <- syscall.SIGHUP
	waitVersion("after SIGHUP", func(v string) bool { return v != v2 })
	if got := matches(l, "震憾"); len(got) != 1 {
		t.Errorf("after SIGHUP: got %v, want [震憾]", got)
	}
}

func TestCheckHandler(t *testing.T) {
	e := testEngine(t)
	srv := httptest.NewServer(CheckHandler(func() *Engine { return e }))
	defer srv.Close()
	tests := []struct {
		name       string
		body       string
		code       int
		categories []string
		err        string
	}{
		{"findings", `{"text": "澳门新葡京，联系13800138000"}`, 200, []string{"prohibited.gambling", "privacy.phone"}, ""},
		{"none", `{"text": "为进一步提升政务服务效能"}`, 200, nil, ""},
		{"min severity", `{"text": "再接再励，联系13800138000", "min_severity": "major"}`, 200, []string{"privacy.phone"}, ""},
		{"bad severity", `{"text": "x", "min_severity": "high"}`, 400, nil, "min_severity"},
		{"bad json", `{"text": `, 400, nil, "bad JSON"},
		{"unknown field", `{"txt": "x"}`, 400, nil, "unknown field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(srv.URL, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.code)
			}
			if tt.code != 200 {
				var e struct{ Error string }
				json.NewDecoder(resp.Body).Decode(&e)
				if !strings.Contains(e.Error, tt.err) {
					t.Errorf("error %q, want it to contain %q", e.Error, tt.err)
				}
				return
			}
			var cr CheckResponse
			if err := json.NewDecoder(resp.Body).Decode(&cr); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range cr.Findings {
				got = append(got, f.Category)
			}
			if strings.Join(got, ",") != strings.Join(tt.categories, ",") {
				t.Errorf("categories %v, want %v", got, tt.categories)
			}
			if cr.Findings == nil || cr.LexiconVersion != e.Version() {
				t.Errorf("got findings %v (want a list, even empty) and version %q, want %q", cr.Findings, cr.LexiconVersion, e.Version())
			}
		})
	}
}

// TestScanReaderMatchesScan: chunked, parallel scanning reports what one
// Scan of the whole text does, with the same offsets and lines.
func TestScanReaderMatchesScan(t *testing.T) {
	e := testEngine(t)
	var b strings.Builder
	lines := []string{
		"为进一步提升政务服务效能，现将有关事项通知如下。",
		"联系电话13800138000，再接再励。",
		"ＢＥＴ３６５官方入口，卡号：6222021001123456789",
		"请务必点赞转发并截图",
		"",
	}
	for i := 0; b.Len() < 3*chunkSize; i++ {
		b.WriteString(lines[i%len(lines)])
		b.WriteByte('\n')
	}
	text := b.String()
	want := e.Scan(text)
	var got []Finding
	if err := e.ScanReader(strings.NewReader(text), func(f *Finding) error {
		got = append(got, *f)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ScanReader found %d, Scan %d", len(got), len(want))
	}
	for k := range want {
		if got[k] != want[k] {
			t.Fatalf("finding %d: ScanReader %+v, Scan %+v", k, got[k], want[k])
		}
	}
}
