package notify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

// fixture is a notifier with three receivers: the test alert (severity
// major, unit fj-gov) routes to oncall and unit, never to default.
type fixture struct {
	n        *testNotifier
	store    store.Store
	clock    *clockwork.FakeClock
	def      *recorder
	oncall   *recorder
	unit     *recorder
	logs     *observer.ObservedLogs
	channels []*recorder
}

func testRoute() *Route {
	return &Route{
		Receiver: "default",
		Routes: []*Route{
			{Match: map[string]string{"severity": "major"}, Receiver: "oncall", Continue: true},
			{Match: map[string]string{"unit": "fj-gov"}, Receiver: "unit"},
		},
	}
}

type fixtureOptions struct {
	store  store.Store
	clock  *clockwork.FakeClock
	oncall *recorder // default: one that never fails
	unit   *recorder
	retry  RetryPolicy
	bus    Bus
	// resolveTimeout is for API alerts posted without endsAt.
	resolveTimeout time.Duration
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	f := &fixture{store: o.store, clock: o.clock, oncall: o.oncall, unit: o.unit}
	if f.clock == nil {
		f.clock = clockwork.NewFakeClockAt(t2.Add(time.Hour))
	}
	if f.oncall == nil {
		f.oncall = newRecorder("oncall-ch")
	}
	if f.unit == nil {
		f.unit = newRecorder("unit-ch")
	}
	f.def = newRecorder("default-ch")
	core, logs := observer.New(zapcore.InfoLevel)
	f.logs = logs
	f.n = newTestNotifier(t, Options{
		Bus:   o.bus,
		Store: o.store,
		Receivers: []Receiver{
			{Name: "default", Channels: []channel.Channel{f.def}},
			{Name: "oncall", Channels: []channel.Channel{f.oncall}},
			{Name: "unit", Channels: []channel.Channel{f.unit}},
		},
		Route:          testRoute(),
		ExternalURL:    "http://govwatch.example",
		Retry:          o.retry,
		ResolveTimeout: o.resolveTimeout,
		Clock:          f.clock,
		Log:            zap.New(zapcore.NewTee(core, testLog(t).Core())),
	})
	return f
}

// delivered lists every delivery so far across the three receivers.
func (f *fixture) delivered() []string {
	var out []string
	for _, r := range []*recorder{f.def, f.oncall, f.unit} {
		out = append(out, r.delivered()...)
	}
	return out
}

// deliveries builds the expected delivered() entries.
func deliveries(status string, receivers ...string) []string {
	fp := testLabels().Fingerprint()
	var out []string
	for _, r := range receivers {
		out = append(out, fmt.Sprintf("%s %s %s", r, status, fp))
	}
	return out
}

func TestHandleLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		f := newFixture(t, fixtureOptions{store: stores.realTime(t)})
		ctx := testCtx(t)
		steps := []struct {
			name string
			in   *model.Alert
			want []string // deliveries this step adds
		}{
			{"a new firing alert notifies each routed receiver once", firing(t0, "身份证号泄露"), deliveries(StatusFiring, "oncall", "unit")},
			{"a repeat does not notify", firing(t0, "身份证号泄露（更新）"), nil},
			{"resolve notifies resolved once", resolved(t0, t1), deliveries(StatusResolved, "oncall", "unit")},
			{"a repeated resolve does not notify", resolved(t0, t1), nil},
			{"a replay of the old firing does not notify", firing(t0, "身份证号泄露"), nil},
			{"a refire notifies again", firing(t2, "再次泄露"), deliveries(StatusFiring, "oncall", "unit")},
			{"a repeat of the refire does not notify", firing(t2, "再次泄露"), nil},
		}
		var want []string
		for _, s := range steps {
			if err := f.n.Handle(ctx, s.in); err != nil {
				t.Fatalf("%s: Handle: %v", s.name, err)
			}
			want = append(want, s.want...)
			if got := f.delivered(); !sameMultiset(got, want) {
				t.Fatalf("%s: delivered %q, want %q", s.name, got, want)
			}
		}

		// The last notification carries the new incident's alert.
		last := f.oncall.got[len(f.oncall.got)-1]
		if got, want := last.Alerts[0].Annotations[model.AnnotationSummary], "再次泄露"; got != want {
			t.Errorf("summary of the refire: got %q, want %q", got, want)
		}
		if got, want := last.Alerts[0].StartsAt, t2; !got.Equal(want) {
			t.Errorf("startsAt of the refire: got %s, want %s", got, want)
		}
		if got, want := last.CommonLabels[model.LabelAccountID], "fj-gov-wechat"; got != want {
			t.Errorf("common label account_id: got %q, want %q", got, want)
		}
		recs, err := f.n.Alerts(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Incident != 2 || recs[0].Status != StatusFiring {
			t.Fatalf("records: got %+v, want one firing in incident 2", recs)
		}
		if got, want := recs[0].Receivers, []string{"oncall", "unit"}; !slices.Equal(got, want) {
			t.Errorf("record receivers: got %q, want %q", got, want)
		}
	})
}

func TestHandleConcurrentReplicasNotifyOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		st := stores.realTime(t)
		oncall, unit := newRecorder("oncall-ch"), newRecorder("unit-ch")
		// Two replicas sharing the store; the channels stand for the same
		// destinations, so they are shared too.
		replicas := []*fixture{
			newFixture(t, fixtureOptions{store: st, oncall: oncall, unit: unit}),
			newFixture(t, fixtureOptions{store: st, oncall: oncall, unit: unit}),
		}
		ctx := testCtx(t)

		handleAll := func(mk func() *model.Alert) {
			t.Helper()
			const goroutines = 20
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for i := range goroutines {
				wg.Go(func() {
					if err := replicas[i%2].n.Handle(ctx, mk()); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				// The only acceptable failure: another goroutine held the
				// claim; the bus would redeliver the message later.
				if !errors.Is(err, errSendingElsewhere) || !strings.Contains(err.Error(), "being sent elsewhere") {
					t.Errorf("concurrent Handle: %v", err)
				}
			}
			// A redelivery after the dust settled finds everything sent.
			for _, r := range replicas {
				if err := r.n.Handle(ctx, mk()); err != nil {
					t.Errorf("Handle after the concurrent ones: %v", err)
				}
			}
		}

		handleAll(func() *model.Alert { return firing(t0, "身份证号泄露") })
		want := deliveries(StatusFiring, "oncall", "unit")
		if got := append(oncall.delivered(), unit.delivered()...); !sameMultiset(got, want) {
			t.Fatalf("after concurrent firing: delivered %q, want %q", got, want)
		}
		handleAll(func() *model.Alert { return resolved(t0, t1) })
		want = append(want, deliveries(StatusResolved, "oncall", "unit")...)
		if got := append(oncall.delivered(), unit.delivered()...); !sameMultiset(got, want) {
			t.Fatalf("after concurrent resolve: delivered %q, want %q", got, want)
		}
	})
}

// waitAndAdvance waits until the retry stage sleeps on the clock and wakes it
// after d.
func waitAndAdvance(t *testing.T, ctx context.Context, clock *clockwork.FakeClock, d time.Duration) {
	t.Helper()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatalf("waiting for the retry stage to sleep: %v", err)
	}
	clock.Advance(d)
}

// handleAsync runs Handle in a goroutine; the returned channel yields its error.
func handleAsync(ctx context.Context, n *Notifier, a *model.Alert) <-chan error {
	done := make(chan error, 1)
	go func() { done <- n.Handle(ctx, a) }()
	return done
}

// runInBackground runs n.Run in a goroutine until the returned stop is
// called; stop cancels it and fails the test unless Run then returns nil.
func runInBackground(t *testing.T, ctx context.Context, n *Notifier) (stop func()) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	ran := make(chan error, 1)
	go func() { ran <- n.Run(runCtx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-ran:
			if err != nil {
				t.Fatalf("Run after cancel: got %v, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	}
}

func TestRetryableFailureIsRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		busy := errors.New("503 busy")
		f := newFixture(t, fixtureOptions{
			// The store keeps its own clock: the notifier's only sleeper
			// must be the retry stage.
			store:  stores.open(t, clockwork.NewFakeClockAt(t0)),
			oncall: newRecorder("flaky", busy, busy),
			retry:  RetryPolicy{Attempts: 3, Initial: time.Second, Max: 30 * time.Second},
		})
		ctx := testCtx(t)
		done := handleAsync(ctx, f.n.Notifier, firing(t0, "x"))
		waitAndAdvance(t, ctx, f.clock, time.Second)   // after the 1st failure
		waitAndAdvance(t, ctx, f.clock, 2*time.Second) // after the 2nd: backoff doubled
		if err := <-done; err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if got, want := f.delivered(), deliveries(StatusFiring, "oncall", "unit"); !sameMultiset(got, want) {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		if got, want := f.oncall.callCount(), 3; got != want {
			t.Errorf("attempts: got %d, want %d", got, want)
		}
		if got, want := metricValue(t, f.n.reg, "govwatch_notifier_notification_retries_total", map[string]string{"channel": "flaky"}), 2.0; got != want {
			t.Errorf("retries metric: got %v, want %v", got, want)
		}
		if got, want := metricValue(t, f.n.reg, "govwatch_notifier_notifications_total", map[string]string{"channel": "flaky", "result": "ok"}), 1.0; got != want {
			t.Errorf("notifications{result=ok}: got %v, want %v", got, want)
		}
		if got, want := nflogValue(t, f, "oncall", StatusFiring), logSent; got != want {
			t.Errorf("notification log: got %q, want %q", got, want)
		}
	})
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		f := newFixture(t, fixtureOptions{
			store:  stores.realTime(t),
			oncall: newRecorder("broken", channel.Permanent(errors.New("400 bad template"))),
		})
		ctx := testCtx(t)
		if err := f.n.Handle(ctx, firing(t0, "x")); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		if got, want := f.oncall.callCount(), 1; got != want {
			t.Errorf("attempts: got %d, want %d", got, want)
		}
		if got, want := nflogValue(t, f, "oncall", StatusFiring), logFailed; got != want {
			t.Errorf("notification log: got %q, want %q", got, want)
		}
		if got, want := metricValue(t, f.n.reg, "govwatch_notifier_notification_retries_total", map[string]string{"channel": "broken"}), 0.0; got != want {
			t.Errorf("retries metric: got %v, want %v", got, want)
		}
		if got, want := metricValue(t, f.n.reg, "govwatch_notifier_notifications_total", map[string]string{"channel": "broken", "result": "error"}), 1.0; got != want {
			t.Errorf("notifications{result=error}: got %v, want %v", got, want)
		}
		logged := f.logs.FilterMessage("notification failed for good").FilterField(zap.String("fingerprint", testLabels().Fingerprint())).Len()
		if logged != 1 {
			t.Errorf("error log lines for the failure: got %d, want 1", logged)
		}
		// A redelivery does not resend: the log says it was given up on.
		if err := f.n.Handle(ctx, firing(t0, "x")); err != nil {
			t.Fatalf("second Handle: %v", err)
		}
		if got, want := f.oncall.callCount(), 1; got != want {
			t.Errorf("attempts after a second Handle: got %d, want %d", got, want)
		}
		if got, want := f.delivered(), deliveries(StatusFiring, "unit"); !sameMultiset(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
	})
}

func TestRetriesUsedUpReleaseTheClaim(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		down := newRecorder("down")
		down.setFailAlways(errors.New("connection refused"))
		f := newFixture(t, fixtureOptions{
			store:  stores.open(t, clockwork.NewFakeClockAt(t0)),
			oncall: down,
			retry:  RetryPolicy{Attempts: 2, Initial: time.Second, Max: 30 * time.Second},
		})
		ctx := testCtx(t)
		done := handleAsync(ctx, f.n.Notifier, firing(t0, "x"))
		waitAndAdvance(t, ctx, f.clock, time.Second)
		// The message is done with: the notification is owed, not left
		// to the bus's last deliveries.
		if err := <-done; err != nil {
			t.Fatalf("Handle: got error %v, want nil with the notification owed", err)
		}
		owedLog := f.logs.FilterMessage("notification failed; owed until delivered").FilterField(zap.String("receiver", "oncall"))
		if owedLog.Len() != 1 || !strings.Contains(fmt.Sprint(owedLog.All()[0].ContextMap()["error"]), "connection refused") {
			t.Fatalf("owed log lines: %v, want one naming receiver oncall and the failure", owedLog.All())
		}
		if got, want := down.callCount(), 2; got != want {
			t.Errorf("attempts: got %d, want %d", got, want)
		}
		fp := testLabels().Fingerprint()
		key := nflogKey("oncall", fp, 1, StatusFiring)
		if _, err := f.store.Get(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("claim %s after retries were used up: got err %v, want ErrNotFound", key, err)
		}
		if _, err := f.store.Get(ctx, owedKey(fp, "oncall", 1, StatusFiring)); err != nil {
			t.Fatalf("owed entry: %v", err)
		}
		if got, want := metricValue(t, f.n.reg, "govwatch_notifier_notifications_total", map[string]string{"channel": "down", "result": "error"}), 1.0; got != want {
			t.Errorf("notifications{result=error}: got %v, want %v", got, want)
		}

		// The channel recovers; the next tick gets it through, once, and
		// settles the entry.
		down.setFailAlways(nil)
		for range 2 {
			if err := f.n.Tick(ctx); err != nil {
				t.Fatalf("Tick after recovery: %v", err)
			}
		}
		if err := f.n.Handle(ctx, firing(t0, "x")); err != nil {
			t.Fatalf("Handle after delivery: %v", err)
		}
		if got, want := f.delivered(), deliveries(StatusFiring, "oncall", "unit"); !sameMultiset(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
		if _, err := f.store.Get(ctx, owedKey(fp, "oncall", 1, StatusFiring)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("owed entry after delivery: got err %v, want ErrNotFound", err)
		}
	})
}

func TestDeadReplicaClaimExpires(t *testing.T) {
	clock, st := embeddedStores.at(t, t2.Add(time.Hour))
	f := newFixture(t, fixtureOptions{store: st, clock: clock})
	ctx := testCtx(t)

	// A replica claimed the oncall notification and died before sending.
	key := nflogKey("oncall", testLabels().Fingerprint(), 1, StatusFiring)
	if ok, err := f.store.SetNX(ctx, key, []byte(logPending), time.Minute); err != nil || !ok {
		t.Fatalf("SetNX %s: got %v, %v, want true, nil", key, ok, err)
	}

	steps := []struct {
		name    string
		advance time.Duration
		wantErr bool
		want    []string // cumulative deliveries
	}{
		{"claim held: error, only the unclaimed receiver is told", 0, true, deliveries(StatusFiring, "unit")},
		{"claim still held after 30s", 30 * time.Second, true, deliveries(StatusFiring, "unit")},
		{"claim expired: delivered", 31 * time.Second, false, deliveries(StatusFiring, "unit", "oncall")},
		{"delivered once", time.Minute, false, deliveries(StatusFiring, "unit", "oncall")},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		err := f.n.Handle(ctx, firing(t0, "x"))
		if s.wantErr && (!errors.Is(err, errSendingElsewhere) || !strings.Contains(err.Error(), "being sent elsewhere")) {
			t.Fatalf("%s: Handle: got error %v, want one saying it is being sent elsewhere", s.name, err)
		}
		if !s.wantErr && err != nil {
			t.Fatalf("%s: Handle: %v", s.name, err)
		}
		if got := f.delivered(); !sameMultiset(got, s.want) {
			t.Fatalf("%s: delivered %q, want %q", s.name, got, s.want)
		}
	}
}

func TestExpireResolvesEndedAlerts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock := clockwork.NewFakeClockAt(t0)
		f := newFixture(t, fixtureOptions{store: stores.realTime(t), clock: clock})
		ctx := testCtx(t)
		// As posted on the API without endsAt: it ends unless repeated.
		a := firing(t0, "x")
		a.EndsAt = t0.Add(5 * time.Minute)
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatalf("Handle: %v", err)
		}
		steps := []struct {
			name       string
			advance    time.Duration
			want       []string // cumulative
			wantStatus string
		}{
			{"before endsAt nothing changes", 4 * time.Minute, deliveries(StatusFiring, "oncall", "unit"), StatusFiring},
			{"after endsAt it resolves and notifies", 2 * time.Minute, append(deliveries(StatusFiring, "oncall", "unit"), deliveries(StatusResolved, "oncall", "unit")...), StatusResolved},
			{"a second expiry notifies no more", time.Hour, append(deliveries(StatusFiring, "oncall", "unit"), deliveries(StatusResolved, "oncall", "unit")...), StatusResolved},
		}
		for _, s := range steps {
			clock.Advance(s.advance)
			if err := f.n.Expire(ctx); err != nil {
				t.Fatalf("%s: Expire: %v", s.name, err)
			}
			if got := f.delivered(); !sameMultiset(got, s.want) {
				t.Fatalf("%s: delivered %q, want %q", s.name, got, s.want)
			}
			recs, err := f.n.Alerts(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Status != s.wantStatus {
				t.Fatalf("%s: records %+v, want one %s", s.name, recs, s.wantStatus)
			}
		}
	})
}

func TestRunConsumesFromBus(t *testing.T) {
	ctx := testCtx(t)
	b := testBus(t)
	f := newFixture(t, fixtureOptions{store: embeddedStores.realTime(t), bus: b})

	stopRun := runInBackground(t, ctx, f.n.Notifier)

	other := firing(t0, "另一个账号")
	other.Labels[model.LabelAccountID] = "fj-gov-weibo"
	other.Labels[model.LabelUnit] = "xm-gov" // routes to oncall only
	for _, a := range []*model.Alert{firing(t0, "x"), other, firing(t0, "x"), resolved(t0, t1)} {
		if _, err := b.PublishAlert(ctx, a); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
	want := append(deliveries(StatusFiring, "oncall", "unit"), deliveries(StatusResolved, "oncall", "unit")...)
	want = append(want, fmt.Sprintf("oncall firing %s", other.Fingerprint()))
	// One worker (the default) handles them in stream order; the repeated
	// firing is dropped by the bus or by the notification log.
	deadline := time.Now().Add(20 * time.Second)
	for !sameMultiset(f.delivered(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("delivered %q, want %q", f.delivered(), want)
		}
		time.Sleep(10 * time.Millisecond)
	}

	stopRun()
}

func nflogValue(t *testing.T, f *fixture, receiver, status string) string {
	t.Helper()
	v, err := f.store.Get(context.Background(), nflogKey(receiver, testLabels().Fingerprint(), 1, status))
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatalf("read notification log: %v", err)
	}
	return string(v)
}
