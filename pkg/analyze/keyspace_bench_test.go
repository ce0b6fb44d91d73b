package analyze_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// keyspaceSizes are the store sizes BenchmarkKeyspace runs at: a demo, a
// city, and a 300,000-account province (7 to 60 million keys).
var keyspaceSizes = []int{50_000, 1_000_000, 10_000_000}

// keyspaceAccounts is how many accounts the analyzer watches at every size:
// the work per input and per sweep is the same, only the other keys grow.
const keyspaceAccounts = 200

// BenchmarkKeyspace measures what one input (a post and a snapshot of one
// account) and one sweep of every default detector cost on a store that also
// holds 50 thousand, 1 million and 10 million keys of other kinds: flat, since
// the detectors read by key and sweep their kinds' indexes. On Redis one
// server grows from size to size, each size under its own prefix; on the
// embedded store each size is a fresh bbolt file on tmpfs without fsync (the
// disk's cost is the same at every size), and its janitor is held off. The
// keys are written outside the timed part. On Redis it also reports the
// commands each op sent.
//
//	go test -run '^$' -bench BenchmarkKeyspace -benchtime 200x ./pkg/analyze/
func BenchmarkKeyspace(b *testing.B) {
	b.Run("store=redis", func(b *testing.B) {
		addr := redistest.Start(b)
		raw := goredis.NewClient(&goredis.Options{Addr: addr})
		b.Cleanup(func() { raw.Close() })
		filled := 0
		for _, keys := range keyspaceSizes {
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
		for _, keys := range keyspaceSizes {
			dir := tmpfsDir(b)
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

// keyspaceRun times inputs and sweeps on st at one size; commands, when not
// nil, counts what the server executed.
func keyspaceRun(b *testing.B, st detect.Store, keys int, commands func() int64) {
	h := newHotPaths(b, st, keyspaceAccounts)
	// One round writes every account's state and builds the indexes from
	// the keyspace once (the migration), which is not the steady state.
	h.round(b, 0)
	r := 0
	run := func(name string, op func()) {
		b.Run(fmt.Sprintf("keys=%s/op=%s", redistest.Short(keys), name), func(b *testing.B) {
			var before int64
			if commands != nil {
				before = commands()
			}
			for b.Loop() {
				op()
			}
			if commands != nil {
				b.ReportMetric(float64(commands()-before)/float64(b.N), "redis-cmds/op")
			}
		})
	}
	run("input", func() {
		r++
		h.clock.Advance(time.Second)
		h.input(b, r, r%keyspaceAccounts)
	})
	run("sweep", func() {
		h.clock.Advance(time.Minute)
		if err := h.an.Sweep(b.Context()); err != nil {
			b.Fatal(err)
		}
	})
}

// tmpfsDir is a directory on /dev/shm, removed at cleanup, or the test's
// temporary directory where there is no /dev/shm.
func tmpfsDir(b *testing.B) string {
	dir, err := os.MkdirTemp("/dev/shm", "govwatch-bench-")
	if err != nil {
		return b.TempDir()
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}
