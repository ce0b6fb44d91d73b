package collect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/collect/schedule"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/registry"
)

// timedSource notes when each poll started, for the load report.
type timedSource struct {
	source.Source
	iv    time.Duration
	mu    sync.Mutex
	lags  []time.Duration
	perS  map[int64]int
	start time.Time
}

func (s *timedSource) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	now := time.Now()
	due := schedule.NextDue(a.ID, s.iv, now.Add(-s.iv+time.Nanosecond))
	s.mu.Lock()
	s.lags = append(s.lags, now.Sub(due))
	s.perS[now.Unix()]++
	s.mu.Unlock()
	return s.Source.Poll(ctx, a, state)
}

// TestLoad runs the collector over GOVWATCH_LOAD_ACCOUNTS accounts (default
// 300,000) on a 10-minute interval for GOVWATCH_LOAD_SECONDS of real time
// against a local feed server that answers 304, with Redis as the store and
// the host limiter on, and reports polls/s, schedule lag and memory. It is
// skipped unless GOVWATCH_LOAD_SECONDS is set; see docs/performance.md ("Collector scheduling and scale").
func TestLoad(t *testing.T) {
	secs, _ := strconv.Atoi(os.Getenv("GOVWATCH_LOAD_SECONDS"))
	if secs <= 0 {
		t.Skip("set GOVWATCH_LOAD_SECONDS to run the collector load test")
	}
	n := 300_000
	if v, err := strconv.Atoi(os.Getenv("GOVWATCH_LOAD_ACCOUNTS")); err == nil && v > 0 {
		n = v
	}
	const iv = 10 * time.Minute

	feedSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>`)
	}))
	defer feedSrv.Close()
	st := openRedisState(t)

	accounts := make([]registry.Account, n)
	for i := range accounts {
		id := fmt.Sprintf("acct-%06d", i)
		accounts[i] = registry.Account{ID: id, Name: id, Platform: "weibo", Unit: "u",
			Source: registry.Source{Type: "rss", Options: &rss.Account{URL: feedSrv.URL + "/feed/" + id}}}
	}
	reg := newRegistry(t, []registry.Unit{{ID: "u", Name: "单位"}}, accounts)
	accounts = nil

	lim := hostlimit.New(hostlimit.Options{Store: st, Default: hostlimit.Limit{Rate: 5000, Concurrency: 256}})
	client := httpclient.New(httpclient.Options{Limiter: lim, Timeout: 10 * time.Second})
	src := &timedSource{Source: &rss.Source{Fetcher: &feed.Fetcher{Client: client}}, iv: iv, perS: map[int64]int{}}
	runtime.GC()
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	c, err := New(Options{
		Registry: reg, Sources: map[string]source.Source{"rss": src}, Publisher: &recorder{}, State: st,
		Interval: iv, Workers: 64, Timeout: 10 * time.Second, Clock: clockwork.NewRealClock(),
		Log: zap.NewNop(), Metrics: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second)
	defer cancel()
	cpu0, wall0 := processCPU(t), time.Now()
	src.start = wall0
	c.Run(ctx)
	wall, cpu := time.Since(wall0), processCPU(t)-cpu0
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)

	src.mu.Lock()
	defer src.mu.Unlock()
	lags := slices.Clone(src.lags)
	slices.Sort(lags)
	pct := func(p float64) time.Duration {
		if len(lags) == 0 {
			return 0
		}
		return lags[min(len(lags)-1, int(p*float64(len(lags))))]
	}
	// Whole seconds after a 5 s warm-up, without the last partial second.
	var counts []int
	for s := wall0.Unix() + 5; s < wall0.Add(wall).Unix(); s++ {
		counts = append(counts, src.perS[s])
	}
	maxC, sum := 0, 0
	for _, k := range counts {
		maxC = max(maxC, k)
		sum += k
	}
	mean := float64(sum) / float64(max(len(counts), 1))
	t.Logf("accounts %d, interval %s, ran %s, polls %d", n, iv, wall.Round(time.Millisecond), len(lags))
	t.Logf("polls/s: mean %.1f, max %d, max/mean %.2f (expected %.1f)", mean, maxC, float64(maxC)/mean, float64(n)/iv.Seconds())
	t.Logf("schedule lag (incl. ≤1s jitter): p50 %s p90 %s p99 %s max %s", pct(.5), pct(.9), pct(.99), pct(1))
	t.Logf("process CPU %.1f%% of a core; heap in use %d MiB (%.0f B/account after start); peak RSS %s",
		100*cpu.Seconds()/wall.Seconds(), ms.HeapInuse>>20, float64(ms.HeapInuse-ms0.HeapInuse)/float64(n), peakRSS())
	if mean < 0.9*float64(n)/iv.Seconds() {
		t.Errorf("mean %.1f polls/s, want about %.1f", mean, float64(n)/iv.Seconds())
	}
}

func processCPU(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
