package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/store"
)

// lifecycle is the first stage: it keeps each alert's record in the store
// and folds incoming alerts into it (firing → acknowledged → resolved, a new
// incident on each firing after a resolution), with compare-and-swap so
// replicas handling the same fingerprint serialise. When an incident opens,
// its openers (routing, escalation start) run in the same write, so a crash
// cannot leave an incident that is firing but routed nowhere.
type lifecycle struct {
	store          store.Store
	clock          clockwork.Clock
	log            *zap.Logger
	m              *metrics
	resolveTimeout time.Duration
	openers        []func(*Record)
	// sources, when set, is kept in step with every move of a record.
	sources *sourceIndex
}

func newLifecycle(st store.Store, clock clockwork.Clock, log *zap.Logger, m *metrics, resolveTimeout time.Duration, openers ...func(*Record)) *lifecycle {
	return &lifecycle{store: st, clock: clock, log: log, m: m, resolveTimeout: resolveTimeout, openers: openers}
}

func recordKey(fp string) string { return "notifier/alert/" + fp }

const recordPrefix = "notifier/alert/"

// Exec folds d's incoming alert into its record; a delivery of a stored
// record passes through. It ends the delivery when the alert has no record
// (a resolution of an alert never seen).
func (l *lifecycle) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	if d.alert == nil {
		return d, nil
	}
	a := d.alert
	l.m.received.WithLabelValues(a.Name(), statusOf(a, l.clock.Now())).Inc()
	rec, moved, err := l.update(ctx, a.Fingerprint(), func(r *Record, now time.Time) bool { return r.apply(a, now) })
	if err != nil || rec == nil {
		return nil, err
	}
	if moved {
		l.observeMove(rec)
	}
	d.rec, d.moved = rec, moved
	return d, nil
}

// stamp gives an alert posted on the API its missing times as it is
// received: it starts now and, unless posted again, ends the resolve
// timeout after now or after its own start, whichever is later.
func (l *lifecycle) stamp(a *model.Alert) {
	now := l.clock.Now()
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if a.StartsAt.IsZero() {
		a.StartsAt = now
	}
	if a.EndsAt.IsZero() {
		from := now
		if a.StartsAt.After(now) {
			from = a.StartsAt
		}
		a.EndsAt = from.Add(l.resolveTimeout)
	}
}

// observeMove counts what a lifecycle move means for the metrics.
func (l *lifecycle) observeMove(r *Record) {
	sev := r.Alert.Labels[model.LabelSeverity]
	switch r.Status {
	case StatusFiring:
		if r.Veto {
			l.m.veto.WithLabelValues(r.Alert.Name()).Inc()
		}
		for _, p := range r.Pages {
			l.m.escalations.WithLabelValues(escalate.LevelName(p.Level, nil)).Inc()
		}
	case StatusAcknowledged:
		l.m.ackDuration.WithLabelValues(sev).Observe(r.Ack.At.Sub(r.FirstSeen).Seconds())
	case StatusResolved:
		l.m.resolveDuration.WithLabelValues(sev).Observe(max(r.ResolvedAt.Sub(r.FirstSeen), 0).Seconds())
	}
}

// update applies change to the alert's record with compare-and-swap. It
// returns the record as stored (nil when there is none and change made
// nothing) and whether change moved it.
func (l *lifecycle) update(ctx context.Context, fp string, change func(*Record, time.Time) bool) (*Record, bool, error) {
	var moved bool
	r, err := store.UpdateJSON(ctx, l.store, recordKey(fp), true, func(r *Record, _ bool) (bool, time.Duration, error) {
		r.Fingerprint = fp
		moved = change(r, l.clock.Now())
		if r.Status == "" {
			return false, 0, nil
		}
		if moved && r.Status == StatusFiring {
			for _, open := range l.openers {
				open(r)
			}
		}
		return true, recordTTL(r), nil
	})
	if err != nil || r.Status == "" {
		return nil, false, err
	}
	if moved {
		l.log.Info("alert "+r.Status, zap.String("fingerprint", fp), zap.String("alertname", r.Alert.Name()), zap.Int("incident", r.Incident))
		if l.sources != nil {
			if err := l.sources.observe(ctx, &r); err != nil {
				// The record moved; the next tick repairs the index.
				l.log.Warn("inhibition source index", zap.String("fingerprint", fp), zap.Error(err))
			}
		}
	}
	return &r, moved, nil
}

// recordTTL keeps resolved alerts for a while for the timeline, firing ones forever.
func recordTTL(r *Record) time.Duration {
	if r.Status == StatusResolved {
		return 30 * 24 * time.Hour
	}
	return 0
}

// timeline adds e to the timeline of r's incident, if it is still current.
func (l *lifecycle) timeline(ctx context.Context, r *Record, e Event) error {
	_, _, err := l.update(ctx, r.Fingerprint, func(cur *Record, now time.Time) bool {
		if cur.Incident == r.Incident {
			e.At, e.Incident = now, cur.Incident
			cur.event(e)
		}
		return false
	})
	return err
}

// get returns the record of fp.
func (l *lifecycle) get(ctx context.Context, fp string) (*Record, error) {
	b, err := l.store.Get(ctx, recordKey(fp))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoAlert
	}
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("record %s: %w", fp, err)
	}
	return &r, nil
}

// recordKind indexes the alert records, which every tick lists.
var recordKind = store.DeclareKind(recordPrefix, 1)

// list returns the records in the store, unsorted; with active set, only
// open ones.
func (l *lifecycle) list(ctx context.Context, active bool) ([]Record, error) {
	var out []Record
	err := l.store.List(ctx, recordKind, func(_ string, v []byte) error {
		var r Record
		if err := json.Unmarshal(v, &r); err != nil {
			return nil // one bad record must not hide the others
		}
		if !active || r.Active() {
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// expired splits recs into the alerts whose endsAt passed, to be resolved,
// and the others, which are still active; live reuses recs' array, as a
// tick over many alerts would otherwise copy every record.
func (l *lifecycle) expired(recs []Record) (ended []model.Alert, live []Record) {
	now := l.clock.Now()
	live = recs[:0]
	for i := range recs {
		if a := recs[i].Alert; a.Resolved(now) {
			ended = append(ended, a)
		} else {
			live = append(live, recs[i])
		}
	}
	return ended, live
}

// ErrNoAlert is returned for an unknown fingerprint; ErrIncidentOver for a
// link or request naming an incident that is no longer current.
var (
	ErrNoAlert      = errors.New("no such alert")
	ErrIncidentOver = errors.New("that incident is over; the alert fired again since")
)

// acknowledge moves fp's incident to acknowledged.
func (l *lifecycle) acknowledge(ctx context.Context, fp string, incident int, a Action) (*Record, error) {
	return l.act(ctx, fp, incident, func(r *Record) (bool, error) {
		if r.Status == StatusAcknowledged {
			return false, nil
		}
		if !r.acknowledge(a) {
			return false, fmt.Errorf("alert %s is %s, not firing", fp, r.Status)
		}
		return true, nil
	})
}

// resolve resolves fp's incident by hand.
func (l *lifecycle) resolve(ctx context.Context, fp string, incident int, a Action) (*Record, error) {
	return l.act(ctx, fp, incident, func(r *Record) (bool, error) {
		if r.Status == StatusResolved && r.Resolution != nil {
			return false, nil
		}
		if !r.resolveBy(a) {
			return false, fmt.Errorf("alert %s is already resolved", fp)
		}
		return true, nil
	})
}

func (l *lifecycle) act(ctx context.Context, fp string, incident int, do func(*Record) (bool, error)) (*Record, error) {
	var actErr error
	rec, moved, err := l.update(ctx, fp, func(r *Record, _ time.Time) bool {
		actErr = nil
		if r.Status == "" {
			actErr = ErrNoAlert
			return false
		}
		if incident != 0 && incident != r.Incident {
			actErr = ErrIncidentOver
			return false
		}
		moved, err := do(r)
		actErr = err
		return moved
	})
	if err != nil {
		return nil, err
	}
	if actErr != nil {
		return rec, actErr
	}
	if rec == nil {
		return nil, ErrNoAlert
	}
	if moved {
		l.observeMove(rec)
	}
	return rec, nil
}

// Alert statuses in the notifier's lifecycle: firing → acknowledged →
// resolved. Acknowledged alerts are still active; they no longer escalate.
const (
	StatusFiring       = "firing"
	StatusAcknowledged = "acknowledged"
	StatusResolved     = "resolved"
)

// Timeline event kinds besides the statuses.
const (
	EventPaged        = "paged"
	EventEscalated    = "escalated"
	EventNotified     = "notified"      // a receiver was told (detail: receiver and status)
	EventNotifyFailed = "notify_failed" // a receiver could not be told, for good
)

// Record is the notifier's state of one alert (one fingerprint), kept in the
// store. Each firing after a resolution opens a new incident.
type Record struct {
	Fingerprint string      `json:"fingerprint"`
	Alert       model.Alert `json:"alert"`
	Status      string      `json:"status"`
	Incident    int         `json:"incident"`
	FirstSeen   time.Time   `json:"firstSeen"` // of the current incident
	UpdatedAt   time.Time   `json:"updatedAt"`
	ResolvedAt  time.Time   `json:"resolvedAt,omitzero"`
	Receivers   []string    `json:"receivers,omitempty"`
	Timeline    []Event     `json:"timeline,omitempty"`

	// Ack is who acknowledged the current incident; Resolution who
	// resolved it by hand (nil when the analyzer saw the problem go).
	Ack        *Action `json:"ack,omitempty"`
	Resolution *Action `json:"resolution,omitempty"`
	// Veto marks a veto-level incident (reported upward at once).
	Veto bool `json:"veto,omitempty"`
	// Recipients are the people the first notification pages.
	Recipients []channel.Person `json:"recipients,omitempty"`
	// Escalation is where the incident's escalation stands.
	Escalation *escalate.State `json:"escalation,omitempty"`
	// Pages is who was paged when in the current incident.
	Pages []Page `json:"pages,omitempty"`
	// Superiors are the superior units the incident has reached.
	Superiors []string `json:"superiors,omitempty"`
	// Unrouted, when the first notification of an incident of a unit's
	// alert reached no person, holds the labels of the system.unrouted
	// alert the incident raises (unrouted.go); nil when somebody was paged.
	Unrouted model.LabelSet `json:"unrouted,omitempty"`
}

// Action is a person's acknowledgement or resolution.
type Action struct {
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	Note string    `json:"note,omitempty"`
}

// Page is one paging of people.
type Page struct {
	At     time.Time        `json:"at"`
	People []channel.Person `json:"people"`
	Level  int              `json:"level"`
	Why    string           `json:"why"`
}

// Event is one step in an alert's timeline.
type Event struct {
	At       time.Time `json:"at"`
	What     string    `json:"what"` // firing, acknowledged, resolved, paged, escalated
	Incident int       `json:"incident"`
	Detail   string    `json:"detail,omitempty"`
}

// Active reports whether the record's incident is still open.
func (r *Record) Active() bool { return r.Status == StatusFiring || r.Status == StatusAcknowledged }

// notifyStatus is the status channels see: acknowledged alerts still fire.
func (r *Record) notifyStatus() string {
	if r.Status == StatusResolved {
		return StatusResolved
	}
	return StatusFiring
}

// maxTimeline bounds the events kept per alert; the oldest go first.
const maxTimeline = 50

func (r *Record) event(e Event) {
	r.Timeline = append(r.Timeline, e)
	if n := len(r.Timeline) - maxTimeline; n > 0 {
		r.Timeline = append([]Event(nil), r.Timeline[n:]...)
	}
}

// apply folds an incoming alert into the record and reports whether the
// lifecycle moved (a new incident fired, or the incident resolved). A replay
// of an older message never reopens or resolves the current incident.
func (r *Record) apply(in *model.Alert, now time.Time) (moved bool) {
	resolved := in.Resolved(now)
	switch {
	case r.Status == "": // first sight
		if resolved {
			return false
		}
		r.open(in, now)
		return true
	case !resolved && r.Status == StatusResolved && in.StartsAt.After(r.Alert.StartsAt):
		r.open(in, now)
		return true
	case !resolved && r.Active() && !in.StartsAt.Before(r.Alert.StartsAt):
		r.Alert.Annotations = in.Annotations
		r.Alert.EndsAt = in.EndsAt
		r.UpdatedAt = now
		return false
	case resolved && r.Active() && !in.StartsAt.Before(r.Alert.StartsAt):
		r.Alert.EndsAt = in.EndsAt
		if len(in.Annotations) > 0 {
			for k, v := range in.Annotations {
				r.Alert.Annotations[k] = v
			}
		}
		r.Status = StatusResolved
		r.ResolvedAt = in.EndsAt
		r.UpdatedAt = now
		r.event(Event{At: now, What: StatusResolved, Incident: r.Incident})
		return true
	}
	return false
}

func (r *Record) open(in *model.Alert, now time.Time) {
	r.Alert = *in
	if r.Alert.Annotations == nil {
		r.Alert.Annotations = map[string]string{}
	}
	r.Status = StatusFiring
	r.Incident++
	r.FirstSeen = now
	r.UpdatedAt = now
	r.ResolvedAt = time.Time{}
	r.Ack, r.Resolution, r.Escalation = nil, nil, nil
	r.Veto, r.Recipients, r.Pages, r.Superiors, r.Unrouted = false, nil, nil, nil, nil
	r.event(Event{At: now, What: StatusFiring, Incident: r.Incident})
}

// acknowledge moves a firing incident to acknowledged; false when it is not firing.
func (r *Record) acknowledge(a Action) bool {
	if r.Status != StatusFiring {
		return false
	}
	r.Status = StatusAcknowledged
	r.Ack = &a
	r.UpdatedAt = a.At
	r.event(Event{At: a.At, What: StatusAcknowledged, Incident: r.Incident, Detail: detail(a)})
	return true
}

// resolveBy resolves an active incident by hand; false when it is not active.
func (r *Record) resolveBy(a Action) bool {
	if !r.Active() {
		return false
	}
	r.Status = StatusResolved
	r.Resolution = &a
	r.ResolvedAt = a.At
	r.Alert.EndsAt = a.At
	r.UpdatedAt = a.At
	r.event(Event{At: a.At, What: StatusResolved, Incident: r.Incident, Detail: detail(a)})
	return true
}

func detail(a Action) string {
	if a.Note == "" {
		return a.By
	}
	return a.By + ": " + a.Note
}
