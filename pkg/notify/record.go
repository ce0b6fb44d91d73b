package notify

import (
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
)

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
	r.Veto, r.Recipients, r.Pages, r.Superiors = false, nil, nil, nil
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
