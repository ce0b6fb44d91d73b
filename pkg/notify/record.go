package notify

import (
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

// Alert statuses in the notifier's lifecycle.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
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
}

// Event is one step in an alert's timeline.
type Event struct {
	At       time.Time `json:"at"`
	What     string    `json:"what"` // firing, resolved, notified, notify_failed
	Incident int       `json:"incident"`
	Detail   string    `json:"detail,omitempty"`
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
	case !resolved && r.Status == StatusFiring && !in.StartsAt.Before(r.Alert.StartsAt):
		r.Alert.Annotations = in.Annotations
		r.Alert.EndsAt = in.EndsAt
		r.UpdatedAt = now
		return false
	case resolved && r.Status == StatusFiring && !in.StartsAt.Before(r.Alert.StartsAt):
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
	r.event(Event{At: now, What: StatusFiring, Incident: r.Incident})
}
