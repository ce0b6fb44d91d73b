package daemon

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/calendar"
)

// TestDemoAtAnyHour runs the demo scenario through the whole pipeline on a
// fake clock started at several times of day in Beijing, and once just
// before a month ends so the run crosses midnight into the next month: the
// silent account's alert follows the simulator's rule at every hour, and the
// leak is paged once.
func TestDemoAtAnyHour(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the pipeline five times")
	}
	for _, start := range []time.Time{
		time.Date(2026, 8, 3, 0, 30, 0, 0, calendar.Shanghai),
		time.Date(2026, 8, 3, 8, 0, 0, 0, calendar.Shanghai),
		time.Date(2026, 8, 3, 16, 30, 0, 0, calendar.Shanghai),
		time.Date(2026, 8, 3, 23, 59, 0, 0, calendar.Shanghai),
		time.Date(2026, 11, 30, 23, 59, 40, 0, calendar.Shanghai),
	} {
		t.Run(start.Format("01-02T15:04:05"), func(t *testing.T) { runDemoAt(t, start) })
	}
}

func runDemoAt(t *testing.T, start time.Time) {
	clock := clockwork.NewFakeClockAt(start)
	hook := newReceiver(t, "")
	d := newDemo(t, demoSetup{clock: clock, notifier: hook.notifier()})
	_, stopRun := startRun(t, Options{Config: d.cfg, Clock: clock})
	// Virtual time runs at 50 times real time, so polls, group waits and
	// sweeps come due; the run stays within minutes of its start.
	stop := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				clock.Advance(time.Second)
			}
		}
	}()
	defer func() {
		close(stop)
		<-ticked
		stopRun()
	}()

	got := hook.awaitFiring(t, 60*time.Second, demoAlerts)
	checkStale(t, got["account.stale/np-culture-wechat"][0], d.sim, staleAfter(t, d.cfg))
	for _, k := range demoAlerts {
		if len(got[k]) != 1 {
			t.Errorf("%s paged %d times, want once", k, len(got[k]))
		}
	}
	if n := len(got["account.stale_warning/np-culture-wechat"]); n != 0 {
		t.Errorf("account.stale_warning paged %d times; the veto supersedes the reminder", n)
	}
	if now := clock.Now(); now.Sub(start) > 12*time.Hour {
		t.Fatalf("virtual time ran %v; the day count of the stale alert assumes well under a day", now.Sub(start))
	}
}
