package daemon

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// proc is a daemon started as its own process from a built binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr chan string
	done chan error
	mu   sync.Mutex
	log  strings.Builder
}

var httpAddr = regexp.MustCompile(`"http": ?"([^"]+)"`)

func startProc(t *testing.T, bin, name, cfg string) *proc {
	t.Helper()
	p := &proc{name: name, addr: make(chan string, 1), done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "-config", cfg, "-listen", "127.0.0.1:0", "-dev")
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
	case <-p.addr:
	case err := <-p.done:
		t.Fatalf("%s exited before it was ready: %v\n%s", name, err, p.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready within 30s:\n%s", name, p.logs())
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

// TestDistributed starts the three daemons as separate processes against
// one NATS server and a real redis-server, kills the analyzer with SIGKILL
// while it is working through the posts, starts it again, and checks that
// every alert reached the receiver exactly once.
func TestDistributed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons as processes")
	}
	redisAddr := redistest.Start(t)
	bins := buildDaemons(t)
	dir := t.TempDir()
	ctx := context.Background()

	// One NATS server for all processes, and a connection to watch it.
	b, err := bus.Open(ctx, bus.Options{Embedded: true, StoreDir: filepath.Join(dir, "nats"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	// A platform with many posts, so the analyzer is killed mid-stream.
	const accounts, leaks, silent = 30, 5, 2
	var sc strings.Builder
	sc.WriteString("seed: 7\naccounts:\n")
	var reg strings.Builder
	reg.WriteString("units:\n  - {id: fz-gov, name: 福州市人民政府办公厅, region: \"350100\"}\naccounts:\n")
	sim := httptest.NewUnstartedServer(nil)
	for i := range accounts {
		id := fmt.Sprintf("acct-%02d", i)
		fmt.Fprintf(&sc, "  - {id: %s, format: rss, title: 账号%d, posts_per_day: 10, history_days: 20", id, i)
		switch {
		case i < leaks:
			fmt.Fprintf(&sc, ", incidents: {privacy_leak: {days_ago: %d}}", 1+i%5)
		case i < leaks+silent:
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
	defer sim.Close()

	hook := newReceiver(t, "distributed")
	cfg := writeConfig(t, dir, map[string]string{
		"registry.yaml": reg.String(),
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
nats: {embedded: false, urls: ["` + b.ClientURL() + `"]}
store: {backend: redis, redis: {addrs: ["` + redisAddr + `"]}}
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 8}
analyzer: {sweep: "@every 1s"}
` + hook.notifier(),
	})

	// The collector first, so the posts are waiting for the analyzer.
	startProc(t, filepath.Join(bins, "collector"), "collector", cfg)
	startProc(t, filepath.Join(bins, "notifier"), "notifier", cfg)
	posts := b.Stream(bus.KindPost)
	total := uint64(0)
	waitFor(t, 60*time.Second, "every account's posts on the bus", func() bool {
		s, err := b.JetStream().Stream(ctx, posts)
		if err != nil {
			return false
		}
		total = s.CachedInfo().State.Msgs
		return total >= accounts*190
	})

	analyzer := startProc(t, filepath.Join(bins, "analyzer"), "analyzer", cfg)
	var acked uint64
	waitFor(t, 60*time.Second, "the analyzer under way", func() bool {
		c, err := b.JetStream().Consumer(ctx, posts, "analyzer")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		if err != nil {
			return false
		}
		acked = info.AckFloor.Stream
		return acked >= 50
	})
	analyzer.stop(syscall.SIGKILL)
	if acked >= total {
		t.Fatalf("the analyzer had finished (%d of %d posts) before it was killed; the test proves nothing", acked, total)
	}
	t.Logf("analyzer killed after %d of %d posts; %d alerts delivered so far", acked, total, len(hook.firing()))

	startProc(t, filepath.Join(bins, "analyzer"), "analyzer", cfg)
	// Every account is a Weibo account of fz-gov: one account.duplicate too.
	want := leaks*2 + silent + 1
	waitFor(t, 90*time.Second, fmt.Sprintf("%d alerts at the receiver", want), func() bool { return len(hook.firing()) >= want })
	// Watch a few more poll and sweep cycles for anything paged twice.
	deadline := time.Now().Add(4 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	got := hook.firing()
	if len(got) != want {
		t.Errorf("got %d distinct alerts, want %d: %v", len(got), want, keys(got))
	}
	for k, as := range got {
		if len(as) != 1 {
			t.Errorf("%s paged %d times, want once", k, len(as))
		}
	}
	for i := range leaks {
		for _, cat := range []string{"privacy.phone", "privacy.id_number"} {
			if k := fmt.Sprintf("%s/acct-%02d", cat, i); len(got[k]) == 0 {
				t.Errorf("lost %s", k)
			}
		}
	}
	for i := leaks; i < leaks+silent; i++ {
		if k := fmt.Sprintf("account.stale/acct-%02d", i); len(got[k]) == 0 {
			t.Errorf("lost %s", k)
		}
	}
	if len(got["account.duplicate/"]) == 0 {
		t.Error("lost account.duplicate of fz-gov on weibo")
	}
	hook.mu.Lock()
	if len(hook.bad) > 0 {
		t.Errorf("bad webhook requests: %v", hook.bad)
	}
	hook.mu.Unlock()
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
