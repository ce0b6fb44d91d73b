package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/silence"
)

// pipeline assembles the stages every alert passes, in order. This is the
// one place to read to know what happens to an alert.
func (n *Notifier) pipeline() stage {
	perReceiver := chain(
		n.grouper,  // a grouped receiver: into its group, sent when the group is due; ends here
		n.claims,   // notification log: claim this notification, or end when it went out already
		n.sender,   // compose the message and send it through every channel, with retry
		n.fallback, // a receiver failing time after time: its fallback takes the message
		n.recorder, // notification log and timeline: sent or failed; a retryable failure releases the claim
	)
	return chain(
		n.records,                     // lifecycle: fold the alert into its record (firing → acknowledged → resolved)
		n.silencer,                    // a silence mutes it (and counts as silenced when an inhibition would too)
		n.inhibitor,                   // an inhibiting alert mutes it
		n.unrouter,                    // an incident that paged nobody raises system.unrouted, once
		fanout(n.router, perReceiver), // once per receiver the incident was routed to
	)
}

// stage is one step of the pipeline. Exec does its one job on d and
// returns the delivery for the next stage, or nil to end the delivery
// there without an error (muted, grouped, sent already). An error ends it
// too; the bus redelivers the alert message later.
type stage interface {
	Exec(ctx context.Context, d *delivery) (*delivery, error)
}

// delivery is what flows through the stages: an alert on its way to the
// receivers of its record.
type delivery struct {
	// alert is the incoming alert; nil when a stored record is delivered
	// again (a tick, a resolution by hand), which skips the lifecycle.
	alert *model.Alert
	rec   *Record
	// moved says the lifecycle moved in this handling: a mute is counted
	// once per move, not on every redelivery.
	moved bool
	// silences and inhibitor are read once for many deliveries (a tick);
	// nil: the stages read them when they need them.
	silences  *silence.Set
	inhibitor *inhibit.Index
	// owed are the notifications of the record owed from earlier
	// attempts, as a tick read them; nil outside a tick.
	owed []owedEntry

	// Per receiver, set by the router's fanout and the stages after it.
	recv Receiver
	dest Matched
	key  string                // the notification log entry claimed
	note *channel.Notification // what was sent
	err  error                 // what sending it came to
}

// chained runs stages in order until one ends the delivery.
type chained []stage

func chain(stages ...stage) stage { return chained(stages) }

func (c chained) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	for _, s := range c {
		var err error
		if d, err = s.Exec(ctx, d); err != nil || d == nil {
			return nil, err
		}
	}
	return d, nil
}

// splitter turns one delivery into one per destination.
type splitter interface {
	split(d *delivery) []*delivery
}

// fanned runs next once per delivery split makes of d, all at once, so a
// slow or failing receiver holds up no other, and joins their errors, each
// named by its receiver.
type fanned struct {
	split splitter
	next  stage
}

func fanout(s splitter, next stage) stage { return &fanned{split: s, next: next} }

func (f *fanned) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	ds := f.split.split(d)
	errs := make([]error, len(ds))
	run := func(i int) {
		if _, err := f.next.Exec(ctx, ds[i]); err != nil {
			errs[i] = fmt.Errorf("receiver %s: %w", ds[i].recv.Name, err)
		}
	}
	if len(ds) == 1 {
		run(0)
		return nil, errs[0]
	}
	var wg sync.WaitGroup
	for i := range ds {
		wg.Go(func() { run(i) })
	}
	wg.Wait()
	return nil, errors.Join(errs...)
}

// premuted holds the silences and the inhibition sources read once, so a
// tick or a listing checks many alerts without reading the store for each.
type premuted struct {
	silences  *silence.Set
	inhibitor *inhibit.Index
}

// premute reads the silences and takes active as the active alerts.
func (n *Notifier) premute(ctx context.Context, active []Record) (*premuted, error) {
	set, err := n.silencer.active(ctx)
	if err != nil {
		return nil, err
	}
	return &premuted{silences: set, inhibitor: n.inhibitor.index(active)}, nil
}

// muted reports whether the inhibition or the silence stage would end d,
// for the parts of the notifier that send outside the pipeline (group
// flushes, escalation pages).
func muted(ctx context.Context, d *delivery, i *inhibitor, s *silencer) (bool, error) {
	if by, err := i.by(ctx, d); err != nil || by != "" {
		return by != "", err
	}
	by, err := s.by(ctx, d)
	return len(by) > 0, err
}
