// Package load drives the real collector against a simulator for a bounded
// time and reports what the scale goals ask about: sustained polls
// per second, how even they are from one second to the next, schedule lag,
// process CPU and peak RSS. `govwatch collector-load` is its command.
package load

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/collect"
	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/collect/schedule"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// processStart is about when the process started.
var processStart = time.Now()

// Store is what the collector and the host limiter need from the store.
type Store interface {
	collect.State
	hostlimit.Store
}

// Options describe one load run.
type Options struct {
	Registry *registry.Registry // every account an rss source on the simulator
	Store    Store
	Duration time.Duration // how long to run; default 1m
	Warmup   time.Duration // seconds left out of the per-second figures; default 5s
	Interval time.Duration // every account's interval; default 10m
	Workers  int           // default 64
	// Host limits for the simulator's host (all accounts share it, as
	// behind one RSSHub); default 5,000/s and 256 at once.
	HostRate, HostConcurrency int
	// SchedulerOnly runs the scheduler with the same tasks and a run that
	// only counts: the process CPU is then the scheduler's own.
	SchedulerOnly bool
	Log           *zap.Logger
}

// Report is what a run measured.
type Report struct {
	Accounts  int
	Interval  time.Duration
	Ran       time.Duration
	Polls     int     // poll starts (scheduler runs in SchedulerOnly)
	Published int64   // posts published (first fetch of each feed)
	Rate      Rate    // per-second poll starts after the warm-up
	Lag       Lags    // start − slot, including the scheduler's jitter of up to 1 s
	Stalls    Stalls  // how long the process went without running a ticker
	CPUUser   float64 // seconds
	CPUSys    float64
	PeakRSS   int64          // bytes: the run's peak (VmHWM after a reset), else getrusage ru_maxrss
	LoadRSS   int64          // bytes: getrusage ru_maxrss before the run, i.e. loading the registry
	PeakReset bool           // PeakRSS excludes the registry's loading (ProcessRSS is both)
	Load      [2]string      // /proc/loadavg at start and end
	Bursts    []Burst        // seconds above 1.3 × the mean, with the stall before them
	Expected  float64        // accounts ÷ interval
	Offset    time.Duration  // the run's start after the process's, to line up GODEBUG=gctrace=1 output
	Scheduler bool           // SchedulerOnly run
	Results   map[string]int // the collector's polls by result (ok, not_modified, error, throttled, canceled)
}

// ProcessRSS is the process's peak resident set, registry loading included.
func (r *Report) ProcessRSS() int64 { return max(r.PeakRSS, r.LoadRSS) }

// CPUPercent is the process CPU over the run, in percent of one core.
func (r *Report) CPUPercent() float64 {
	if r.Ran <= 0 {
		return 0
	}
	return 100 * (r.CPUUser + r.CPUSys) / r.Ran.Seconds()
}

// Rate sums per-second counts.
type Rate struct {
	Seconds int
	Mean    float64
	Max     int
	Min     int
}

// MaxOverMean is the burst ratio the issue sets a goal for.
func (r Rate) MaxOverMean() float64 {
	if r.Mean == 0 {
		return 0
	}
	return float64(r.Max) / r.Mean
}

// PerSecond summarises counts, one per whole second.
func PerSecond(counts []int) Rate {
	if len(counts) == 0 {
		return Rate{}
	}
	r := Rate{Seconds: len(counts), Max: counts[0], Min: counts[0]}
	sum := 0
	for _, c := range counts {
		sum += c
		r.Max = max(r.Max, c)
		r.Min = min(r.Min, c)
	}
	r.Mean = float64(sum) / float64(len(counts))
	return r
}

// Lags are quantiles of schedule lag.
type Lags struct{ P50, P90, P99, Max time.Duration }

// Quantiles sorts lags in place and reads the quantiles (nearest rank).
func Quantiles(lags []time.Duration) Lags {
	if len(lags) == 0 {
		return Lags{}
	}
	slices.Sort(lags)
	q := func(p float64) time.Duration {
		i := int(p*float64(len(lags))+0.999999) - 1
		return lags[min(max(i, 0), len(lags)-1)]
	}
	return Lags{P50: q(.5), P90: q(.9), P99: q(.99), Max: lags[len(lags)-1]}
}

// Stalls summarise the gaps of a 10 ms ticker beyond its period.
type Stalls struct {
	Max     time.Duration
	Over100 int // seconds with a gap over 100 ms
}

// Burst is one second whose count exceeded 1.3 × the mean.
type Burst struct {
	Second int           // since the start
	Count  int           // poll starts in it
	Stall  time.Duration // longest ticker gap in it and the two seconds before
}

// Bursts lists the seconds of counts (after skip) above limit × mean, with
// the longest gap of stalls (per second, same indexing) in that second and
// the two before.
func Bursts(counts []int, stalls []time.Duration, skip int, limit float64) []Burst {
	if skip >= len(counts) {
		return nil
	}
	mean := PerSecond(counts[skip:]).Mean
	var out []Burst
	for s := skip; s < len(counts); s++ {
		if float64(counts[s]) <= limit*mean {
			continue
		}
		var st time.Duration
		for k := max(s-2, 0); k <= s && k < len(stalls); k++ {
			st = max(st, stalls[k])
		}
		out = append(out, Burst{Second: s, Count: counts[s], Stall: st})
	}
	return out
}

// counter records poll starts per second since start and their lag.
type counter struct {
	start  time.Time
	iv     time.Duration
	perS   []atomic.Int64
	mu     sync.Mutex
	lags   []time.Duration
	stalls []atomic.Int64 // longest ticker gap per second, ns
}

func newCounter(iv, d time.Duration) *counter {
	n := int(d/time.Second) + 2
	return &counter{iv: iv, perS: make([]atomic.Int64, n), stalls: make([]atomic.Int64, n)}
}

// hit notes a start of account key's slot now.
func (c *counter) hit(key string, now time.Time) {
	if s := int(now.Sub(c.start) / time.Second); s >= 0 && s < len(c.perS) {
		c.perS[s].Add(1)
	}
	due := schedule.NextDue(key, c.iv, now.Add(-c.iv+time.Nanosecond))
	c.mu.Lock()
	c.lags = append(c.lags, now.Sub(due))
	c.mu.Unlock()
}

// watch records how late a 10 ms ticker fires until ctx is done.
func (c *counter) watch(ctx context.Context) {
	const period = 10 * time.Millisecond
	t := time.NewTicker(period)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			gap := now.Sub(last) - period
			last = now
			if s := int(now.Sub(c.start) / time.Second); s >= 0 && s < len(c.stalls) && int64(gap) > c.stalls[s].Load() {
				c.stalls[s].Store(int64(gap))
			}
		}
	}
}

// timed notes every poll start before handing it to the real source.
type timed struct {
	source.Source
	c *counter
}

func (t *timed) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	t.c.hit(a.ID, time.Now())
	return t.Source.Poll(ctx, a, state)
}

// publisher counts what the collector publishes.
type publisher struct{ posts, other atomic.Int64 }

func (p *publisher) PublishPost(context.Context, *model.Post) (bool, error) {
	p.posts.Add(1)
	return false, nil
}
func (p *publisher) PublishSnapshot(context.Context, *model.AccountSnapshot) error {
	p.other.Add(1)
	return nil
}
func (p *publisher) PublishProbe(context.Context, *model.ProbeResult) error {
	p.other.Add(1)
	return nil
}

// Run runs the collector (or, with SchedulerOnly, the scheduler alone) over
// o.Registry for o.Duration and reports.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Duration <= 0 {
		o.Duration = time.Minute
	}
	if o.Warmup <= 0 {
		o.Warmup = 5 * time.Second
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Minute
	}
	if o.Workers <= 0 {
		o.Workers = 64
	}
	if o.HostRate <= 0 {
		o.HostRate = 5000
	}
	if o.HostConcurrency <= 0 {
		o.HostConcurrency = 256
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	n := 0
	for _, a := range o.Registry.Accounts() {
		if a.Active() {
			n++
		}
	}
	rep := &Report{Accounts: n, Interval: o.Interval, Expected: float64(n) / o.Interval.Seconds(), Scheduler: o.SchedulerOnly}
	rep.Load[0] = loadavg()

	pub := &publisher{}
	mreg := prometheus.NewRegistry()
	cnt := newCounter(o.Interval, o.Duration)
	var c *collect.Collector
	if !o.SchedulerOnly {
		if o.Store == nil {
			return nil, fmt.Errorf("load: no store")
		}
		lim := hostlimit.New(hostlimit.Options{Store: o.Store, Default: hostlimit.Limit{Rate: o.HostRate, Concurrency: o.HostConcurrency}})
		client := httpclient.New(httpclient.Options{Limiter: lim, Timeout: 10 * time.Second,
			Base: &http.Transport{MaxIdleConnsPerHost: o.HostConcurrency, IdleConnTimeout: 90 * time.Second}})
		var err error
		c, err = collect.New(collect.Options{
			Registry: o.Registry, Sources: map[string]source.Source{"rss": &timed{Source: &rss.Source{Fetcher: &feed.Fetcher{Client: client}}, c: cnt}},
			Publisher: pub, State: o.Store, Interval: o.Interval, Workers: o.Workers, Timeout: 10 * time.Second,
			Clock: clockwork.NewRealClock(), Log: o.Log, Metrics: mreg,
		})
		if err != nil {
			return nil, fmt.Errorf("load: %w", err)
		}
	}
	// The peak so far is the registry's loading; restart the kernel's
	// high-water mark so PeakRSS is the run's own, and LoadRSS the
	// loading's. The process's peak is the larger of the two.
	rep.LoadRSS = rusage().MaxRSS
	rep.PeakReset = resetPeakRSS()
	cpu0 := rusage()
	start := time.Now()
	cnt.start = start
	rep.Offset = start.Sub(processStart)
	runCtx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	go cnt.watch(runCtx)
	if c != nil {
		c.Run(runCtx) //nolint:errcheck // Run returns nil
	} else {
		tasks := make([]schedule.Task, 0, n)
		for _, a := range o.Registry.Accounts() {
			if a.Active() {
				tasks = append(tasks, schedule.Task{Key: a.ID, Interval: o.Interval})
			}
		}
		s := schedule.New(schedule.Options{Workers: o.Workers, Jitter: time.Second})
		s.Run(runCtx, tasks, func(_ context.Context, key string, _ time.Time) time.Time {
			cnt.hit(key, time.Now())
			return time.Time{}
		})
	}
	rep.Ran = time.Since(start)
	cpu1 := rusage()
	rep.CPUUser = (cpu1.Utime - cpu0.Utime).Seconds()
	rep.CPUSys = (cpu1.Stime - cpu0.Stime).Seconds()
	rep.PeakRSS = cpu1.MaxRSS
	if rep.PeakReset {
		if hwm, ok := vmHWM(); ok {
			rep.PeakRSS = hwm
		}
	}
	rep.Load[1] = loadavg()
	rep.Published = pub.posts.Load()
	rep.Results = pollResults(mreg)

	whole := min(int(rep.Ran/time.Second), len(cnt.perS))
	counts := make([]int, whole)
	stalls := make([]time.Duration, whole)
	for i := range whole {
		counts[i] = int(cnt.perS[i].Load())
		stalls[i] = time.Duration(cnt.stalls[i].Load())
		rep.Stalls.Max = max(rep.Stalls.Max, stalls[i])
		if stalls[i] > 100*time.Millisecond {
			rep.Stalls.Over100++
		}
	}
	skip := min(int(o.Warmup/time.Second), whole)
	rep.Rate = PerSecond(counts[skip:])
	rep.Bursts = Bursts(counts, stalls, skip, 1.3)
	cnt.mu.Lock()
	rep.Polls = len(cnt.lags)
	rep.Lag = Quantiles(cnt.lags)
	cnt.mu.Unlock()
	return rep, nil
}

// pollResults sums govwatch_collector_polls_total by result.
func pollResults(g prometheus.Gatherer) map[string]int {
	out := map[string]int{}
	mfs, err := g.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		if mf.GetName() != "govwatch_collector_polls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" {
					out[l.GetValue()] += int(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

type usage struct {
	Utime, Stime time.Duration
	MaxRSS       int64
}

func rusage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	return usage{Utime: time.Duration(ru.Utime.Nano()), Stime: time.Duration(ru.Stime.Nano()), MaxRSS: ru.Maxrss * 1024}
}

// resetPeakRSS restarts the process's VmHWM (Linux 4.0+: clear_refs 5).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// vmHWM reads the process's peak resident set since the last reset.
func vmHWM() (int64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Write prints the report for people.
func (r *Report) Write(w io.Writer) {
	what := "collector"
	if r.Scheduler {
		what = "scheduler only"
	}
	fmt.Fprintf(w, "%s: %d accounts, interval %s, ran %s (load average %s at start, %s at end)\n",
		what, r.Accounts, r.Interval, r.Ran.Round(time.Millisecond), r.Load[0], r.Load[1])
	fmt.Fprintf(w, "started %.3fs after the process\n", r.Offset.Seconds())
	fmt.Fprintf(w, "polls: %d, posts published: %d\n", r.Polls, r.Published)
	if len(r.Results) > 0 {
		keys := slices.Sorted(maps.Keys(r.Results))
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, r.Results[k])
		}
		fmt.Fprintf(w, "poll results: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "sustained polls/s: %.1f over %d whole seconds after the warm-up (expected %.1f)\n", r.Rate.Mean, r.Rate.Seconds, r.Expected)
	fmt.Fprintf(w, "per-second polls: min %d, max %d, max/mean %.2f\n", r.Rate.Min, r.Rate.Max, r.Rate.MaxOverMean())
	fmt.Fprintf(w, "schedule lag (incl. ≤1s jitter): p50 %s, p90 %s, p99 %s, max %s\n",
		r.Lag.P50.Round(time.Millisecond), r.Lag.P90.Round(time.Millisecond), r.Lag.P99.Round(time.Millisecond), r.Lag.Max.Round(time.Millisecond))
	fmt.Fprintf(w, "process CPU: %.1f%% of a core (user %.1fs, system %.1fs)\n", r.CPUPercent(), r.CPUUser, r.CPUSys)
	if r.PeakReset {
		fmt.Fprintf(w, "peak RSS: %d MiB for the process (%d MiB while loading the registry, %d MiB during the run)\n", r.ProcessRSS()>>20, r.LoadRSS>>20, r.PeakRSS>>20)
	} else {
		fmt.Fprintf(w, "peak RSS: %d MiB, registry loading included\n", r.PeakRSS>>20)
	}
	fmt.Fprintf(w, "stalls (10 ms ticker late): max %s, %d seconds over 100 ms\n", r.Stalls.Max.Round(time.Millisecond), r.Stalls.Over100)
	for i, b := range r.Bursts {
		if i == 10 {
			fmt.Fprintf(w, "… %d more seconds over 1.3 × mean\n", len(r.Bursts)-10)
			break
		}
		fmt.Fprintf(w, "burst: second %d, %d polls, longest stall in it and the 2 s before %s\n", b.Second, b.Count, b.Stall.Round(time.Millisecond))
	}
}
