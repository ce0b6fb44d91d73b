package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify/channel/webhook"
	"github.com/govwatch/govwatch/pkg/simulate"
)

// receiver is an Alertmanager-webhook endpoint that keeps what it was sent.
type receiver struct {
	url    string
	mu     sync.Mutex
	msgs   []webhook.Message
	ids    []string // each message's notification id
	secret []byte
	bad    []string
	// delay is how long the receiver takes to answer: a slow receiver
	// widens the window in which a notifier dies between send and record.
	delay atomic.Int64 // nanoseconds
	// down makes it answer 503 and keep nothing: a channel outage.
	down atomic.Bool
	// refused counts the requests answered 503 while down.
	refused atomic.Int64
}

// newReceiver serves a receiver until the test ends. Requests must be
// signed with secret, which the config of notifier reads from
// GOVWATCH_TEST_HOOK_SECRET.
func newReceiver(t *testing.T, secret string) *receiver {
	t.Helper()
	r := &receiver{secret: []byte(secret)}
	t.Setenv("GOVWATCH_TEST_HOOK_SECRET", secret)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// notifier is the notifier section that routes every alert to r, as the
// receiver ops.
func (r *receiver) notifier() string {
	return `notifier:
  receivers:
    - {name: ops, webhook: {url: "` + r.url + `", secret_env: GOVWATCH_TEST_HOOK_SECRET}}
  route: {receiver: ops}
`
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	time.Sleep(time.Duration(r.delay.Load()))
	if r.down.Load() {
		r.refused.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, want := req.Header.Get(webhook.HeaderSignature), webhook.Sign(r.secret, req.Header.Get(webhook.HeaderTimestamp), body); got != want {
		r.bad = append(r.bad, fmt.Sprintf("signature %q, want %q", got, want))
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil {
		r.bad = append(r.bad, fmt.Sprintf("decode: %v", err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.msgs = append(r.msgs, m)
	r.ids = append(r.ids, req.Header.Get(webhook.HeaderNotificationID))
}

// doubles lists the firing alerts delivered under more than one
// notification id (a double page), and counts the deliveries that repeated
// an id (a resend the receiver can drop by its id).
func (r *receiver) doubles() (doubled []string, resent int) { return r.doublesOf("firing") }

// doublesOf is doubles for the alerts delivered with status.
func (r *receiver) doublesOf(status string) (doubled []string, resent int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byAlert := map[string]map[string]int{} // fingerprint → id → deliveries
	names := map[string]string{}
	for i, m := range r.msgs {
		for _, a := range m.Alerts {
			if a.Status != status {
				continue
			}
			if byAlert[a.Fingerprint] == nil {
				byAlert[a.Fingerprint] = map[string]int{}
				names[a.Fingerprint] = a.Labels["alertname"] + "/" + a.Labels["account_id"]
			}
			byAlert[a.Fingerprint][r.ids[i]]++
		}
	}
	for fp, ids := range byAlert {
		if len(ids) > 1 {
			doubled = append(doubled, fmt.Sprintf("%s (%s) under ids %v", names[fp], fp, ids))
		}
		for _, n := range ids {
			resent += n - 1
		}
	}
	sort.Strings(doubled)
	return doubled, resent
}

// firing returns the firing alerts received, by alertname+account.
func (r *receiver) firing() map[string][]webhook.Alert { return r.received("firing") }

// received returns the alerts received with status, by alertname+account.
func (r *receiver) received(status string) map[string][]webhook.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]webhook.Alert{}
	for _, m := range r.msgs {
		for _, a := range m.Alerts {
			if a.Status == status {
				k := a.Labels["alertname"] + "/" + a.Labels["account_id"]
				out[k] = append(out[k], a)
			}
		}
	}
	return out
}

// awaitFiring waits until every alert of want (alertname/account) has
// arrived, then returns the firing alerts received.
func (r *receiver) awaitFiring(t *testing.T, d time.Duration, want []string) map[string][]webhook.Alert {
	t.Helper()
	waitFor(t, d, "alerts at the webhook", func() bool {
		got := r.firing()
		for _, k := range want {
			if len(got[k]) == 0 {
				return false
			}
		}
		return true
	})
	return r.firing()
}

// demoAlerts are the alerts the demo scenario raises on the accounts of a
// demo's config, by alertname/account.
var demoAlerts = []string{"privacy.phone/fz-edu-weibo", "privacy.id_number/fz-edu-weibo", "account.stale/np-culture-wechat", "content.illegal_link/fj-gov-weibo"}

// demoUnits are the units of the demo scenario's accounts, each with the
// head a demo names when asked to.
var demoUnits = []struct{ unit, head string }{
	{`id: fz-gov, name: 福州市人民政府办公厅, region: "350100"`, `head: {name: 王建华, ids: {wecom: wangjianhua}}`},
	{`id: fz-edu, name: 福州市教育局, region: "350100", parent: fz-gov`, `head: {name: 李明, ids: {wecom: liming}}`},
	{`id: np-culture, name: 南平市文化和旅游局, region: "350700", parent: fz-gov`, `head: {name: 张华, ids: {wecom: zhanghua}}`},
}

// demoSetup is what a test changes in a demo.
type demoSetup struct {
	clock    clockwork.Clock // the simulator's; nil: the real clock
	heads    bool            // every unit names its head and the head's WeCom id
	notifier string          // the config's notifier section, "notifier:" included
}

// demo is the demo scenario served to a config that collects its accounts.
type demo struct {
	sim *simulate.Server
	cfg *config.Loaded
}

// newDemo serves the demo scenario and loads a config and registry that
// collect its accounts every second, sweep every second and notify as
// s.notifier says.
func newDemo(t *testing.T, s demoSetup) demo {
	t.Helper()
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	sc, err := simulate.LoadScenario("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim := simulate.New(sc, s.clock)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	cfg := loadConfig(t, dir, map[string]string{
		"registry.yaml": demoRegistry(srv.URL, s.heads),
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 4}
analyzer: {sweep: "@every 1s"}
` + s.notifier,
	})
	return demo{sim: sim, cfg: cfg}
}

// demoRegistry is the registry of the demo's units and accounts, their
// feeds served at sim (the simulator's URL), each unit naming its head when
// heads is set. Its accounts come last: a test may append more.
func demoRegistry(sim string, heads bool) string {
	var reg strings.Builder
	reg.WriteString("units:\n")
	for _, u := range demoUnits {
		if heads {
			fmt.Fprintf(&reg, "  - {%s, %s}\n", u.unit, u.head)
		} else {
			fmt.Fprintf(&reg, "  - {%s}\n", u.unit)
		}
	}
	reg.WriteString(`accounts:
  - {id: fz-wechat, name: 福州发布, platform: wechat, unit: fz-gov, source: {type: rss, url: "` + sim + `/feeds/fz-wechat.atom"}}
  - {id: fj-gov-weibo, name: 中国福建, platform: weibo, unit: fz-gov, source: {type: rss, url: "` + sim + `/feeds/fj-gov-weibo.rss"}}
  - {id: fz-edu-weibo, name: 福州教育, platform: weibo, unit: fz-edu, source: {type: rss, url: "` + sim + `/feeds/fz-edu-weibo.atom"}}
  - {id: np-culture-wechat, name: 南平文旅, platform: wechat, unit: np-culture, source: {type: rss, url: "` + sim + `/feeds/np-culture-wechat.rss"}}
`)
	return reg.String()
}

// writeConfig writes files (name → text) into dir and returns the path of
// the config among them, govwatch.yaml.
func writeConfig(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "govwatch.yaml")
}

// loadConfig writes files into dir and loads the config among them.
func loadConfig(t *testing.T, dir string, files map[string]string) *config.Loaded {
	t.Helper()
	cfg, err := config.Load(writeConfig(t, dir, files))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cfg
}

// startAll runs every daemon of cfg in the background; see startRun.
func startAll(t *testing.T, cfg *config.Loaded) (addr string, stop func()) {
	t.Helper()
	return startRun(t, Options{Config: cfg})
}

// startRun runs o's config in the background, with every daemon unless o names
// the components, and returns the address they listen on once ready, and
// stop, which cancels them and fails the test unless they return cleanly
// within 20s. The test's end stops them too.
func startRun(t *testing.T, o Options) (addr string, stop func()) {
	t.Helper()
	if o.Components == nil {
		o.Components = All
	}
	o.Listen, o.Log, o.Stdout = "127.0.0.1:0", zaptest.NewLogger(t), io.Discard
	addrCh := make(chan string, 1)
	o.Ready = func(a string) { addrCh <- a }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	select {
	case addr = <-addrCh:
	case err := <-done:
		cancel()
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("not ready within 20s")
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v after cancel, want nil", err)
				}
			case <-time.After(20 * time.Second):
				t.Error("Run did not stop within 20s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return addr, stop
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
