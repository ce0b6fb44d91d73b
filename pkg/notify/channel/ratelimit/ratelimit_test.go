package ratelimit

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// start is the beginning of a minute, so tests can place sends inside windows.
var start = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

type backend struct {
	name string
	open func(t *testing.T, clock clockwork.Clock) store.Store
}

var backends = []backend{
	{"embedded", func(t *testing.T, clock clockwork.Clock) store.Store {
		s, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"redis", func(t *testing.T, _ clockwork.Clock) store.Store {
		addr := redistest.Start(t)
		s, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: "t:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// take sends n times and returns how many were allowed; any error other
// than a LimitedError fails the test.

// The shapes of limit the channels declare: one window (a chat robot's 20
// a minute), and two at once (100 a minute and 5 a second).
var (
	perMinute20        = []Limit{{Max: 20, Per: time.Minute}}
	perMinuteAndSecond = []Limit{{Max: 100, Per: time.Minute}, {Max: 5, Per: time.Second}}
)

func take(t *testing.T, l *Limiter, channel, robot string, n int, limits []Limit) int {
	t.Helper()
	ok := 0
	for range n {
		err := l.Take(context.Background(), channel, robot, limits...)
		var le *LimitedError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &le) && errors.Is(err, ErrLimited):
		default:
			t.Fatalf("Take: %v", err)
		}
	}
	return ok
}

func TestSharedAcrossReplicas(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(start.Add(50 * time.Second))
			st := b.open(t, clock)
			// Two notifier replicas: two limiters over one store.
			a, c := New(st, clock, nil), New(st, clock, nil)
			robot := RobotID("token-of-ops-robot")

			if got := take(t, a, "dingtalk", robot, 12, perMinute20) + take(t, c, "dingtalk", robot, 12, perMinute20); got != 20 {
				t.Errorf("minute 0: got %d sends allowed across two replicas, want 20", got)
			}
			// Another robot has its own budget.
			if got := take(t, c, "dingtalk", RobotID("other"), 3, perMinute20); got != 3 {
				t.Errorf("other robot: got %d allowed, want 3", got)
			}
			// 15 s into the next minute, 45/60 of the previous minute's 20
			// still count: 15 in the sliding window, room for 5.
			clock.Advance(25 * time.Second)
			if got := take(t, a, "dingtalk", robot, 10, perMinute20); got != 5 {
				t.Errorf("sliding window at +15s: got %d allowed, want 5", got)
			}
			// Two minutes on, the budget is whole again.
			clock.Advance(2 * time.Minute)
			if got := take(t, c, "dingtalk", robot, 25, perMinute20); got != 20 {
				t.Errorf("after two minutes: got %d allowed, want 20", got)
			}
		})
	}
}

func TestFeishuPerSecondAndPerMinute(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(start)
			st := b.open(t, clock)
			l := New(st, clock, nil)
			robot := RobotID("feishu-bot")
			total := 0
			// Bursts of 8 every 2 s: the second limit lets 5 of each
			// through, and refused sends are not counted against the
			// minute, so the minute limit stops them after 20 bursts.
			for burst := range 25 {
				got := take(t, l, "feishu", robot, 8, perMinuteAndSecond)
				want := 5
				if burst >= 20 {
					want = 0
				}
				if got != want {
					t.Errorf("burst %d: got %d allowed, want %d", burst, got, want)
				}
				total += got
				clock.Advance(2 * time.Second)
			}
			if total != 100 {
				t.Errorf("got %d sends allowed in 50 s, want 100 (the minute limit)", total)
			}
		})
	}
}

func TestLimitedError(t *testing.T) {
	clock := clockwork.NewFakeClockAt(start.Add(40 * time.Second))
	st := backends[0].open(t, clock)
	reg := prometheus.NewRegistry()
	l := New(st, clock, reg)
	limits := []Limit{{Max: 2, Per: time.Minute}}
	take(t, l, "wecom", "r", 2, limits)
	err := l.Take(context.Background(), "wecom", "r", limits...)
	var le *LimitedError
	if !errors.As(err, &le) {
		t.Fatalf("got %v, want a *LimitedError", err)
	}
	if got, want := le.RetryAfter, 20*time.Second; got != want {
		t.Errorf("RetryAfter: got %s, want %s (end of the minute)", got, want)
	}
	if got := testutil.ToFloat64(l.limited.WithLabelValues("wecom")); got != 1 {
		t.Errorf("govwatch_notifier_rate_limited_total{channel=wecom}: got %v, want 1", got)
	}
	// Zero or negative limits are no limit.
	if err := l.Take(context.Background(), "wecom", "r", Limit{}); err != nil {
		t.Errorf("empty limit: got %v, want nil", err)
	}
}

func TestStoreErrorIsReturned(t *testing.T) {
	clock := clockwork.NewFakeClockAt(start)
	st := backends[0].open(t, clock)
	l := New(st, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := l.Take(ctx, "dingtalk", "r", perMinute20...)
	if err == nil || errors.Is(err, ErrLimited) {
		t.Errorf("cancelled context: got %v, want the store's error", err)
	}
}

func TestRobotIDHidesTheCredential(t *testing.T) {
	id := RobotID("secret-token")
	if len(id) != 16 || id == RobotID("secret-token2") {
		t.Errorf("RobotID: got %q, want 16 hex digits distinct per credential", id)
	}
}
