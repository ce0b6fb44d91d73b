package bustest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/model"
)

// AlertStream returns the state of the bus's alert stream: how many
// messages it keeps and their first and last sequence numbers.
func AlertStream(tb testing.TB, b *bus.Bus) jetstream.StreamState {
	tb.Helper()
	ctx, stream, cancel := alertStream(tb, b)
	defer cancel()
	info, err := stream.Info(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	return info.State
}

// Alerts reads every alert the bus's alert stream keeps (up to 1000), in
// order, failing tb when one is not on the subject of its category.
func Alerts(tb testing.TB, b *bus.Bus) []model.Alert {
	tb.Helper()
	ctx, stream, cancel := alertStream(tb, b)
	defer cancel()
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		tb.Fatal(err)
	}
	batch, err := cons.FetchNoWait(1000)
	if err != nil {
		tb.Fatal(err)
	}
	var out []model.Alert
	for m := range batch.Messages() {
		var a model.Alert
		if err := json.Unmarshal(m.Data(), &a); err != nil {
			tb.Fatal(err)
		}
		if want, err := bus.AlertSubject(b.Prefix(), a.Name()); err != nil || m.Subject() != want {
			tb.Errorf("alert %s on subject %q, want %q (%v)", a.Name(), m.Subject(), want, err)
		}
		out = append(out, a)
	}
	return out
}

// alertStream finds the bus's alert stream under a context that bounds
// what the caller does with it; the caller calls cancel.
func alertStream(tb testing.TB, b *bus.Bus) (context.Context, jetstream.Stream, context.CancelFunc) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	stream, err := b.JetStream().Stream(ctx, b.Stream(bus.KindAlert))
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	return ctx, stream, cancel
}
