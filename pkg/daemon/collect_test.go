package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/collect/source/probe"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// TestSourcesSendTheUserAgent polls through the sources as the collector
// wires them: every request carries collector.user_agent, set once on the
// shared client.
func TestSourcesSendTheUserAgent(t *testing.T) {
	var mu sync.Mutex
	agents := map[string]string{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents[r.URL.Path] = r.Header.Get("User-Agent")
		mu.Unlock()
		http.Error(w, "gone", http.StatusNotFound)
	}))
	defer ts.Close()

	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := config.Default()
	cfg.Collector.UserAgent = "govwatch-test/1.0"
	clock := clockwork.NewRealClock()
	e := &env{cfg: &config.Loaded{Config: cfg}, log: zaptest.NewLogger(t), reg: prometheus.NewRegistry(), store: st, clock: clock, mux: http.NewServeMux()}
	srcs, err := e.collectSources(collectHTTPClient(cfg.Collector, st, clock, e.reg, nil), &lateIngester{})
	if err != nil {
		t.Fatal(err)
	}
	for typ, opts := range map[string]any{"rss": &rss.Account{URL: ts.URL + "/rss"}, "probe": &probe.Account{URL: ts.URL + "/probe"}} {
		a := &registry.Account{ID: typ, Platform: "website", Source: registry.Source{Type: typ, Options: opts}}
		srcs[typ].Poll(context.Background(), a, nil) //nolint:errcheck // the 404 is the point
	}
	for _, path := range []string{"/rss", "/probe"} {
		if got := agents[path]; got != "govwatch-test/1.0" {
			t.Errorf("%s sent User-Agent %q, want collector.user_agent", path, got)
		}
	}
}
