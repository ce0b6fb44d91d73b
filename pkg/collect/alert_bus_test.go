package collect

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/model"
)

// Two replicas repeat system.source_down on every failure past the
// threshold; JetStream keeps one firing and one resolution.
func TestSourceDownOnTheBusIsOneAlertFromAllReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := bustest.Open(t, bus.Options{})
	reg := testRegistry(t, 1)
	o := Options{Interval: time.Minute, FailureThreshold: 2, Backoff: pace.Backoff{Initial: time.Minute, Max: time.Minute}, Alerts: b}
	f := startFleet(t, openState(t), reg, 2, o)
	f.src.mu.Lock()
	f.src.fail = retryErr{}
	f.src.mu.Unlock()
	f.run(t, 8*time.Minute, time.Minute)
	f.src.mu.Lock()
	f.src.fail = nil
	f.src.mu.Unlock()
	f.run(t, 3*time.Minute, time.Minute)

	stream, err := b.JetStream().Stream(ctx, b.Stream(bus.KindAlert))
	if err != nil {
		t.Fatal(err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(100)
	if err != nil {
		t.Fatal(err)
	}
	var got []model.Alert
	for m := range batch.Messages() {
		var a model.Alert
		if err := json.Unmarshal(m.Data(), &a); err != nil {
			t.Fatal(err)
		}
		if want := "govwatch.alert." + model.CategorySystemSourceDown; m.Subject() != want {
			t.Errorf("subject %q, want %q", m.Subject(), want)
		}
		got = append(got, a)
	}
	if len(got) != 2 {
		t.Fatalf("%d alerts in the stream, want one firing and one resolution: %+v", len(got), got)
	}
	if !got[0].EndsAt.IsZero() || got[1].EndsAt.IsZero() || !got[0].StartsAt.Equal(got[1].StartsAt) {
		t.Errorf("stream holds %v→%v then %v→%v, want firing then resolved with one startsAt",
			got[0].StartsAt, got[0].EndsAt, got[1].StartsAt, got[1].EndsAt)
	}
}
