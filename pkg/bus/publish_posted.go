package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/govwatch/govwatch/pkg/model"
)

// postedWindow is how many posted alerts are in flight at once while
// PublishPosted waits for the stream's acknowledgements.
const postedWindow = 512

// PostedSubject is the subject of an alert posted on the notifier's API:
// "<prefix>.alert.<alertname>" when the alertname is a subject's tokens,
// else "<prefix>.alert.api" (Alertmanager clients name alerts freely, e.g.
// "HighCPU"; the consumer reads the alert from the body, not the subject).
func PostedSubject(prefix, alertname string) string {
	if s, err := AlertSubject(prefix, alertname); err == nil {
		return s
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	return prefix + "." + string(KindAlert) + ".api"
}

// PostedMsgID is the Nats-Msg-Id of an alert posted on the API:
// "<fingerprint>@<startsAt>@<endsAt>@posted" in unix nanos. Clients repeat
// an alert to push its endsAt out; each new endsAt must pass, while the
// very same alert sent twice (a client's retry) is stored once.
func PostedMsgID(a *model.Alert) string {
	return a.Fingerprint() + "@" + strconv.FormatInt(a.StartsAt.UnixNano(), 10) + "@" +
		strconv.FormatInt(a.EndsAt.UnixNano(), 10) + "@posted"
}

// PublishPosted publishes alerts posted on the API to the alert stream and
// returns once the stream has stored every one of them (or an error naming
// the first that it did not). The publishes are pipelined, postedWindow at
// a time, so that a batch of thousands is stored in well under a second
// instead of one round trip after another.
func (b *Bus) PublishPosted(ctx context.Context, alerts []model.Alert) error {
	stream := b.Stream(KindAlert)
	for start := 0; start < len(alerts); start += postedWindow {
		end := min(start+postedWindow, len(alerts))
		futures := make([]jetstream.PubAckFuture, 0, end-start)
		for i := start; i < end; i++ {
			a := &alerts[i]
			if a.StartsAt.IsZero() || a.EndsAt.IsZero() {
				return fmt.Errorf("publish posted alert %d (%s): startsAt and endsAt must be set", i, a.Fingerprint())
			}
			data, err := json.Marshal(a)
			if err != nil {
				b.metrics.publishedInc(stream, "error")
				return fmt.Errorf("publish posted alert %d (%s): %w", i, a.Fingerprint(), err)
			}
			msg := &nats.Msg{Subject: PostedSubject(b.opts.Prefix, a.Name()), Data: data, Header: nats.Header{}}
			f, err := b.js.PublishMsgAsync(msg, jetstream.WithMsgID(PostedMsgID(a)), jetstream.WithExpectStream(stream))
			if err != nil {
				b.metrics.publishedInc(stream, "error")
				return fmt.Errorf("publish posted alert %d (%s): %w", i, a.Fingerprint(), err)
			}
			futures = append(futures, f)
		}
		for j, f := range futures {
			select {
			case ack := <-f.Ok():
				if ack.Duplicate {
					b.metrics.publishedInc(stream, "duplicate")
				} else {
					b.metrics.publishedInc(stream, "ok")
				}
			case err := <-f.Err():
				b.metrics.publishedInc(stream, "error")
				return fmt.Errorf("publish posted alert %d (%s): %w", start+j, alerts[start+j].Fingerprint(), err)
			case <-ctx.Done():
				return fmt.Errorf("publish posted alerts: %d of %d stored: %w", start+j, len(alerts), ctx.Err())
			}
		}
	}
	return nil
}
