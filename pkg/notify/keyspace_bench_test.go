package notify

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// BenchmarkKeyspace measures what handling one alert and one tick cost on a
// store that also holds 50 thousand, 1 million and 10 million keys of other
// kinds (a 300,000-account deployment holds 7 to 60 million): flat, since
// the notifier reads by key and from its kinds' indexes. On Redis one server
// grows from size to size, each size under its own prefix; on the embedded
// store each size is a fresh bbolt file on tmpfs without fsync (the disk's
// cost is the same at every size), and its janitor is held off. The keys are
// written outside the timed part. On Redis it also reports the commands each
// alert and tick sent.
//
//	go test -run '^$' -bench BenchmarkKeyspace -benchtime 100x ./pkg/notify/
func BenchmarkKeyspace(b *testing.B) {
	sizes := []int{50_000, 1_000_000, 10_000_000}
	b.Run("store=redis", func(b *testing.B) {
		addr := redistest.Start(b)
		raw := goredis.NewClient(&goredis.Options{Addr: addr})
		b.Cleanup(func() { raw.Close() })
		filled := 0
		for _, keys := range sizes {
			redistest.Fill(b, raw, fmt.Sprint("ks:collector/seen/", filled, "-"), keys-filled)
			filled = keys
			st, err := redis.Open(b.Context(), redis.Options{Addrs: []string{addr}, Prefix: fmt.Sprint("ks:", keys, ":")})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			keyspaceRun(b, st, keys, func() int64 { return redistest.Commands(b, raw) })
		}
	})
	b.Run("store=embedded", func(b *testing.B) {
		for _, keys := range sizes {
			dir, err := os.MkdirTemp("/dev/shm", "govwatch-bench-")
			if err != nil {
				dir = b.TempDir()
			} else {
				b.Cleanup(func() { os.RemoveAll(dir) })
			}
			st, err := embedded.Open(filepath.Join(dir, "state.db"), embedded.WithoutSync(), embedded.WithJanitorInterval(24*time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			if err := st.Fill("collector/seen/", keys, []byte("x")); err != nil {
				b.Fatal(err)
			}
			keyspaceRun(b, st, keys, nil)
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
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
