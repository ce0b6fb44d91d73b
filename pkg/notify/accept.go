package notify

import (
	"context"
	"fmt"

	"github.com/govwatch/govwatch/pkg/model"
)

// postedPublisher is what Accept needs of the bus: *bus.Bus's
// PublishPosted, which returns once the stream stored every alert.
type postedPublisher interface {
	PublishPosted(ctx context.Context, alerts []model.Alert) error
}

// Accept takes alerts posted on the API. Each gets its missing times from
// the moment it was received: one without startsAt starts then, one
// without endsAt ends resolve_timeout after its start (or after its
// receipt, for a start still ahead) unless it is posted again. On a
// notifier with a bus the alerts go on the alert stream, stored before
// Accept returns, and the consumer runs them through the pipeline as it
// does the analyzer's: the request does not wait for any delivery, and a
// notifier that dies after answering loses nothing. A notifier without a
// bus (one that only serves an API, as in tests) handles them at once.
func (n *Notifier) Accept(ctx context.Context, alerts []model.Alert) error {
	for i := range alerts {
		n.records.stamp(&alerts[i])
	}
	if n.bus == nil {
		for i := range alerts {
			if err := n.Handle(ctx, &alerts[i]); err != nil {
				return fmt.Errorf("alerts[%d]: %w", i, err)
			}
		}
		return nil
	}
	p, ok := n.bus.(postedPublisher)
	if !ok {
		return fmt.Errorf("the notifier's bus cannot store posted alerts (no PublishPosted)")
	}
	return p.PublishPosted(ctx, alerts)
}
