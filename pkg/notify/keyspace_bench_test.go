package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/backendstest"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// BenchmarkKeyspace measures what handling one alert and one tick cost on a
// store that also holds 50 thousand, 1 million and 10 million keys of other
// kinds (backendstest.Keyspace; a 300,000-account deployment holds 7 to 60
// million): flat, since the notifier reads by key and from its kinds'
// indexes. On Redis it also reports the commands each alert and tick sent.
//
//	go test -run '^$' -bench BenchmarkKeyspace -benchtime 100x ./pkg/notify/
func BenchmarkKeyspace(b *testing.B) {
	backendstest.Keyspace(b, keyspaceRun)
}

// keyspaceRun times alerts and ticks on st at one size; commands, when not
// nil, counts what the server executed.
func keyspaceRun(b *testing.B, st store.Store, keys int, commands func() int64) {
	ctx := b.Context()
	clock := clockwork.NewFakeClockAt(escStart)
	n := newTestNotifier(b, Options{
		Store: st, Receivers: []Receiver{{Name: "r", Channels: []channel.Channel{newRecorder("c")}}},
		Route: &Route{Receiver: "r"}, Clock: clock, Log: zap.NewNop(), Policies: testPolicies(nil),
	})
	i := 0
	alert := func() *model.Alert {
		i++
		return &model.Alert{Labels: model.LabelSet{"alertname": "account.stale", "severity": "critical",
			"account_id": fmt.Sprint("acc-", i), "unit": "u"}, StartsAt: escStart}
	}
	// 200 alerts already active, as a busy province has, and one tick: the
	// first listing of each kind builds its index from the keyspace once
	// (the migration), which is not the steady state.
	for range 200 {
		if err := n.Handle(ctx, alert()); err != nil {
			b.Fatal(err)
		}
	}
	if err := n.Tick(ctx); err != nil {
		b.Fatal(err)
	}
	run := func(name string, op func() error) {
		b.Run(fmt.Sprintf("keys=%s/op=%s", redistest.Short(keys), name), func(b *testing.B) {
			var before int64
			if commands != nil {
				before = commands()
			}
			for b.Loop() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
			if commands != nil {
				b.ReportMetric(float64(commands()-before)/float64(b.N), "redis-cmds/op")
			}
		})
	}
	run("alert", func() error { return n.Handle(ctx, alert()) })
	run("tick", func() error { clock.Advance(time.Second); return n.Tick(ctx) })
}
