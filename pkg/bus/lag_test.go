package bus

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/metric/metrictest"
)

// gauge returns the value of the series name{stream, consumer} in reg, and
// whether it exists.
func gauge(t *testing.T, reg *prometheus.Registry, name, stream, consumer string) (float64, bool) {
	t.Helper()
	return metrictest.Sum(t, reg, name, map[string]string{"stream": stream, "consumer": consumer})
}

// TestConsumerLag follows a consumer's backlog through a stuck handler, its
// release and the end of Consume.
func TestConsumerLag(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := openEmbedded(t, Options{Metrics: reg})
	// A second bus on the same registry joins the same collector.
	openEmbedded(t, Options{Metrics: reg})
	publishPosts(t, b, 10)

	const durable = "lag-test"
	if _, ok := gauge(t, reg, "govwatch_bus_consumer_pending_messages", StreamPosts, durable); ok {
		t.Fatal("pending series before anyone consumes; want none")
	}

	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(ctx, ConsumerConfig{Stream: StreamPosts, Durable: durable, MaxAckPending: 1, Prefetch: 1},
			func(context.Context, Message) error { <-release; return nil })
	}()

	type want struct{ pending, ackPending float64 }
	expect := func(what string, w want) {
		t.Helper()
		var gotP, gotA float64
		var okP, okA bool
		deadline := time.Now().Add(20 * time.Second)
		for {
			gotP, okP = gauge(t, reg, "govwatch_bus_consumer_pending_messages", StreamPosts, durable)
			gotA, okA = gauge(t, reg, "govwatch_bus_consumer_ack_pending_messages", StreamPosts, durable)
			if okP && okA && gotP == w.pending && gotA == w.ackPending {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: pending %v (present %v), ack pending %v (present %v); want %v and %v",
					what, gotP, okP, gotA, okA, w.pending, w.ackPending)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	expect("handler stuck on the first post", want{pending: 9, ackPending: 1})
	close(release)
	expect("all handled", want{pending: 0, ackPending: 0})

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("consume: %v", err)
	}
	if _, ok := gauge(t, reg, "govwatch_bus_consumer_pending_messages", StreamPosts, durable); ok {
		t.Error("pending series after Consume returned; want none")
	}
}
