package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
)

// claims is the notification log's claim stage. Each notification (one
// receiver, one fingerprint, one incident, one status) has an entry in the
// store: pending while a replica sends it, under ClaimTTL so that a replica
// dying mid-send does not block it for good; then sent or failed, for
// nflogTTL. The stage claims the entry or ends the delivery when the
// notification went out already. Claim, send, record: a crash between send
// and record leaves a pending claim, and the notification is sent again
// rather than lost, with the same idempotency key (notificationID) so a
// receiver that keeps the keys drops the copy.
//
// A pending claim names the replica holding it, and every replica keeps a
// liveness entry alive in the store (renewed on each claim and each tick):
// once the owner's entry has run out, another replica resumes the claim at
// once instead of waiting out ClaimTTL.
type claims struct {
	store store.Store
	// replica names this replica in the claims it holds; lease is how long
	// its liveness entry lasts unrenewed. Empty: claims name nobody and are
	// taken over only when ClaimTTL runs out.
	replica string
	lease   time.Duration
}

func replicaKey(id string) string { return "notifier/replica/" + id }

// pending is the value of a claim this replica holds.
func (c *claims) pending() string {
	if c.replica == "" {
		return logPending
	}
	return logPending + " " + c.replica
}

// alive renews this replica's liveness entry.
func (c *claims) alive(ctx context.Context) error {
	if c.replica == "" {
		return nil
	}
	return c.store.Set(ctx, replicaKey(c.replica), []byte("1"), c.lease)
}

// orphaned reports whether the pending claim value v names another replica
// whose liveness entry has run out: it died mid-send.
func (c *claims) orphaned(ctx context.Context, v string) (bool, error) {
	owner, ok := strings.CutPrefix(v, logPending+" ")
	if !ok || c.replica == "" || owner == c.replica {
		return false, nil
	}
	_, err := c.store.Get(ctx, replicaKey(owner))
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return false, err
}

const (
	logPending = "pending"
	logSent    = "sent"
	logFailed  = "failed"
)

func nflogKey(receiver, fp string, incident int, status string) string {
	return fmt.Sprintf("notifier/nflog/%s/%s/%d/%s", receiver, fp, incident, status)
}

// errSendingElsewhere says another replica holds the claim to send a
// notification: the bus should try again later, a tick need not complain.
var errSendingElsewhere = errors.New("being sent elsewhere")

func (c *claims) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	r := d.rec
	status := r.notifyStatus()
	if status == StatusResolved {
		// Only those told of the firing hear of the resolution, and those
		// still owed the firing: the resolution tells them the incident.
		if _, err := c.store.Get(ctx, nflogKey(d.recv.Name, r.Fingerprint, r.Incident, StatusFiring)); errors.Is(err, store.ErrNotFound) {
			if d.owesFiring() {
				return c.claimed(ctx, d, status)
			}
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
	return c.claimed(ctx, d, status)
}

// claimed claims d's notification of status and puts its key on d, or ends
// the delivery.
func (c *claims) claimed(ctx context.Context, d *delivery, status string) (*delivery, error) {
	r := d.rec
	key := nflogKey(d.recv.Name, r.Fingerprint, r.Incident, status)
	won, err := c.claim(ctx, key)
	if err != nil || !won {
		return nil, err
	}
	d.key = key
	return d, nil
}

// claim takes key for this replica. It returns false, nil when the entry
// is settled (sent or given up on) and an error wrapping
// errSendingElsewhere while another replica holds it.
func (c *claims) claim(ctx context.Context, key string) (bool, error) {
	// Most calls (repeats, ticks) find the notification sent: a read
	// settles them without a write.
	if v, err := c.store.Get(ctx, key); err == nil && (string(v) == logSent || string(v) == logFailed) {
		return false, nil
	}
	if err := c.alive(ctx); err != nil {
		return false, err
	}
	won, err := c.store.SetNX(ctx, key, []byte(c.pending()), ClaimTTL)
	if err != nil || won {
		return won, err
	}
	v, err := c.store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, errors.New("notification claim vanished; will retry")
	case err != nil:
		return false, err
	case strings.HasPrefix(string(v), logPending):
		// Another replica is sending, or died sending: resume the claim
		// of a dead one; else look again after the bus's backoff (the
		// claim expires after ClaimTTL).
		if dead, err := c.orphaned(ctx, string(v)); err != nil || dead {
			if err != nil {
				return false, err
			}
			return c.store.CompareAndSwap(ctx, key, v, []byte(c.pending()), ClaimTTL)
		}
		return false, fmt.Errorf("notification %s is %w", key, errSendingElsewhere)
	}
	return false, nil // sent or given up on already
}

// settle records key's outcome (logSent or logFailed, possibly followed by
// what was sent) for nflogTTL.
func (c *claims) settle(ctx context.Context, key, value string) error {
	return c.store.Set(ctx, key, []byte(value), nflogTTL)
}

// release gives key up after a retryable failure, so the next attempt may
// claim it at once; it goes through when ctx was cancelled, for the same
// reason.
func (c *claims) release(ctx context.Context, key string) error {
	return c.store.Delete(context.WithoutCancel(ctx), key)
}

// take claims key with SetNX alone, for claims that need no read first (a
// group flush, an escalation step).
func (c *claims) take(ctx context.Context, key string) (bool, error) {
	return c.store.SetNX(ctx, key, []byte(logPending), ClaimTTL)
}

// value reads key's entry; ok is false when there is none.
func (c *claims) value(ctx context.Context, key string) (string, bool, error) {
	v, err := c.store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	return string(v), err == nil, err
}
