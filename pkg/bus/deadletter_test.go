package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestRedisPauseSpendsNoDelivery stops the real redis-server (SIGSTOP) the
// handler writes to, under traffic, for many times what five deliveries of
// the shortened ack wait would take, then resumes it (SIGCONT): every
// message is handled exactly once, on its first delivery, none is
// dead-lettered, and the bus is not ready while paused.
func TestRedisPauseSpendsNoDelivery(t *testing.T) {
	addr := redistest.Start(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, ReadTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, MaxRetries: -1})
	defer rdb.Close()
	reg := prometheus.NewRegistry()
	b := openEmbedded(t, Options{Metrics: reg})
	var checks atomic.Int64
	b.SetDependencyCheck(func(ctx context.Context) error {
		checks.Add(1)
		return rdb.Ping(ctx).Err()
	})

	var mu sync.Mutex
	handled := map[uint64][]uint64{} // stream seq → NumDelivered of each successful handling
	const before, during = 20, 10
	publishPosts(t, b, before)
	resume := redistest.Stop(t, rdb)
	const ackWait = 500 * time.Millisecond
	consumeInBackground(t, b, ConsumerConfig{
		Stream: StreamPosts, Durable: "paused", AckWait: ackWait, MaxDeliver: 5,
		Backoff: []time.Duration{time.Millisecond}, ProbeInterval: 20 * time.Millisecond, Concurrency: 2,
	}, func(ctx context.Context, m Message) error {
		if err := rdb.SetNX(ctx, fmt.Sprintf("seen/%d", m.StreamSeq), 1, 0).Err(); err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		mu.Lock()
		handled[m.StreamSeq] = append(handled[m.StreamSeq], m.NumDelivered)
		mu.Unlock()
		return nil
	})
	eventually(t, 10*time.Second, "the consumer paused", func() bool {
		err := b.Ready()
		return err != nil && strings.Contains(err.Error(), "consumer GOVWATCH_POSTS/paused paused")
	})
	if v := testutil.ToFloat64(b.metrics.paused.WithLabelValues(StreamPosts, "paused")); v != 1 {
		t.Errorf("govwatch_bus_consumer_paused = %v while paused, want 1", v)
	}
	// Traffic during the outage.
	for i := before; i < before+during; i++ {
		if _, err := b.PublishPost(context.Background(), testPost(i)); err != nil {
			t.Fatal(err)
		}
	}
	// Five deliveries would take 5 × (ack wait or read timeout) ≈ 2.5 s;
	// stay stopped for 150 failed checks (≥ 3 s of probing at 20 ms).
	eventually(t, 60*time.Second, "150 failed dependency checks", func() bool { return checks.Load() >= 150 })
	resume()
	eventually(t, 30*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(handled) == before+during
	})
	eventually(t, 10*time.Second, "ready again", func() bool { return b.Ready() == nil })
	mu.Lock()
	for seq := uint64(1); seq <= before+during; seq++ {
		if got := handled[seq]; len(got) != 1 || got[0] != 1 {
			t.Errorf("message %d handled at deliveries %v, want once at delivery 1", seq, got)
		}
	}
	mu.Unlock()
	if dl, err := b.DeadLetters(context.Background()); err != nil || len(dl) != 0 {
		t.Errorf("dead letters %v (%v), want none", dl, err)
	}
	if v := testutil.ToFloat64(b.metrics.paused.WithLabelValues(StreamPosts, "paused")); v != 0 {
		t.Errorf("govwatch_bus_consumer_paused = %v after the resume, want 0", v)
	}
}

// TestPoisonIsDeadLetteredAndReplayed: a message the handler rejects as
// Permanent and one failing its last delivery land in GOVWATCH_DEADLETTER
// with their subject, error and deliveries, are counted, and a replay puts
// them back on their original subject.
func TestPoisonIsDeadLetteredAndReplayed(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := openEmbedded(t, Options{Metrics: reg})
	publishPosts(t, b, 3)
	var mu sync.Mutex
	var replayed []string
	var fixed atomic.Bool
	consumeInBackground(t, b, ConsumerConfig{
		Stream: StreamPosts, Durable: "poison", MaxDeliver: 2, AckWait: 5 * time.Second,
		Backoff: []time.Duration{time.Millisecond},
	}, func(_ context.Context, m Message) error {
		if fixed.Load() {
			mu.Lock()
			replayed = append(replayed, m.Subject)
			mu.Unlock()
			return nil
		}
		switch m.StreamSeq {
		case 1:
			return Permanent(errors.New("decode post: bad json"))
		case 2:
			return errors.New("detector broke")
		}
		return nil
	})
	var dl []DeadLetter
	eventually(t, 20*time.Second, "two dead letters", func() bool {
		var err error
		dl, err = b.DeadLetters(context.Background())
		return err == nil && len(dl) == 2
	})
	want := map[uint64]struct {
		reason, err string
		deliveries  uint64
	}{1: {ReasonPoison, "bad json", 1}, 2: {ReasonMaxDeliveries, "detector broke", 2}}
	for _, d := range dl {
		w := want[d.StreamSeq]
		if d.Reason != w.reason || !strings.Contains(d.Error, w.err) || d.Deliveries != w.deliveries ||
			d.Stream != StreamPosts || d.Consumer != "poison" || !strings.HasPrefix(d.Subject, "govwatch.post.weibo.") || d.FailedAt.IsZero() {
			t.Errorf("dead letter %+v, want %+v", d, w)
		}
	}
	for reason, n := range map[string]float64{ReasonPoison: 1, ReasonMaxDeliveries: 1} {
		if v := testutil.ToFloat64(b.metrics.dead.WithLabelValues(StreamPosts, reason)); v != n {
			t.Errorf("govwatch_bus_deadlettered_total{reason=%q} = %v, want %v", reason, v, n)
		}
	}
	fixed.Store(true)
	for _, d := range dl {
		if _, err := b.ReplayDeadLetter(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "both replayed", func() bool { mu.Lock(); defer mu.Unlock(); return len(replayed) == 2 })
	if left, err := b.DeadLetters(context.Background()); err != nil || len(left) != 0 {
		t.Errorf("after replay: %v (%v), want an empty dead-letter stream", left, err)
	}
	if _, err := b.ReplayDeadLetter(context.Background(), dl[0].ID); err == nil || !strings.Contains(err.Error(), "not in GOVWATCH_DEADLETTER") {
		t.Errorf("replaying twice: %v, want not in GOVWATCH_DEADLETTER", err)
	}
}

func TestIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("bad json"), false},
		{Unavailable(errors.New("x")), true},
		{fmt.Errorf("redis get k: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("detector: %w", context.DeadlineExceeded), true},
		{Permanent(context.DeadlineExceeded), false},
		{errors.Join(errors.New("a"), fmt.Errorf("b: %w", syscall.ECONNRESET)), true},
	} {
		if got := IsUnavailable(tc.err); got != tc.want {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
