// Package backendstest opens one store of each backend for a test.
package backendstest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// Open opens one store of each kind for t, closed at cleanup: "embedded"
// over clock, and "redis" on a private redis-server (skipping t without one,
// see redistest.Start) with its keys under prefix. Redis keeps its own real
// time for expiry.
func Open(t *testing.T, clock clockwork.Clock, prefix string) map[string]store.Store {
	t.Helper()
	emb, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })
	rs, err := redis.Open(context.Background(), redis.Options{Addrs: []string{redistest.Start(t)}, Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	return map[string]store.Store{"embedded": emb, "redis": rs}
}

// KeyspaceSizes are the store sizes Keyspace runs at: a demo, a city, and
// a 300,000-account province (7 to 60 million keys).
var KeyspaceSizes = []int{50_000, 1_000_000, 10_000_000}

// Keyspace calls run at every size of KeyspaceSizes with a store that also
// holds that many keys of another kind (under collector/seen/), for a
// benchmark showing that a component's cost does not grow with them. On
// Redis one server grows from size to size, each size under its own prefix,
// and commands counts the commands the server executed; on the embedded
// store each size is a fresh bbolt file on tmpfs without fsync (the disk
// costs the same at every size), its janitor held off, and commands is nil.
// The keys are written before run.
func Keyspace(b *testing.B, run func(b *testing.B, st store.Store, keys int, commands func() int64)) {
	b.Run("store=redis", func(b *testing.B) {
		addr := redistest.Start(b)
		raw := goredis.NewClient(&goredis.Options{Addr: addr})
		b.Cleanup(func() { raw.Close() })
		filled := 0
		for _, keys := range KeyspaceSizes {
			redistest.Fill(b, raw, fmt.Sprint("ks:collector/seen/", filled, "-"), keys-filled)
			filled = keys
			st, err := redis.Open(b.Context(), redis.Options{Addrs: []string{addr}, Prefix: fmt.Sprint("ks:", keys, ":")})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			run(b, st, keys, func() int64 { return redistest.Commands(b, raw) })
		}
	})
	b.Run("store=embedded", func(b *testing.B) {
		for _, keys := range KeyspaceSizes {
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
			run(b, st, keys, nil)
			if err := st.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
