package schedule

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

func TestNextDueIsStableAndOnPhase(t *testing.T) {
	iv := 10 * time.Minute
	now := time.Date(2026, 11, 27, 8, 3, 0, 0, time.UTC)
	for _, key := range []string{"fz-wechat", "xm-douyin", "a", ""} {
		due := NextDue(key, iv, now)
		if due.Before(now) || due.Sub(now) >= iv {
			t.Errorf("%q: due %v not within [now, now+interval)", key, due)
		}
		if got, want := due.Sub(due.Truncate(iv)), Phase(key, iv); got != want {
			t.Errorf("%q: offset %v, want phase %v", key, got, want)
		}
		if again := NextDue(key, iv, now); !again.Equal(due) {
			t.Errorf("%q: NextDue not stable: %v then %v", key, due, again)
		}
	}
}

func TestPhasesSpreadOverTheInterval(t *testing.T) {
	iv := time.Minute
	buckets := make([]int, 6)
	n := 6000
	for i := range n {
		p := Phase(fmt.Sprintf("acct-%d", i), iv)
		buckets[p/(10*time.Second)]++
	}
	for i, b := range buckets {
		if b < n/6*8/10 || b > n/6*12/10 {
			t.Errorf("bucket %d has %d of %d phases, want about %d", i, b, n, n/6)
		}
	}
}

func TestRunPollsEachTaskOncePerIntervalInVirtualTime(t *testing.T) {
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	var mu sync.Mutex
	runs := map[string][]time.Time{}
	tasks := []Task{{Key: "a", Interval: 10 * time.Second}, {Key: "b", Interval: 10 * time.Second}, {Key: "c", Interval: 30 * time.Second}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := New(Options{Workers: 2, Clock: clock,
		Skipped: func(k string) { t.Errorf("skipped %s at %v", k, clock.Now()) }})
	idle := func() bool { return s.InFlight() == 0 }
	go func() {
		s.Run(ctx, tasks, func(_ context.Context, key string, due time.Time) time.Time {
			mu.Lock()
			runs[key] = append(runs[key], due)
			mu.Unlock()
			return time.Time{}
		})
		close(done)
	}()
	for range 60 {
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, idle)
		clock.Advance(time.Second)
	}
	// let the last dispatched runs finish
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	for _, tc := range []struct {
		key      string
		min, max int
	}{{"a", 5, 7}, {"b", 5, 7}, {"c", 2, 3}} {
		got := runs[tc.key]
		if len(got) < tc.min || len(got) > tc.max {
			t.Errorf("%s ran %d times in 60s, want %d..%d", tc.key, len(got), tc.min, tc.max)
		}
		for i := 1; i < len(got); i++ {
			iv := tasks[0].Interval
			if tc.key == "c" {
				iv = tasks[2].Interval
			}
			if d := got[i].Sub(got[i-1]); d != iv {
				t.Errorf("%s: runs %v apart, want %v", tc.key, d, iv)
			}
		}
	}
}

func TestBusyTaskIsSkippedNotDoubled(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	release := make(chan struct{})
	var mu sync.Mutex
	var concurrent, maxConcurrent, skipped int
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := New(Options{Workers: 4, Clock: clock, Skipped: func(string) { mu.Lock(); skipped++; mu.Unlock() }})
	go func() {
		s.Run(ctx, []Task{{Key: "slow", Interval: time.Second}}, func(ctx context.Context, _ string, _ time.Time) time.Time {
			mu.Lock()
			concurrent++
			if concurrent > maxConcurrent {
				maxConcurrent = concurrent
			}
			mu.Unlock()
			select {
			case <-release:
			case <-ctx.Done():
			}
			mu.Lock()
			concurrent--
			mu.Unlock()
			return time.Time{}
		})
		close(done)
	}()
	for range 5 {
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	close(release)
	cancel()
	<-done
	if maxConcurrent != 1 {
		t.Errorf("max concurrent runs of one task = %d, want 1", maxConcurrent)
	}
	if skipped < 3 {
		t.Errorf("skipped = %d, want the due runs during the long run skipped (≥ 3)", skipped)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestNotBeforeMovesTheTaskToALaterSlot(t *testing.T) {
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(start)
	var mu sync.Mutex
	var runs []time.Time
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s := New(Options{Workers: 1, Clock: clock})
	go func() {
		// Every run asks for a pause of three intervals (30s).
		s.Run(ctx, []Task{{Key: "k", Interval: 10 * time.Second}}, func(_ context.Context, _ string, due time.Time) time.Time {
			mu.Lock()
			runs = append(runs, due)
			mu.Unlock()
			return due.Add(30 * time.Second)
		})
		close(done)
	}()
	for range 100 {
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return s.InFlight() == 0 })
		clock.Advance(time.Second)
	}
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(runs) < 3 || len(runs) > 4 {
		t.Fatalf("%d runs in 100s with a 30s pause each, want 3 or 4", len(runs))
	}
	for i := 1; i < len(runs); i++ {
		if d := runs[i].Sub(runs[i-1]); d != 30*time.Second {
			t.Errorf("runs %v apart, want the 30s asked for", d)
		}
	}
}

// TestPaceSpreadsCatchUpAfterAStall stops the clock's world for 3 s, as a
// process that got no CPU or sat in a long garbage collection sees it, and
// counts the runs that start in each second of virtual time: without Pace
// every overdue run starts in the same instant (782 in one second here).
func TestPaceSpreadsCatchUpAfterAStall(t *testing.T) {
	const n, iv = 1000, 5 * time.Second // 200 runs a second
	tests := []struct {
		name    string
		pace    float64
		maxRate int // most runs in one second, want at most
	}{
		{"paced", 1.15, 260},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
			clock := clockwork.NewFakeClockAt(start)
			tasks := make([]Task, n)
			for i := range tasks {
				tasks[i] = Task{Key: fmt.Sprintf("acct-%06d", i), Interval: iv}
			}
			var mu sync.Mutex
			perS := map[int64]int{}
			runs := 0
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			s := New(Options{Workers: 8, Clock: clock, Pace: tc.pace})
			go func() {
				s.Run(ctx, tasks, func(context.Context, string, time.Time) time.Time {
					mu.Lock()
					perS[clock.Now().Unix()]++
					runs++
					mu.Unlock()
					return time.Time{}
				})
				close(done)
			}()
			step := func(d time.Duration) {
				if err := clock.BlockUntilContext(ctx, 1); err != nil {
					t.Fatal(err)
				}
				waitFor(t, func() bool { return s.InFlight() == 0 })
				clock.Advance(d)
			}
			for range 50 { // 5 s as usual
				step(100 * time.Millisecond)
			}
			step(3 * time.Second) // the stall
			for range 300 {       // 30 s to catch up
				step(100 * time.Millisecond)
			}
			step(0)
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			worst, at := 0, int64(0)
			for sec, k := range perS {
				if k > worst {
					worst, at = k, sec
				}
			}
			if worst > tc.maxRate {
				t.Errorf("%d runs started in second %d, want at most %d (mean 200)", worst, at-start.Unix(), tc.maxRate)
			}
			// Every slot of the 38 s ran: the cap delays, it drops nothing.
			if want := 38 * n / 5; runs < want*95/100 {
				t.Errorf("%d runs in 38 s, want about %d", runs, want)
			}
		})
	}
}
