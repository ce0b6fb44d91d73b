package collect

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/metric/metrictest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store"
)

// t0 is 12:00 in Beijing: the day's first posts are out, more are to come.
var t0 = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

var scenario = simulate.Scenario{Seed: 20260803, Accounts: []simulate.AccountScenario{
	{ID: "fz-wechat", Format: simulate.FormatAtom, Title: "福州发布", PostsPerDay: 2, HistoryDays: 3},
	{ID: "fj-gov-weibo", Format: simulate.FormatRSS, Title: "福建发布", PostsPerDay: 3, HistoryDays: 3},
}}

// recorder is the collector's Publisher: it keeps what is published and
// fails the failAt-th publish (counting from 1) when failAt is set.
type recorder struct {
	mu     sync.Mutex
	posts  []model.Post
	n      int
	failAt int
}

func (r *recorder) PublishPost(_ context.Context, p *model.Post) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.failAt > 0 && r.n == r.failAt {
		return false, errors.New("nats: timeout")
	}
	r.posts = append(r.posts, *p)
	return false, nil
}

// PublishSnapshot keeps nothing: the sources under test report none.
func (r *recorder) PublishSnapshot(context.Context, *model.AccountSnapshot) error { return nil }

// PublishProbe keeps nothing: the sources under test report none.
func (r *recorder) PublishProbe(context.Context, *model.ProbeResult) error { return nil }

// take returns the ids of the posts published since the last take.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, p := range r.posts {
		ids = append(ids, p.ID)
	}
	r.posts = nil
	return ids
}

// rig is a collector over the simulated platform with a real embedded store.
type rig struct {
	clock *clockwork.FakeClock
	// stateClock is the clock of the store's expiries.
	stateClock *clockwork.FakeClock
	sim        *simulate.Server
	down       atomic.Bool // the platform answers 503
	pub        *recorder
	state      store.Store
	metrics    *prometheus.Registry
	reg        *registry.Registry
	c          *Collector
}

func newRig(t *testing.T, interval map[string]time.Duration) *rig {
	t.Helper()
	r := &rig{clock: clockwork.NewFakeClockAt(t0), pub: &recorder{}, metrics: prometheus.NewRegistry()}
	if err := scenario.Validate(); err != nil {
		t.Fatal(err)
	}
	r.sim = simulate.New(&scenario, r.clock)
	h := r.sim.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	// The store's expiries follow their own clock: its janitor's ticker
	// on r.clock would count among the sleepers tests wait for.
	r.stateClock = clockwork.NewFakeClockAt(t0)
	st := openStateAt(t, r.stateClock)
	r.state = st
	var accounts []registry.Account
	for _, a := range scenario.Accounts {
		platform := "wechat"
		if strings.HasSuffix(a.ID, "weibo") {
			platform = "weibo"
		}
		accounts = append(accounts, registry.Account{ID: a.ID, Name: a.Title, Platform: platform, Unit: "fj-gov",
			Source: registry.Source{Type: "rss", Options: &rss.Account{URL: ts.URL + r.sim.FeedPath(a.ID)}, Interval: interval[a.ID]}})
	}
	r.reg = newRegistry(t, []registry.Unit{{ID: "fj-gov", Name: "福建省人民政府办公厅", Region: "350000"}}, accounts)
	var err error
	r.c, err = New(Options{
		Registry:  r.reg,
		Sources:   map[string]source.Source{"rss": &rss.Source{Fetcher: &feed.Fetcher{Clock: r.clock}}},
		Publisher: r.pub,
		State:     st,
		Interval:  10 * time.Minute,
		Workers:   2,
		Clock:     r.clock,
		Log:       testLog(t),
		Metrics:   r.metrics,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) poll(t *testing.T, id string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.c.Poll(ctx, id)
}

// feed is the ids of the posts the simulated feed of account id carries now,
// newest first, as the collector names them.
func (r *rig) feed(id string) []string {
	a, _ := r.reg.Account(id)
	var ids []string
	for _, p := range r.sim.Posts(id) {
		ids = append(ids, model.PostID(a.Platform, a.ID, p.ID))
	}
	return ids
}

func (r *rig) polls(t *testing.T, platform, result string) float64 {
	t.Helper()
	v, _ := metrictest.Sum(t, r.metrics, "govwatch_collector_polls_total", map[string]string{"platform": platform, "result": result})
	return v
}

func (r *rig) savedState(t *testing.T, id string) []byte {
	t.Helper()
	b, err := r.state.Get(context.Background(), "collector/state/"+id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPollPublishesNewPostsOnce(t *testing.T) {
	r := newRig(t, nil)
	const id = "fz-wechat"

	want := r.feed(id)
	if len(want) < 5 {
		t.Fatalf("the simulated feed holds %d posts, want a few days' worth", len(want))
	}
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.pub.take(); !slices.Equal(got, want) {
		t.Fatalf("first poll published\n%v\nwant every post newest first\n%v", got, want)
	}

	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.pub.take(); len(got) != 0 {
		t.Errorf("second poll published %v, want nothing", got)
	}
	if got := r.polls(t, "wechat", "not_modified"); got != 1 {
		t.Errorf("polls_total{wechat,not_modified} = %v, want 1", got)
	}

	before := r.feed(id)
	r.clock.Advance(24 * time.Hour)
	var fresh []string
	for _, p := range r.feed(id) {
		if !slices.Contains(before, p) {
			fresh = append(fresh, p)
		}
	}
	if len(fresh) == 0 {
		t.Fatal("a day later the simulated feed has no new post")
	}
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.pub.take(); !slices.Equal(got, fresh) {
		t.Errorf("a day later the poll published\n%v\nwant exactly the new posts\n%v", got, fresh)
	}
	if got := r.polls(t, "wechat", "ok"); got != 2 {
		t.Errorf("polls_total{wechat,ok} = %v, want 2", got)
	}
}

// TestStateOutlivesItsLastPollBoundedly: every poll keeps an account's
// source state for StateTTL more, so a polled account never loses it and
// an account no longer polled (removed from the registry) leaves none.
func TestStateOutlivesItsLastPollBoundedly(t *testing.T) {
	r := newRig(t, nil)
	const id = "fj-gov-weibo"
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if r.savedState(t, id) == nil {
		t.Fatal("no source state saved after a good poll")
	}
	advance := func(d time.Duration) {
		r.clock.Advance(d)
		r.stateClock.Advance(d)
	}
	advance(StateTTL - time.Hour)
	if err := r.poll(t, id); err != nil { // answered 304: the state is kept again
		t.Fatal(err)
	}
	advance(StateTTL - time.Hour)
	if r.savedState(t, id) == nil {
		t.Fatalf("the source state expired %s after a poll, want it kept for %s", StateTTL-time.Hour, StateTTL)
	}
	advance(2 * time.Hour)
	if got := r.savedState(t, id); got != nil {
		t.Fatalf("the source state outlived its last poll by %s: %s", StateTTL+time.Hour, got)
	}
}

func TestSourceErrorKeepsValidators(t *testing.T) {
	r := newRig(t, nil)
	const id = "fj-gov-weibo"
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	r.pub.take()
	saved := r.savedState(t, id)
	if len(saved) == 0 {
		t.Fatal("no validators saved after a good poll")
	}

	r.down.Store(true)
	if err := r.poll(t, id); err == nil {
		t.Fatal("poll of a feed answering 503 returned no error")
	}
	if got := r.polls(t, "weibo", "error"); got != 1 {
		t.Errorf("polls_total{weibo,error} = %v, want 1", got)
	}
	if got := r.savedState(t, id); string(got) != string(saved) {
		t.Errorf("validators after a failed poll = %s, want them untouched: %s", got, saved)
	}

	// Still valid: the platform, back, answers 304 to them.
	r.down.Store(false)
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.polls(t, "weibo", "not_modified"); got != 1 {
		t.Errorf("polls_total{weibo,not_modified} = %v, want 1 (validators kept)", got)
	}
	if got := r.pub.take(); len(got) != 0 {
		t.Errorf("poll after recovery published %v, want nothing", got)
	}
}

// TestPollCutOffByShutdown: a poll interrupted because the collector is
// stopping is counted apart, not as the source failing.
func TestPollCutOffByShutdown(t *testing.T) {
	r := newRig(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.c.Poll(ctx, "fj-gov-weibo"); err == nil {
		t.Fatal("poll with a cancelled context returned no error")
	}
	if got := r.polls(t, "weibo", "canceled"); got != 1 {
		t.Errorf("polls_total{weibo,canceled} = %v, want 1", got)
	}
	if got := r.polls(t, "weibo", "error"); got != 0 {
		t.Errorf("polls_total{weibo,error} = %v, want 0", got)
	}
}

func TestPublishFailureRepublishesTheRest(t *testing.T) {
	r := newRig(t, nil)
	const id = "fj-gov-weibo"
	all := r.feed(id)
	r.pub.failAt = 3
	if err := r.poll(t, id); err == nil {
		t.Fatal("poll whose third publish failed returned no error")
	}
	first := r.pub.take()
	if !slices.Equal(first, all[:2]) {
		t.Fatalf("before the failure the poll published %v, want %v", first, all[:2])
	}
	if got := r.savedState(t, id); got != nil {
		t.Errorf("validators saved after a failed publish: %s; the next poll would get 304 and lose the rest", got)
	}
	if got := r.polls(t, "weibo", "error"); got != 1 {
		t.Errorf("polls_total{weibo,error} = %v, want 1", got)
	}

	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.pub.take(); !slices.Equal(got, all[2:]) {
		t.Errorf("the next poll published\n%v\nwant the rest\n%v", got, all[2:])
	}
	if err := r.poll(t, id); err != nil {
		t.Fatal(err)
	}
	if got := r.polls(t, "weibo", "not_modified"); got != 1 {
		t.Errorf("polls_total{weibo,not_modified} = %v, want 1 once everything went out", got)
	}
}

func TestNewRejectsActiveAccountWithoutSource(t *testing.T) {
	reg := newRegistry(t, []registry.Unit{{ID: "fz", Name: "福州市人民政府"}}, []registry.Account{
		{ID: "fz-weibo", Name: "福州发布", Platform: "weibo", Unit: "fz", Source: registry.Source{Type: "rss"}},
		{ID: "fz-old-wechat", Name: "福州旧号", Platform: "wechat", Unit: "fz", Status: registry.StatusClosed, Source: registry.Source{Type: "wechat"}},
		{ID: "fz-wechat", Name: "福州微信", Platform: "wechat", Unit: "fz", Source: registry.Source{Type: "wechat"}},
	})
	o := Options{Registry: reg, Sources: map[string]source.Source{"rss": &rss.Source{Fetcher: &feed.Fetcher{}}},
		Publisher: &recorder{}, State: openState(t)}
	_, err := New(o)
	if err == nil || !strings.Contains(err.Error(), "fz-wechat") || !strings.Contains(err.Error(), `"wechat"`) {
		t.Fatalf("New = %v, want an error naming fz-wechat and source type \"wechat\"", err)
	}
	if strings.Contains(err.Error(), "fz-old-wechat") {
		t.Errorf("New complained about a closed account: %v", err)
	}
}

// TestPushedAccountsAreNotPolled: a source that is pushed to has a nil
// Source, and the collector schedules none of its accounts.
func TestPushedAccountsAreNotPolled(t *testing.T) {
	reg := newRegistry(t, []registry.Unit{{ID: "fz", Name: "福州市人民政府"}}, []registry.Account{
		{ID: "fz-weibo", Name: "福州发布", Platform: "weibo", Unit: "fz", Source: registry.Source{Type: "rss"}},
		{ID: "fz-kuaishou", Name: "福州发布", Platform: "kuaishou", Unit: "fz", Source: registry.Source{Type: "push"}},
	})
	c, err := New(Options{Registry: reg, Sources: map[string]source.Source{"rss": &rss.Source{Fetcher: &feed.Fetcher{}}, "push": nil},
		Publisher: &recorder{}, State: openState(t)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, task := range c.Tasks() {
		keys = append(keys, task.Key)
	}
	if len(keys) != 1 || keys[0] != "fz-weibo" {
		t.Errorf("got tasks %v, want only fz-weibo", keys)
	}
}

// countingSource counts polls per account.
type countingSource struct {
	source.Source
	mu sync.Mutex
	n  map[string]int
}

func (c *countingSource) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	c.mu.Lock()
	c.n[a.ID]++
	c.mu.Unlock()
	return c.Source.Poll(ctx, a, state)
}

func TestRunPollsEachAccountOncePerInterval(t *testing.T) {
	r := newRig(t, map[string]time.Duration{"fj-gov-weibo": 20 * time.Minute})
	cs := &countingSource{Source: r.c.o.Sources["rss"], n: map[string]int{}}
	r.c.o.Sources = map[string]source.Source{"rss": cs}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.c.Run(ctx) }()
	wait, waitCancel := context.WithTimeout(ctx, 30*time.Second)
	defer waitCancel()
	for range 60 {
		if err := r.clock.BlockUntilContext(wait, 1); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return r.c.sched.InFlight() == 0 })
		r.clock.Advance(time.Minute)
	}
	if err := r.clock.BlockUntilContext(wait, 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return r.c.sched.InFlight() == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, want := range map[string]int{"fz-wechat": 6, "fj-gov-weibo": 3} {
		if got := cs.n[id]; got != want {
			t.Errorf("%s polled %d times in an hour, want %d", id, got, want)
		}
	}
	// Every poll after the first of each account found nothing new.
	if got, want := r.polls(t, "wechat", "not_modified")+r.polls(t, "weibo", "not_modified"), float64(6+3-2); got != want {
		t.Errorf("not_modified polls = %v, want %v", got, want)
	}
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(time.Millisecond)
	}
}
