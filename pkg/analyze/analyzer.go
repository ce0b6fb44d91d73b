// Package analyze runs the analyzer: it consumes what collectors publish,
// hands each post to the post detectors, runs the sweepers on a cron
// schedule, and publishes the alerts they raise. It never notifies.
package analyze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/metric"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Bus is what the analyzer needs of the message bus.
type Bus interface {
	detect.Publisher
	Consume(ctx context.Context, c bus.ConsumerConfig, h bus.Handler) error
	Stream(k bus.Kind) string
	Prefix() string
}

// Options build an Analyzer.
type Options struct {
	Registry *registry.Registry
	Bus      Bus
	// Publisher, when set, receives the alerts instead of Bus: a replay
	// drives HandlePost, HandleSnapshot and HandleProbe without a bus.
	Publisher  detect.Publisher
	Store      detect.Store
	Posts      []detect.PostDetector
	Snapshots  []detect.SnapshotDetector
	Probes     []detect.ProbeDetector
	Sweepers   []detect.Sweeper
	Sweep      cron.Schedule // when sweepers run
	Workers    int
	Clock      clockwork.Clock
	Log        *zap.Logger
	Metrics    prometheus.Registerer
	SelfURL    string // the analyzer's external URL, for generatorURL
	Consumer   string // durable consumer name, default "analyzer"
	AckWait    time.Duration
	MaxDeliver int
}

// Analyzer consumes posts and raises alerts.
type Analyzer struct {
	o   Options
	env *detect.Env
	m   *metrics
}

// New returns an Analyzer.
func New(o Options) *Analyzer {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Consumer == "" {
		o.Consumer = "analyzer"
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	a := &Analyzer{o: o, m: newMetrics(o.Metrics)}
	var pub detect.Publisher = o.Bus
	if o.Publisher != nil {
		pub = o.Publisher
	}
	a.env = &detect.Env{
		Registry:     o.Registry,
		Store:        o.Store,
		Publisher:    pub,
		Now:          o.Clock.Now,
		GeneratorURL: o.SelfURL,
		Published: func(al *model.Alert) {
			status := "firing"
			if !al.EndsAt.IsZero() {
				status = "resolved"
			}
			a.m.alerts.WithLabelValues(al.Name(), status).Inc()
		},
		Forgot: func(detector string, keys int) {
			a.m.forgotten.WithLabelValues(detector).Add(float64(keys))
		},
	}
	for _, s := range o.Sweepers {
		a.m.forgotten.WithLabelValues(s.Name())
	}
	return a
}

// Run consumes posts and runs the sweep schedule until ctx is done; in-flight
// posts finish and are acknowledged, or are left for redelivery.
func (a *Analyzer) Run(ctx context.Context) error {
	if a.o.Sweep != nil && len(a.o.Sweepers) > 0 {
		c := cron.New(cron.WithChain(cron.Recover(cronLogger{a.o.Log}), cron.SkipIfStillRunning(cronLogger{a.o.Log})))
		c.Schedule(a.o.Sweep, cron.FuncJob(func() {
			if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.o.Log.Warn("sweep failed", zap.Error(err))
			}
		}))
		c.Start()
		defer func() { <-c.Stop().Done() }()
	}
	consumers := []struct {
		kind   bus.Kind
		handle bus.Handler
		needed bool
	}{
		{bus.KindPost, a.handle, true},
		{bus.KindSnapshot, a.handleSnapshot, len(a.o.Snapshots) > 0},
		{bus.KindProbe, a.handleProbe, len(a.o.Probes) > 0},
	}
	errs := make(chan error, len(consumers))
	n := 0
	for _, c := range consumers {
		if !c.needed {
			continue
		}
		n++
		go func() {
			errs <- a.o.Bus.Consume(ctx, bus.ConsumerConfig{
				Stream:         a.o.Bus.Stream(c.kind),
				Durable:        a.o.Consumer,
				FilterSubjects: []string{bus.StreamSubjects(a.o.Bus.Prefix(), c.kind)},
				AckWait:        a.o.AckWait,
				MaxDeliver:     a.o.MaxDeliver,
				Concurrency:    a.o.Workers,
				// Subjects name the account: one account's posts in
				// order, other accounts' beside them.
				Key: bus.SubjectKey,
			}, c.handle)
		}()
	}
	var err error
	for range n {
		err = errors.Join(err, <-errs)
	}
	return err
}

func (a *Analyzer) handleSnapshot(ctx context.Context, m bus.Message) error {
	var s model.AccountSnapshot
	if err := json.Unmarshal(m.Data, &s); err != nil {
		return bus.Permanent(fmt.Errorf("decode snapshot on %s: %w", m.Subject, err))
	}
	return a.HandleSnapshot(ctx, &s)
}

// HandleSnapshot runs every snapshot detector on s; snapshots of unknown or
// inactive accounts are dropped.
func (a *Analyzer) HandleSnapshot(ctx context.Context, s *model.AccountSnapshot) error {
	acct, ok := a.o.Registry.Account(s.AccountID)
	if !ok || !acct.Active() {
		return nil
	}
	var errs []error
	for _, d := range a.o.Snapshots {
		if err := d.Snapshot(ctx, a.env, s, acct); err != nil {
			errs = append(errs, fmt.Errorf("%s on snapshot of %s: %w", d.Name(), s.AccountID, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Analyzer) handleProbe(ctx context.Context, m bus.Message) error {
	var r model.ProbeResult
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return bus.Permanent(fmt.Errorf("decode probe on %s: %w", m.Subject, err))
	}
	return a.HandleProbe(ctx, &r)
}

// HandleProbe runs every probe detector on r; probes of unknown or inactive
// accounts are dropped.
func (a *Analyzer) HandleProbe(ctx context.Context, r *model.ProbeResult) error {
	acct, ok := a.o.Registry.Account(r.AccountID)
	if !ok || !acct.Active() {
		return nil
	}
	var errs []error
	for _, d := range a.o.Probes {
		if err := d.Probe(ctx, a.env, r, acct); err != nil {
			errs = append(errs, fmt.Errorf("%s on probe of %s: %w", d.Name(), r.AccountID, err))
		}
	}
	return errors.Join(errs...)
}

func (a *Analyzer) handle(ctx context.Context, m bus.Message) error {
	var p model.Post
	if err := json.Unmarshal(m.Data, &p); err != nil {
		a.m.posts.WithLabelValues("unknown", "malformed").Inc()
		return bus.Permanent(fmt.Errorf("decode post on %s: %w", m.Subject, err))
	}
	// The subject is what the publisher was allowed to publish on; a
	// payload naming another account would be credited to it.
	if want, err := bus.PostSubject(a.o.Bus.Prefix(), p.Platform, p.AccountID); err != nil || want != m.Subject {
		a.m.posts.WithLabelValues(p.Platform, "subject_mismatch").Inc()
		return bus.Permanent(fmt.Errorf("post %s names account %q of %q, which is not its subject %s", p.ID, p.AccountID, p.Platform, m.Subject))
	}
	return a.HandlePost(ctx, &p)
}

// HandlePost runs every post detector on p. Posts of unknown or inactive
// accounts are counted and dropped.
func (a *Analyzer) HandlePost(ctx context.Context, p *model.Post) error {
	acct, ok := a.o.Registry.Account(p.AccountID)
	switch {
	case !ok:
		a.m.posts.WithLabelValues(p.Platform, "unknown_account").Inc()
		return nil
	case !acct.Active():
		a.m.posts.WithLabelValues(p.Platform, "inactive_account").Inc()
		return nil
	}
	var errs []error
	for _, d := range a.o.Posts {
		if err := d.Post(ctx, a.env, p, acct); err != nil {
			errs = append(errs, fmt.Errorf("%s on %s: %w", d.Name(), p.ID, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		a.m.posts.WithLabelValues(p.Platform, "error").Inc()
		return err
	}
	a.m.posts.WithLabelValues(p.Platform, "ok").Inc()
	return nil
}

// Sweep runs every sweeper once.
func (a *Analyzer) Sweep(ctx context.Context) error {
	start := a.o.Clock.Now()
	var errs []error
	for _, s := range a.o.Sweepers {
		if err := s.Sweep(ctx, a.env); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name(), err))
		}
	}
	a.m.sweeps.Inc()
	a.m.sweepDuration.Observe(a.o.Clock.Since(start).Seconds())
	return errors.Join(errs...)
}

type metrics struct {
	posts         *prometheus.CounterVec
	alerts        *prometheus.CounterVec
	sweeps        prometheus.Counter
	sweepDuration prometheus.Histogram
	forgotten     *prometheus.CounterVec
}

func newMetrics(r prometheus.Registerer) *metrics {
	m := &metrics{
		posts: metric.CounterVec(r, "govwatch_analyzer_posts_total",
			"Posts analysed, by platform and result (ok, error, malformed, subject_mismatch, unknown_account, inactive_account).", "platform", "result"),
		alerts: metric.CounterVec(r, "govwatch_analyzer_alerts_published_total",
			"Alerts published, by category and status (firing, resolved).", "category", "status"),
		sweeps: metric.Counter(r, "govwatch_analyzer_sweeps_total", "Scheduled sweeps over all accounts."),
		sweepDuration: metric.Histogram(r, "govwatch_analyzer_sweep_duration_seconds",
			"Time one sweep over all accounts took.", prometheus.ExponentialBuckets(0.001, 4, 10)),
		forgotten: metric.CounterVec(r, "govwatch_analyzer_forgotten_keys_total",
			"Keys of accounts no longer in the registry that a sweep deleted, by detector.", "detector"),
	}
	// Every series whose labels are known at start exists at 0, so the
	// first alert of a category is an increase rate() sees.
	for _, c := range model.Categories() {
		for _, st := range []string{"firing", "resolved"} {
			m.alerts.WithLabelValues(c.ID, st)
		}
	}
	for _, p := range registry.Platforms {
		for _, res := range []string{"ok", "error", "subject_mismatch", "unknown_account", "inactive_account"} {
			m.posts.WithLabelValues(p, res)
		}
	}
	m.posts.WithLabelValues("unknown", "malformed")
	return m
}

// cronLogger sends robfig/cron's log lines to zap.
type cronLogger struct{ l *zap.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Sugar().Debugw(msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Sugar().Errorw(msg, append(kv, "error", err)...)
}
