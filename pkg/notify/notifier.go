// Package notify runs the notifier: it takes alerts from the bus (and from
// Alertmanager's API), keeps each alert's lifecycle in the store, routes it
// to receivers and delivers it through their channels, writing a
// notification log so that no replica and no restart pages twice.
//
// An alert passes a chain of small stages, assembled in handle:
//
//	lifecycle (dedup by fingerprint, firing → resolved, incidents)
//	→ route (receivers by labels)
//	→ per receiver: notification log claim → retry → channel → log
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

// Bus is what the notifier needs of the message bus.
type Bus interface {
	Consume(ctx context.Context, c bus.ConsumerConfig, h bus.Handler) error
	PublishAlert(ctx context.Context, a *model.Alert) (bool, error)
	Stream(k bus.Kind) string
	Prefix() string
}

// Receiver is a named destination made of one or more channels.
type Receiver struct {
	Name     string
	Channels []channel.Channel
}

// Options build a Notifier.
type Options struct {
	Bus            Bus
	Store          store.Store
	Receivers      []Receiver
	Route          *Route
	ExternalURL    string
	ResolveTimeout time.Duration // for alerts posted without endsAt
	Retry          RetryPolicy
	Workers        int
	Clock          clockwork.Clock
	Log            *zap.Logger
	Metrics        prometheus.Registerer
	Consumer       string // durable name, default "notifier"
}

// RetryPolicy is the retry stage's: attempts within one handling of an
// alert, with exponential backoff; when they are used up the alert message is
// redelivered by the bus later.
type RetryPolicy struct {
	Attempts int           // default 3
	Initial  time.Duration // default 1s
	Max      time.Duration // default 30s
}

// ClaimTTL is how long a replica owns the sending of one notification
// before another may take over, should it have died mid-send.
const ClaimTTL = 2 * time.Minute

// nflogTTL is how long the notification log remembers a sent notification.
const nflogTTL = 90 * 24 * time.Hour

// Notifier routes and delivers alerts.
type Notifier struct {
	o         Options
	receivers map[string]Receiver
	m         *metrics
}

// New checks that the route names known receivers and returns a Notifier.
func New(o Options) (*Notifier, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Consumer == "" {
		o.Consumer = "notifier"
	}
	if o.ResolveTimeout <= 0 {
		o.ResolveTimeout = 5 * time.Minute
	}
	if o.Retry.Attempts <= 0 {
		o.Retry.Attempts = 3
	}
	if o.Retry.Initial <= 0 {
		o.Retry.Initial = time.Second
	}
	if o.Retry.Max <= 0 {
		o.Retry.Max = 30 * time.Second
	}
	if o.Route == nil {
		o.Route = &Route{}
	}
	n := &Notifier{o: o, receivers: map[string]Receiver{}}
	for _, r := range o.Receivers {
		n.receivers[r.Name] = r
	}
	var unknown []string
	var check func(r *Route)
	check = func(r *Route) {
		if _, ok := n.receivers[r.Receiver]; r.Receiver != "" && !ok {
			unknown = append(unknown, r.Receiver)
		}
		for _, c := range r.Routes {
			check(c)
		}
	}
	check(o.Route)
	if len(unknown) > 0 {
		return nil, fmt.Errorf("route names unknown receivers %v", unknown)
	}
	n.m = newMetrics(o.Metrics, n)
	return n, nil
}

// Run consumes alerts from the bus and expires API alerts whose endsAt has
// passed, until ctx is done.
func (n *Notifier) Run(ctx context.Context) error {
	go n.expireLoop(ctx)
	return n.o.Bus.Consume(ctx, bus.ConsumerConfig{
		Stream:         n.o.Bus.Stream(bus.KindAlert),
		Durable:        n.o.Consumer,
		FilterSubjects: []string{bus.StreamSubjects(n.o.Bus.Prefix(), bus.KindAlert)},
		Concurrency:    max(n.o.Workers, 1),
		// Delivery with retries may take a while; the claim in the
		// notification log, not AckWait, keeps replicas from doubling.
		AckWait: 2 * time.Minute,
	}, n.handleMsg)
}

func (n *Notifier) handleMsg(ctx context.Context, m bus.Message) error {
	var a model.Alert
	if err := json.Unmarshal(m.Data, &a); err != nil {
		return bus.Permanent(fmt.Errorf("decode alert on %s: %w", m.Subject, err))
	}
	if a.Name() == "" {
		return bus.Permanent(fmt.Errorf("alert on %s has no alertname", m.Subject))
	}
	return n.Handle(ctx, &a)
}

func recordKey(fp string) string { return "notifier/alert/" + fp }

// Handle runs one alert through the stages. It is safe to call again with the
// same alert: the lifecycle does not move twice and the notification log
// does not send twice.
func (n *Notifier) Handle(ctx context.Context, a *model.Alert) error {
	n.m.received.WithLabelValues(a.Name(), statusOf(a, n.o.Clock.Now())).Inc()
	rec, err := n.update(ctx, a.Fingerprint(), func(r *Record, now time.Time) bool { return r.apply(a, now) })
	if err != nil || rec == nil {
		return err
	}
	return n.deliver(ctx, rec)
}

// update applies change to the alert's record with compare-and-swap, so
// replicas handling the same fingerprint serialise. It returns the record
// as stored (nil when there is none and change made nothing).
func (n *Notifier) update(ctx context.Context, fp string, change func(*Record, time.Time) bool) (*Record, error) {
	for {
		old, err := n.o.Store.Get(ctx, recordKey(fp))
		var r Record
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return nil, err
		default:
			if err := json.Unmarshal(old, &r); err != nil {
				return nil, fmt.Errorf("record %s: %w", fp, err)
			}
		}
		r.Fingerprint = fp
		now := n.o.Clock.Now()
		before := r.Status
		moved := change(&r, now)
		if r.Status == "" {
			return nil, nil
		}
		if !moved && before == r.Status && old != nil && r.Status == StatusResolved {
			return &r, nil // a replay after resolution: nothing to store
		}
		if moved && r.Status == StatusFiring {
			r.Receivers = n.o.Route.Receivers(r.Alert.Labels)
		}
		b, err := json.Marshal(&r)
		if err != nil {
			return nil, err
		}
		ok, err := n.o.Store.CompareAndSwap(ctx, recordKey(fp), old, b, n.recordTTL(&r))
		if err != nil {
			return nil, err
		}
		if ok {
			if moved {
				n.o.Log.Info("alert "+r.Status, zap.String("fingerprint", fp), zap.String("alertname", r.Alert.Name()), zap.Int("incident", r.Incident))
			}
			return &r, nil
		}
	}
}

// recordTTL keeps resolved alerts for a while for the timeline, firing ones forever.
func (n *Notifier) recordTTL(r *Record) time.Duration {
	if r.Status == StatusResolved {
		return 30 * 24 * time.Hour
	}
	return 0
}

// deliver makes sure every receiver of the record's current incident has been
// told its current status.
func (n *Notifier) deliver(ctx context.Context, r *Record) error {
	n.o.Log.Debug("deliver", zap.String("fingerprint", r.Fingerprint), zap.Strings("receivers", r.Receivers), zap.String("status", r.Status))
	var errs []error
	for _, name := range r.Receivers {
		recv, ok := n.receivers[name]
		if !ok {
			continue // receiver removed from config since the alert fired
		}
		if err := n.deliverTo(ctx, recv, r); err != nil {
			errs = append(errs, fmt.Errorf("receiver %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func nflogKey(receiver, fp string, incident int, status string) string {
	return fmt.Sprintf("notifier/nflog/%s/%s/%d/%s", receiver, fp, incident, status)
}

const (
	logPending = "pending"
	logSent    = "sent"
	logFailed  = "failed"
)

func (n *Notifier) deliverTo(ctx context.Context, recv Receiver, r *Record) error {
	key := nflogKey(recv.Name, r.Fingerprint, r.Incident, r.Status)
	won, err := n.o.Store.SetNX(ctx, key, []byte(logPending), ClaimTTL)
	if err != nil {
		return err
	}
	if !won {
		v, err := n.o.Store.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			return errors.New("notification claim vanished; will retry")
		case err != nil:
			return err
		case string(v) == logPending:
			// Another replica is sending, or died sending: look again
			// after the bus's backoff; the claim expires after ClaimTTL.
			return fmt.Errorf("notification %s is being sent elsewhere", key)
		}
		return nil // sent or given up on already
	}
	note := n.notification(recv.Name, r)
	var failed []error
	for _, ch := range recv.Channels {
		err := n.retry(ctx, ch, note)
		result := "ok"
		if err != nil {
			result = "error"
			failed = append(failed, fmt.Errorf("%s: %w", ch.Name(), err))
		}
		n.m.notifications.WithLabelValues(ch.Name(), result).Inc()
	}
	err = errors.Join(failed...)
	switch {
	case err == nil:
		n.o.Log.Info("notified", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", recv.Name), zap.String("status", r.Status), zap.Int("incident", r.Incident))
		return n.o.Store.Set(ctx, key, []byte(logSent), nflogTTL)
	case !channel.Retryable(err):
		n.o.Log.Error("notification failed for good", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", recv.Name), zap.Error(err))
		return n.o.Store.Set(ctx, key, []byte(logFailed), nflogTTL)
	default:
		// Release the claim so the redelivered message tries again.
		if derr := n.o.Store.Delete(context.WithoutCancel(ctx), key); derr != nil {
			err = errors.Join(err, derr)
		}
		return err
	}
}

// retry is the retry stage: it repeats retryable failures with exponential
// backoff, on the notifier's clock.
func (n *Notifier) retry(ctx context.Context, ch channel.Channel, note *channel.Notification) error {
	delay := n.o.Retry.Initial
	var err error
	for attempt := 1; ; attempt++ {
		if err = ch.Notify(ctx, note); err == nil || !channel.Retryable(err) || attempt >= n.o.Retry.Attempts {
			return err
		}
		n.m.retries.WithLabelValues(ch.Name()).Inc()
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-n.o.Clock.After(delay):
		}
		delay = min(delay*2, n.o.Retry.Max)
	}
}

func (n *Notifier) notification(receiver string, r *Record) *channel.Notification {
	a := r.Alert
	a.Annotations = copyMap(a.Annotations)
	return &channel.Notification{
		Receiver:          receiver,
		GroupKey:          fmt.Sprintf("{}:{fingerprint=%q}", r.Fingerprint),
		Status:            r.Status,
		GroupLabels:       map[string]string{"alertname": a.Name()},
		CommonLabels:      copyMap(a.Labels),
		CommonAnnotations: copyMap(a.Annotations),
		ExternalURL:       n.o.ExternalURL,
		Alerts:            []channel.AlertState{{Alert: a, Status: r.Status, Fingerprint: r.Fingerprint}},
	}
}

// Alerts returns the records in the store; with active set, only firing ones.
// They are sorted by severity, then newest first.
func (n *Notifier) Alerts(ctx context.Context, active bool) ([]Record, error) {
	var out []Record
	err := n.o.Store.Scan(ctx, "notifier/alert/", func(_ string, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return nil // one bad record must not hide the others
		}
		if !active || r.Status == StatusFiring {
			out = append(out, r)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		si, sj := model.SeverityRank(out[i].Alert.Labels[model.LabelSeverity]), model.SeverityRank(out[j].Alert.Labels[model.LabelSeverity])
		if si != sj {
			return si > sj
		}
		return out[i].Alert.StartsAt.After(out[j].Alert.StartsAt)
	})
	return out, err
}

// expireLoop resolves firing alerts whose endsAt has passed — alerts posted
// on the API that their sender stopped repeating.
func (n *Notifier) expireLoop(ctx context.Context) {
	t := n.o.Clock.NewTicker(15 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			if err := n.Expire(ctx); err != nil && ctx.Err() == nil {
				n.o.Log.Warn("expire alerts", zap.Error(err))
			}
		}
	}
}

// Expire resolves every firing alert whose endsAt is in the past.
func (n *Notifier) Expire(ctx context.Context) error {
	recs, err := n.Alerts(ctx, true)
	if err != nil {
		return err
	}
	now := n.o.Clock.Now()
	var errs []error
	for i := range recs {
		a := recs[i].Alert
		if !a.Resolved(now) {
			continue
		}
		if err := n.Handle(ctx, &a); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func statusOf(a *model.Alert, now time.Time) string {
	if a.Resolved(now) {
		return StatusResolved
	}
	return StatusFiring
}

func copyMap[M ~map[string]string](m M) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
