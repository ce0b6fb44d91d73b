package notify

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// BenchmarkTick measures one tick over many active alerts with nothing due:
// the cost every replica pays every notifier.tick. Besides the time it
// reports the store's reads per tick: values read by Get and by Scan.
func BenchmarkTick(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, clock clockwork.Clock) store.Store
	}{
		{"embedded", func(b *testing.B, clock clockwork.Clock) store.Store {
			s, err := embedded.Open(filepath.Join(b.TempDir(), "state.db"), embedded.WithClock(clock))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
		{"redis", func(b *testing.B, _ clockwork.Clock) store.Store {
			s, err := redis.Open(b.Context(), redis.Options{Addrs: []string{redistest.Start(b)}})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}},
	}
	for _, sto := range stores {
		for _, alerts := range []int{100, 1000} {
			b.Run(fmt.Sprintf("store=%s/alerts=%d", sto.name, alerts), func(b *testing.B) {
				clock := clockwork.NewFakeClockAt(escStart)
				st := &countingStore{Store: sto.open(b, clock)}
				ms, _ := match.ParseAll([]string{`alertname="system.source_down"`})
				tg, _ := match.ParseAll([]string{`alertname="account.stale"`})
				n, err := New(withRequired(b, Options{
					Store: st, Receivers: []Receiver{{Name: "r", Channels: []channel.Channel{newRecorder("c")}}},
					Route: &Route{Receiver: "r"}, Clock: clock, Log: zap.NewNop(), Metrics: prometheus.NewRegistry(),
					Policies: testPolicies(nil), Inhibit: []inhibit.Rule{{Source: ms, Target: tg, Equal: []string{"account_id"}}},
				}))
				if err != nil {
					b.Fatal(err)
				}
				ctx := b.Context()
				for i := range alerts {
					a := &model.Alert{Labels: model.LabelSet{"alertname": "account.stale", "severity": "critical", "account_id": fmt.Sprint("acc-", i), "unit": "u"}, StartsAt: escStart}
					if err := n.Handle(ctx, a); err != nil {
						b.Fatal(err)
					}
				}
				clock.Advance(time.Minute) // nothing due until 15m
				st.gets.Store(0)
				st.scanned.Store(0)
				b.ResetTimer()
				for b.Loop() {
					if err := n.Tick(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(st.gets.Load())/float64(b.N), "gets/op")
				b.ReportMetric(float64(st.scanned.Load())/float64(b.N), "scanned/op")
			})
		}
	}
}

// countingStore counts the values a store hands out.
type countingStore struct {
	store.Store
	gets, scanned atomic.Int64
}

func (s *countingStore) Get(ctx context.Context, key string) ([]byte, error) {
	s.gets.Add(1)
	return s.Store.Get(ctx, key)
}

func (s *countingStore) Scan(ctx context.Context, prefix string, fn func(string, []byte) error) error {
	return s.Store.Scan(ctx, prefix, func(k string, v []byte) error {
		s.scanned.Add(1)
		return fn(k, v)
	})
}
