// Package channel is the contract between the notifier and the ways it
// delivers alerts (console, webhook, DingTalk, WeCom, Feishu, SMS, mail).
// Each channel lives in its own folder below this one.
package channel

import (
	"context"
	"errors"

	"github.com/govwatch/govwatch/pkg/model"
)

// Notification statuses, as in Alertmanager.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Notification is what a receiver is asked to deliver: a group of alerts with
// their state. Status is StatusFiring when any alert in the group fires and
// StatusResolved when all have resolved.
type Notification struct {
	Receiver          string
	GroupKey          string
	Status            string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            []AlertState
	// Mentions are the people this notification pages in person (the
	// on-duty officer, a unit head), when the notifier knows them. Chat
	// channels @-mention their mobiles, SMS texts them, mail adds their
	// addresses, in addition to each channel's configured recipients. Empty
	// means the configured recipients only.
	Mentions []Contact
}

// Contact is a person a notification mentions. Any field may be empty.
type Contact struct {
	Name   string
	Mobile string
	Email  string
}

// AnnotationResolveURL is the annotation holding the signed link that marks
// an alert handled; channels show it next to the acknowledgement link
// (model.AnnotationAckURL).
const AnnotationResolveURL = "resolve_url"

// AlertState is one alert of a notification with its state at sending time.
// The notifier puts the acknowledgement link in the annotations
// (model.AnnotationAckURL).
type AlertState struct {
	model.Alert
	Status      string // StatusFiring or StatusResolved
	Fingerprint string
}

// Channel delivers notifications to one destination.
//
// Lifecycle: a channel is built once from its configuration when the
// notifier starts (or reloads) and then used by many goroutines at once, so
// Notify must be safe for concurrent use. It holds no goroutines and needs
// no closing.
//
// Notify makes a single delivery attempt and honours ctx. It returns nil
// when the destination accepted the notification; otherwise an error that
// says whether retrying can help: Permanent(err) when it cannot (a rejected
// request, a broken template), a plain error when it may (network failures,
// timeouts, throttling, server errors). Backoff and retry are the retry
// stage's job, not the channel's.
type Channel interface {
	// Name is the channel kind ("webhook", "console"), a bounded metric label.
	Name() string
	Notify(ctx context.Context, n *Notification) error
}

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as not worth retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// Retryable reports whether a failed Notify may succeed if tried again: true
// for any non-nil error not marked with Permanent, even when wrapped.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentError
	return !errors.As(err, &p)
}
