package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/govwatch/govwatch/pkg/store"
)

// claims is the notification log's claim stage. Each notification (one
// receiver, one fingerprint, one incident, one status) has an entry in the
// store: pending while a replica sends it, under ClaimTTL so that a replica
// dying mid-send does not block it for good; then sent or failed, for
// nflogTTL. The stage claims the entry or ends the delivery when the
// notification went out already. Claim, send, record: a crash between send
// and record leaves a pending claim that expires, and the notification is
// sent again rather than lost.
type claims struct {
	store store.Store
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
		// Only those told of the firing hear of the resolution.
		if _, err := c.store.Get(ctx, nflogKey(d.recv.Name, r.Fingerprint, r.Incident, StatusFiring)); errors.Is(err, store.ErrNotFound) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
	}
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
	won, err := c.store.SetNX(ctx, key, []byte(logPending), ClaimTTL)
	if err != nil || won {
		return won, err
	}
	v, err := c.store.Get(ctx, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, errors.New("notification claim vanished; will retry")
	case err != nil:
		return false, err
	case string(v) == logPending:
		// Another replica is sending, or died sending: look again
		// after the bus's backoff; the claim expires after ClaimTTL.
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
