package notify

import (
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestNoKeyspaceWalkOnHotPaths runs the notifier against a real Redis that
// also holds many keys of no concern to it, and fails when handling an
// alert or ticking sends SCAN or KEYS: those cost as much as the keyspace.
// INFO commandstats before and after counts what the server executed.
func TestNoKeyspaceWalkOnHotPaths(t *testing.T) {
	ctx := t.Context()
	addr := redistest.Start(t)
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	st, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}, Prefix: "noscan:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := clockwork.NewFakeClockAt(escStart)
	n := newTestNotifier(t, Options{
		Store: st, Receivers: []Receiver{{Name: "r", Channels: []channel.Channel{newRecorder("c")}}},
		Route: &Route{Receiver: "r"}, Clock: clock, Log: zap.NewNop(), Policies: testPolicies(nil),
	})
	alert := func(i int) *model.Alert {
		return &model.Alert{Labels: model.LabelSet{"alertname": "account.stale", "severity": "critical",
			"account_id": fmt.Sprint("acc-", i), "unit": "u"}, StartsAt: escStart}
	}
	// The first handling and tick build the indexes from the keyspace
	// once (the migration); what follows is the steady state.
	if err := n.Handle(ctx, alert(0)); err != nil {
		t.Fatal(err)
	}
	if err := n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	redistest.Fill(t, raw, "noscan:collector/seen/", 20000)
	walks := func() int64 { return redistest.Walks(t, raw) }
	before := walks()
	for i := 1; i <= 20; i++ {
		if err := n.Handle(ctx, alert(i)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Minute)
		if err := n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := walks() - before; got != 0 {
		t.Fatalf("20 alerts and ticks sent %d SCAN/KEYS commands, want 0", got)
	}
}
