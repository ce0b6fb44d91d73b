package notify

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// failingRobot is a notifier routing to receiver robot, whose one channel
// fails with a rate-limit error until told otherwise, falling back to sms;
// robot takes FallbackAfter and BreakerAfter from r, probe is the breaker's
// probe interval (0: the default).
func failingRobot(t *testing.T, stores backend, r Receiver, probe time.Duration) (*clockwork.FakeClock, *testNotifier, *recorder, *recorder) {
	t.Helper()
	clock, st := stores.at(t, t2)
	primary, backup := newRecorder("robot"), newRecorder("sms")
	primary.setFailAlways(errors.New("errcode 130101: send too fast"))
	r.Name, r.Channels, r.Fallback = "robot", []channel.Channel{primary}, "sms"
	n := newTestNotifier(t, Options{
		Store:        st,
		Receivers:    []Receiver{r, {Name: "sms", Channels: []channel.Channel{backup}}},
		Route:        &Route{Receiver: "robot"},
		Retry:        RetryPolicy{Attempts: 1, Initial: time.Second, Max: time.Second},
		BreakerProbe: probe,
		Clock:        clock, Log: zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)),
	})
	return clock, n, primary, backup
}

func TestFallbackAfterRepeatedFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, n, primary, backup := failingRobot(t, stores, Receiver{FallbackAfter: 2}, 0)
		st := n.records.store
		ctx := testCtx(t)
		steps := []struct {
			name        string
			wantErr     bool
			wantPrimary int // attempts so far
			wantBackup  int // deliveries so far
		}{
			{"first failure: no fallback yet, owed", false, 1, 0},
			{"second failure in a row: the fallback takes it", false, 2, 1},
			{"delivered: nothing more", false, 2, 1},
		}
		for _, s := range steps {
			err := n.Handle(ctx, firing(t0, "x"))
			if (err != nil) != s.wantErr {
				t.Fatalf("%s: Handle error %v, want error %v", s.name, err, s.wantErr)
			}
			if got := primary.callCount(); got != s.wantPrimary {
				t.Fatalf("%s: primary attempts %d, want %d", s.name, got, s.wantPrimary)
			}
			if got := len(backup.delivered()); got != s.wantBackup {
				t.Fatalf("%s: fallback deliveries %d, want %d", s.name, got, s.wantBackup)
			}
			clock.Advance(runFresh) // the next handling reads the run again
		}
		// The channel recovers: a success resets the run of failures.
		primary.setFailAlways(nil)
		b := firing(t2, "y")
		b.Labels["account_id"] = "other"
		if err := n.Handle(ctx, b); err != nil {
			t.Fatal(err)
		}
		if v, err := st.Incr(ctx, failKey("robot"), 0, 0); err != nil || v != 0 {
			t.Errorf("failure count after a success: got %d, %v, want 0", v, err)
		}
		if _, err := New(withRequired(t, Options{Store: st, Receivers: []Receiver{{Name: "a", Fallback: "a"}}})); err == nil || !strings.Contains(err.Error(), "bad fallback") {
			t.Errorf("a receiver falling back to itself: got error %v, want one about the fallback", err)
		}
	})
}

func TestFallbackStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t0)
		backup := newRecorder("sms")
		s, _ := testSender(t, st, clock, RetryPolicy{Attempts: 1, Initial: time.Second, Max: time.Second})
		primary := Receiver{Name: "robot", Fallback: "sms", FallbackAfter: 2}
		fb := &fallback{receivers: map[string]Receiver{"robot": primary, "sms": {Name: "sms", Channels: []channel.Channel{backup}}},
			failures: s.failures, sender: s, log: testLog(t)}
		ctx := testCtx(t)
		retryable, permanent := errors.New("send too fast"), channel.Permanent(errors.New("bad template"))
		steps := []struct {
			name       string
			runBefore  int64 // failures in a row recorded before
			err        error
			wantErr    error
			wantBackup int // deliveries so far
		}{
			{"a success passes untouched", 5, nil, nil, 0},
			{"a permanent failure is not the fallback's", 5, permanent, permanent, 0},
			{"a retryable failure below fallback_after waits for the redelivery", 1, retryable, retryable, 0},
			{"at fallback_after the fallback takes it", 2, retryable, nil, 1},
		}
		for _, s2 := range steps {
			clock.Advance(runFresh) // the run set below is read, not this replica's last view
			if err := st.Delete(ctx, failKey("robot")); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Incr(ctx, failKey("robot"), s2.runBefore, time.Hour); err != nil {
				t.Fatal(err)
			}
			d := &delivery{recv: primary, err: s2.err, note: &channel.Notification{Receiver: "robot", Alerts: []channel.AlertState{{Fingerprint: "fp"}}}}
			out, err := fb.Exec(ctx, d)
			if err != nil || out == nil {
				t.Fatalf("%s: got %v, %v, want the delivery on", s2.name, out, err)
			}
			if !errors.Is(out.err, s2.wantErr) || (s2.wantErr == nil) != (out.err == nil) {
				t.Errorf("%s: outcome %v, want %v", s2.name, out.err, s2.wantErr)
			}
			if got := len(backup.delivered()); got != s2.wantBackup {
				t.Errorf("%s: fallback deliveries %d, want %d", s2.name, got, s2.wantBackup)
			}
		}
		if got := backup.got[0].Receiver; got != "sms" {
			t.Errorf("the fallback's note names receiver %q, want sms", got)
		}
	})
}

// TestBreakerSendsToFallbackAtOnce: once the primary has failed
// breaker_after times in a row, notifications go to the fallback without
// trying the primary first, but for one probe per interval; the probe's
// success closes the breaker.
func TestBreakerSendsToFallbackAtOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, n, primary, backup := failingRobot(t, stores, Receiver{FallbackAfter: 1, BreakerAfter: 3}, time.Minute)
		ctx := testCtx(t)
		for i := range 20 {
			if err := n.Handle(ctx, accountAlert(firing(t2, "x"), fmt.Sprint("acct-", i))); err != nil {
				t.Fatal(err)
			}
		}
		// 3 failures open it; the first send after is its first probe.
		if got := primary.callCount(); got != 4 {
			t.Errorf("primary attempts for 20 alerts: %d, want 4 (3 opening the breaker, 1 probe)", got)
		}
		if got := len(backup.delivered()); got != 20 {
			t.Errorf("fallback deliveries: %d, want all 20", got)
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_breaker_skipped_total", map[string]string{"receiver": "robot"}); got != 16 {
			t.Errorf("breaker_skipped_total: %v, want 16", got)
		}

		// It recovers: the next probe, a minute on, closes the breaker.
		primary.setFailAlways(nil)
		clock.Advance(time.Minute)
		for i := range 3 {
			if err := n.Handle(ctx, accountAlert(firing(t2, "y"), fmt.Sprint("after-", i))); err != nil {
				t.Fatal(err)
			}
		}
		if got := len(primary.delivered()); got != 3 {
			t.Errorf("primary deliveries after the probe: %d, want 3", got)
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_breaker_open", map[string]string{"receiver": "robot"}); got != 0 {
			t.Errorf("breaker_open after recovery: %v, want 0", got)
		}
	})
}
