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
	"regexp"
	"strings"
	"sync"
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
	mu     sync.Mutex
	msgs   []webhook.Message
	secret []byte
	bad    []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, want := req.Header.Get(webhook.HeaderSignature), webhook.Sign(r.secret, body); got != want {
		r.bad = append(r.bad, fmt.Sprintf("signature %q, want %q", got, want))
	}
	var m webhook.Message
	if err := json.Unmarshal(body, &m); err != nil {
		r.bad = append(r.bad, fmt.Sprintf("decode: %v", err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.msgs = append(r.msgs, m)
}

// firing returns the firing alerts received, by alertname+account.
func (r *receiver) firing() map[string][]webhook.Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]webhook.Alert{}
	for _, m := range r.msgs {
		for _, a := range m.Alerts {
			if a.Status == "firing" {
				k := a.Labels["alertname"] + "/" + a.Labels["account_id"]
				out[k] = append(out[k], a)
			}
		}
	}
	return out
}

// demoAlerts are the alerts the demo scenario raises on writeConfig's
// accounts, by alertname/account.
var demoAlerts = []string{"privacy.phone/fz-edu-weibo", "privacy.id_number/fz-edu-weibo", "account.stale/np-culture-wechat"}

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

// writeConfig writes a config and registry for the demo scenario's accounts
// collected from simURL, delivering to hookURL.
func writeConfig(t *testing.T, dir, simURL, hookURL string, extra string) string {
	t.Helper()
	reg := `units:
  - {id: fz-gov, name: 福州市人民政府办公厅, region: "350100"}
  - {id: fz-edu, name: 福州市教育局, region: "350100", parent: fz-gov}
  - {id: np-culture, name: 南平市文化和旅游局, region: "350700", parent: fz-gov}
accounts:
  - {id: fz-wechat, name: 福州发布, platform: wechat, unit: fz-gov, source: {type: rss, url: "` + simURL + `/feeds/fz-wechat.atom"}}
  - {id: fz-edu-weibo, name: 福州教育, platform: weibo, unit: fz-edu, source: {type: rss, url: "` + simURL + `/feeds/fz-edu-weibo.atom"}}
  - {id: np-culture-wechat, name: 南平文旅, platform: wechat, unit: np-culture, source: {type: rss, url: "` + simURL + `/feeds/np-culture-wechat.rss"}}
`
	cfg := `data_dir: ` + filepath.Join(dir, "data") + `
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 4}
analyzer: {sweep: "@every 1s"}
notifier:
  receivers:
    - {name: ops, webhook: {url: "` + hookURL + `", secret_env: GOVWATCH_TEST_HOOK_SECRET}}
  route: {receiver: ops}
` + extra
	if err := os.WriteFile(filepath.Join(dir, "registry.yaml"), []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "govwatch.yaml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// demoSimulator serves the demo scenario on clock.
func demoSimulator(t *testing.T, clock clockwork.Clock) (*httptest.Server, *simulate.Server) {
	t.Helper()
	sc, err := simulate.LoadScenario("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sim := simulate.New(sc, clock)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv, sim
}

// startAll runs every daemon of cfg in the background and returns the
// address they listen on once ready, and stop, which cancels them and
// fails the test unless they return cleanly within 20s. The test's end
// stops them too.
func startAll(t *testing.T, cfg *config.Loaded) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Config: cfg, Components: All, Listen: "127.0.0.1:0", Log: zaptest.NewLogger(t), Stdout: io.Discard, Ready: func(a string) { addrCh <- a }})
	}()
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

var digits11 = regexp.MustCompile(`\d{11,}`)

// TestEndToEnd drives simulator → collector → NATS → analyzer → notifier →
// webhook receiver in one process and checks the payloads field by field.
func TestEndToEnd(t *testing.T) {
	sim, scripted := demoSimulator(t, clockwork.NewRealClock())
	hook := &receiver{secret: []byte("s3cret-for-test")}
	t.Setenv("GOVWATCH_TEST_HOOK_SECRET", string(hook.secret))
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	dir := t.TempDir()
	cfg, err := config.Load(writeConfig(t, dir, sim.URL, hookSrv.URL, ""))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startAll(t, cfg)

	want := demoAlerts
	got := hook.awaitFiring(t, 30*time.Second, want)
	hook.mu.Lock()
	msgs := append([]webhook.Message(nil), hook.msgs...)
	bad := append([]string(nil), hook.bad...)
	hook.mu.Unlock()
	if len(bad) > 0 {
		t.Errorf("receiver saw bad requests: %v", bad)
	}
	for _, m := range msgs {
		if m.Version != "4" || m.Receiver != "ops" || m.Status != "firing" || m.GroupLabels["alertname"] == "" || len(m.Alerts) != 1 {
			t.Errorf("message header = version %q receiver %q status %q groupLabels %v alerts %d; want 4, ops, firing, an alertname, 1",
				m.Version, m.Receiver, m.Status, m.GroupLabels, len(m.Alerts))
		}
	}
	for k, as := range got {
		if len(as) != 1 {
			t.Errorf("%s paged %d times, want once", k, len(as))
		}
	}
	for _, tc := range []struct {
		key      string
		severity string
		unit     string
		region   string
		platform string
		post     bool
	}{
		{"privacy.phone/fz-edu-weibo", "major", "fz-edu", "350100", "weibo", true},
		{"privacy.id_number/fz-edu-weibo", "major", "fz-edu", "350100", "weibo", true},
		{"account.stale/np-culture-wechat", "critical", "np-culture", "350700", "wechat", false},
	} {
		a := got[tc.key][0]
		l := a.Labels
		if l["severity"] != tc.severity || l["unit"] != tc.unit || l["region"] != tc.region || l["platform"] != tc.platform || l["account_name"] == "" {
			t.Errorf("%s labels = %v; want severity %s unit %s region %s platform %s and an account_name", tc.key, l, tc.severity, tc.unit, tc.region, tc.platform)
		}
		if hasPost := strings.HasPrefix(l["post_id"], tc.platform+"/"); hasPost != tc.post {
			t.Errorf("%s post_id = %q; want one: %v", tc.key, l["post_id"], tc.post)
		}
		for _, ann := range []string{"summary", "description", "evidence", "suggestion", "url", "unit_name"} {
			if a.Annotations[ann] == "" {
				t.Errorf("%s: annotation %s is empty", tc.key, ann)
			}
		}
		for ann, v := range a.Annotations {
			if ann != "url" && digits11.MatchString(v) {
				t.Errorf("%s: annotation %s spreads an unmasked number: %q", tc.key, ann, v)
			}
		}
		if a.Fingerprint == "" || a.StartsAt.IsZero() || !a.EndsAt.IsZero() || a.GeneratorURL == "" {
			t.Errorf("%s: fingerprint %q startsAt %v endsAt %v generatorURL %q; want set, set, zero, set", tc.key, a.Fingerprint, a.StartsAt, a.EndsAt, a.GeneratorURL)
		}
	}
	checkStale(t, got["account.stale/np-culture-wechat"][0], scripted, staleAfter(t, cfg))

	// The API lists the same alerts; /metrics moved.
	var v1 struct {
		Data []struct {
			Fingerprint string            `json:"fingerprint"`
			Labels      map[string]string `json:"labels"`
		} `json:"data"`
	}
	getJSON(t, "http://"+addr+"/api/v1/alerts", &v1)
	fps := map[string]bool{}
	for _, a := range v1.Data {
		fps[a.Fingerprint] = true
	}
	for _, k := range want {
		if !fps[got[k][0].Fingerprint] {
			t.Errorf("/api/v1/alerts lacks %s (%s)", k, got[k][0].Fingerprint)
		}
	}
	// A counter moves after the work it counts, which may finish after the
	// alert arrived: wait for each series rather than reading once.
	for _, series := range []string{
		`govwatch_collector_polls_total{platform="weibo",result="ok"}`,
		`govwatch_analyzer_alerts_published_total{category="privacy.phone",status="firing"}`,
		`govwatch_notifier_notifications_total{channel="webhook",result="ok"}`,
		`govwatch_notifier_active_alerts{category="account.stale",severity="critical"} 1`,
		`govwatch_analyzer_lexicon_info{version=`,
	} {
		waitFor(t, 20*time.Second, "/metrics showing "+series, func() bool {
			return strings.Contains(get(t, "http://"+addr+"/metrics"), series)
		})
	}
	// The pre-publication check is served by the analyzer.
	resp, err := http.Post("http://"+addr+"/api/v1/check", "application/json", strings.NewReader(`{"text": "澳门新葡京，联系13800138000"}`))
	if err != nil {
		t.Fatal(err)
	}
	var check struct {
		Findings []struct{ Category string } `json:"findings"`
	}
	err = json.NewDecoder(resp.Body).Decode(&check)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(check.Findings) != 2 || check.Findings[0].Category != "prohibited.gambling" {
		t.Errorf("POST /api/v1/check: status %d, %+v, %v; want 200 with prohibited.gambling and privacy.phone", resp.StatusCode, check, err)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if body := get(t, "http://"+addr+p); body != "ok\n" {
			t.Errorf("%s = %q, want ok", p, body)
		}
	}

	stop()
}

// checkStale holds the demo's silent account's alert to the simulator's
// rule: the newest post went out silent_days × 24 h before the simulator
// started, so the alert starts staleAfter later and counts silent_days days
// (the test runs well within a day of the start).
func checkStale(t *testing.T, a webhook.Alert, sim *simulate.Server, staleAfter time.Duration) {
	t.Helper()
	last := sim.LastPost("np-culture-wechat")
	days := int(sim.Start().Sub(last) / (24 * time.Hour))
	if want := last.Add(staleAfter); !a.StartsAt.Equal(want) {
		t.Errorf("stale alert starts at %v; want %v, %v after the last post at %v", a.StartsAt, want, staleAfter, last)
	}
	if want := fmt.Sprintf("已 %d 天未更新", days); !strings.Contains(a.Annotations["summary"], want) {
		t.Errorf("stale alert summary %q; want it to say %s", a.Annotations["summary"], want)
	}
}

// TestRestartPagesNoneTwice runs the all-in-one twice on the same data
// directory: the second run finds everything already paged.
func TestRestartPagesNoneTwice(t *testing.T) {
	sim, _ := demoSimulator(t, clockwork.NewRealClock())
	hook := &receiver{}
	t.Setenv("GOVWATCH_TEST_HOOK_SECRET", "")
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	dir := t.TempDir()
	cfg, err := config.Load(writeConfig(t, dir, sim.URL, hookSrv.URL, ""))
	if err != nil {
		t.Fatal(err)
	}
	run := func(until func() bool) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, Options{Config: cfg, Components: All, Listen: "127.0.0.1:0", Log: zaptest.NewLogger(t), Stdout: io.Discard})
		}()
		waitFor(t, 30*time.Second, "run", until)
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
	all := func() bool {
		got := hook.firing()
		for _, k := range demoAlerts {
			if len(got[k]) == 0 {
				return false
			}
		}
		return true
	}
	run(all)
	first := hook.firing()
	// Second run: let it poll and sweep several times. An alert the data
	// raises only now (a spike building across polls) is paged once like
	// any other; what the first run paged is not paged again.
	start := time.Now()
	run(func() bool { return time.Since(start) > 4*time.Second })
	for k, as := range hook.firing() {
		if len(as) != 1 {
			t.Errorf("%s paged %d times across a restart, want once", k, len(as))
		}
		if first[k] == nil {
			t.Logf("%s first raised after the restart", k)
		}
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
