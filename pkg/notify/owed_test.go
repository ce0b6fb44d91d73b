package notify

import (
	"errors"
	"maps"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

// accountAlert is the test alert of another account: another fingerprint.
func accountAlert(a *model.Alert, account string) *model.Alert {
	a.Labels = maps.Clone(a.Labels)
	a.Labels[model.LabelAccountID] = account
	return a
}

// TestOutageOwesFiringAndResolution: a receiver down for 10 minutes (ticks
// every 15 s in virtual time) is owed what happened meanwhile — a
// resolution of an alert it was told of, an alert that fired and ended, an
// alert still firing — and gets each once when it answers again, though
// the alert messages were done with long before. While it is down its
// breaker keeps the attempts to the probes.
func TestOutageOwesFiringAndResolution(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t2)
		robot := newRecorder("robot")
		n := newTestNotifier(t, Options{
			Store:     st,
			Receivers: []Receiver{{Name: "robot", Channels: []channel.Channel{robot}, BreakerAfter: 3}},
			Route:     &Route{Receiver: "robot"},
			Retry:     RetryPolicy{Attempts: 1, Initial: time.Second, Max: time.Second},
			Clock:     clock, Log: zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)),
		})
		ctx := testCtx(t)
		told, ended, still := accountAlert(firing(t2, "told"), "a"), accountAlert(firing(t2, "ended"), "b"), accountAlert(firing(t2, "still"), "c")
		if err := n.Handle(ctx, told); err != nil {
			t.Fatal(err)
		}

		robot.setFailAlways(errors.New("502 bad gateway"))
		outage := clock.Now()
		for _, a := range []*model.Alert{
			accountAlert(resolved(t2, outage), "a"),
			ended,
			accountAlert(resolved(t2, outage), "b"),
			still,
		} {
			if err := n.Handle(ctx, a); err != nil {
				t.Fatalf("Handle during the outage: %v, want nil (owed)", err)
			}
		}
		for clock.Since(outage) < 10*time.Minute {
			clock.Advance(15 * time.Second)
			if err := n.Tick(ctx); err != nil {
				t.Fatalf("Tick during the outage: %v", err)
			}
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_owed_notifications", map[string]string{"receiver": "robot"}); got != 3 {
			t.Errorf("owed notifications after 10 minutes: %v, want 3", got)
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_breaker_open", map[string]string{"receiver": "robot"}); got != 1 {
			t.Errorf("breaker_open during the outage: %v, want 1", got)
		}
		// 1 delivery before, 3 failures opening the breaker, then one probe
		// per 30 s: about 20 in 10 minutes, not one per owed notification
		// per tick (120).
		if got := robot.callCount(); got > 1+3+21 {
			t.Errorf("attempts during the outage: %d, want at most %d", got, 1+3+21)
		}

		robot.setFailAlways(nil)
		for range 4 { // two probe intervals
			clock.Advance(15 * time.Second)
			if err := n.Tick(ctx); err != nil {
				t.Fatalf("Tick after the outage: %v", err)
			}
		}
		fp := func(a *model.Alert) string { return a.Fingerprint() }
		want := []string{
			"robot firing " + fp(told), "robot resolved " + fp(told),
			"robot resolved " + fp(ended), // the resolution tells the incident it never heard of
			"robot firing " + fp(still),
		}
		if got := robot.delivered(); !sameMultiset(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_owed_notifications", map[string]string{"receiver": "robot"}); got != 0 {
			t.Errorf("owed notifications after recovery: %v, want 0", got)
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_breaker_open", map[string]string{"receiver": "robot"}); got != 0 {
			t.Errorf("breaker_open after recovery: %v, want 0", got)
		}
		if left, err := n.owed.list(ctx); err != nil || len(left) != 0 {
			t.Errorf("owed entries after recovery: %v, %v", left, err)
		}
	})
}

// TestOwedGivenUpAfterPolicy: a resolution owed longer than OwedFor is
// given up on, with a log line, a metric and a timeline event, and is not
// sent when the receiver comes back.
func TestOwedGivenUpAfterPolicy(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t2)
		robot := newRecorder("robot")
		n := newTestNotifier(t, Options{
			Store:     st,
			Receivers: []Receiver{{Name: "robot", Channels: []channel.Channel{robot}}},
			Route:     &Route{Receiver: "robot"},
			Retry:     RetryPolicy{Attempts: 1, Initial: time.Second, Max: time.Second},
			OwedFor:   time.Hour,
			Clock:     clock, Log: zap.NewNop(),
		})
		ctx := testCtx(t)
		a := firing(t2, "x")
		if err := n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
		robot.setFailAlways(errors.New("connection refused"))
		if err := n.Handle(ctx, resolved(t2, clock.Now())); err != nil {
			t.Fatal(err)
		}
		for clock.Since(t2) < time.Hour {
			clock.Advance(10 * time.Minute)
			if err := n.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got := metricValue(t, n.reg, "govwatch_notifier_owed_expired_total", map[string]string{"receiver": "robot"}); got != 1 {
			t.Errorf("owed_expired_total: %v, want 1", got)
		}
		if _, err := st.Get(ctx, owedKey(a.Fingerprint(), "robot", 1, StatusResolved)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("owed entry after the policy: err %v, want ErrNotFound", err)
		}
		rec, err := n.Record(ctx, a.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		if last := rec.Timeline[len(rec.Timeline)-1]; last.What != EventNotifyFailed || last.Detail != "robot resolved" {
			t.Errorf("last timeline event %+v, want notify_failed for robot resolved", last)
		}
		robot.setFailAlways(nil)
		clock.Advance(time.Minute)
		if err := n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := robot.delivered(), []string{"robot firing " + a.Fingerprint()}; !equalStrings(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
	})
}
