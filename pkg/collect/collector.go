// Package collect runs the collector: it polls every active account of the
// registry on its own phase inside its interval, turns what the account's
// source returns into Posts, drops what it has already published, and
// publishes the rest to JetStream. It never analyses.
package collect

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/collect/schedule"
	"github.com/govwatch/govwatch/pkg/collect/source"
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
}

// SeenTTL is how long the collector remembers a published post version. It
// must outlast the time a post stays in its feed, or the post is published
// again (harmless, but work).
const SeenTTL = 90 * 24 * time.Hour

// Options build a Collector. Registry, Sources, Publisher and State are required.
type Options struct {
	Registry  *registry.Registry
	Sources   map[string]source.Source // by source type
	Publisher Publisher
	State     State
	Interval  time.Duration // default poll interval
	Workers   int
	Timeout   time.Duration // per poll
	Clock     clockwork.Clock
	Log       *zap.Logger
	Metrics   prometheus.Registerer
}

// Collector polls accounts and publishes their posts.
type Collector struct {
	o       Options
	m       *metrics
	sched   *schedule.Scheduler
	byID    map[string]*registry.Account
	sources map[string]source.Source
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
	c := &Collector{o: o, byID: map[string]*registry.Account{}, m: newMetrics(o.Metrics)}
	for _, a := range o.Registry.Accounts() {
		c.m.accounts.WithLabelValues(a.Status).Inc()
		if !a.Active() {
			continue
		}
		if _, ok := o.Sources[a.Source.Type]; !ok {
			return nil, fmt.Errorf("account %s: no source of type %q", a.ID, a.Source.Type)
		}
		c.byID[a.ID] = a
	}
	c.sched = schedule.New(schedule.Options{
		Workers: o.Workers,
		Clock:   o.Clock,
		Jitter:  time.Second,
		Lag:     func(d time.Duration) { c.m.lag.Observe(d.Seconds()) },
		Skipped: func(string) { c.m.skipped.Inc() },
	})
	return c, nil
}

// Run polls every active account on its schedule until ctx is done, then
// waits for polls in flight.
func (c *Collector) Run(ctx context.Context) error {
	tasks := make([]schedule.Task, 0, len(c.byID))
	for _, a := range c.o.Registry.Accounts() {
		if _, ok := c.byID[a.ID]; !ok {
			continue
		}
		iv := a.Source.Interval
		if iv <= 0 {
			iv = c.o.Interval
		}
		tasks = append(tasks, schedule.Task{Key: a.ID, Interval: iv})
	}
	c.o.Log.Info("collector started", zap.Int("accounts", len(tasks)), zap.Duration("interval", c.o.Interval))
	c.sched.Run(ctx, tasks, func(ctx context.Context, id string, _ time.Time) {
		if err := c.Poll(ctx, id); err != nil && ctx.Err() == nil {
			c.o.Log.Warn("poll failed", zap.String("account_id", id), zap.Error(err))
		}
	})
	return nil
}

// Poll collects one account now and publishes what is new or changed.
func (c *Collector) Poll(ctx context.Context, accountID string) error {
	a, ok := c.byID[accountID]
	if !ok {
		return fmt.Errorf("poll %s: not an active account", accountID)
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	start := c.o.Clock.Now()
	n, result, err := c.poll(ctx, a)
	c.m.polls.WithLabelValues(a.Platform, result).Inc()
	c.m.duration.WithLabelValues(a.Platform).Observe(c.o.Clock.Since(start).Seconds())
	c.m.published.WithLabelValues(a.Platform).Add(float64(n))
	if err != nil {
		return fmt.Errorf("poll %s: %w", accountID, err)
	}
	return nil
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
		return 0, "not_modified", c.o.State.Set(ctx, stateKey, b.State, 0)
	}
	published, err = c.publish(ctx, a, b)
	if err != nil {
		return published, "error", err
	}
	// The validators are saved last: a poll that failed half-way is
	// repeated in full next time instead of being answered 304.
	return published, "ok", c.o.State.Set(ctx, stateKey, b.State, 0)
}

type metrics struct {
	polls     *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	published *prometheus.CounterVec
	lag       prometheus.Histogram
	skipped   prometheus.Counter
	accounts  *prometheus.GaugeVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_collector_polls_total",
			Help: "Account polls by platform and result (ok, not_modified, error).",
		}, []string{"platform", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "govwatch_collector_poll_duration_seconds",
			Help:    "Time one account poll took, fetch to last publish.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{"platform"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_collector_posts_published_total",
			Help: "New or changed posts published to the bus, by platform.",
		}, []string{"platform"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "govwatch_collector_schedule_lag_seconds",
			Help:    "How late polls start after their due time.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "govwatch_collector_polls_skipped_total",
			Help: "Polls skipped because the account's previous poll was still running.",
		}),
		accounts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "govwatch_collector_accounts",
			Help: "Accounts in the registry by status (active, suspended, closed).",
		}, []string{"status"}),
	}
	if r != nil {
		r.MustRegister(m.polls, m.duration, m.published, m.lag, m.skipped, m.accounts)
	}
	return m
}
