package bus

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/model"
)

// seen records handler calls by stream sequence.
type seen struct {
	mu    sync.Mutex
	calls map[uint64][]uint64 // stream seq → NumDelivered of each call
}

func newSeen() *seen { return &seen{calls: map[uint64][]uint64{}} }

func (s *seen) add(m Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[m.StreamSeq] = append(s.calls[m.StreamSeq], m.NumDelivered)
}

func (s *seen) get(seq uint64) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.calls[seq]...)
}

func (s *seen) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func (s *seen) seqs() map[uint64]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[uint64]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = len(v)
	}
	return out
}

// consumerInfo is the durable's state; zero before Consume created it.
func consumerInfo(t *testing.T, b *Bus, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := b.JetStream().Consumer(ctx, stream, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return &jetstream.ConsumerInfo{} // Consume has not created it yet
	}
	if err != nil {
		t.Fatalf("consumer %s: %v", durable, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatalf("consumer info %s: %v", durable, err)
	}
	return info
}

func TestConsumeDeliversPost(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := openEmbedded(t, Options{Metrics: reg})
	want := testPost(3)
	if _, err := b.PublishPost(context.Background(), want); err != nil {
		t.Fatal(err)
	}
	got := make(chan Message, 1)
	consumeInBackground(t, b, ConsumerConfig{Stream: StreamPosts, Durable: "analyzer"}, func(ctx context.Context, m Message) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("handler context has no deadline")
		}
		got <- m
		return nil
	})
	var m Message
	select {
	case m = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	var p model.Post
	if err := json.Unmarshal(m.Data, &p); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if p.ID != want.ID || p.ContentHash != want.ContentHash {
		t.Errorf("got post %s@%s, want %s", p.ID, p.ContentHash, want.MsgID())
	}
	if m.NumDelivered != 1 || m.StreamSeq != 1 || m.Timestamp.IsZero() {
		t.Errorf("got delivered %d seq %d ts %v, want 1, 1, non-zero", m.NumDelivered, m.StreamSeq, m.Timestamp)
	}
	if got := m.Header.Get("Nats-Msg-Id"); got != want.MsgID() {
		t.Errorf("got msg id %q, want %q", got, want.MsgID())
	}
	eventually(t, 5*time.Second, "ack counted", func() bool {
		return counterValues(t, reg, "govwatch_bus_handled_total")[StreamPosts+"/ack"] == 1
	})
	eventually(t, 5*time.Second, "ack floor", func() bool {
		info := consumerInfo(t, b, StreamPosts, "analyzer")
		return info.AckFloor.Stream == 1 && info.NumAckPending == 0
	})
}

func TestConsumeOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		maxDeliver int
		handler    func(m Message) error
		wantCalls  int  // handler calls for the message
		wantMaxDel bool // a MAX_DELIVERIES advisory is expected
	}{
		{"error is redelivered", 5, func(m Message) error {
			if m.NumDelivered == 1 {
				return errors.New("store down")
			}
			return nil
		}, 2, false},
		{"wrapped permanent is terminated", 5, func(Message) error {
			return errors.Join(errors.New("decode"), Permanent(errors.New("bad json")))
		}, 1, false},
		{"max deliver respected, then dead-lettered", 3, func(Message) error { return errors.New("always") }, 3, false},
		{"panic is retried", 2, func(m Message) error {
			if m.NumDelivered == 1 {
				panic("boom")
			}
			return nil
		}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openEmbedded(t, Options{})
			durable := "outcomes"
			advisory := make(chan struct{}, 1)
			sub, err := b.Conn().Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."+StreamPosts+"."+durable, func(*nats.Msg) {
				select {
				case advisory <- struct{}{}:
				default:
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Unsubscribe()
			// A second message after the first shows the consumer moved on.
			publishPosts(t, b, 2)
			s := newSeen()
			consumeInBackground(t, b, ConsumerConfig{
				Stream: StreamPosts, Durable: durable, MaxDeliver: tt.maxDeliver,
				Backoff: []time.Duration{10 * time.Millisecond}, AckWait: 5 * time.Second,
			}, func(_ context.Context, m Message) error {
				s.add(m)
				if m.StreamSeq == 1 {
					return tt.handler(m)
				}
				return nil
			})

			if tt.wantMaxDel {
				select {
				case <-advisory:
				case <-time.After(10 * time.Second):
					t.Fatal("no MAX_DELIVERIES advisory")
				}
			} else {
				// Done when nothing is left unacknowledged.
				eventually(t, 10*time.Second, "message settled", func() bool {
					info := consumerInfo(t, b, StreamPosts, durable)
					return info.AckFloor.Stream == 2 && info.NumAckPending == 0 && info.NumPending == 0
				})
			}
			eventually(t, 5*time.Second, "second message", func() bool { return len(s.get(2)) == 1 })
			calls := s.get(1)
			if len(calls) != tt.wantCalls {
				t.Fatalf("got %d calls %v, want %d", len(calls), calls, tt.wantCalls)
			}
			for i, n := range calls {
				if n != uint64(i+1) {
					t.Errorf("call %d: got NumDelivered %d, want %d", i, n, i+1)
				}
			}
		})
	}
}

func TestConsumeSharedDurableSplitsWork(t *testing.T) {
	b := openEmbedded(t, Options{Listen: "127.0.0.1:0"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// The second replica is another connection, as another process would be.
	b2, err := Open(ctx, Options{URLs: []string{b.ClientURL()}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b2.Close() })

	const n = 300
	publishPosts(t, b, n)
	cfg := ConsumerConfig{Stream: StreamPosts, Durable: "shared", Concurrency: 2}
	all := newSeen()
	var per [2]atomic.Int64
	// Each replica holds its first message until the other has one too, so
	// a replica slow to start under load still gets a share.
	var first [2]sync.Once
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	for i, bb := range []*Bus{b, b2} {
		consumeInBackground(t, bb, cfg, func(ctx context.Context, m Message) error {
			all.add(m)
			per[i].Add(1)
			first[i].Do(func() { close(started[i]) })
			select {
			case <-started[1-i]:
			case <-ctx.Done():
			}
			return nil
		})
	}
	eventually(t, 20*time.Second, "all messages", func() bool { return all.distinct() == n })
	eventually(t, 5*time.Second, "all acked", func() bool {
		info := consumerInfo(t, b, StreamPosts, "shared")
		return info.NumAckPending == 0 && info.AckFloor.Stream == n
	})
	for seq, c := range all.seqs() {
		if c != 1 {
			t.Errorf("seq %d handled %d times, want 1", seq, c)
		}
	}
	if per[0].Load() == 0 || per[1].Load() == 0 {
		t.Errorf("got split %d/%d, want both replicas working", per[0].Load(), per[1].Load())
	}
	t.Logf("split %d/%d", per[0].Load(), per[1].Load())
}

func TestConsumeCancelLosesNothing(t *testing.T) {
	b := openEmbedded(t, Options{})
	const n = 400
	publishPosts(t, b, n)
	cfg := ConsumerConfig{Stream: StreamPosts, Durable: "restart", Concurrency: 4, Prefetch: 50, AckWait: 2 * time.Second}

	first := newSeen()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var inFlightCancelled atomic.Int64
	go func() {
		done <- b.Consume(ctx, cfg, func(hctx context.Context, m Message) error {
			time.Sleep(2 * time.Millisecond)
			if hctx.Err() != nil {
				inFlightCancelled.Add(1)
			}
			first.add(m)
			return nil
		})
	}()
	eventually(t, 10*time.Second, "first consumer halfway", func() bool { return first.distinct() >= n/4 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("consume: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consume did not return after cancel")
	}
	if c := inFlightCancelled.Load(); c != 0 {
		t.Errorf("%d in-flight handlers saw a cancelled context", c)
	}
	handledFirst := first.seqs()
	if len(handledFirst) >= n {
		t.Fatalf("first consumer handled all %d before cancel; test proves nothing", n)
	}
	// A fresh consumer on the same durable gets everything else, nothing twice.
	second := newSeen()
	consumeInBackground(t, b, cfg, func(_ context.Context, m Message) error {
		second.add(m)
		return nil
	})
	eventually(t, 20*time.Second, "every message handled once", func() bool {
		return len(handledFirst)+second.distinct() >= n
	})
	eventually(t, 5*time.Second, "all acked", func() bool {
		info := consumerInfo(t, b, StreamPosts, "restart")
		return info.NumAckPending == 0 && info.NumPending == 0 && info.AckFloor.Stream == n
	})
	for seq := range second.seqs() {
		if handledFirst[seq] > 0 {
			t.Errorf("seq %d acked by the first consumer came back", seq)
		}
	}
	for seq := uint64(1); seq <= n; seq++ {
		if handledFirst[seq]+len(second.get(seq)) == 0 {
			t.Errorf("seq %d lost", seq)
		}
	}
	t.Logf("first %d, second %d", len(handledFirst), second.distinct())
}
