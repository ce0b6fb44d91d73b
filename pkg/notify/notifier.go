// Package notify runs the notifier: it takes alerts from the bus (and from
// Alertmanager's API), keeps each alert's lifecycle in the store, routes it
// to receivers and delivers it through their channels, writing a
// notification log so that no replica and no restart pages twice.
//
// An alert passes a chain of small stages, assembled in Handle:
//
//	lifecycle (dedup by fingerprint, firing → acknowledged → resolved, incidents)
//	→ route (receivers by labels) and escalation start (who is paged first)
//	→ inhibit → silence
//	→ per receiver: notification log claim → retry → channel (→ fallback) → log
//
// A ticking loop (Tick) resolves expired API alerts, pages the next
// escalation step of unacknowledged incidents under a claim in the store,
// and delivers what a silence or a failure held back, so that no timer lives
// only in memory.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/report"
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
	// Fallback names the receiver that takes a notification once this one
	// has failed FallbackAfter times in a row (retries used up each time).
	Fallback      string
	FallbackAfter int
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

	// Directory finds duty officers (roster) and heads and superior units
	// (registry) for escalation; nil pages nobody in particular.
	Directory *escalate.Directory
	// Policies are the escalation policies; the first matching applies.
	Policies []escalate.Policy
	// Inhibit are the inhibition rules.
	Inhibit []inhibit.Rule
	// Signer signs the one-click ack and resolve links; nil puts none in messages.
	Signer *ack.Signer
	// LinkTTL is how long links stay valid; default 72h.
	LinkTTL time.Duration
	// Report renders upstream reports; nil uses the default template.
	Report *report.Upstream
	// Tick is how often the loop expires, escalates and redelivers; default 15s.
	Tick time.Duration
	// Auth guards the API; nil leaves it open.
	Auth *Auth
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
	policies  map[string]*escalate.Policy
	silences  *silence.Silences
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
	if o.LinkTTL <= 0 {
		o.LinkTTL = 72 * time.Hour
	}
	if o.Tick <= 0 {
		o.Tick = 15 * time.Second
	}
	if o.Directory == nil {
		o.Directory = &escalate.Directory{}
	}
	if o.Report == nil {
		r, err := report.NewUpstream("")
		if err != nil {
			return nil, err
		}
		o.Report = r
	}
	n := &Notifier{o: o, receivers: map[string]Receiver{}, policies: map[string]*escalate.Policy{}, silences: silence.New(o.Store, o.Clock)}
	for _, r := range o.Receivers {
		n.receivers[r.Name] = r
	}
	for _, r := range o.Receivers {
		if _, ok := n.receivers[r.Fallback]; r.Fallback != "" && (!ok || r.Fallback == r.Name) {
			return nil, fmt.Errorf("receiver %s: bad fallback receiver %q", r.Name, r.Fallback)
		}
	}
	for i := range o.Policies {
		p := &o.Policies[i]
		if err := p.Validate(func(name string) bool { _, ok := n.receivers[name]; return ok }); err != nil {
			return nil, err
		}
		n.policies[p.Name] = p
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
	go n.tickLoop(ctx)
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
	rec, moved, err := n.update(ctx, a.Fingerprint(), func(r *Record, now time.Time) bool { return r.apply(a, now) })
	if err != nil || rec == nil {
		return err
	}
	if moved {
		n.observeMove(rec)
	}
	return n.deliver(ctx, rec, moved, nil)
}

// observeMove counts what a lifecycle move means for the metrics.
func (n *Notifier) observeMove(r *Record) {
	sev := r.Alert.Labels[model.LabelSeverity]
	switch r.Status {
	case StatusFiring:
		if r.Veto {
			n.m.veto.WithLabelValues(r.Alert.Name()).Inc()
		}
		for _, p := range r.Pages {
			n.m.escalations.WithLabelValues(escalate.LevelName(p.Level, nil)).Inc()
		}
	case StatusAcknowledged:
		n.m.ackDuration.WithLabelValues(sev).Observe(r.Ack.At.Sub(r.FirstSeen).Seconds())
	case StatusResolved:
		n.m.resolveDuration.WithLabelValues(sev).Observe(max(r.ResolvedAt.Sub(r.FirstSeen), 0).Seconds())
	}
}

// update applies change to the alert's record with compare-and-swap, so
// replicas handling the same fingerprint serialise. It returns the record
// as stored (nil when there is none and change made nothing) and whether
// change moved it.
func (n *Notifier) update(ctx context.Context, fp string, change func(*Record, time.Time) bool) (*Record, bool, error) {
	var moved bool
	r, err := store.UpdateJSON(ctx, n.o.Store, recordKey(fp), true, func(r *Record, _ bool) (bool, time.Duration, error) {
		r.Fingerprint = fp
		moved = change(r, n.o.Clock.Now())
		if r.Status == "" {
			return false, 0, nil
		}
		if moved && r.Status == StatusFiring {
			r.Receivers = n.o.Route.Receivers(r.Alert.Labels)
			n.startEscalation(r)
		}
		return true, n.recordTTL(r), nil
	})
	if err != nil || r.Status == "" {
		return nil, false, err
	}
	if moved {
		n.o.Log.Info("alert "+r.Status, zap.String("fingerprint", fp), zap.String("alertname", r.Alert.Name()), zap.Int("incident", r.Incident))
	}
	return &r, moved, nil
}

// startEscalation picks the incident's policy and decides who the first
// notification pages: the steps due at once, and for veto-level categories
// under a policy that says so, every superior unit's duty too.
func (n *Notifier) startEscalation(r *Record) {
	p, ok := escalate.Select(n.o.Policies, r.Alert.Labels)
	if !ok {
		return
	}
	st, steps := p.Start(r.FirstSeen)
	var targets []string
	for _, s := range steps {
		targets = append(targets, s.Targets...)
	}
	why := "首次通报"
	if p.VetoUpward && escalate.Veto(r.Alert.Labels) {
		r.Veto = true
		targets = append(targets, escalate.TargetDuty, escalate.TargetHead, escalate.TargetChain)
		why = "单项否决事项，即时上报"
	}
	people, level, superiors := n.o.Directory.Page(r.Alert.Labels[model.LabelUnit], targets, 0, r.FirstSeen)
	st.Level = level
	r.Escalation = &st
	r.Recipients = people
	r.Superiors = superiors
	if len(people) > 0 {
		r.Pages = append(r.Pages, Page{At: r.FirstSeen, People: people, Level: level, Why: why})
		r.event(Event{At: r.FirstSeen, What: EventPaged, Incident: r.Incident, Detail: names(people)})
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
// told its current status, unless a silence or an inhibiting alert mutes it.
// count says whether a muting is counted in the metrics (once per move, not
// on every redelivery); mu, when not nil, holds silences and active alerts
// already read.
func (n *Notifier) deliver(ctx context.Context, r *Record, count bool, mu *muter) error {
	n.o.Log.Debug("deliver", zap.String("fingerprint", r.Fingerprint), zap.Strings("receivers", r.Receivers), zap.String("status", r.Status))
	if r.Status != StatusResolved {
		m, err := n.muted(ctx, r, mu)
		if err != nil {
			return err
		}
		if m.silenced() || m.inhibited() {
			if count {
				if m.silenced() {
					n.m.silenced.WithLabelValues(r.Alert.Name()).Inc()
				} else {
					n.m.inhibited.WithLabelValues(r.Alert.Name()).Inc()
				}
			}
			return nil
		}
	}
	var errs []error
	dests := map[string]Matched{}
	for _, m := range n.o.Route.Destinations(r.Alert.Labels) {
		dests[m.Receiver] = m
	}
	for _, name := range r.Receivers {
		recv, ok := n.receivers[name]
		if !ok {
			continue // receiver removed from config since the alert fired
		}
		if m, ok := dests[name]; ok && m.GroupBy != nil {
			key, due, err := n.enqueue(ctx, m, r)
			if err == nil && !n.o.Clock.Now().Before(due) {
				err = n.flush(ctx, key) // a critical alert skips group_wait
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("receiver %s: %w", name, err))
			}
			continue
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

// errSendingElsewhere says another replica holds the claim to send a
// notification: the bus should try again later, a tick need not complain.
var errSendingElsewhere = errors.New("being sent elsewhere")

const (
	logPending = "pending"
	logSent    = "sent"
	logFailed  = "failed"
)

func (n *Notifier) deliverTo(ctx context.Context, recv Receiver, r *Record) error {
	status := r.notifyStatus()
	key := nflogKey(recv.Name, r.Fingerprint, r.Incident, status)
	if status == StatusResolved {
		// Only those told of the firing hear of the resolution.
		if _, err := n.o.Store.Get(ctx, nflogKey(recv.Name, r.Fingerprint, r.Incident, StatusFiring)); errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
	}
	// Most calls (repeats, ticks) find the notification sent: a read
	// settles them without a write.
	if v, err := n.o.Store.Get(ctx, key); err == nil && (string(v) == logSent || string(v) == logFailed) {
		return nil
	}
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
			return fmt.Errorf("notification %s is %w", key, errSendingElsewhere)
		}
		return nil // sent or given up on already
	}
	note := n.notification(recv.Name, r)
	note.Recipients = r.Recipients
	if r.Veto && len(r.Superiors) > 0 && status == StatusFiring {
		note.Report = n.report(r, "单项否决事项，按规定即时上报上级单位")
	}
	err = n.send(ctx, recv, note)
	if err != nil && channel.Retryable(err) {
		if fb, ok := n.fallback(ctx, recv); ok {
			n.o.Log.Warn("receiver keeps failing; using its fallback", zap.String("receiver", recv.Name), zap.String("fallback", fb.Name), zap.Error(err))
			note.Receiver = fb.Name
			if ferr := n.send(ctx, fb, note); ferr == nil {
				err = nil
			} else {
				err = errors.Join(err, fmt.Errorf("fallback %s: %w", fb.Name, ferr))
			}
		}
	}
	switch {
	case err == nil:
		n.o.Log.Info("notified", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", recv.Name), zap.String("status", status), zap.Int("incident", r.Incident))
		if err := n.o.Store.Set(ctx, key, []byte(logSent), nflogTTL); err != nil {
			return err
		}
		return n.timeline(ctx, r, Event{What: EventNotified, Detail: recv.Name + " " + status})
	case !channel.Retryable(err):
		n.o.Log.Error("notification failed for good", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", recv.Name), zap.Error(err))
		if err := n.o.Store.Set(ctx, key, []byte(logFailed), nflogTTL); err != nil {
			return err
		}
		return n.timeline(ctx, r, Event{What: EventNotifyFailed, Detail: recv.Name + " " + status})
	default:
		// Release the claim so the redelivered message tries again.
		if derr := n.o.Store.Delete(context.WithoutCancel(ctx), key); derr != nil {
			err = errors.Join(err, derr)
		}
		return err
	}
}

// send passes note to every channel of recv through the retry stage. A
// success clears the receiver's run of failures; a retryable failure adds to it.
func (n *Notifier) send(ctx context.Context, recv Receiver, note *channel.Notification) error {
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
	err := errors.Join(failed...)
	switch {
	case err == nil:
		if derr := n.o.Store.Delete(ctx, failKey(recv.Name)); derr != nil {
			n.o.Log.Warn("clear failure count", zap.String("receiver", recv.Name), zap.Error(derr))
		}
	case channel.Retryable(err):
		if _, ierr := n.o.Store.Incr(context.WithoutCancel(ctx), failKey(recv.Name), 1, 24*time.Hour); ierr != nil {
			err = errors.Join(err, ierr)
		}
	}
	return err
}

func failKey(receiver string) string { return "notifier/failures/" + receiver }

// fallback returns recv's fallback receiver when recv has failed often enough in a row.
func (n *Notifier) fallback(ctx context.Context, recv Receiver) (Receiver, bool) {
	if recv.Fallback == "" {
		return Receiver{}, false
	}
	fb, ok := n.receivers[recv.Fallback]
	if !ok {
		return Receiver{}, false
	}
	v, err := n.o.Store.Incr(ctx, failKey(recv.Name), 0, 24*time.Hour)
	if err != nil || v < int64(max(recv.FallbackAfter, 1)) {
		return Receiver{}, false
	}
	return fb, true
}

// timeline adds e to the timeline of r's incident, if it is still current.
func (n *Notifier) timeline(ctx context.Context, r *Record, e Event) error {
	_, _, err := n.update(ctx, r.Fingerprint, func(cur *Record, now time.Time) bool {
		if cur.Incident == r.Incident {
			e.At, e.Incident = now, cur.Incident
			cur.event(e)
		}
		return false
	})
	return err
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
	status := r.notifyStatus()
	if n.o.Signer != nil && status == StatusFiring {
		exp := n.o.Clock.Now().Add(n.o.LinkTTL)
		a.Annotations[model.AnnotationAckURL] = n.link(r, ack.ActionAck, exp)
		a.Annotations[channel.AnnotationResolveURL] = n.link(r, ack.ActionResolve, exp)
	}
	return &channel.Notification{
		Receiver:          receiver,
		GroupKey:          fmt.Sprintf("{}:{fingerprint=%q}", r.Fingerprint),
		Status:            status,
		GroupLabels:       map[string]string{"alertname": a.Name()},
		CommonLabels:      copyMap(a.Labels),
		CommonAnnotations: copyMap(a.Annotations),
		ExternalURL:       n.o.ExternalURL,
		Alerts:            []channel.AlertState{{Alert: a, Status: status, Fingerprint: r.Fingerprint}},
	}
}

// link is a signed one-click link for action on r's current incident.
func (n *Notifier) link(r *Record, action string, exp time.Time) string {
	tok := n.o.Signer.Token(ack.Claims{Fingerprint: r.Fingerprint, Incident: r.Incident, Action: action, Expires: exp})
	return strings.TrimRight(n.o.ExternalURL, "/") + "/ack/" + tok
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
		if !active || r.Active() {
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

// tickLoop runs Tick every Options.Tick until ctx is done.
func (n *Notifier) tickLoop(ctx context.Context) {
	t := n.o.Clock.NewTicker(n.o.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
			if err := n.Tick(ctx); err != nil && ctx.Err() == nil {
				n.o.Log.Warn("tick", zap.Error(err))
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
	_, err = n.expire(ctx, recs)
	return err
}

// expire resolves the records of recs whose endsAt is in the past and
// returns the others, which are still active.
func (n *Notifier) expire(ctx context.Context, recs []Record) ([]Record, error) {
	now := n.o.Clock.Now()
	live := recs[:0]
	var errs []error
	for i := range recs {
		a := recs[i].Alert
		if !a.Resolved(now) {
			live = append(live, recs[i])
			continue
		}
		if err := n.Handle(ctx, &a); err != nil {
			errs = append(errs, err)
		}
	}
	return live, errors.Join(errs...)
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
