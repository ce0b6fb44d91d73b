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
	// ID identifies this notification for good: the same ID every time the
	// notifier sends it again (a retry, a replica resuming a dead one's
	// send), a new one for anything else. Channels pass it to the platform
	// where it has a field that de-duplicates (webhook's
	// X-Govwatch-Notification-Id), so a receiver can drop a second copy.
	ID                string
	Receiver          string
	GroupKey          string
	Status            string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            []AlertState

	// Recipients are the people this notification pages: the on-duty
	// officer, the unit head (第一责任人), the duty of superior units, as the
	// escalation policy decided. Channels that can mention people use them
	// (DingTalk at.atMobiles, WeCom mentioned_mobile_list, mail To:, SMS
	// numbers); the others may ignore them. Empty when nobody in particular
	// is paged (a plain routed notification without a roster).
	Recipients []Person
	// Report is a structured Chinese report of the incident (pkg/report),
	// set when the notification goes to a superior department; channels
	// append it to the message body. Empty otherwise.
	Report string
}

// Person is someone a notification pages. Role says why, in Chinese, for
// the message: 值班人员, 第一责任人, 上级值班.
type Person struct {
	Name   string
	Mobile string
	Email  string
	Role   string
	Unit   string // the unit id they are paged for
	// IDs are the person's accounts on other systems, by system name
	// ("wecom": the WeCom user id); a channel that pages people directly
	// reads its own.
	IDs map[string]string
}

// AlertState is one alert of a notification with its state at sending time.
// The notifier puts the signed one-click links in the annotations:
// model.AnnotationAckURL (acknowledge) and AnnotationResolveURL (resolve).
type AlertState struct {
	model.Alert
	Status      string // StatusFiring or StatusResolved
	Fingerprint string
}

// AnnotationResolveURL is the annotation holding the signed one-click
// resolution link, beside model.AnnotationAckURL.
const AnnotationResolveURL = "resolve_url"

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
