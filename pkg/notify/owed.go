package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/store"
)

// owedLog keeps every notification that failed with a retryable error
// until it is delivered: one entry per receiver, fingerprint, incident and
// status, written by the record stage before the alert message is
// acknowledged, so neither the bus's delivery limit nor the end of the
// incident (a resolution is no longer in the tick's active alerts) loses
// it. Each tick delivers what is owed again — the breaker keeps that cheap
// while a receiver is down — and settles the entries whose notification
// went out, was superseded by a newer incident, or has been owed longer
// than the policy allows (Options.OwedFor), which is logged, counted and
// written in the incident's timeline.
type owedLog struct {
	store store.ListKV
	clock clockwork.Clock
	keep  time.Duration // Options.OwedFor
	log   *zap.Logger
	m     *metrics
}

// owedKind indexes the owed notifications, which every tick lists; there
// are none while every receiver answers.
var owedKind = store.DeclareKind("notifier/owed/", 1)

// owedEntry is one owed notification.
type owedEntry struct {
	key      string
	Receiver string
	Incident int
	Status   string
	Since    time.Time `json:"since"`
}

// owedKey puts the fingerprint first and the receiver, which may hold
// slashes, in the middle, so parseOwed can take it apart from both ends.
func owedKey(fp, receiver string, incident int, status string) string {
	return fmt.Sprintf("%s%s/%s/%d/%s", owedKind, fp, receiver, incident, status)
}

// parseOwed reads an entry's fingerprint, receiver, incident and status
// back from its key.
func parseOwed(key string) (fp string, e owedEntry, ok bool) {
	rest := strings.TrimPrefix(key, owedKind)
	fp, rest, ok1 := strings.Cut(rest, "/")
	i := strings.LastIndexByte(rest, '/')
	j := strings.LastIndexByte(rest[:max(i, 0)], '/')
	if !ok1 || i < 0 || j < 0 {
		return "", owedEntry{}, false
	}
	inc, err := strconv.Atoi(rest[j+1 : i])
	if err != nil {
		return "", owedEntry{}, false
	}
	return fp, owedEntry{key: key, Receiver: rest[:j], Incident: inc, Status: rest[i+1:]}, true
}

// owe records that d's notification is owed. An entry already there keeps
// its first time, from which the policy counts.
func (o *owedLog) owe(ctx context.Context, d *delivery) error {
	r := d.rec
	v, err := json.Marshal(owedEntry{Since: o.clock.Now()})
	if err != nil {
		return err
	}
	// Kept a day past the policy, so a tick always sees it expire first.
	_, err = o.store.SetNX(context.WithoutCancel(ctx), owedKey(r.Fingerprint, d.recv.Name, r.Incident, r.notifyStatus()), v, o.keep+24*time.Hour)
	return err
}

// list returns the owed notifications by fingerprint.
func (o *owedLog) list(ctx context.Context) (map[string][]owedEntry, error) {
	out := map[string][]owedEntry{}
	err := o.store.List(ctx, owedKind, func(key string, v []byte) error {
		fp, e, ok := parseOwed(key)
		if !ok {
			return nil
		}
		var stamp owedEntry
		if json.Unmarshal(v, &stamp) == nil {
			e.Since = stamp.Since
		}
		out[fp] = append(out[fp], e)
		return nil
	})
	return out, err
}

// settle drops the entries of fp whose notification is no longer owed, now
// that the tick tried them again, and returns the others: r is fp's record
// (nil: gone).
func (o *owedLog) settle(ctx context.Context, fp string, r *Record, owed []owedEntry, c *claims, records *lifecycle) (left []owedEntry, _ error) {
	var errs []error
	for _, e := range owed {
		done, err := o.done(ctx, fp, r, e, c)
		if err != nil {
			errs = append(errs, err)
			left = append(left, e)
			continue
		}
		if !done && !e.Since.IsZero() && o.clock.Since(e.Since) >= o.keep {
			o.log.Error("notification owed too long; given up", zap.String("fingerprint", fp), zap.String("receiver", e.Receiver),
				zap.Int("incident", e.Incident), zap.String("status", e.Status), zap.Duration("owed_for", o.keep))
			o.m.owedExpired.WithLabelValues(e.Receiver).Inc()
			if r != nil {
				errs = append(errs, records.timeline(ctx, r, Event{What: EventNotifyFailed, Detail: e.Receiver + " " + e.Status}))
			}
			done = true
		}
		if !done {
			left = append(left, e)
		} else if err := o.store.Delete(ctx, e.key); err != nil {
			errs = append(errs, err)
			left = append(left, e)
		}
	}
	return left, errors.Join(errs...)
}

// done reports whether e is settled: its record is gone, a newer incident
// superseded it, its notification went out or was given up on for good,
// or it was a firing whose resolution went out since.
func (o *owedLog) done(ctx context.Context, fp string, r *Record, e owedEntry, c *claims) (bool, error) {
	if r == nil || e.Incident < r.Incident {
		return true, nil
	}
	statuses := []string{e.Status}
	if e.Status == StatusFiring && r.notifyStatus() == StatusResolved {
		statuses = append(statuses, StatusResolved)
	}
	for _, st := range statuses {
		v, ok, err := c.value(ctx, nflogKey(e.Receiver, fp, e.Incident, st))
		if err != nil {
			return false, err
		}
		if ok && (v == logSent || v == logFailed) {
			return true, nil
		}
	}
	return false, nil
}

// owesFiring reports whether d carries an owed firing of its receiver and
// incident: its resolution goes out though the firing never did, since it
// tells the whole incident.
func (d *delivery) owesFiring() bool {
	for _, e := range d.owed {
		if e.Receiver == d.recv.Name && e.Incident == d.rec.Incident && e.Status == StatusFiring {
			return true
		}
	}
	return false
}
