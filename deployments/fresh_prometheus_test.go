package deployments

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/daemon"
)

// TestFreshPrometheusCountsFirstEvents starts a real Prometheus that scrapes
// a freshly started govwatch every second, then makes the first post and the
// first veto-level incident happen, and evaluates the shipped dashboard's
// "veto-level incidents" query and the GovwatchNoPosts rule on it. A counter
// that appeared only at its first increment would leave increase() at 0:
// the incident would not show and GovwatchNoPosts would fire over a
// collector that has just published.
func TestFreshPrometheusCountsFirstEvents(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("GOVWATCH_REQUIRE_PROMTOOL") != "" {
			t.Fatal("prometheus not found and GOVWATCH_REQUIRE_PROMTOOL is set (Debian package prometheus)")
		}
		t.Skip("prometheus not installed (Debian package prometheus)")
	}
	vetoQuery := findQuery(t, dashboardQueries(t), "govwatch_notifier_veto_incidents_total")
	noPosts := findQuery(t, ruleQueries(t), "rule GovwatchNoPosts")
	dir := t.TempDir()

	// One Weibo account whose feed is empty until the test publishes.
	var posted atomic.Bool
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		item := ""
		if posted.Load() {
			item = `<item><title>福州市政务服务事项办理指南</title><link>https://www.fuzhou.gov.cn/zwgk/1.htm</link>` +
				`<guid>fz-1</guid><pubDate>` + time.Now().UTC().Format(time.RFC1123Z) + `</pubDate>` +
				`<description>市民可通过“e福州”办理相关事项。</description></item>`
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>福州发布</title>`+
			`<link>https://www.fuzhou.gov.cn/</link><description>福州发布</description>%s</channel></rss>`, item)
	}))
	t.Cleanup(feed.Close)
	write(t, filepath.Join(dir, "registry.yaml"), `units:
  - {id: fz-gov, name: 福州市人民政府, region: "350100", head: {name: 张三, mobile: "13800000000"}}
accounts:
  - {id: fz-weibo, name: 福州发布, platform: weibo, unit: fz-gov, source: {type: rss, url: "`+feed.URL+`/fz.rss"}}
`)
	write(t, filepath.Join(dir, "govwatch.yaml"), `data_dir: `+filepath.Join(dir, "data")+`
registry: {file: registry.yaml}
collector: {interval: 1s}
analyzer: {sweep: "@every 1s"}
notifier:
  receivers: [{name: console, console: {}}]
  route: {receiver: console}
  escalation:
    - {name: default, steps: [{after: 0s, notify: [duty]}], veto_upward: true}
`)
	cfg, err := config.Load(filepath.Join(dir, "govwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr := runGovwatch(t, cfg)

	prom := startPrometheus(t, bin, dir, addr)
	// Before anything happened: every series is there at 0, scraped at
	// least twice, and the rule sees a collector that published nothing.
	for _, s := range []string{
		`govwatch_notifier_veto_incidents_total{category="secret.marking"}`,
		`govwatch_collector_posts_published_total{platform="weibo"}`,
	} {
		awaitQuery(t, prom, "count_over_time("+s+"[1m]) >= 2 and max_over_time("+s+"[1m]) == 0", 30*time.Second,
			func(r []sample) bool { return len(r) == 1 })
	}
	awaitQuery(t, prom, noPosts, 10*time.Second, func(r []sample) bool { return len(r) == 1 })

	// The first post and the first veto-level incident.
	posted.Store(true)
	alert := `[{"labels": {"alertname": "secret.marking", "severity": "critical", "unit": "fz-gov", "account_id": "fz-weibo"},
		"annotations": {"summary": "疑似涉密标识"}}]`
	resp, err := http.Post("http://"+addr+"/api/v2/alerts", "application/json", strings.NewReader(alert))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s %s", resp.Status, body)
	}
	awaitQuery(t, prom, vetoQuery, 30*time.Second, func(r []sample) bool {
		for _, s := range r {
			if s.Metric["category"] == "secret.marking" && s.Value >= 0.99 {
				return true
			}
		}
		return false
	})
	awaitQuery(t, prom, noPosts, 30*time.Second, func(r []sample) bool { return len(r) == 0 })
}

// runGovwatch runs every component of cfg in-process, as govwatch run does,
// until the test ends, and returns the address it serves HTTP on.
func runGovwatch(t *testing.T, cfg *config.Loaded) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{Config: cfg, Components: daemon.All, Listen: "127.0.0.1:0",
			Log: zaptest.NewLogger(t), Stdout: io.Discard, Ready: func(a string) { addrCh <- a }})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("govwatch run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("govwatch run did not stop within 20s")
		}
	})
	select {
	case addr := <-addrCh:
		return addr
	case err := <-done:
		t.Fatalf("govwatch run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("govwatch run not ready within 30s")
	}
	return ""
}

// findQuery returns the expression of the one query whose place or text
// contains what.
func findQuery(t *testing.T, qs []query, what string) string {
	t.Helper()
	var found []query
	for _, q := range qs {
		if strings.Contains(q.where, what) || strings.Contains(q.expr, what) {
			found = append(found, q)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d shipped queries match %q, want 1: %v", len(found), what, found)
	}
	return grafanaVariables.Replace(found[0].expr)
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startPrometheus runs Prometheus on a free port, scraping target every
// second as the collector's job (the rules select on it), and returns its
// base URL once it is ready.
func startPrometheus(t *testing.T, bin, dir, target string) string {
	t.Helper()
	write(t, filepath.Join(dir, "targets.json"),
		`[{"targets": ["`+target+`"], "labels": {"job": "govwatch-collector"}}]`)
	write(t, filepath.Join(dir, "prometheus.yml"), `global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: govwatch
    file_sd_configs: [{files: [`+filepath.Join(dir, "targets.json")+`], refresh_interval: 1s}]
`)
	for attempt := 1; ; attempt++ {
		base, taken := runPrometheus(t, bin, dir, freePort(t))
		if !taken {
			return base
		}
		if attempt == 3 {
			t.Fatal("prometheus found its port taken three times")
		}
	}
}

// runPrometheus starts Prometheus on port and waits until it is ready; taken
// says another process bound the port first.
func runPrometheus(t *testing.T, bin, dir, port string) (base string, taken bool) {
	t.Helper()
	var out lockedBuffer
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"), "--web.listen-address=127.0.0.1:"+port)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	base = "http://127.0.0.1:" + port
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			if strings.Contains(out.String(), "address already in use") {
				return "", true
			}
			t.Fatalf("prometheus exited:\n%s", out.String())
		default:
		}
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() {
					stop()
					if t.Failed() {
						t.Logf("prometheus log:\n%s", out.String())
					}
				})
				return base, false
			}
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("prometheus not ready within 30s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// sample is one series of an instant query's answer.
type sample struct {
	Metric map[string]string
	Value  float64
}

// awaitQuery evaluates q on Prometheus until ok accepts the answer, and
// fails with the last answer when within passes first.
func awaitQuery(t *testing.T, base, q string, within time.Duration, ok func([]sample) bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last []sample
	for {
		last = instant(t, base, q)
		if ok(last) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %s answers %v", within, q, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func instant(t *testing.T, base, q string) []sample {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	if ans.Status != "success" {
		t.Fatalf("query %s: %s", q, ans.Error)
	}
	out := make([]sample, 0, len(ans.Data.Result))
	for _, r := range ans.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("query %s: value %v: %v", q, r.Value[1], err)
		}
		out = append(out, sample{Metric: r.Metric, Value: v})
	}
	return out
}

// lockedBuffer is a bytes.Buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
