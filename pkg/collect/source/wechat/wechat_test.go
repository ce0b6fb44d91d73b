package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// 2026-11-27 10:00 in Beijing.
var now = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

const appID = "wx5c3f2a1b0d9e8f7a"

// platform is the official-account API: stable_token hands out the
// current token, which it rotates on demand; the other endpoints refuse
// any other token with 40001.
type platform struct {
	mu         sync.Mutex
	token      string
	generation int
	calls      map[string]int
	tokenErr   string // a stable_token answer to give instead
	invalidate bool   // the next batchget refuses the current token
}

func (p *platform) handler(t *testing.T) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.calls[r.URL.Path]++
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		if r.Method != http.MethodPost || json.Unmarshal(body, &req) != nil {
			_, _ = w.Write([]byte(`{"errcode":47001,"errmsg":"data format error"}`))
			return
		}
		if r.URL.Path == "/cgi-bin/stable_token" {
			if p.tokenErr != "" {
				_, _ = w.Write([]byte(p.tokenErr))
				return
			}
			if req["grant_type"] != "client_credential" || req["appid"] != appID || req["secret"] != "app-s3cret" || req["force_refresh"] != false {
				_, _ = w.Write([]byte(`{"errcode":40125,"errmsg":"invalid appsecret"}`))
				return
			}
			if p.token == "" {
				p.generation++
				p.token = "ACCESS_TOKEN_" + string(rune('0'+p.generation))
			}
			_, _ = w.Write([]byte(`{"access_token":"` + p.token + `","expires_in":7200}`))
			return
		}
		if r.URL.Query().Get("access_token") != p.token || p.token == "" {
			_, _ = w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest rid: 6745a1b2-3c4d5e6f"}`))
			return
		}
		switch r.URL.Path {
		case "/cgi-bin/freepublish/batchget":
			if p.invalidate {
				p.invalidate, p.token = false, "" // another system called /cgi-bin/token
				_, _ = w.Write([]byte(`{"errcode":40001,"errmsg":"invalid credential, access_token is invalid or not latest"}`))
				return
			}
			if req["offset"] == float64(0) {
				_, _ = w.Write(sourcetest.Testdata(t, "batchget-1.json"))
			} else {
				_, _ = w.Write(sourcetest.Testdata(t, "batchget-2.json"))
			}
		case "/datacube/getarticlesummary":
			if req["begin_date"] != "2026-11-26" || req["end_date"] != "2026-11-26" {
				_, _ = w.Write([]byte(`{"errcode":61501,"errmsg":"date range error"}`))
				return
			}
			_, _ = w.Write(sourcetest.Testdata(t, "getarticlesummary.json"))
		default:
			http.NotFound(w, r)
		}
	})
}

func (p *platform) count(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[path]
}

type rig struct {
	clock *clockwork.FakeClock
	plat  *platform
	store *embedded.Store
	url   string
	acc   *registry.Account
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{clock: clockwork.NewFakeClockAt(now), plat: &platform{calls: map[string]int{}}}
	ts := httptest.NewServer(r.plat.handler(t))
	t.Cleanup(ts.Close)
	r.url = ts.URL
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(r.clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r.store = st
	r.acc = &registry.Account{ID: "fz-wechat", Platform: "wechat", Source: registry.Source{Type: "wechat",
		Options: &Account{AppID: appID, SecretFile: sourcetest.SecretFile(t, "app-s3cret")}}}
	return r
}

// replica is one collector's Source over the shared store.
func (r *rig) replica() *Source {
	return &Source{BaseURL: r.url, Store: r.store, Clock: r.clock, PageSize: 2}
}

func TestPoll(t *testing.T) {
	r := newRig(t)
	b, err := r.replica().Poll(context.Background(), r.acc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Complete {
		t.Error("got an incomplete batch, want complete")
	}
	var got []string
	for _, p := range b.Posts {
		got = append(got, p.NativeID+" "+p.Title)
	}
	want := []string{
		"MzA3NjE4MDY0Mg==_2651093410_1 福州地铁5号线二期开通运营",
		"MzA3NjE4MDY0Mg==_2651093410_2 夏季防溺水安全提示",
		"Mn6b5Vc4Xz_lK3jH2gF1dSaPoI9uY8tR7eW6qA5sD4_1 冬季森林防火提示",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got posts\n%s\nwant (the deleted article left out)\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	p := b.Posts[0]
	if p.Text != "今天上午，福州地铁5号线二期正式开通。 全线设站10座，首班车6:30。" || p.Author != "福州发布" ||
		!p.PublishedAt.Equal(time.Unix(1795741200, 0)) || p.ID != "wechat/fz-wechat/"+p.NativeID ||
		p.ContentHash != model.ContentHash(p.Title, p.Text, p.URL) {
		t.Errorf("got %+v", p)
	}
	if p.Metrics != (model.Metrics{Views: 21577, Shares: 516}) {
		t.Errorf("got metrics %+v, want yesterday's reads 21577 and shares 516", p.Metrics)
	}
	if b.Posts[2].Text != "冬季天干物燥，进山入林请勿携带火种。" {
		t.Errorf("got text %q, want the digest of an article without content", b.Posts[2].Text)
	}

	// A second replica polls: same token, no new stable_token call;
	// read counts are not asked for again the same day.
	if _, err := r.replica().Poll(context.Background(), r.acc, b.State); err != nil {
		t.Fatal(err)
	}
	if got := r.plat.count("/cgi-bin/stable_token"); got != 1 {
		t.Errorf("got %d stable_token calls for two replicas, want 1", got)
	}
	if got := r.plat.count("/datacube/getarticlesummary"); got != 1 {
		t.Errorf("got %d datacube calls on one day, want 1", got)
	}
	// Near expiry, the token is refreshed ahead of time.
	r.clock.Advance(2*time.Hour - 4*time.Minute)
	if _, err := r.replica().Poll(context.Background(), r.acc, b.State); err != nil {
		t.Fatal(err)
	}
	if got := r.plat.count("/cgi-bin/stable_token"); got != 2 {
		t.Errorf("got %d stable_token calls after 1h56m, want 2", got)
	}
}

func TestInvalidTokenRefreshedOnce(t *testing.T) {
	r := newRig(t)
	s := r.replica()
	if _, err := s.Poll(context.Background(), r.acc, nil); err != nil {
		t.Fatal(err)
	}
	r.plat.mu.Lock()
	r.plat.invalidate = true
	r.plat.mu.Unlock()
	b, err := s.Poll(context.Background(), r.acc, nil)
	if err != nil {
		t.Fatalf("got %v, want the poll to refresh the token and succeed", err)
	}
	if len(b.Posts) != 3 || r.plat.count("/cgi-bin/stable_token") != 2 {
		t.Errorf("got %d posts and %d stable_token calls, want 3 and 2", len(b.Posts), r.plat.count("/cgi-bin/stable_token"))
	}
	tok, _ := r.store.Get(context.Background(), tokenKey(appID))
	if !bytes.Contains(tok, []byte("ACCESS_TOKEN_2")) {
		t.Errorf("got stored token %s, want the new one", tok)
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		tokenErr   string
		lease      bool
		wantErr    string
		retryable  bool
		retryLater bool
	}{
		{"invalid secret", `{"errcode":40125,"errmsg":"invalid appsecret"}`, false, "errcode 40125", false, false},
		{"invalid appid", `{"errcode":40013,"errmsg":"invalid appid"}`, false, "errcode 40013", false, false},
		{"system busy", `{"errcode":-1,"errmsg":"system error"}`, false, "errcode -1", true, false},
		{"bad JSON", `{"access_token":`, false, "parse ", false, false},
		{"no token in the answer", `{"expires_in":7200}`, false, "without a token", false, false},
		{"another replica refreshing", "", true, "another collector is refreshing", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t)
			r.plat.tokenErr = tt.tokenErr
			if tt.lease {
				if ok, err := r.store.SetNX(context.Background(), leaseKey(appID), []byte("other"), time.Minute); !ok || err != nil {
					t.Fatal(ok, err)
				}
			}
			_, err := r.replica().Poll(context.Background(), r.acc, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "fz-wechat") {
				t.Fatalf("got %v, want an error naming the account and %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "app-s3cret") {
				t.Errorf("got the secret in the error: %v", err)
			}
			if got := fetch.IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v", got, tt.retryable)
			}
			if got := errors.Is(err, source.ErrRetryLater); got != tt.retryLater {
				t.Errorf("got retry-later %v, want %v", got, tt.retryLater)
			}
		})
	}
}

func TestSampleConfig(t *testing.T) {
	var cfg map[string]any
	sourcetest.Sample(t, &cfg)
}
