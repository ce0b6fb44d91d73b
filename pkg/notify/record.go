package notify

import (
	"context"
	"errors"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// recordStage is the last stage: it writes what sending came to in the
// notification log and in the incident's timeline. Sent and failed for good
// are settled; a retryable failure releases the claim, so the next attempt
// may claim the notification at once, and is written in the owed log: the
// alert message is then acknowledged and the ticks deliver it, however long
// the receiver stays down (up to the policy) and whether or not the alert
// is still firing.
type recordStage struct {
	claims  *claims
	records *lifecycle
	owed    *owedLog
	log     *zap.Logger
}

func (s *recordStage) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	r, status := d.rec, d.rec.notifyStatus()
	switch err := d.err; {
	case err == nil:
		s.log.Info("notified", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", d.recv.Name), zap.String("status", status), zap.Int("incident", r.Incident))
		if err := s.claims.settle(ctx, d.key, logSent); err != nil {
			return nil, err
		}
		return d, s.records.timeline(ctx, r, Event{What: EventNotified, Detail: d.recv.Name + " " + status})
	case !channel.Retryable(err):
		s.log.Error("notification failed for good", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", d.recv.Name), zap.Error(err))
		if err := s.claims.settle(ctx, d.key, logFailed); err != nil {
			return nil, err
		}
		return d, s.records.timeline(ctx, r, Event{What: EventNotifyFailed, Detail: d.recv.Name + " " + status})
	default:
		// Owed first: released without an owed entry, a crash here would
		// leave the notification to the bus's last deliveries.
		if oerr := s.owed.owe(ctx, d); oerr != nil {
			return nil, errors.Join(err, oerr, s.claims.release(ctx, d.key))
		}
		s.log.Warn("notification failed; owed until delivered", zap.String("fingerprint", r.Fingerprint), zap.String("receiver", d.recv.Name),
			zap.String("status", status), zap.Int("incident", r.Incident), zap.Error(err))
		return nil, s.claims.release(ctx, d.key)
	}
}
