package notify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/metric/metrictest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/report"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// This file is the ground the package's tests stand on: stores of each
// backend, a recording channel, a notifier with test defaults and the
// stages built on their own.

// backend opens fresh stores of one kind for a test. clock drives expiry
// where the backend honours it (embedded); redis keeps real time.
type backend struct {
	name string
	open func(t testing.TB, clock clockwork.Clock) store.Store
}

// at starts a fake clock at start and opens a store whose expiry follows it.
func (b backend) at(t testing.TB, start time.Time) (*clockwork.FakeClock, store.Store) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	return clock, b.open(t, clock)
}

// realTime opens a store that keeps real time, whatever clock the
// notifier over it follows.
func (b backend) realTime(t testing.TB) store.Store {
	t.Helper()
	return b.open(t, clockwork.NewRealClock())
}

func openEmbedded(t testing.TB, clock clockwork.Clock) store.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatalf("open embedded store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openRedis(t testing.TB, _ clockwork.Clock) store.Store {
	t.Helper()
	addr := redistest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}})
	if err != nil {
		t.Fatalf("open redis store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// embeddedStores serve the tests that need a store of one kind only.
var embeddedStores = backend{"embedded", openEmbedded}

var backends = []backend{
	embeddedStores,
	{"redis", openRedis},
}

// forEachBackend runs test once per store backend.
func forEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// countingStore counts the values a store hands out.
type countingStore struct {
	store.Store
	gets, scanned atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *countingStore) List(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	return s.Store.List(ctx, prefix, func(k string, v []byte) error {
		s.scanned.Add(1)
		return fn(k, v)
	})
}

// recorder is a Channel that records what it delivered. The first
// len(fail) calls return those errors instead, in order; failAlways makes
// every call fail with it.
type recorder struct {
	name string

	mu         sync.Mutex
	fail       []error
	failAlways error
	calls      int
	got        []*channel.Notification
}

func newRecorder(name string, fail ...error) *recorder {
	return &recorder{name: name, fail: fail}
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Notify(ctx context.Context, n *channel.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.failAlways != nil {
		return r.failAlways
	}
	if r.calls <= len(r.fail) {
		return r.fail[r.calls-1]
	}
	r.got = append(r.got, n)
	return nil
}

func (r *recorder) setFailAlways(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failAlways = err
}

func (r *recorder) callCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// delivered lists the notifications delivered so far as
// "<receiver> <status> <fingerprint>".
func (r *recorder) delivered() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		out = append(out, fmt.Sprintf("%s %s %s", n.Receiver, n.Status, n.Alerts[0].Fingerprint))
	}
	return out
}

// withRequired fills the settings New requires and o leaves out with the
// values pkg/config's Default gives a deployment.
func withRequired(t testing.TB, o Options) Options {
	t.Helper()
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Route == nil {
		o.Route = &Route{}
	}
	if o.ResolveTimeout == 0 {
		o.ResolveTimeout = 5 * time.Minute
	}
	if o.Tick == 0 {
		o.Tick = 15 * time.Second
	}
	if o.OwedFor == 0 {
		o.OwedFor = 24 * time.Hour
	}
	if o.BreakerProbe == 0 {
		o.BreakerProbe = 30 * time.Second
	}
	if o.Retry == (RetryPolicy{}) {
		o.Retry = RetryPolicy{Attempts: 3, Initial: time.Second, Max: 30 * time.Second}
	}
	if o.Signer != nil && o.LinkTTL == 0 {
		o.LinkTTL = 72 * time.Hour
	}
	if o.Bus != nil && o.Consumer == "" {
		o.Consumer, o.Workers = "notifier", 1
	}
	if o.Report == nil {
		r, err := report.NewUpstream("")
		if err != nil {
			t.Fatal(err)
		}
		o.Report = r
	}
	return o
}

// testNotifier is a notifier built for a test and the registry its
// metrics are on.
type testNotifier struct {
	*Notifier
	reg *prometheus.Registry
}

// newTestNotifier builds the notifier o describes, with its metrics on a
// fresh registry. Besides the settings withRequired fills, a notifier
// without a logger logs warnings to the test.
func newTestNotifier(t testing.TB, o Options) *testNotifier {
	t.Helper()
	if o.Log == nil {
		o.Log = testLog(t)
	}
	reg := prometheus.NewRegistry()
	o.Metrics = reg
	n, err := New(withRequired(t, o))
	if err != nil {
		t.Fatalf("new notifier: %v", err)
	}
	return &testNotifier{Notifier: n, reg: reg}
}

func testLog(t testing.TB) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)) }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testBus is a bus on an in-process server for one test.
func testBus(t *testing.T) *bus.Bus {
	t.Helper()
	return bustest.Open(t, bus.Options{Logger: testLog(t)})
}

// testMetrics are metrics registered on a fresh registry.
func testMetrics(t testing.TB) (*metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	return newMetrics(reg, func(context.Context, bool) ([]Record, error) { return nil, nil }), reg
}

// testLifecycle is a lifecycle stage over st with a 5m resolve timeout.
func testLifecycle(t testing.TB, st store.Store, clock clockwork.Clock, openers ...func(*Record)) *lifecycle {
	t.Helper()
	m, _ := testMetrics(t)
	return newLifecycle(st, clock, testLog(t), m, 5*time.Minute, openers...)
}

// stored runs a through l and returns the record it left in the store.
func stored(t *testing.T, ctx context.Context, l *lifecycle, a *model.Alert) *Record {
	t.Helper()
	d, err := l.Exec(ctx, &delivery{alert: a})
	if err != nil || d == nil {
		t.Fatalf("lifecycle of %s: got %v, %v, want a record", a.Name(), d, err)
	}
	return d.rec
}

// testSender is a send stage over st on clock.
func testSender(t *testing.T, st store.Store, clock clockwork.Clock, retry RetryPolicy) (*sender, *prometheus.Registry) {
	t.Helper()
	m, reg := testMetrics(t)
	failures := &failureRuns{store: st, clock: clock}
	return &sender{retry: retry, clock: clock, failures: failures, breaker: &breaker{failures: failures, store: st, probe: 30 * time.Second, m: m},
		notes: &composer{clock: clock, reporter: &reporter{log: testLog(t)}}, m: m}, reg
}

// setClock moves the fake clock forward to t.
func setClock(c *clockwork.FakeClock, t time.Time) {
	if d := t.Sub(c.Now()); d > 0 {
		c.Advance(d)
	}
}

func equalStrings(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// sameMultiset reports whether a and b hold the same strings, each as often.
func sameMultiset(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// metricValue gathers reg and returns the value of the counter or gauge
// name with labels; 0 when there is none.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	v, _ := metrictest.Sum(t, reg, name, labels)
	return v
}

// serveAPI builds the API over n with o and serves its routes until the
// test ends.
func serveAPI(t testing.TB, n *Notifier, o APIOptions) (*API, *httptest.Server) {
	t.Helper()
	api, err := NewAPI(n, o)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return api, srv
}
