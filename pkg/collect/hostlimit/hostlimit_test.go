package hostlimit

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

var t0 = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

// backends open each store kind over clock; redis keeps its own (real)
// time for expiry, which these tests never wait for.
func backends(t *testing.T, clock clockwork.Clock) map[string]store.Store {
	t.Helper()
	emb, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	out := map[string]store.Store{"embedded": emb}
	addr := redistest.Start(t)
	rs, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: "hl-" + t.Name() + ":"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	out["redis"] = rs
	return out
}

func TestRateIsSharedBetweenReplicas(t *testing.T) {
	for name, st := range backends(t, clockwork.NewFakeClockAt(t0)) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			// A fixed clock: every Acquire falls in the same second.
			clock := clockwork.NewFakeClockAt(t0.Add(time.Duration(len(name)) * time.Hour))
			a := New(Options{Store: st, Default: Limit{Rate: 5}, Clock: clock, MaxWait: time.Millisecond})
			b := New(Options{Store: st, Default: Limit{Rate: 5}, Clock: clock, MaxWait: time.Millisecond})
			granted := 0
			for i := range 8 {
				l := a
				if i%2 == 1 {
					l = b
				}
				release, err := l.Acquire(ctx, "rsshub.example")
				var te *ThrottledError
				switch {
				case err == nil:
					granted++
					release()
				case errors.As(err, &te) && te.Reason == ReasonRate:
				default:
					t.Fatalf("Acquire: %v, want nil or a rate ThrottledError", err)
				}
			}
			if granted != 5 {
				t.Errorf("two replicas got %d requests through in one second, want the shared rate 5", granted)
			}
			if _, err := a.Acquire(ctx, "other.example"); err != nil {
				t.Errorf("another host is throttled too: %v", err)
			}
		})
	}
}

func TestRateWaitsForTheNextSecond(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	// The store's janitor gets a clock of its own, or its ticker would
	// count among the timers this test waits for.
	st := backends(t, clockwork.NewFakeClockAt(t0))["embedded"]
	l := New(Options{Store: st, Default: Limit{Rate: 1}, Clock: clock, MaxWait: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := l.Acquire(ctx, "h"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Acquire(ctx, "h")
		done <- err
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("second request in the same second returned (%v), want it to wait", err)
	default:
	}
	clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Errorf("after a second the waiting request got %v, want it through", err)
	}
}

func TestConcurrencyLeases(t *testing.T) {
	for name, st := range backends(t, clockwork.NewFakeClockAt(t0)) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clock := clockwork.NewFakeClockAt(t0)
			host := "conc-" + name
			a := New(Options{Store: st, Default: Limit{Concurrency: 2}, Clock: clock, MaxWait: time.Millisecond})
			b := New(Options{Store: st, Default: Limit{Concurrency: 2}, Clock: clock, MaxWait: time.Millisecond})
			r1, err := a.Acquire(ctx, host)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := b.Acquire(ctx, host)
			if err != nil {
				t.Fatal(err)
			}
			_, err = a.Acquire(ctx, host)
			var te *ThrottledError
			if !errors.As(err, &te) || te.Reason != ReasonConcurrency || !errors.Is(err, ErrThrottled) {
				t.Fatalf("third request at concurrency 2: %v, want a concurrency ThrottledError", err)
			}
			r1()
			r3, err := b.Acquire(ctx, host)
			if err != nil {
				t.Fatalf("after a release: %v, want a free slot", err)
			}
			r2()
			r3()
		})
	}
}

func TestCooldownHonoursRetryAfterAcrossReplicas(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	st := backends(t, clock)["embedded"]
	ctx := context.Background()
	a := New(Options{Store: st, Clock: clock, MaxRetryAfter: 10 * time.Minute})
	b := New(Options{Store: st, Clock: clock})
	if err := a.Cooldown(ctx, "h", t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err := b.Acquire(ctx, "h")
	var te *ThrottledError
	if !errors.As(err, &te) || te.Reason != ReasonRetryAfter {
		t.Fatalf("Acquire during cooldown: %v, want a retry_after ThrottledError", err)
	}
	if want := t0.Add(10 * time.Minute); !te.Until.Equal(want) {
		t.Errorf("cooldown until %v, want it capped at %v", te.Until, want)
	}
	clock.Advance(10*time.Minute + time.Second)
	if _, err := b.Acquire(ctx, "h"); err != nil {
		t.Errorf("after the cooldown: %v, want through", err)
	}
}
