package notify

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

func TestSenderBacksOffAndCapsTheWait(t *testing.T) {
	clock := clockwork.NewFakeClockAt(t0)
	st := openEmbedded(t, clockwork.NewFakeClockAt(t0)) // the sender must be the clock's only sleeper
	busy := errors.New("503 busy")
	ch := newRecorder("flaky", busy, busy, busy)
	s, reg := testSender(t, st, clock, RetryPolicy{Attempts: 4, Initial: time.Second, Max: 3 * time.Second})
	ctx := testCtx(t)
	recv := Receiver{Name: "r", Channels: []channel.Channel{ch}}
	d := &delivery{rec: &Record{Fingerprint: "fp", Incident: 1, Status: StatusFiring, Alert: *firing(t0, "x")}, recv: recv}
	done := make(chan error, 1)
	go func() {
		out, err := s.Exec(ctx, d)
		if err == nil && out != nil {
			err = out.err
		}
		done <- err
	}()
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} { // doubled, then capped
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(wait - time.Millisecond)
		select {
		case <-done:
			t.Fatalf("woke before the %s backoff", wait)
		case <-time.After(20 * time.Millisecond):
		}
		clock.Advance(time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := ch.callCount(); got != 4 {
		t.Errorf("attempts: got %d, want 4", got)
	}
	if d.note == nil || d.note.Receiver != "r" || d.note.Alerts[0].Fingerprint != "fp" {
		t.Errorf("composed note: got %+v", d.note)
	}
	if got := metricValue(t, reg, "govwatch_notifier_notification_retries_total", map[string]string{"channel": "flaky"}); got != 3 {
		t.Errorf("retries metric: got %v, want 3", got)
	}
}

func TestSenderCountsRunsOfFailures(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t0)
		ch := newRecorder("c")
		s, _ := testSender(t, st, clock, RetryPolicy{Attempts: 1, Initial: time.Second, Max: time.Second})
		ctx := testCtx(t)
		recv := Receiver{Name: "r", Channels: []channel.Channel{ch}}
		note := &channel.Notification{Receiver: "r", Alerts: []channel.AlertState{{Fingerprint: "fp"}}}
		steps := []struct {
			name      string
			fail      error
			wantErr   bool
			wantCount int64
		}{
			{"a retryable failure starts a run", errors.New("timeout"), true, 1},
			{"another adds to it", errors.New("timeout"), true, 2},
			{"a permanent failure leaves it", channel.Permanent(errors.New("400")), true, 2},
			{"a success ends it", nil, false, 0},
		}
		for _, s2 := range steps {
			ch.setFailAlways(s2.fail)
			if err := s.send(ctx, recv, note); (err != nil) != s2.wantErr {
				t.Fatalf("%s: send error %v, want error %v", s2.name, err, s2.wantErr)
			}
			if got, err := s.failures.count(ctx, "r"); err != nil || got != s2.wantCount {
				t.Errorf("%s: run of failures %d, %v, want %d", s2.name, got, err, s2.wantCount)
			}
		}
	})
}

// TestNotificationIDStable: every copy of one notification carries the same
// idempotency key, and no two notifications share one.
func TestNotificationIDStable(t *testing.T) {
	firing := nflogKey("ops", "fp1", 1, StatusFiring)
	id := notificationID(firing, "ops")
	if again := notificationID(firing, "ops"); again != id {
		t.Errorf("a second copy got key %q, the first %q", again, id)
	}
	if ok, _ := regexp.MatchString(`^gw-[0-9a-f]{32}$`, id); !ok {
		t.Errorf("key %q is not gw- and 32 hex digits", id)
	}
	others := map[string]string{
		"resolution":     notificationID(nflogKey("ops", "fp1", 1, StatusResolved), "ops"),
		"next incident":  notificationID(nflogKey("ops", "fp1", 2, StatusFiring), "ops"),
		"other alert":    notificationID(nflogKey("ops", "fp2", 1, StatusFiring), "ops"),
		"other receiver": notificationID(firing, "backup"),
	}
	for what, other := range others {
		if other == id {
			t.Errorf("the %s got the same key %q", what, id)
		}
	}
}
