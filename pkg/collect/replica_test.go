package collect

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/collect/schedule"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/metric/metrictest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// logSource answers every poll with "not modified" and logs who was polled
// when; fail, while set, makes it fail instead.
type logSource struct {
	clock clockwork.Clock
	mu    sync.Mutex
	polls map[string][]time.Time
	fail  error
	panic bool
}

func (s *logSource) Poll(_ context.Context, a *registry.Account, _ []byte) (*source.Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polls[a.ID] = append(s.polls[a.ID], s.clock.Now())
	if s.panic {
		panic("index out of range [3] with length 3")
	}
	if s.fail != nil {
		return nil, s.fail
	}
	return &source.Batch{NotModified: true}, nil
}

func (s *logSource) times(id string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.polls[id]...)
}

func testRegistry(t *testing.T, n int) *registry.Registry {
	t.Helper()
	var accounts []registry.Account
	for i := range n {
		accounts = append(accounts, registry.Account{ID: fmt.Sprintf("acct-%03d", i), Name: fmt.Sprintf("账号%d", i),
			Platform: "weibo", Unit: "fj-gov", Source: registry.Source{Type: "test"}})
	}
	return newRegistry(t, []registry.Unit{{ID: "fj-gov", Name: "福建省人民政府办公厅", Region: "350000"}}, accounts)
}

// replica is one collector running in virtual time.
type replica struct {
	c      *Collector
	cancel context.CancelFunc
	done   chan struct{}
}

type fleet struct {
	clock    *clockwork.FakeClock
	src      *logSource
	replicas []*replica
	alerts   *alertLog
}

func startFleet(t *testing.T, st store.Store, reg *registry.Registry, n int, o Options) *fleet {
	t.Helper()
	return startFleetWith(t, st, reg, n, o, func(s *logSource) source.Source { return s })
}

// startFleetWith starts n replicas whose source is wrap of the fleet's log.
func startFleetWith(t *testing.T, st store.Store, reg *registry.Registry, n int, o Options, wrap func(*logSource) source.Source) *fleet {
	t.Helper()
	f := &fleet{clock: clockwork.NewFakeClockAt(t0), alerts: &alertLog{}}
	f.src = &logSource{clock: f.clock, polls: map[string][]time.Time{}}
	src := wrap(f.src)
	for i := range n {
		o := o
		o.Registry, o.Sources, o.Publisher, o.State = reg, map[string]source.Source{"test": src}, &recorder{}, st
		o.Clock, o.Workers, o.Replica = f.clock, 4, fmt.Sprintf("replica-%d", i)
		if o.Alerts == nil {
			o.Alerts = f.alerts
		}
		o.Log = testLog(t)
		o.Metrics = prometheus.NewRegistry()
		c, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		r := &replica{c: c, cancel: cancel, done: make(chan struct{})}
		go func() { c.Run(ctx); close(r.done) }()
		f.replicas = append(f.replicas, r)
		t.Cleanup(func() { cancel(); <-r.done })
	}
	f.settle(t)
	return f
}

// settle waits until every running replica waits on its clock with no poll
// in flight.
func (f *fleet) settle(t *testing.T) {
	t.Helper()
	live := 0
	for _, r := range f.replicas {
		select {
		case <-r.done:
		default:
			live++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := f.clock.BlockUntilContext(ctx, live); err != nil {
		t.Fatalf("replicas did not go back to waiting: %v", err)
	}
	for _, r := range f.replicas {
		waitFor(t, func() bool { return r.c.sched.InFlight() == 0 })
	}
}

// run advances virtual time by d in steps.
func (f *fleet) run(t *testing.T, d, step time.Duration) {
	t.Helper()
	for end := f.clock.Now().Add(d); f.clock.Now().Before(end); {
		f.clock.Advance(step)
		f.settle(t)
	}
}

func (f *fleet) stop(i int) {
	f.replicas[i].cancel()
	<-f.replicas[i].done
}

// slots checks that every account was polled exactly once in each slot of
// iv that lies wholly inside [from, to).
func checkSlots(t *testing.T, src *logSource, reg *registry.Registry, iv time.Duration, from, to time.Time) {
	t.Helper()
	for _, a := range reg.Accounts() {
		perSlot := map[int64]int{}
		phase := schedule.Phase(a.ID, iv)
		for _, at := range src.times(a.ID) {
			perSlot[int64(at.Sub(time.Unix(0, 0))-phase)/int64(iv)]++
		}
		first := schedule.NextDue(a.ID, iv, from)
		for due := first; due.Add(time.Second).Before(to); due = due.Add(iv) {
			slot := int64(due.Sub(time.Unix(0, 0))-phase) / int64(iv)
			if got := perSlot[slot]; got != 1 {
				t.Errorf("%s: slot at %s polled %d times, want 1", a.ID, due.Format("15:04:05"), got)
			}
		}
		for slot, n := range perSlot {
			if n > 1 {
				t.Errorf("%s: slot %d polled %d times", a.ID, slot, n)
			}
		}
	}
}

func TestReplicasPollEachSlotOnceAndTakeOver(t *testing.T) {
	const iv = 10 * time.Minute
	for name, open := range stores {
		for _, n := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				reg := testRegistry(t, 60)
				f := startFleet(t, open(t), reg, n, Options{Interval: iv})
				f.run(t, 30*time.Minute, time.Minute)
				mid := f.clock.Now()
				checkSlots(t, f.src, reg, iv, t0, mid)

				won := make([]float64, n)
				for i, r := range f.replicas {
					won[i] = counter(t, r.c.o.Metrics.(*prometheus.Registry), "govwatch_collector_slot_claims_total", "result", "won")
				}
				if won[0] == 0 {
					t.Fatalf("replica 0 won no slot (%v); the takeover below would prove nothing", won)
				}

				f.stop(0)
				f.run(t, 20*time.Minute, time.Minute)
				// Within one interval of the stop every slot is polled again.
				checkSlots(t, f.src, reg, iv, mid, f.clock.Now())
			})
		}
	}
}

// alertLog is the collector's AlertPublisher in tests.
type alertLog struct {
	mu     sync.Mutex
	alerts []model.Alert
}

func (l *alertLog) PublishAlert(_ context.Context, a *model.Alert) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.alerts = append(l.alerts, *a)
	return false, nil
}

func (l *alertLog) all() []model.Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]model.Alert(nil), l.alerts...)
}

// retryErr is a failure the source says may go away.
type retryErr struct{}

func (retryErr) Error() string   { return "upstream 503 currently fetching" }
func (retryErr) Retryable() bool { return true }

func TestFailingAccountBacksOffRaisesSourceDownAndResolves(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			reg := testRegistry(t, 1)
			const id = "acct-000"
			o := Options{Interval: time.Minute, FailureThreshold: 3, Backoff: pace.Backoff{Initial: time.Minute, Max: 4 * time.Minute}}
			f := startFleet(t, open(t), reg, 2, o)
			f.src.mu.Lock()
			f.src.fail = retryErr{}
			f.src.mu.Unlock()
			f.run(t, 20*time.Minute, time.Minute)

			polls := f.src.times(id)
			if len(polls) < 4 {
				t.Fatalf("%d polls in 20 minutes of failures, want several", len(polls))
			}
			var gaps []time.Duration
			for i := 1; i < len(polls); i++ {
				gaps = append(gaps, polls[i].Sub(polls[i-1]).Round(time.Minute))
			}
			want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute}
			for i, w := range want {
				if i < len(gaps) && gaps[i] != w {
					t.Errorf("gap after failure %d = %v, want %v (all gaps %v)", i+1, gaps[i], w, gaps)
				}
			}
			alerts := f.alerts.all()
			if len(alerts) == 0 {
				t.Fatal("no system.source_down after repeated failures")
			}
			a := alerts[0]
			if got := a.Labels[model.LabelAlertname]; got != model.CategorySystemSourceDown {
				t.Errorf("alertname %q, want %q", got, model.CategorySystemSourceDown)
			}
			if got := a.Labels[model.LabelRegion]; got != "350000" {
				t.Errorf("region label %q, want the unit's 350000", got)
			}
			if !a.StartsAt.Equal(polls[0]) {
				t.Errorf("startsAt %v, want the first failure %v", a.StartsAt, polls[0])
			}
			if !a.EndsAt.IsZero() {
				t.Errorf("firing alert has endsAt %v", a.EndsAt)
			}
			if !strings.Contains(a.Annotations[model.AnnotationSummary], "采集连续失败 3 次") {
				t.Errorf("summary %q, want the failure count in Chinese", a.Annotations[model.AnnotationSummary])
			}
			for _, b := range alerts {
				if b.Fingerprint() != a.Fingerprint() || !b.StartsAt.Equal(a.StartsAt) {
					t.Errorf("repeat %v/%v differs from the first firing %v/%v", b.Fingerprint(), b.StartsAt, a.Fingerprint(), a.StartsAt)
				}
			}
			downs := 0.0
			for _, r := range f.replicas {
				downs += gauge(t, r.c.o.Metrics.(*prometheus.Registry), "govwatch_collector_accounts_down")
			}
			if downs == 0 {
				t.Error("no replica counts the account in govwatch_collector_accounts_down")
			}

			f.src.mu.Lock()
			f.src.fail = nil
			f.src.mu.Unlock()
			n := len(alerts)
			// The backoff of at most 4m runs out, then a minute apart.
			f.run(t, 10*time.Minute, time.Minute)
			alerts = f.alerts.all()
			if len(alerts) != n+1 {
				t.Fatalf("%d alerts after recovery, want one resolution more than %d", len(alerts), n)
			}
			res := alerts[n]
			if res.EndsAt.IsZero() || !res.StartsAt.Equal(a.StartsAt) || res.Fingerprint() != a.Fingerprint() {
				t.Errorf("resolution %+v, want the same alert with endsAt set", res)
			}
			// Back on its interval: polled every minute again.
			after := f.src.times(id)
			if got := len(after) - len(polls); got < 6 {
				t.Errorf("%d polls in the 10 minutes after recovery, want one a minute once the backoff ran out", got)
			}
		})
	}
}

func TestPanickingSourceIsRecoveredAndCounted(t *testing.T) {
	reg := testRegistry(t, 1)
	f := startFleet(t, openState(t), reg, 1, Options{Interval: time.Minute})
	f.src.mu.Lock()
	f.src.panic = true
	f.src.mu.Unlock()
	f.run(t, 3*time.Minute, time.Minute)
	c := f.replicas[0].c
	m := c.o.Metrics.(*prometheus.Registry)
	if got := counter(t, m, "govwatch_collector_source_panics_total", "platform", "weibo"); got < 1 {
		t.Errorf("source_panics_total = %v, want at least 1", got)
	}
	if got := counter(t, m, "govwatch_collector_poll_failures_total", "result", "permanent"); got < 1 {
		t.Errorf("poll_failures_total{permanent} = %v, want the panic counted as permanent", got)
	}
	err := c.Poll(context.Background(), "acct-000")
	if err == nil || !strings.Contains(err.Error(), "panic") {
		t.Errorf("Poll of a panicking source: %v, want an error saying panic", err)
	}
}

func TestThrottledPollIsNotAFailure(t *testing.T) {
	reg := testRegistry(t, 1)
	f := startFleet(t, openState(t), reg, 1, Options{Interval: time.Minute})
	f.src.mu.Lock()
	f.src.fail = fmt.Errorf("fetch: %w", errThrottled)
	f.src.mu.Unlock()
	f.run(t, 5*time.Minute, time.Minute)
	m := f.replicas[0].c.o.Metrics.(*prometheus.Registry)
	if got := counter(t, m, "govwatch_collector_polls_total", "result", "throttled"); got < 4 {
		t.Errorf("throttled polls = %v, want one a minute (no backoff for a busy host)", got)
	}
	if got := counter(t, m, "govwatch_collector_poll_failures_total", "result", "retryable"); got != 0 {
		t.Errorf("failures = %v, want a throttled poll not counted against the account", got)
	}
}

func counter(t *testing.T, r *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	v, _ := metrictest.Sum(t, r, name, map[string]string{label: value})
	return v
}

func gauge(t *testing.T, r *prometheus.Registry, name string) float64 {
	t.Helper()
	v, _ := metrictest.Sum(t, r, name, nil)
	return v
}

var errThrottled = &hostlimit.ThrottledError{Host: "feeds.invalid", Reason: hostlimit.ReasonConcurrency}
