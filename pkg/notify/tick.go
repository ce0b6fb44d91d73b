package notify

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
)

// ticker owns the tick loop: Run starts its one goroutine and joins it on
// the way out. Each tick works on state read from the store, so a missed
// tick (a restart, a replica down) only delays what the next one does.
type ticker struct {
	every time.Duration
	clock clockwork.Clock
	log   *zap.Logger
	tick  func(ctx context.Context) error
}

// loop runs tick every t.every until ctx is done.
func (t *ticker) loop(ctx context.Context) {
	tk := t.clock.NewTicker(t.every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.Chan():
			if err := t.tick(ctx); err != nil && ctx.Err() == nil {
				t.log.Warn("tick", zap.Error(err))
			}
		}
	}
}

// Tick does what time alone makes due, on state read from the store: it
// resolves alerts whose endsAt passed (the resolve timeout of API alerts),
// delivers notifications a silence, an inhibition or a failure held back,
// pages the escalation steps that are due and flushes the groups that are
// due. Every replica may run it; claims in the store keep them from doing
// anything twice.
func (n *Notifier) Tick(ctx context.Context) error {
	if err := n.claims.alive(ctx); err != nil {
		return err
	}
	recs, err := n.Alerts(ctx, true)
	if err != nil {
		return err
	}
	recs, err = n.expire(ctx, recs)
	errs := []error{err}
	pre, err := n.premute(ctx, recs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for i := range recs {
		r := &recs[i]
		if err := n.redeliver(ctx, r, pre); err != nil && !errors.Is(err, errSendingElsewhere) {
			errs = append(errs, err)
		}
		if err := n.escalator.tick(ctx, r, pre); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.grouper.flushDue(ctx))
	return errors.Join(errs...)
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

// expire runs the alerts of recs whose endsAt passed through the pipeline,
// which resolves them, and returns the others, which are still active.
func (n *Notifier) expire(ctx context.Context, recs []Record) ([]Record, error) {
	ended, live := n.records.expired(recs)
	var errs []error
	for i := range ended {
		if err := n.Handle(ctx, &ended[i]); err != nil {
			errs = append(errs, err)
		}
	}
	return live, errors.Join(errs...)
}
