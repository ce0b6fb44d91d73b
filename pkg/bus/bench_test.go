package bus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPublishPost publishes distinct ~1 KB posts with their Msg-Id to
// an embedded server with file storage, one at a time (each waits for its
// ack), as one collector does.
func BenchmarkPublishPost(b *testing.B) {
	bus := openEmbedded(b, Options{})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		if _, err := bus.PublishPost(ctx, testPost(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkConsume drains b.N stored posts through Consume with an empty
// handler and synchronous acks.
func BenchmarkConsume(b *testing.B) {
	for _, conc := range []int{1, 4} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			bus := openEmbedded(b, Options{})
			publishPosts(b, bus, b.N)
			var handled atomic.Int64
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			n := int64(b.N)
			b.ResetTimer()
			start := time.Now()
			errc := make(chan error, 1)
			go func() {
				errc <- bus.Consume(ctx, ConsumerConfig{Stream: StreamPosts, Durable: "bench", Concurrency: conc},
					func(context.Context, Message) error {
						if handled.Add(1) == n {
							close(done)
						}
						return nil
					})
			}()
			select {
			case <-done:
			case err := <-errc:
				b.Fatalf("consume: %v", err)
			case <-time.After(5 * time.Minute):
				b.Fatalf("handled %d of %d", handled.Load(), n)
			}
			b.StopTimer()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
			cancel()
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
		})
	}
}
