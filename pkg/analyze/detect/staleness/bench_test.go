package staleness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// benchAccounts is how many accounts BenchmarkSweep judges; set
// GOVWATCH_BENCH_ACCOUNTS to change it (default 300000, a province's worth
// many times over).
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("GOVWATCH_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 300_000
}

var benchNow = time.Date(2026, 11, 20, 3, 0, 0, 0, time.UTC)

// fixture is a populated store, built once per backend and reused by every
// run of the benchmark function (testing calls it more than once).
type fixture struct {
	store store.Store
	reg   *registry.Registry
	clock *clockwork.FakeClock
	setup time.Duration
	// first is how long the first sweep took, which fired the silent
	// accounts (fired alerts) and recorded when the rest were first watched.
	first time.Duration
	fired int64
}

var (
	fixtures   = map[string]*fixture{}
	fixturesMu sync.Mutex
	cleanups   []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, c := range cleanups {
		c()
	}
	os.Exit(code)
}

// countingPublisher drops alerts, counting them.
type countingPublisher struct{ n atomic.Int64 }

func (p *countingPublisher) PublishAlert(context.Context, *model.Alert) (bool, error) {
	p.n.Add(1)
	return false, nil
}

// populate registers n accounts and stores a last post for each: most posted
// 1 to 9 days ago; 1 in 100 12 days ago (reminder), 1 in 100 20 days ago
// (veto), 1 in 200 100 days ago (veto and zombie).
func populate(b *testing.B, st store.Store, n int) *registry.Registry {
	units := []registry.Unit{{ID: "u", Name: "单位"}}
	accounts := make([]registry.Account, n)
	ctx := context.Background()
	for i := range n {
		id := fmt.Sprintf("acct-%06d", i)
		accounts[i] = registry.Account{ID: id, Name: id, Platform: "weibo", Unit: "u"}
		age := time.Duration(1+i%9) * 24 * time.Hour
		switch {
		case i%100 == 0:
			age = 12 * 24 * time.Hour
		case i%100 == 1:
			age = 20 * 24 * time.Hour
		case i%200 == 2:
			age = 100 * 24 * time.Hour
		}
		v, _ := json.Marshal(last{At: benchNow.Add(-age), URL: "https://weibo.example/" + id, Title: "标题"})
		if err := st.Set(ctx, lastKey(id), v, 0); err != nil {
			b.Fatal(err)
		}
	}
	reg, probs := registry.New(units, accounts)
	if probs != nil {
		b.Fatal(probs)
	}
	return reg
}

func benchFixture(b *testing.B, backend string) *fixture {
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[backend]; f != nil {
		return f
	}
	clock := clockwork.NewFakeClockAt(benchNow)
	var st store.Store
	switch backend {
	case "embedded":
		// tmpfs when there is one: populating commits once per key, and the
		// fsync of a disk would dominate the setup (not the sweep).
		dir, err := os.MkdirTemp(shmOrTemp(), "govwatch-bench-")
		if err != nil {
			b.Fatal(err)
		}
		s, err := embedded.Open(filepath.Join(dir, "state.db"), embedded.WithClock(clock))
		if err != nil {
			b.Fatal(err)
		}
		st = s
		cleanups = append(cleanups, func() { s.Close(); os.RemoveAll(dir) })
	case "redis":
		s, err := redis.Open(context.Background(), redis.Options{Addrs: []string{redistest.Start(b)}})
		if err != nil {
			b.Fatal(err)
		}
		st = s
		cleanups = append(cleanups, func() { s.Close() })
	}
	start := time.Now()
	f := &fixture{store: st, clock: clock}
	f.reg = populate(b, st, benchAccounts())
	f.setup = time.Since(start)
	pub := &countingPublisher{}
	env := &detect.Env{Registry: f.reg, Store: st, Publisher: pub, Now: clock.Now}
	start = time.Now()
	if err := newBenchDetector().Sweep(context.Background(), env); err != nil {
		b.Fatal(err)
	}
	f.first, f.fired = time.Since(start), pub.n.Load()
	fixtures[backend] = f
	return f
}

func newBenchDetector() *Detector {
	return NewLevels(10*24*time.Hour, 14*24*time.Hour, 90*24*time.Hour)
}

func shmOrTemp() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// BenchmarkSweep times one steady-state sweep of the staleness detector
// (all three levels) over benchAccounts() accounts: the first sweep, which
// fires the ~2.5% silent accounts, runs before the timer; the timed sweeps
// find nothing new to publish, as most sweeps do.
//
//	go test -run '^$' -bench BenchmarkSweep -benchtime 5x -benchmem ./pkg/analyze/detect/staleness
func BenchmarkSweep(b *testing.B) {
	for _, backend := range []string{"embedded", "redis"} {
		b.Run(backend, func(b *testing.B) {
			f := benchFixture(b, backend)
			pub := &countingPublisher{}
			d := newBenchDetector()
			env := &detect.Env{Registry: f.reg, Store: f.store, Publisher: pub, Now: f.clock.Now}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for range b.N {
				if err := d.Sweep(ctx, env); err != nil {
					b.Fatal(err)
				}
			}
			cpu = cpuTime() - cpu
			b.StopTimer()
			// CPU time of the whole process (the store's goroutines and, for
			// Redis, the client; not redis-server) per sweep.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
			if got := pub.n.Load(); got != 0 {
				b.Errorf("steady-state sweeps published %d alerts, want 0", got)
			}
			b.ReportMetric(float64(len(f.reg.Accounts())), "accounts")
			b.Logf("%s: populated %d accounts in %s; the first sweep fired %d alerts in %s",
				backend, len(f.reg.Accounts()), f.setup.Round(time.Millisecond), f.fired, f.first.Round(time.Millisecond))
		})
	}
}
