package linkcheck

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// t0 is 10:00 in Beijing on 2026-11-20.
var t0 = time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)

func openEmbedded(t *testing.T) store.Store {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clockwork.NewFakeClockAt(t0)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openRedis(t *testing.T) store.Store {
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{redistest.Start(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// site answers each path with the status set for it (200 by default),
// refuses HEAD on /nohead with 405, and counts requests by method and path.
type site struct {
	*httptest.Server
	mu     sync.Mutex
	status map[string]int
	hits   map[string]int
}

func newSite(t *testing.T) *site {
	s := &site{status: map[string]int{}, hits: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits[r.Method+" "+r.URL.Path]++
		if r.URL.Path == "/nohead" && r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		if code := s.status[r.URL.Path]; code != 0 {
			w.WriteHeader(code)
			return
		}
		_, _ = w.Write([]byte("<html>ok</html>"))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *site) set(path string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status[path] = code
}

func (s *site) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[key]
}

func testRegistry(t *testing.T) *registry.Registry {
	reg, probs := registry.New(
		[]registry.Unit{{ID: "ya-zf", Name: "永安市人民政府", Region: "350481"}},
		[]registry.Account{
			{ID: "ya-gov-site", Name: "永安市人民政府网", Platform: "website", Unit: "ya-zf", Status: "active"},
			{ID: "ya-gov-weibo", Name: "永安发布", Platform: "weibo", Unit: "ya-zf", Status: "active"},
		})
	if probs != nil {
		t.Fatal(probs)
	}
	return reg
}

type fixture struct {
	clock *clockwork.FakeClock
	st    store.Store
	bus   *bus.Bus
	site  *site
	reg   *registry.Registry
}

func newFixture(t *testing.T, st store.Store) *fixture {
	return &fixture{clock: clockwork.NewFakeClockAt(t0), st: st, bus: bustest.Open(t, bus.Options{}), site: newSite(t), reg: testRegistry(t)}
}

// checker is one collector replica's job, with its own metrics and the
// hardened client limited through the shared store.
func (f *fixture) checker(t *testing.T, metrics prometheus.Registerer) *Checker {
	lim := hostlimit.New(hostlimit.Options{Store: f.st, Default: hostlimit.Limit{Concurrency: 4}, Clock: f.clock, Lease: time.Minute})
	c, err := New(Options{
		Registry: f.reg, Store: f.st, Alerts: f.bus, Clock: f.clock, Metrics: metrics,
		HTTP: httpclient.New(httpclient.Options{Limiter: lim, Clock: f.clock}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) post(accountID, native string, paths ...string) *model.Post {
	p := &model.Post{ID: model.PostID("website", accountID, native), AccountID: accountID, Title: "通知 " + native}
	for _, path := range paths {
		p.Links = append(p.Links, model.Link{URL: f.site.URL + path})
	}
	return p
}

// alerts reads the alerts the bus kept, in order.
func (f *fixture) alerts(t *testing.T) []model.Alert { return bustest.Alerts(t, f.bus) }

func pass(t *testing.T, c *Checker) {
	t.Helper()
	if err := c.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A link answering 404 on three days running raises content.dead_link for
// the account of the post carrying it, at the third check; fixed on day 4,
// it resolves. Links answering 200, 403, 429, and 405 to HEAD but 200 to
// GET never fire.
func TestDeadLinkFiresOnTheThirdDayAndResolvesWhenFixed(t *testing.T) {
	for name, open := range map[string]func(*testing.T) store.Store{"embedded": openEmbedded, "redis": openRedis} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			reg := prometheus.NewRegistry()
			c := f.checker(t, reg)
			f.site.set("/gone", http.StatusNotFound)
			f.site.set("/robots-only", http.StatusForbidden)
			f.site.set("/busy", http.StatusTooManyRequests)
			ctx := context.Background()
			if err := c.Track(ctx, f.post("ya-gov-site", "1", "/gone", "/fine", "/robots-only", "/busy", "/nohead")); err != nil {
				t.Fatal(err)
			}
			var third time.Time
			for day := 1; day <= 3; day++ {
				pass(t, c)
				pass(t, c) // a second pass the same day checks nothing again
				if day == 3 {
					third = f.clock.Now()
				}
				if got := len(f.alerts(t)); day < 3 && got != 0 {
					t.Fatalf("day %d: %d alerts, want none before the third failed day", day, got)
				}
				f.clock.Advance(24 * time.Hour)
			}
			if got := f.site.count("HEAD /gone"); got != 3 {
				t.Errorf("HEAD /gone: %d requests over 3 days, want 3", got)
			}
			if got := f.site.count("GET /nohead"); got != 3 {
				t.Errorf("GET /nohead after a 405 to HEAD: %d requests, want 3", got)
			}
			as := f.alerts(t)
			if len(as) != 1 {
				t.Fatalf("%d alerts after three failed days, want 1: %+v", len(as), as)
			}
			a := as[0]
			if a.Name() != model.CategoryContentDeadLink || a.Labels[model.LabelSeverity] != model.SeverityMinor ||
				a.Labels[model.LabelAccountID] != "ya-gov-site" || a.Labels[LabelLink] != f.site.URL+"/gone" {
				t.Errorf("labels %v, want a minor content.dead_link of ya-gov-site for /gone", a.Labels)
			}
			if !a.StartsAt.Equal(third) || !a.EndsAt.IsZero() {
				t.Errorf("startsAt %s endsAt %s, want %s and firing", a.StartsAt, a.EndsAt, third)
			}
			if want := "永安市人民政府网（网站）发布内容中的链接已连续 3 天无法访问"; a.Annotations[model.AnnotationSummary] != want {
				t.Errorf("summary %q, want %q", a.Annotations[model.AnnotationSummary], want)
			}
			if want := "永安市人民政府「永安市人民政府网」发布的《通知 1》中的链接 " + f.site.URL + "/gone 自 2026-11-20 10:00 起连续 3 天无法访问（HTTP 404），请修改为有效链接或删除。"; a.Annotations[model.AnnotationDescription] != want {
				t.Errorf("description\n got %q\nwant %q", a.Annotations[model.AnnotationDescription], want)
			}

			f.site.set("/gone", 0) // fixed on day 4
			pass(t, c)
			as = f.alerts(t)
			if len(as) != 2 {
				t.Fatalf("%d alerts after the fix, want the firing and its resolution", len(as))
			}
			if r := as[1]; !r.StartsAt.Equal(third) || !r.EndsAt.Equal(f.clock.Now()) || r.Labels[LabelLink] != a.Labels[LabelLink] {
				t.Errorf("resolution %s→%s %v, want %s→%s for the same link", r.StartsAt, r.EndsAt, r.Labels, third, f.clock.Now())
			}
			for result, want := range map[string]float64{"ok": 4 + 4 + 1, "failed": 3, "ignored": 8} {
				if got := testutil.ToFloat64(c.checks.WithLabelValues(result)); got != want {
					t.Errorf("govwatch_collector_link_checks_total{result=%q}: %v, want %v", result, got, want)
				}
			}
		})
	}
}

// A 5xx or an unreachable host counts as a failure too; a 403 day between
// failures neither breaks nor extends the run.
func TestServerErrorsAndNoAnswerFail(t *testing.T) {
	f := newFixture(t, openEmbedded(t))
	c := f.checker(t, nil)
	f.site.set("/down", http.StatusBadGateway)
	ctx := context.Background()
	p := f.post("ya-gov-weibo", "2", "/down")
	p.Links = append(p.Links, model.Link{URL: "http://127.0.0.1:1/nothing-listens"})
	if err := c.Track(ctx, p); err != nil {
		t.Fatal(err)
	}
	pass(t, c)
	f.clock.Advance(24 * time.Hour)
	f.site.set("/down", http.StatusForbidden)
	pass(t, c)
	f.clock.Advance(24 * time.Hour)
	f.site.set("/down", http.StatusServiceUnavailable)
	pass(t, c)
	f.clock.Advance(24 * time.Hour)
	if as := f.alerts(t); len(as) != 1 || as[0].Labels[LabelLink] != "http://127.0.0.1:1/nothing-listens" {
		t.Fatalf("after 3 days: %+v, want only the unreachable link (the 502 link had a 403 day)", as)
	}
	pass(t, c)
	as := f.alerts(t)
	if len(as) != 2 || as[1].Labels[LabelLink] != f.site.URL+"/down" {
		t.Fatalf("after 4 days: %+v, want the 5xx link firing after its third failed check day", as)
	}
}

// Two collectors over one store check each link once a day, and raise one
// alert between them.
func TestTwoReplicasCheckEachLinkOnceADay(t *testing.T) {
	f := newFixture(t, openRedis(t))
	a, b := f.checker(t, nil), f.checker(t, nil)
	f.site.set("/gone", http.StatusGone)
	ctx := context.Background()
	// The same link in posts of two accounts, tracked by either replica.
	if err := a.Track(ctx, f.post("ya-gov-site", "1", "/gone", "/fine")); err != nil {
		t.Fatal(err)
	}
	if err := b.Track(ctx, f.post("ya-gov-weibo", "9", "/gone")); err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 3; day++ {
		var wg sync.WaitGroup
		for _, c := range []*Checker{a, b, a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := c.Pass(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, path := range []string{"/gone", "/fine"} {
			if got := f.site.count("HEAD " + path); got != day {
				t.Errorf("day %d: HEAD %s %d times in all, want %d (once a day)", day, path, got, day)
			}
		}
		f.clock.Advance(24 * time.Hour)
	}
	as := f.alerts(t)
	if len(as) != 2 {
		t.Fatalf("%d alerts, want one per account carrying the link: %+v", len(as), as)
	}
	if as[0].Labels[model.LabelAccountID] != "ya-gov-site" || as[1].Labels[model.LabelAccountID] != "ya-gov-weibo" || !as[0].StartsAt.Equal(as[1].StartsAt) {
		t.Errorf("alerts %v / %v, want one per account with one startsAt", as[0].Labels, as[1].Labels)
	}
}

// An edit that drops the dead link resolves its alert at the next check
// day, and a deletion stops checking the post.
func TestEditRemovingTheLinkResolves(t *testing.T) {
	f := newFixture(t, openEmbedded(t))
	c := f.checker(t, nil)
	f.site.set("/gone", http.StatusNotFound)
	ctx := context.Background()
	if err := c.Track(ctx, f.post("ya-gov-site", "1", "/gone")); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		pass(t, c)
		f.clock.Advance(24 * time.Hour)
	}
	edited := f.post("ya-gov-site", "1")
	edited.Links = []model.Link{{URL: f.site.URL + "/fine"}}
	if err := c.Track(ctx, edited); err != nil {
		t.Fatal(err)
	}
	pass(t, c)
	as := f.alerts(t)
	if len(as) != 2 || as[1].EndsAt.IsZero() {
		t.Fatalf("%+v, want the firing and its resolution", as)
	}
	if want := "永安市人民政府网（网站）已无在查内容含失效链接 " + f.site.URL + "/gone，告警解除"; as[1].Annotations[model.AnnotationSummary] != want {
		t.Errorf("summary %q, want %q", as[1].Annotations[model.AnnotationSummary], want)
	}
	deleted := *edited
	deleted.Deleted = true
	if err := c.Track(ctx, &deleted); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(24 * time.Hour)
	pass(t, c)
	if got := f.site.count("HEAD /fine"); got != 1 {
		t.Errorf("HEAD /fine %d times, want 1: a deleted post's links are not checked", got)
	}
}

// The per_day budget caps one replica's checks a day.
func TestPerDayBudget(t *testing.T) {
	f := newFixture(t, openEmbedded(t))
	c := f.checker(t, nil)
	c.o.PerDay = 2
	if err := c.Track(context.Background(), f.post("ya-gov-site", "1", "/a", "/b", "/c")); err != nil {
		t.Fatal(err)
	}
	pass(t, c)
	pass(t, c)
	if got := f.site.count("HEAD /a") + f.site.count("HEAD /b") + f.site.count("HEAD /c"); got != 2 {
		t.Errorf("%d checks on day 1, want the budget of 2", got)
	}
	f.clock.Advance(24 * time.Hour)
	pass(t, c)
	if got := f.site.count("HEAD /c"); got != 1 {
		t.Errorf("HEAD /c %d times by day 2, want 1: the link left over is checked the next day", got)
	}
}
