package notify

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

// TestRunJoinsTheTickLoop pins that the tick loop is Run's: it ticks while
// Run runs, and no goroutine of it is left once Run has returned.
func TestRunJoinsTheTickLoop(t *testing.T) {
	ctx := testCtx(t)
	b := testBus(t)
	clock := clockwork.NewFakeClockAt(t0)
	f := newFixture(t, fixtureOptions{store: embeddedStores.realTime(t), clock: clock, bus: b})
	a := firing(t0, "x")
	a.EndsAt = t0.Add(time.Minute) // resolved by the tick once its endsAt passes
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}

	stopRun := runInBackground(t, ctx, f.n.Notifier)

	// The loop waits on its ticker; one tick past endsAt resolves the alert.
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("waiting for the tick loop: %v", err)
	}
	if !tickLoopRunning() {
		t.Fatal("no tick loop goroutine while Run runs")
	}
	clock.Advance(15 * time.Second * 5)
	for {
		rec, err := f.n.Record(ctx, a.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		if rec.Status == StatusResolved {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the tick loop did not resolve the alert: %s", rec.Status)
		case <-time.After(10 * time.Millisecond):
		}
	}

	stopRun()
	if tickLoopRunning() {
		t.Error("a tick loop goroutine is still running after Run returned")
	}
	// The loop stopped its ticker: nothing waits on the clock any more.
	waitCtx, stop := context.WithTimeout(ctx, time.Second)
	defer stop()
	if err := clock.BlockUntilContext(waitCtx, 0); err != nil {
		t.Errorf("clock waiters after Run returned: %v, want none", err)
	}
}

// tickLoopRunning reports whether some goroutine is in the tick loop.
func tickLoopRunning() bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Contains(string(buf[:n]), "notify.(*ticker).loop")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func TestNewRejectsMissingSettings(t *testing.T) {
	st := embeddedStores.realTime(t)
	tests := []struct {
		name  string
		spoil func(*Options)
		want  string
	}{
		{"no store", func(o *Options) { o.Store = nil }, "no store"},
		{"no route", func(o *Options) { o.Route = nil }, "no route"},
		{"no clock", func(o *Options) { o.Clock = nil }, "no clock"},
		{"no logger", func(o *Options) { o.Log = nil }, "no logger"},
		{"no report template", func(o *Options) { o.Report = nil }, "no upstream report template"},
		{"no resolve timeout", func(o *Options) { o.ResolveTimeout = 0 }, "resolve timeout must be positive"},
		{"no tick", func(o *Options) { o.Tick = 0 }, "tick must be positive"},
		{"no retry attempts", func(o *Options) { o.Retry.Attempts = 0 }, "retry attempts must be positive"},
		{"no initial backoff", func(o *Options) { o.Retry.Initial = 0 }, "retry initial backoff must be positive"},
		{"maximum below initial", func(o *Options) { o.Retry.Max = time.Millisecond }, "retry maximum backoff 1ms is below the initial 1s"},
		{"a route naming an unknown receiver", func(o *Options) { o.Route = &Route{Receiver: "nobody"} }, "unknown receivers [nobody]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := withRequired(t, Options{Store: st})
			tc.spoil(&o)
			_, err := New(o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one saying %q", err, tc.want)
			}
		})
	}
	// Every problem at once.
	_, err := New(Options{})
	for _, want := range []string{"no store", "no route", "no clock", "no logger", "tick must be positive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New(Options{}): got %v, want it to say %q", err, want)
		}
	}
	if _, err := New(withRequired(t, Options{Store: st})); err != nil {
		t.Errorf("complete options: %v", err)
	}
}
