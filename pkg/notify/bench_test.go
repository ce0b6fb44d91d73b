package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

// benchNotifier is the benchmarks' notifier: one receiver, the shipped
// inhibition of account.stale by system.source_down, policies, and a store
// that counts what it hands out.
func benchNotifier(b *testing.B, stores backend, policies []escalate.Policy) (*clockwork.FakeClock, *countingStore, *testNotifier) {
	b.Helper()
	clock, st0 := stores.at(b, escStart)
	st := &countingStore{Store: st0}
	ms, _ := match.ParseAll([]string{`alertname="system.source_down"`})
	tg, _ := match.ParseAll([]string{`alertname="account.stale"`})
	n := newTestNotifier(b, Options{
		Store: st, Receivers: []Receiver{{Name: "r", Channels: []channel.Channel{newRecorder("c")}}},
		Route: &Route{Receiver: "r"}, Clock: clock, Log: zap.NewNop(),
		Policies: policies, Inhibit: []inhibit.Rule{{Source: ms, Target: tg, Equal: []string{"account_id"}}},
	})
	return clock, st, n
}

// BenchmarkTick measures one tick over many active alerts with nothing due:
// the cost every replica pays every notifier.tick. Besides the time it
// reports the store's reads per tick: values read by Get and by Scan.
func BenchmarkTick(b *testing.B) {
	for _, stores := range backends {
		for _, alerts := range []int{100, 1000} {
			b.Run(fmt.Sprintf("store=%s/alerts=%d", stores.name, alerts), func(b *testing.B) {
				clock, st, n := benchNotifier(b, stores, testPolicies(nil))
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

// BenchmarkHandleTargeted measures handling one alert an inhibition rule
// targets (a repeat of an account.stale) while many other account.stale
// alerts and a few source alerts are active: what deciding whether it is
// inhibited costs. It reports the values read per handling.
func BenchmarkHandleTargeted(b *testing.B) {
	for _, stores := range backends {
		for _, alerts := range []int{300, 3000} {
			b.Run(fmt.Sprintf("store=%s/alerts=%d", stores.name, alerts), func(b *testing.B) {
				_, st, n := benchNotifier(b, stores, nil)
				ctx := b.Context()
				alert := func(name string, i int) *model.Alert {
					return &model.Alert{Labels: model.LabelSet{"alertname": name, "severity": "critical", "account_id": fmt.Sprint("acc-", i), "unit": "u"}, StartsAt: escStart}
				}
				for i := range alerts {
					if err := n.Handle(ctx, alert("account.stale", i)); err != nil {
						b.Fatal(err)
					}
				}
				for i := range 10 {
					if err := n.Handle(ctx, alert("system.source_down", alerts+i)); err != nil {
						b.Fatal(err)
					}
				}
				repeat := alert("account.stale", 0)
				st.scanned.Store(0)
				b.ResetTimer()
				for b.Loop() {
					if err := n.Handle(ctx, repeat); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(st.scanned.Load())/float64(b.N), "scanned/op")
			})
		}
	}
}
