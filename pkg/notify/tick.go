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
// delivers notifications a silence, an inhibition or a failure held back —
// a failure's of resolved alerts too, from the owed log — pages the
// escalation steps that are due and flushes the groups that are due. Every
// replica may run it; claims in the store keep them from doing anything
// twice.
func (n *Notifier) Tick(ctx context.Context) error {
	if err := n.claims.alive(ctx); err != nil {
		return err
	}
	// The owed log before the records: an entry is written after its
	// record, so every entry read has its record in the list.
	owed, err := n.owed.list(ctx)
	if err != nil {
		return err
	}
	all, err := n.records.list(ctx, false)
	if err != nil {
		return err
	}
	sortRecords(all)
	var recs, over []Record
	for _, r := range all {
		if r.Active() {
			recs = append(recs, r)
		} else if len(owed[r.Fingerprint]) > 0 {
			over = append(over, r)
		}
	}
	recs, err = n.expire(ctx, recs)
	errs := []error{err}
	pre, err := n.premute(ctx, recs)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for i := range recs {
		r := &recs[i]
		if err := n.redeliver(ctx, r, pre, owed[r.Fingerprint]); err != nil && !errors.Is(err, errSendingElsewhere) {
			errs = append(errs, err)
		}
		if err := n.escalator.tick(ctx, r, pre); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range over {
		r := &over[i]
		if err := n.redeliver(ctx, r, pre, owed[r.Fingerprint]); err != nil && !errors.Is(err, errSendingElsewhere) {
			errs = append(errs, err)
		}
	}
	errs = append(errs, n.settleOwed(ctx, owed, all))
	errs = append(errs, n.records.sources.repair(ctx, all, n.records))
	errs = append(errs, n.grouper.flushDue(ctx))
	return errors.Join(errs...)
}

// settleOwed drops the owed entries the tick's deliveries settled and
// reports how many alerts each receiver is still owed news of (a firing
// and then its resolution owed count once: the resolution tells both).
func (n *Notifier) settleOwed(ctx context.Context, owed map[string][]owedEntry, all []Record) error {
	byFP := make(map[string]*Record, len(owed))
	for i := range all {
		if _, ok := owed[all[i].Fingerprint]; ok {
			byFP[all[i].Fingerprint] = &all[i]
		}
	}
	var errs []error
	counts := map[string]int{}
	for fp, es := range owed {
		left, err := n.owed.settle(ctx, fp, byFP[fp], es, n.claims, n.records)
		errs = append(errs, err)
		seen := map[string]bool{}
		for _, e := range left {
			if !seen[e.Receiver] {
				seen[e.Receiver] = true
				counts[e.Receiver]++
			}
		}
	}
	for name := range n.router.receivers {
		n.m.owed.WithLabelValues(name).Set(float64(counts[name]))
	}
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
