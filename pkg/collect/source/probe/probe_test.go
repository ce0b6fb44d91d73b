package probe

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/registry"
)

var now = time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)

// platform serves a download page, packages and pages that fail in the
// ways real ones do.
func platform(t *testing.T) *httptest.Server {
	t.Helper()
	page := sourcetest.Testdata(t, "download.html")
	apk := bytes.Repeat([]byte("PK\x03\x04"), 5000)
	mux := http.NewServeMux()
	mux.HandleFunc("/download.html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("/app/mzt-android.apk", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "mzt.apk", now, bytes.NewReader(apk))
	})
	mux.HandleFunc("/app/no-head.apk", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		http.ServeContent(w, r, "mzt.apk", now, bytes.NewReader(apk))
	})
	mux.HandleFunc("/app/empty.apk", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "0")
	})
	mux.HandleFunc("/app/truncated.apk", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Length", "20000")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(apk[:10]) // the server closes the connection short
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	mux.HandleFunc("/mp/entry", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`<html><body>福建省政府网上办事小程序</body></html>`))
	})
	mux.HandleFunc("/empty-page", func(w http.ResponseWriter, r *http.Request) {})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestProbe(t *testing.T) {
	ts := platform(t)
	pageLen := int64(len(sourcetest.Testdata(t, "download.html")))
	type want struct {
		ok     bool
		status int
		bytes  int64
		err    string
	}
	tests := []struct {
		name     string
		platform string
		o        *Account
		url      string
		want     []want
	}{
		{"app: page and package answer", "app", &Account{PackageURL: ts.URL + "/app/mzt-android.apk"}, ts.URL + "/download.html",
			[]want{{true, 200, pageLen, ""}, {true, 200, 20000, ""}}},
		{"app: HEAD refused, ranged GET answers", "app", &Account{PackageURL: ts.URL + "/app/no-head.apk"}, ts.URL + "/download.html",
			[]want{{true, 200, pageLen, ""}, {true, 206, 20000, ""}}},
		{"app: package gone", "app", &Account{PackageURL: ts.URL + "/app/missing.apk"}, ts.URL + "/download.html",
			[]want{{true, 200, pageLen, ""}, {false, 404, 0, "status 404"}}},
		{"app: empty package", "app", &Account{PackageURL: ts.URL + "/app/empty.apk"}, ts.URL + "/download.html",
			[]want{{true, 200, pageLen, ""}, {false, 200, 0, "empty package"}}},
		{"app: truncated package", "app", &Account{PackageURL: ts.URL + "/app/truncated.apk"}, ts.URL + "/download.html",
			[]want{{true, 200, pageLen, ""}, {false, 200, 20000, "truncated body"}}},
		{"app: download page gone", "app", &Account{PackageURL: ts.URL + "/app/mzt-android.apk"}, ts.URL + "/gone.html",
			[]want{{false, 404, 19, "status 404"}, {true, 200, 20000, ""}}},
		{"mini-program entry", "miniprogram", &Account{}, ts.URL + "/mp/entry", []want{{true, 200, 62, ""}}},
		{"web page slow", "website", &Account{}, ts.URL + "/slow", []want{{false, 0, 0, "timeout"}}},
		{"web page empty", "website", &Account{}, ts.URL + "/empty-page", []want{{false, 200, 0, "empty page"}}},
		{"web probe of an app account", "app", &Account{Probe: KindWeb}, ts.URL + "/download.html", []want{{true, 200, pageLen, ""}}},
	}
	s := &Source{Client: &http.Client{Timeout: 200 * time.Millisecond}, Clock: clockwork.NewFakeClockAt(now)}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &registry.Account{ID: "fj-mzt", Platform: tt.platform, Source: registry.Source{Type: "probe", Options: withURL(tt.o, tt.url)}}
			b, err := s.Poll(context.Background(), a, []byte("state"))
			if err != nil {
				t.Fatal(err)
			}
			if len(b.Probes) != len(tt.want) || len(b.Posts) != 0 || string(b.State) != "state" {
				t.Fatalf("got %d probes, %d posts, state %q; want %d, 0, kept", len(b.Probes), len(b.Posts), b.State, len(tt.want))
			}
			for i, w := range tt.want {
				p := b.Probes[i]
				if p.OK != w.ok || p.StatusCode != w.status || p.Bytes != w.bytes || !strings.Contains(p.Error, w.err) || (w.err == "") != (p.Error == "") {
					t.Errorf("probe %d (%s): got ok %v status %d bytes %d error %q, want %v %d %d %q", i, p.Target, p.OK, p.StatusCode, p.Bytes, p.Error, w.ok, w.status, w.bytes, w.err)
				}
				if p.AccountID != "fj-mzt" || p.Platform != tt.platform || !p.CheckedAt.Equal(now) || p.Schema != 1 {
					t.Errorf("probe %d: got %+v, want account, platform and time filled", i, p)
				}
			}
		})
	}
}

func TestSampleConfig(t *testing.T) {
	var cfg struct {
		Registry struct {
			Units    []map[string]string
			Accounts []struct {
				ID, Name, Platform, Unit string
				Source                   struct {
					Type, URL, Interval, Probe string
					PackageURL                 string `yaml:"package_url"`
				}
			}
		}
	}
	sourcetest.Sample(t, &cfg)
	for _, a := range cfg.Registry.Accounts {
		if a.Source.Type != "probe" || a.Source.URL == "" {
			t.Errorf("account %s: got %+v, want a probe with a url", a.ID, a.Source)
		}
	}
}

// withURL is o with the account's page.
func withURL(o *Account, url string) *Account {
	c := *o
	c.URL = url
	return &c
}
