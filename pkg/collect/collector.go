// Package collect runs the collector: it polls every active account of the
// registry on its own phase inside its interval, turns what the account's
// source returns into Posts, drops what it has already published, and
// publishes the rest to JetStream. It never analyses.
//
// # Replicas
//
// Several collectors may run over one store. Every replica schedules every
// account on the same slot grid (a hash phase inside the account's tier
// interval, counted from the Unix epoch, so all replicas compute the same
// slots), and before polling a slot it claims it with SetNX on
// collector/claim/<account>/<slot>. Exactly one replica wins each slot; the
// others skip it. When a replica dies, its share is not handed over at all:
// the survivors were scheduling those slots all along and simply win them
// from the next slot on, so takeover takes at most one interval and needs
// no membership, heartbeats or rebalancing. The price is one SetNX per
// account slot per replica (a few thousand store operations per second at
// 300,000 accounts and three replicas, which Redis absorbs easily), and
// each replica keeps the whole heap (about 200 bytes per account). A scheme
// with membership and consistent hashing would save the SetNX but polls a
// dead replica's accounts only after its heartbeat expires and may poll an
// account twice while views of the membership differ.
//
// When to poll is kept per account in the store (collector/pace/<account>,
// see package pace): the adapted interval, the backoff after failures and
// the failure count that raises system.source_down, so whichever replica
// wins the next slot continues from the same history.
package collect

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/collect/schedule"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/metric"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Publisher is where collected items go: the bus.
type Publisher interface {
	PublishPost(ctx context.Context, p *model.Post) (duplicate bool, err error)
	PublishSnapshot(ctx context.Context, s *model.AccountSnapshot) error
	PublishProbe(ctx context.Context, r *model.ProbeResult) error
}

// State is the part of the store the collector uses.
type State interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
}

// AlertPublisher takes the collector's system alerts: the bus.
type AlertPublisher = model.AlertPublisher

// SeenTTL is how long the collector remembers a published post version. It
// must outlast the time a post stays in its feed, or the post is published
// again (harmless, but work).
const SeenTTL = 90 * 24 * time.Hour

// Options build a Collector. Registry, Sources, Publisher and State are required.
type Options struct {
	Registry  *registry.Registry
	Sources   map[string]source.Source // by source type; nil for a source that is pushed to
	Publisher Publisher
	State     State
	Interval  time.Duration // poll interval of accounts whose tier is not in Tiers
	Workers   int
	Timeout   time.Duration // per poll
	Clock     clockwork.Clock
	Log       *zap.Logger
	Metrics   prometheus.Registerer

	// Tiers are the poll intervals by account tier; DefaultTier applies to
	// accounts that name none. An account with its own source interval
	// keeps that interval fixed.
	Tiers       map[string]pace.Tier
	DefaultTier string
	// Backoff paces an account's polls after failures; default 1m to 6h.
	Backoff pace.Backoff
	// FailureThreshold failed polls in a row raise system.source_down on
	// Alerts (when set); default 5.
	FailureThreshold int
	Alerts           AlertPublisher
	// Texts override the alert's templates (summary, description,
	// resolved), text/template with cst, platform and category.
	Texts map[string]string
	// Replica names this collector in its slot claims; default host:pid.
	Replica string
	// Links, when set, is told of every post version published (and of
	// deletions), to check their links: pkg/collect/linkcheck.
	Links LinkTracker
}

// LinkTracker keeps the links of published posts for checking.
type LinkTracker interface {
	Track(ctx context.Context, p *model.Post) error
}

// Collector polls accounts and publishes their posts.
type Collector struct {
	o     Options
	m     *metrics
	sched *schedule.Scheduler
	byID  map[string]*registry.Account
	texts *alerttext.Texts

	mu     sync.Mutex
	health map[string]uint8 // accounts not healthy as last seen: backingOff or down
}

// New checks that every active account has a source and returns a Collector.
func New(o Options) (*Collector, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Backoff.Initial <= 0 {
		o.Backoff.Initial = time.Minute
	}
	if o.Backoff.Max < o.Backoff.Initial {
		o.Backoff.Max = max(6*time.Hour, o.Backoff.Initial)
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 5
	}
	if o.Replica == "" {
		host, _ := os.Hostname()
		o.Replica = host + ":" + strconv.Itoa(os.Getpid())
	}
	defs := maps.Clone(defaultTexts)
	maps.Copy(defs, o.Texts)
	texts, err := alerttext.NewTexts(defs)
	if err != nil {
		return nil, fmt.Errorf("source_down texts: %w", err)
	}
	c := &Collector{o: o, byID: map[string]*registry.Account{}, m: newMetrics(o.Metrics), texts: texts, health: map[string]uint8{}}
	for _, a := range o.Registry.Accounts() {
		c.m.accounts.WithLabelValues(a.Status).Inc()
		if !a.Active() {
			continue
		}
		src, ok := o.Sources[a.Source.Type]
		if !ok {
			return nil, fmt.Errorf("account %s: no source of type %q", a.ID, a.Source.Type)
		}
		if src == nil {
			continue // pushed to, never polled
		}
		c.byID[a.ID] = a
	}
	c.sched = schedule.New(schedule.Options{
		Workers: o.Workers,
		Clock:   o.Clock,
		Jitter:  time.Second,
		Pace:    Pace,
		Lag:     func(d time.Duration) { c.m.lag.Observe(d.Seconds()) },
		Skipped: func(string) { c.m.skipped.Inc() },
	})
	return c, nil
}

// Pace caps how fast the collector starts polls, as a multiple of the
// accounts' mean rate: after a stall the overdue polls catch up at 15 %
// above the usual rate instead of all at once (see schedule.Options.Pace).
const Pace = 1.15

// Run polls every active account on its schedule until ctx is done, then
// waits for polls in flight.
func (c *Collector) Run(ctx context.Context) error {
	c.o.Log.Info("collector started", zap.Int("accounts", len(c.byID)), zap.String("replica", c.o.Replica))
	c.sched.Run(ctx, c.Tasks(), c.slot)
	return nil
}

// Tasks are the scheduler's tasks: one per active account, on the slot grid
// of its tier (the shortest interval the account may adapt to).
func (c *Collector) Tasks() []schedule.Task {
	tasks := make([]schedule.Task, 0, len(c.byID))
	for _, a := range c.o.Registry.Accounts() {
		if _, ok := c.byID[a.ID]; ok {
			tasks = append(tasks, schedule.Task{Key: a.ID, Interval: c.tier(a).Min})
		}
	}
	return tasks
}

// tier is the pace of account a.
func (c *Collector) tier(a *registry.Account) pace.Tier {
	if a.Source.Interval > 0 {
		return pace.Fixed(a.Source.Interval)
	}
	name := a.Tier
	if name == "" {
		name = c.o.DefaultTier
	}
	if t, ok := c.o.Tiers[name]; ok && t.Min > 0 {
		return t
	}
	return pace.Fixed(c.o.Interval)
}

// Poll collects one account now and publishes what is new or changed,
// outside its schedule: no claim, no pacing.
func (c *Collector) Poll(ctx context.Context, accountID string) error {
	a, ok := c.byID[accountID]
	if !ok {
		return fmt.Errorf("poll %s: not an active account", accountID)
	}
	_, err := c.pollAccount(ctx, a)
	return err
}

// pollAccount polls a with the poll timeout, recovers a panicking source and
// counts the outcome.
func (c *Collector) pollAccount(ctx context.Context, a *registry.Account) (published int, err error) {
	pctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	start := c.o.Clock.Now()
	result := "error"
	defer func() {
		if r := recover(); r != nil {
			c.m.panics.WithLabelValues(a.Platform).Inc()
			err, result = fmt.Errorf("panic: %v", r), "error"
			c.o.Log.Error("source panicked", zap.String("account_id", a.ID), zap.Any("panic", r), zap.Stack("stack"))
		}
		switch {
		case errors.Is(err, hostlimit.ErrThrottled):
			result = "throttled"
		case err != nil && ctx.Err() != nil:
			result = "canceled" // cut off by shutdown: not the source's failure
		}
		c.m.polls.WithLabelValues(a.Platform, result).Inc()
		c.m.duration.WithLabelValues(a.Platform).Observe(c.o.Clock.Since(start).Seconds())
		c.m.published.WithLabelValues(a.Platform).Add(float64(published))
		if err != nil {
			err = fmt.Errorf("poll %s: %w", a.ID, err)
		}
	}()
	published, result, err = c.poll(pctx, a)
	return published, err
}

// slot runs the scheduler's slot due of account id: it skips the slot while
// the account's pace says wait, claims it against the other replicas, polls,
// and records the outcome. It returns when the account is next due.
func (c *Collector) slot(ctx context.Context, id string, due time.Time) time.Time {
	a := c.byID[id]
	tier := c.tier(a)
	key := "collector/pace/" + id
	b, err := c.o.State.Get(ctx, key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.o.Log.Warn("read pace", zap.String("account_id", id), zap.Error(err))
		return time.Time{}
	}
	rec := pace.Decode(b)
	c.observe(id, &rec)
	if !rec.Due(due) {
		return time.Unix(0, rec.NextAt)
	}
	won, err := c.o.State.SetNX(ctx, "collector/claim/"+id+"/"+strconv.FormatInt(due.Unix(), 10), []byte(c.o.Replica), tier.Min)
	if err != nil {
		c.o.Log.Warn("claim slot", zap.String("account_id", id), zap.Error(err))
		return time.Time{}
	}
	if !won {
		c.m.claims.WithLabelValues("lost").Inc()
		return time.Time{}
	}
	c.m.claims.WithLabelValues("won").Inc()

	n, err := c.pollAccount(ctx, a)
	now := c.o.Clock.Now()
	switch {
	case ctx.Err() != nil:
		return time.Time{} // shutting down: the poll did not fail
	case errors.Is(err, hostlimit.ErrThrottled):
		// Not the account's fault: try again next slot, record untouched.
		return time.Time{}
	case err == nil:
		wasAlerted := rec.Alerted
		first := rec.FirstFailure
		rec.Success(tier, due, now, n)
		if wasAlerted {
			c.sourceDown(ctx, a, &rec, time.Unix(0, first), now)
		}
	default:
		// The error's own word (source.Retryable), else the HTTP rules:
		// network errors, timeouts, 429 and 5xx may go away by themselves.
		permanent := !fetch.IsRetryable(err)
		kind := "retryable"
		if permanent {
			kind = "permanent"
		}
		c.m.failures.WithLabelValues(a.Platform, kind).Inc()
		rec.Failure(tier, c.o.Backoff, due, now, permanent, err)
		c.o.Log.Warn("poll failed", zap.String("account_id", id), zap.Int("failures", rec.Failures),
			zap.Bool("permanent", permanent), zap.Time("retry_at", time.Unix(0, rec.NextAt)), zap.Error(err))
		if rec.Down(c.o.FailureThreshold) {
			c.sourceDown(ctx, a, &rec, time.Unix(0, rec.FirstFailure), time.Time{})
		}
	}
	if err := c.o.State.Set(ctx, key, rec.Encode(), PaceTTL); err != nil {
		c.o.Log.Warn("save pace", zap.String("account_id", id), zap.Error(err))
	}
	c.observe(id, &rec)
	return time.Unix(0, rec.NextAt)
}

// PaceTTL is how long an account's pace record outlives its last poll, so
// accounts removed from the registry leave nothing behind.
const PaceTTL = 30 * 24 * time.Hour

// StateTTL is how long an account's source state (the feed's validators
// and cursors) outlives its last poll, for the same reason. An account
// polled again after that only fetches in full once.
const StateTTL = 30 * 24 * time.Hour

// Health of an account as this replica last saw it, for the gauges.
const (
	healthy    uint8 = 0
	backingOff uint8 = 1
	down       uint8 = 2
)

// observe moves account id between the backing-off and down gauges as its
// record says. Records read at every slot keep this right for accounts that
// another replica polled.
func (c *Collector) observe(id string, r *pace.Record) {
	h := healthy
	switch {
	case r.Down(c.o.FailureThreshold):
		h = down
	case r.Failures > 0:
		h = backingOff
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.health[id]
	if old == h {
		return
	}
	if h == healthy {
		delete(c.health, id)
	} else {
		c.health[id] = h
	}
	for _, x := range []struct {
		h uint8
		d float64
	}{{old, -1}, {h, 1}} {
		switch x.h {
		case backingOff:
			c.m.backingOff.Add(x.d)
		case down:
			c.m.down.Add(x.d)
		}
	}
}

func (c *Collector) poll(ctx context.Context, a *registry.Account) (published int, result string, err error) {
	stateKey := "collector/state/" + a.ID
	state, err := c.o.State.Get(ctx, stateKey)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, "error", err
	}
	b, err := c.o.Sources[a.Source.Type].Poll(ctx, a, state)
	if err != nil {
		return 0, "error", err
	}
	if b.NotModified {
		return 0, "not_modified", c.o.State.Set(ctx, stateKey, b.State, StateTTL)
	}
	published, err = c.publish(ctx, a, b)
	if err != nil {
		return published, "error", err
	}
	// The validators are saved last: a poll that failed half-way is
	// repeated in full next time instead of being answered 304.
	return published, "ok", c.o.State.Set(ctx, stateKey, b.State, StateTTL)
}

type metrics struct {
	failures   *prometheus.CounterVec
	panics     *prometheus.CounterVec
	claims     *prometheus.CounterVec
	backingOff prometheus.Gauge
	down       prometheus.Gauge
	alerts     *prometheus.CounterVec
	polls      *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	published  *prometheus.CounterVec
	lag        prometheus.Histogram
	skipped    prometheus.Counter
	accounts   *prometheus.GaugeVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	return &metrics{
		polls: metric.CounterVec(r, "govwatch_collector_polls_total",
			"Account polls by platform and result (ok, not_modified, error, throttled, canceled).", "platform", "result"),
		duration: metric.HistogramVec(r, "govwatch_collector_poll_duration_seconds",
			"Time one account poll took, fetch to last publish.", prometheus.ExponentialBuckets(0.01, 2.5, 10), "platform"),
		published: metric.CounterVec(r, "govwatch_collector_posts_published_total",
			"New or changed posts published to the bus, by platform.", "platform"),
		lag: metric.Histogram(r, "govwatch_collector_schedule_lag_seconds",
			"How late polls start after their due time.", prometheus.ExponentialBuckets(0.001, 4, 10)),
		skipped: metric.Counter(r, "govwatch_collector_polls_skipped_total",
			"Polls skipped because the account's previous poll was still running."),
		accounts: metric.GaugeVec(r, "govwatch_collector_accounts",
			"Accounts in the registry by status (active, suspended, closed).", "status"),
		failures: metric.CounterVec(r, "govwatch_collector_poll_failures_total",
			"Failed scheduled polls by platform and result (retryable, permanent).", "platform", "result"),
		panics: metric.CounterVec(r, "govwatch_collector_source_panics_total",
			"Polls whose source panicked (recovered, counted as a permanent failure).", "platform"),
		claims: metric.CounterVec(r, "govwatch_collector_slot_claims_total",
			"Due slots this replica claimed (won) or found claimed by another replica (lost).", "result"),
		backingOff: metric.Gauge(r, "govwatch_collector_accounts_backing_off",
			"Accounts whose last poll failed and that wait out a backoff, as this replica last saw them."),
		down: metric.Gauge(r, "govwatch_collector_accounts_down",
			"Accounts failing at least failure_threshold polls in a row (system.source_down), as this replica last saw them."),
		alerts: metric.CounterVec(r, "govwatch_collector_alerts_published_total",
			"system.source_down firings and resolutions published, by result (firing, resolved, error).", "result"),
	}
}
