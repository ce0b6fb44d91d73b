package notify

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// fallback is the fallback stage: when the send stage failed with a
// retryable error and the receiver has now failed FallbackAfter times in a
// row, its fallback receiver takes the notification, and the delivery
// counts as sent if the fallback took it.
type fallback struct {
	receivers map[string]Receiver
	failures  *failureRuns
	sender    *sender
	log       *zap.Logger
}

func (f *fallback) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	if d.err == nil || !channel.Retryable(d.err) {
		return d, nil
	}
	fb, ok := f.due(ctx, d.recv)
	if !ok {
		return d, nil
	}
	f.log.Warn("receiver keeps failing; using its fallback", zap.String("receiver", d.recv.Name), zap.String("fallback", fb.Name), zap.Error(d.err))
	d.note.Receiver = fb.Name
	if err := f.sender.send(ctx, fb, d.note); err != nil {
		d.err = errors.Join(d.err, fmt.Errorf("fallback %s: %w", fb.Name, err))
	} else {
		d.err = nil
	}
	return d, nil
}

// due returns recv's fallback receiver when recv has failed often enough in a row.
func (f *fallback) due(ctx context.Context, recv Receiver) (Receiver, bool) {
	if recv.Fallback == "" {
		return Receiver{}, false
	}
	fb, ok := f.receivers[recv.Fallback]
	if !ok {
		return Receiver{}, false
	}
	v, err := f.failures.count(ctx, recv.Name)
	if err != nil || v < int64(max(recv.FallbackAfter, 1)) {
		return Receiver{}, false
	}
	return fb, true
}
