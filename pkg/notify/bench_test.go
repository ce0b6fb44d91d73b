package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

// BenchmarkTick measures one tick over many active alerts with nothing due:
// the cost every replica pays every notifier.tick.
func BenchmarkTick(b *testing.B) {
	for _, alerts := range []int{100, 1000} {
		b.Run(fmt.Sprintf("alerts=%d", alerts), func(b *testing.B) {
			clock := clockwork.NewFakeClockAt(escStart)
			st := openEmbedded(&testing.T{}, clock)
			ms, _ := match.ParseAll([]string{`alertname="system.source_down"`})
			tg, _ := match.ParseAll([]string{`alertname="account.stale"`})
			n, err := New(Options{
				Store: st, Receivers: []Receiver{{Name: "r", Channels: []channel.Channel{newRecorder("c")}}},
				Route: &Route{Receiver: "r"}, Clock: clock, Log: zap.NewNop(), Metrics: prometheus.NewRegistry(),
				Policies: testPolicies(nil), Inhibit: []inhibit.Rule{{Source: ms, Target: tg, Equal: []string{"account_id"}}},
			})
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
			b.ResetTimer()
			for b.Loop() {
				if err := n.Tick(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
