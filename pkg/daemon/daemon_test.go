package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/notify/channel/webhook"
	"github.com/govwatch/govwatch/pkg/simulate"
)

var digits11 = regexp.MustCompile(`\d{11,}`)

// TestEndToEnd drives simulator → collector → NATS → analyzer → notifier →
// webhook receiver in one process and checks the payloads field by field.
func TestEndToEnd(t *testing.T) {
	hook := newReceiver(t, "s3cret-for-test")
	d := newDemo(t, demoSetup{notifier: hook.notifier()})
	addr, stop := startAll(t, d.cfg)

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
		{"content.illegal_link/fj-gov-weibo", "critical", "fz-gov", "350100", "weibo", true},
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
	checkStale(t, got["account.stale/np-culture-wechat"][0], d.sim, staleAfter(t, d.cfg))

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
		`govwatch_notifier_notifications_total{channel="webhook",receiver="ops",result="ok"}`,
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
	hook := newReceiver(t, "")
	d := newDemo(t, demoSetup{notifier: hook.notifier()})
	_, stop := startAll(t, d.cfg)
	hook.awaitFiring(t, 30*time.Second, demoAlerts)
	stop()
	first := hook.firing()
	// Second run: let it poll and sweep several times. An alert the data
	// raises only now (a spike building across polls) is paged once like
	// any other; what the first run paged is not paged again.
	_, stop = startAll(t, d.cfg)
	time.Sleep(4 * time.Second)
	stop()
	for k, as := range hook.firing() {
		if len(as) != 1 {
			t.Errorf("%s paged %d times across a restart, want once", k, len(as))
		}
		if first[k] == nil {
			t.Logf("%s first raised after the restart", k)
		}
	}
}

// TestDemoOnAnotherPortCollects runs the demo's registry, which names the
// simulator at http.listen (127.0.0.1:8080), on another port as -listen
// does: the collector polls the simulator where this process serves it,
// and the demo's alerts arrive.
func TestDemoOnAnotherPortCollects(t *testing.T) {
	reg, err := os.ReadFile("../../configs/registry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reg), "http://127.0.0.1:8080/simulate/") {
		t.Fatal("the demo registry no longer names the simulator at 127.0.0.1:8080; the test proves nothing")
	}
	scenario, err := filepath.Abs("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hook := newReceiver(t, "demo-port")
	dir := t.TempDir()
	cfg := loadConfig(t, dir, map[string]string{
		"registry.yaml": string(reg),
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
http: {listen: "127.0.0.1:8080"}
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 4}
analyzer: {sweep: "@every 1s"}
simulate: {enabled: true, scenario: ` + scenario + `}
` + hook.notifier(),
	})
	addr, _ := startAll(t, cfg)
	if addr == "127.0.0.1:8080" {
		t.Fatal("served on the configured port; the test proves nothing")
	}
	hook.awaitFiring(t, 60*time.Second, demoAlerts)
}
