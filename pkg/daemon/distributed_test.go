package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// proc is a daemon started as its own process from a built binary.
type proc struct {
	name string
	http string // the address it serves HTTP on
	cmd  *exec.Cmd
	addr chan string
	done chan error
	mu   sync.Mutex
	log  strings.Builder

	// What the scale-out check last read of it.
	lastCPU, lastPeak, finalPublished float64
}

var httpAddr = regexp.MustCompile(`"http": ?"([^"]+)"`)

func startProc(t *testing.T, bin, name, cfg string) *proc {
	t.Helper()
	return startProcWithin(t, bin, name, cfg, 30*time.Second)
}

// startProcWithin is startProc for a daemon that may take up to ready to
// start, such as one loading a registry of hundreds of thousands.
func startProcWithin(t *testing.T, bin, name, cfg string, ready time.Duration) *proc {
	t.Helper()
	return startCmd(t, name, ready, bin, "-config", cfg, "-listen", "127.0.0.1:0", "-dev")
}

// startCmd starts bin with args as the process name, such as `govwatch
// run`, and waits up to ready for it to say where it serves HTTP.
func startCmd(t *testing.T, name string, ready time.Duration, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, addr: make(chan string, 1), done: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = os.Stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if m := httpAddr.FindStringSubmatch(line); m != nil && strings.Contains(line, "govwatch running") {
				select {
				case p.addr <- m[1]:
				default:
				}
			}
		}
		p.done <- p.cmd.Wait()
	}()
	select {
	case p.http = <-p.addr:
	case err := <-p.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, err, p.logs())
	case <-time.After(ready):
		t.Fatalf("%s not ready within %s:\n%s", name, ready, p.logs())
	}
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM)
		if t.Failed() {
			t.Logf("%s log:\n%s", name, tail(grepv(p.logs(), "poll failed"), 60))
		}
	})
	return p
}

func (p *proc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// stop signals the process and waits for it.
func (p *proc) stop(sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// buildDaemons builds the three daemons into a temporary directory.
func buildDaemons(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "../../cmd/collector", "../../cmd/analyzer", "../../cmd/notifier")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// distributed is the three daemons as separate processes against one NATS
// server, a real redis-server, a simulated platform of 30 Weibo accounts of
// one unit (5 leak personal data, 2 fell silent) and a webhook receiver.
type distributed struct {
	size
	b     *bus.Bus
	bins  string
	cfg   string
	redis string // redis-server's address
	hook  *receiver
	total uint64 // posts on the bus before the analyzer starts
	// notifiers are the notifier processes running, the first started
	// with the collector.
	notifiers []*proc
	// extra are alerts (alertname/account) a test posted on the API,
	// expected besides the scenario's.
	extra []string
}

// size is the simulated platform: accounts Weibo accounts of one unit, of
// which the first leaks leak personal data and the next silent fell silent.
type size struct{ accounts, leaks, silent int }

// distSize is the platform of the distributed tests that do not say.
var distSize = size{accounts: 30, leaks: 5, silent: 2}

// startDistributed starts the platform, the collector and the notifier on
// the NATS servers at urls, whose streams keep replicas copies (nil: one
// embedded server the test runs), and waits until every account's posts
// are on the bus, so the analyzer started next has a long stream to work
// through.
func startDistributed(t *testing.T, urls []string, replicas int, sz size) *distributed {
	t.Helper()
	d := &distributed{size: sz, redis: redistest.Start(t), bins: buildDaemons(t)}
	dir := t.TempDir()
	ctx := context.Background()

	o := bus.Options{URLs: urls, Replicas: replicas, Name: "test"}
	if urls == nil {
		o = bus.Options{Embedded: true, StoreDir: filepath.Join(dir, "nats"), Listen: "127.0.0.1:0"}
	}
	b, err := bus.Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	d.b = b
	nats := fmt.Sprintf("{embedded: false, urls: [%q]}", b.ClientURL())
	if urls != nil {
		nats = fmt.Sprintf("{embedded: false, urls: [%s], stream_replicas: %d}", quoted(urls), replicas)
	}

	var sc strings.Builder
	sc.WriteString("seed: 7\naccounts:\n")
	var reg strings.Builder
	reg.WriteString("units:\n  - {id: fz-gov, name: 福州市人民政府办公厅, region: \"350100\"}\naccounts:\n")
	sim := httptest.NewUnstartedServer(nil)
	for i := range d.accounts {
		id := fmt.Sprintf("acct-%02d", i)
		fmt.Fprintf(&sc, "  - {id: %s, format: rss, title: 账号%d, posts_per_day: 10, history_days: 20", id, i)
		switch {
		case i < d.leaks:
			fmt.Fprintf(&sc, ", incidents: {privacy_leak: {days_ago: %d}}", 1+i%5)
		case i < d.leaks+d.silent:
			sc.WriteString(", incidents: {silent_days: 16}")
		}
		sc.WriteString("}\n")
		fmt.Fprintf(&reg, "  - {id: %s, name: 账号%d, platform: weibo, unit: fz-gov, source: {type: rss, url: \"http://%s/feeds/%s.rss\"}}\n", id, i, sim.Listener.Addr(), id)
	}
	scPath := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(scPath, []byte(sc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	scenario, err := simulate.LoadScenario(scPath)
	if err != nil {
		t.Fatal(err)
	}
	sim.Config.Handler = simulate.New(scenario, clockwork.NewRealClock()).Handler()
	sim.Start()
	t.Cleanup(sim.Close)

	d.hook = newReceiver(t, "distributed")
	d.cfg = writeConfig(t, dir, map[string]string{
		"registry.yaml": reg.String(),
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
nats: ` + nats + `
store: {backend: redis, redis: {addrs: ["` + d.redis + `"]}}
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 8}
analyzer: {sweep: "@every 1s"}
` + d.hook.notifier(),
	})

	// The collector first, so the posts are waiting for the analyzer.
	startProc(t, filepath.Join(d.bins, "collector"), "collector", d.cfg)
	d.startNotifier(t)
	posts := b.Stream(bus.KindPost)
	waitFor(t, 60*time.Second, "every account's posts on the bus", func() bool {
		s, err := b.JetStream().Stream(ctx, posts)
		if err != nil {
			return false
		}
		d.total = s.CachedInfo().State.Msgs
		return d.total >= uint64(d.accounts)*190
	})
	return d
}

// startNotifier starts one more notifier replica.
func (d *distributed) startNotifier(t *testing.T) *proc {
	t.Helper()
	p := startProc(t, filepath.Join(d.bins, "notifier"), "notifier", d.cfg)
	d.notifiers = append(d.notifiers, p)
	return p
}

func (d *distributed) startAnalyzer(t *testing.T) *proc {
	t.Helper()
	return startProc(t, filepath.Join(d.bins, "analyzer"), "analyzer", d.cfg)
}

// underWay waits until the analyzer has acknowledged at least n posts and
// fails when it had finished them all: whatever is done to it next would
// prove nothing.
func (d *distributed) underWay(t *testing.T, n uint64) uint64 {
	t.Helper()
	ctx := context.Background()
	var acked uint64
	waitFor(t, 60*time.Second, "the analyzer under way", func() bool {
		c, err := d.b.JetStream().Consumer(ctx, d.b.Stream(bus.KindPost), "analyzer")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false
		}
		acked = info.AckFloor.Stream
		return acked >= n
	})
	if acked >= d.total {
		t.Fatalf("the analyzer had finished (%d of %d posts); the test proves nothing", acked, d.total)
	}
	return acked
}

// everyAlertOnce waits for the scenario's alerts at the receiver, watches a
// few more poll and sweep cycles, and checks that each arrived under exactly
// one notification id: once, or resent under the same id by a notifier that
// could not know whether its send had arrived.
func (d *distributed) everyAlertOnce(t *testing.T, within time.Duration) {
	t.Helper()
	// Every account is a Weibo account of fz-gov: one account.duplicate too.
	want := d.leaks*2 + d.silent + 1 + len(d.extra)
	waitFor(t, within, fmt.Sprintf("%d alerts at the receiver", want), func() bool { return len(d.hook.firing()) >= want })
	// Watch a few more poll and sweep cycles for anything paged twice.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	got := d.hook.firing()
	if len(got) != want {
		t.Errorf("got %d distinct alerts, want %d: %v", len(got), want, keys(got))
	}
	doubled, resent := d.hook.doubles()
	for _, k := range doubled {
		t.Errorf("paged twice: %s", k)
	}
	if resent > 0 {
		// A notifier that died between the send and its record resends
		// under the same id, which the receiver can drop.
		t.Logf("%d deliveries repeated a notification id", resent)
	}
	for i := range d.leaks {
		for _, cat := range []string{"privacy.phone", "privacy.id_number"} {
			if k := fmt.Sprintf("%s/acct-%02d", cat, i); len(got[k]) == 0 {
				t.Errorf("lost %s", k)
			}
		}
	}
	for i := d.leaks; i < d.leaks+d.silent; i++ {
		if k := fmt.Sprintf("account.stale/acct-%02d", i); len(got[k]) == 0 {
			t.Errorf("lost %s", k)
		}
	}
	if len(got["account.duplicate/"]) == 0 {
		t.Error("lost account.duplicate of fz-gov on weibo")
	}
	for _, k := range d.extra {
		if len(got[k]) == 0 {
			t.Errorf("lost %s, posted on the API", k)
		}
	}
	d.hook.mu.Lock()
	if len(d.hook.bad) > 0 {
		t.Errorf("bad webhook requests: %v", d.hook.bad)
	}
	d.hook.mu.Unlock()
}

// TestDistributed kills the analyzer with SIGKILL while it is working
// through the posts, starts it again, and checks that every alert reached
// the receiver exactly once.
func TestDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons as processes")
	}
	d := startDistributed(t, nil, 1, distSize)
	analyzer := d.startAnalyzer(t)
	acked := d.underWay(t, 50)
	analyzer.stop(syscall.SIGKILL)
	t.Logf("analyzer killed after %d of %d posts; %d alerts delivered so far", acked, d.total, len(d.hook.firing()))
	d.startAnalyzer(t)
	d.everyAlertOnce(t, 90*time.Second)
}

// TestDistributedNotifierKillLoop runs two notifier replicas against a
// receiver that takes half a second to answer, and kills one of them with
// SIGKILL every few seconds and starts it again while the analyzer raises
// alerts and more arrive on the API, posted to both replicas as Prometheus
// does (GOVWATCH_KILL_LOOP, default 40s; docs/performance.md has a
// 10-minute run): every alert a replica accepted arrives, none under two
// notification ids.
func TestDistributedNotifierKillLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons as processes")
	}
	loop := envDuration(t, "GOVWATCH_KILL_LOOP", 40*time.Second)
	d := startDistributed(t, nil, 1, size{accounts: 60, leaks: 40, silent: 5})
	d.hook.delay.Store(int64(500 * time.Millisecond))
	d.startNotifier(t)
	d.startAnalyzer(t)
	d.underWay(t, 50)
	// Alerts keep arriving on the API throughout, as Prometheus sends
	// them: to every replica, each one answered by any that is up.
	var mu sync.Mutex
	addrs := func() []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, p := range d.notifiers {
			out = append(out, p.http)
		}
		return out
	}
	stop := make(chan struct{})
	posted := make(chan []string, 1)
	go func() {
		var accepted []string
		client := http.Client{Timeout: 5 * time.Second}
		for n := 0; ; n++ {
			select {
			case <-stop:
				posted <- accepted
				return
			case <-time.After(700 * time.Millisecond):
			}
			acct := fmt.Sprintf("api-%04d", n)
			body := `[{"labels": {"alertname": "content.illegal_link", "severity": "critical", "unit": "fz-gov", "account_id": "` + acct + `"}}]`
			ok := false
			for _, a := range addrs() {
				resp, err := client.Post("http://"+a+"/api/v2/alerts", "application/json", strings.NewReader(body))
				if err == nil {
					ok = ok || resp.StatusCode == http.StatusOK
					resp.Body.Close()
				}
			}
			if ok {
				accepted = append(accepted, "content.illegal_link/"+acct)
			}
		}
	}()
	kills := 0
	start := time.Now()
	for time.Since(start) < loop {
		// Half a receiver's answer to two and a half: some kills land
		// between a send and its record.
		time.Sleep(time.Duration(500+kills*577%2000) * time.Millisecond)
		i := kills % len(d.notifiers)
		d.notifiers[i].stop(syscall.SIGKILL)
		kills++
		p := startProc(t, filepath.Join(d.bins, "notifier"), "notifier", d.cfg)
		mu.Lock()
		d.notifiers[i] = p
		mu.Unlock()
	}
	close(stop)
	d.extra = <-posted
	t.Logf("%d notifier kills in %s; %d alerts posted on the API and accepted; %d alerts delivered by then",
		kills, loop, len(d.extra), len(d.hook.firing()))
	d.everyAlertOnce(t, 3*time.Minute)
}

// TestDistributedRedisPause stops redis-server (SIGSTOP) while the analyzer
// works through the posts (GOVWATCH_REDIS_PAUSE, default 30s; docs/
// performance.md has a 10-minute run), resumes it (SIGCONT), and checks that
// the analyzer said it was not ready throughout, held the post it was on
// instead of spending its deliveries (no retry, nothing dead-lettered: five
// deliveries with the default backoff take under three minutes, after which
// a post would be gone), and that every alert reached the receiver exactly
// once.
func TestDistributedRedisPause(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons as processes, and stops Redis for minutes")
	}
	pause := envDuration(t, "GOVWATCH_REDIS_PAUSE", 30*time.Second)
	d := startDistributed(t, nil, 1, distSize)
	rdb := goredis.NewClient(&goredis.Options{Addr: d.redis})
	t.Cleanup(func() { rdb.Close() })
	analyzer := d.startAnalyzer(t)
	acked := d.underWay(t, 50)
	resume := redistest.Stop(t, rdb)
	stopped := time.Now()
	t.Logf("redis-server stopped after %d of %d posts, for %s", acked, d.total, pause)
	ready := func() bool {
		c := http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + analyzer.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	waitFor(t, 30*time.Second, "the analyzer not ready", func() bool { return !ready() })
	for time.Since(stopped) < pause {
		if ready() {
			t.Fatalf("the analyzer said it was ready %s into the outage", time.Since(stopped).Round(time.Second))
		}
		time.Sleep(time.Second)
	}
	resume()
	waitFor(t, 60*time.Second, "the analyzer ready again", ready)
	d.everyAlertOnce(t, 3*time.Minute)
	if dl, err := d.b.DeadLetters(context.Background()); err != nil || len(dl) != 0 {
		t.Errorf("dead letters %v (%v), want none", dl, err)
	}
	log := analyzer.logs()
	if !strings.Contains(log, "consumer paused") {
		t.Errorf("the analyzer never paused its consumer: the outage did not reach it\n%s", tail(log, 20))
	}
	for _, spent := range []string{"message failed, will retry", "message dead-lettered"} {
		if n := strings.Count(log, spent); n > 0 {
			t.Errorf("%d times %q during the outage: posts spent deliveries on it", n, spent)
		}
	}
}

// envDuration is the duration the environment variable name sets, def when
// it is unset: how long a fault test runs, longer by hand than in make test.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 10m", name, v)
	}
	return d
}

// quoted writes ss as a YAML flow sequence's items.
func quoted(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func grepv(s, drop string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, drop) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
