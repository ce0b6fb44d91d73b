package notify

import (
	"context"
	"errors"
	"fmt"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// sender is the send stage: it composes the notification of the delivery's
// record for its receiver and passes it to every channel of the receiver,
// repeating retryable failures with exponential backoff on the notifier's
// clock (the one place backoff lives). Its outcome goes on the delivery for
// the fallback and record stages. Group flushes and escalation pages send
// through it too.
type sender struct {
	retry    RetryPolicy
	clock    clockwork.Clock
	failures *failureRuns
	breaker  *breaker
	notes    *composer
	m        *metrics
}

func (s *sender) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	d.note = s.notes.forReceiver(d.recv.Name, d.rec)
	d.note.ID = notificationID(d.key, d.recv.Name)
	d.err = s.send(ctx, d.recv, d.note)
	return d, nil
}

// send passes note to every channel of recv, each with retries, unless
// recv's breaker is open. A success clears the receiver's run of failures;
// a retryable failure adds to it.
func (s *sender) send(ctx context.Context, recv Receiver, note *channel.Notification) error {
	if ok, err := s.breaker.allow(ctx, recv); err != nil {
		return err
	} else if !ok {
		return errBreakerOpen
	}
	var failed []error
	for _, ch := range recv.Channels {
		err := s.attempts(ctx, recv.Name, ch, note)
		result := "ok"
		if err != nil {
			result = "error"
			failed = append(failed, fmt.Errorf("%s: %w", ch.Name(), err))
		}
		s.m.notifications.WithLabelValues(ch.Name(), recv.Name, result).Inc()
	}
	err := errors.Join(failed...)
	return errors.Join(err, s.failures.observe(ctx, recv.Name, err))
}

// attempts repeats retryable failures of ch with exponential backoff.
func (s *sender) attempts(ctx context.Context, receiver string, ch channel.Channel, note *channel.Notification) error {
	delay := s.retry.Initial
	var err error
	for attempt := 1; ; attempt++ {
		if err = ch.Notify(ctx, note); err == nil || !channel.Retryable(err) || attempt >= s.retry.Attempts {
			return err
		}
		s.m.retries.WithLabelValues(ch.Name(), receiver).Inc()
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-s.clock.After(delay):
		}
		delay = min(delay*2, s.retry.Max)
	}
}
