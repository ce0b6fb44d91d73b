package daemon

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestScaleOut is the scale-out check, run by hand:
//
//	GOVWATCH_SCALEOUT=10m go test -run TestScaleOut -v -timeout 60m ./pkg/daemon/
//
// Two collectors, two analyzers and two notifiers as processes against a
// 3-node NATS cluster (streams with 3 replicas) and one redis-server, over
// generated accounts (GOVWATCH_SCALEOUT_ACCOUNTS, default 300,000; every
// 500th fell silent, every 500th leaks personal data) polled every 10
// minutes from one simulator host (as behind one RSSHub, allowed 5,000
// requests a second), for GOVWATCH_SCALEOUT. Half-way it kills the node
// leading the posts stream. Every 10 s it samples the streams, the
// consumers, Redis and each process (CPU, RSS), and at the end logs the
// figures of docs/performance.md and checks that no post the collectors
// had published was lost and that every alert the notifiers took reached
// the receiver under one notification id.
func TestScaleOut(t *testing.T) {
	if os.Getenv("GOVWATCH_SCALEOUT") == "" {
		t.Skip("the scale-out check runs for minutes on hundreds of thousands of accounts: set GOVWATCH_SCALEOUT=10m")
	}
	dur := envDuration(t, "GOVWATCH_SCALEOUT", 0)
	accounts := 300_000
	if v := os.Getenv("GOVWATCH_SCALEOUT_ACCOUNTS"); v != "" {
		var err error
		if accounts, err = strconv.Atoi(v); err != nil || accounts < 1 {
			t.Fatalf("GOVWATCH_SCALEOUT_ACCOUNTS=%q: want a positive number", v)
		}
	}
	ctx := context.Background()
	nc := startNATSCluster(t, 3)
	redisAddr := redistest.Start(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: redisAddr})
	t.Cleanup(func() { rdb.Close() })
	bins := buildDaemons(t)
	dir := t.TempDir()

	g := simulate.NewGenerated(accounts, 1)
	g.SetIncidents(simulate.GeneratedIncidents{Anchor: time.Now().Truncate(time.Minute), SilentEvery: 500, LeakEvery: 500})
	sim := httptest.NewServer(g.Handler())
	t.Cleanup(sim.Close)
	f, err := os.Create(filepath.Join(dir, "registry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.WriteRegistry(f, sim.URL); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	hook := newReceiver(t, "scale-out")
	cfg := writeConfig(t, dir, map[string]string{
		"govwatch.yaml": `data_dir: ` + filepath.Join(dir, "data") + `
nats: {embedded: false, urls: [` + quoted(nc.URLs()) + `], stream_replicas: 3}
store: {backend: redis, redis: {addrs: ["` + redisAddr + `"]}}
registry: {file: registry.yaml}
collector: {interval: 10m, workers: 64, hosts: {default: {rate: 5000, concurrency: 256}}}
analyzer: {workers: 8}
` + hook.notifier(),
	})
	b, err := bus.Open(ctx, bus.Options{URLs: nc.URLs(), Replicas: 3, Name: "scale-out"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })

	var procs []*proc
	for _, name := range []string{"notifier", "notifier", "analyzer", "analyzer", "collector", "collector"} {
		procs = append(procs, startProcWithin(t, filepath.Join(bins, name), name, cfg, 3*time.Minute))
	}
	start := time.Now()
	first := sampleScale(t, ctx, b, rdb, procs, hook)
	samples := []scaleSample{first}
	killed := false
	for time.Since(start) < dur {
		time.Sleep(10 * time.Second)
		samples = append(samples, sampleScale(t, ctx, b, rdb, procs, hook))
		if !killed && time.Since(start) >= dur/2 {
			s, err := b.JetStream().Stream(ctx, b.Stream(bus.KindPost))
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			nd := nc.node(t, info.Cluster.Leader)
			nd.kill(syscall.SIGKILL)
			t.Logf("%s: killed NATS node %s, the posts stream's leader", time.Since(start).Round(time.Second), nd.name)
			killed = true
		}
	}
	last := samples[len(samples)-1]
	for _, p := range procs[4:] {
		p.finalPublished = scrapeCounter(p, `govwatch_bus_published_total{result="ok",stream="`+b.Stream(bus.KindPost)+`"}`, p.finalPublished)
	}
	// Stop the collectors, so the posts stream stops growing, and give the
	// analyzers and notifiers a bounded time to work off their backlog.
	for _, p := range procs[4:] {
		p.stop(syscall.SIGINT) // ends its polls; what it published stays counted
	}
	var end scaleSample
	drained := false
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Second) {
		end = sampleScale(t, ctx, b, rdb, procs[:4], hook)
		if end.postsPending == 0 && end.alertsPending == 0 {
			drained = true
			break
		}
	}

	secs := last.at.Sub(first.at).Seconds()
	rate := func(a, b float64) string { return fmt.Sprintf("%.0f/s", (b-a)/secs) }
	t.Logf("%d accounts, %s, 2 collectors, 2 analyzers, 2 notifiers, 3 NATS nodes (R3), Redis", accounts, last.at.Sub(first.at).Round(time.Second))
	t.Logf("posts published %s (%.0f in all), analysed %s; alerts published %s (%.0f), notifications received %s (%.0f)",
		rate(first.posts, last.posts), last.posts, rate(first.analysed, last.analysed),
		rate(first.alerts, last.alerts), last.alerts, rate(first.received, last.received), last.received)
	t.Logf("Redis: %s commands, %.0f%% of a core, %.0f MiB used", rate(first.redisCmds, last.redisCmds),
		100*(last.redisCPU-first.redisCPU)/secs, last.redisMem/(1<<20))
	for i, p := range procs {
		t.Logf("%s %d: %.0f%% of a core, peak RSS %.0f MiB", p.name, i%2+1,
			100*(last.cpu[i]-first.cpu[i])/secs, last.peak[i]/(1<<20))
	}
	t.Logf("after the collectors stopped: posts pending %.0f, alerts pending %.0f (drained: %v)", end.postsPending, end.alertsPending, drained)

	// The node's death took no message: the posts stream's last sequence
	// never went back, and it holds every sequence it numbered.
	for i := 1; i < len(samples); i++ {
		if samples[i].postsLast < samples[i-1].postsLast {
			t.Errorf("the posts stream's last sequence went back from %d to %d", samples[i-1].postsLast, samples[i].postsLast)
		}
	}
	if end.postsLast > 0 && end.posts != float64(end.postsLast-end.postsFirst+1) {
		t.Errorf("the posts stream holds %.0f messages between sequences %d and %d", end.posts, end.postsFirst, end.postsLast)
	}
	// Nothing a collector had published is missing from the stream.
	var ok float64
	for _, p := range procs[4:] {
		ok += p.finalPublished
	}
	if ok == 0 || end.posts < ok {
		t.Errorf("the collectors published %.0f posts, the posts stream holds %.0f", ok, end.posts)
	}
	// Every alert delivered arrived under one notification id.
	doubled, resent := hook.doubles()
	for _, k := range doubled {
		t.Errorf("paged twice: %s", k)
	}
	t.Logf("%d alerts delivered, %d deliveries repeated a notification id", len(hook.firing()), resent)
	hook.mu.Lock()
	if len(hook.bad) > 0 {
		t.Errorf("bad webhook requests: %v", hook.bad[:min(len(hook.bad), 5)])
	}
	hook.mu.Unlock()
}

// scaleSample is one reading of the scale-out run.
type scaleSample struct {
	at                          time.Time
	posts, analysed             float64 // posts stream messages; acknowledged by the analyzers
	postsFirst, postsLast       uint64  // the posts stream's first and last sequence
	alerts                      float64 // alerts stream messages
	received                    float64 // webhook messages received
	postsPending, alertsPending float64 // not yet acknowledged by the consumers
	redisCmds, redisCPU         float64 // commands; CPU seconds
	redisMem                    float64 // bytes
	cpu, peak                   []float64
}

func sampleScale(t *testing.T, ctx context.Context, b *bus.Bus, rdb *goredis.Client, procs []*proc, hook *receiver) scaleSample {
	t.Helper()
	s := scaleSample{at: time.Now()}
	stream := func(k bus.Kind, durable string) (msgs, acked, pending float64) {
		st, err := b.JetStream().Stream(ctx, b.Stream(k))
		if err != nil {
			return math.NaN(), math.NaN(), math.NaN()
		}
		info, err := st.Info(ctx)
		if err != nil {
			return math.NaN(), math.NaN(), math.NaN()
		}
		msgs = float64(info.State.Msgs)
		if k == bus.KindPost {
			s.postsFirst, s.postsLast = info.State.FirstSeq, info.State.LastSeq
		}
		c, err := st.Consumer(ctx, durable)
		if err != nil {
			return msgs, 0, msgs
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return msgs, math.NaN(), math.NaN()
		}
		return msgs, float64(ci.AckFloor.Stream), float64(ci.NumPending + uint64(ci.NumAckPending))
	}
	s.posts, s.analysed, s.postsPending = stream(bus.KindPost, "analyzer")
	s.alerts, _, s.alertsPending = stream(bus.KindAlert, "notifier")
	hook.mu.Lock()
	s.received = float64(len(hook.msgs))
	hook.mu.Unlock()
	info, err := rdb.Info(ctx, "stats", "cpu", "memory").Result()
	if err == nil {
		s.redisCmds = infoField(info, "total_commands_processed")
		s.redisCPU = infoField(info, "used_cpu_sys") + infoField(info, "used_cpu_user")
		s.redisMem = infoField(info, "used_memory")
	}
	for _, p := range procs {
		cpu, peak := procUsage(p)
		s.cpu = append(s.cpu, cpu)
		s.peak = append(s.peak, peak)
		if p.name == "collector" {
			p.finalPublished = scrapeCounter(p, `govwatch_bus_published_total{result="ok",stream="`+b.Stream(bus.KindPost)+`"}`, p.finalPublished)
		}
	}
	return s
}

func infoField(info, name string) float64 {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return math.NaN()
}

// procUsage is p's CPU seconds so far and its peak resident memory in
// bytes, from /proc; the last reading once it exited.
func procUsage(p *proc) (cpu, peak float64) {
	pid := p.cmd.Process.Pid
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the parenthesised command: state is field 3, utime 14, stime 15.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				p.lastCPU = (ut + st) / 100 // USER_HZ
			}
		}
	}
	if fh, err := os.Open(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				p.lastPeak = kb * 1024
			}
		}
		fh.Close()
	}
	return p.lastCPU, p.lastPeak
}

// scrapeCounter reads the sample named series from p's /metrics, or keeps
// last when p no longer answers.
func scrapeCounter(p *proc, series string, last float64) float64 {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + p.http + "/metrics")
	if err != nil {
		return last
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return last
}
