package analyze_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/backendstest"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// keyspaceAccounts is how many accounts the analyzer watches at every size:
// the work per input and per sweep is the same, only the other keys grow.
const keyspaceAccounts = 200

// BenchmarkKeyspace measures what one input (a post and a snapshot of one
// account) and one sweep of every default detector cost on a store that also
// holds 50 thousand, 1 million and 10 million keys of other kinds
// (backendstest.Keyspace): flat, since the detectors read by key and sweep
// their kinds' indexes. On Redis it also reports the commands each op sent.
//
//	go test -run '^$' -bench BenchmarkKeyspace -benchtime 200x ./pkg/analyze/
func BenchmarkKeyspace(b *testing.B) {
	backendstest.Keyspace(b, func(b *testing.B, st store.Store, keys int, commands func() int64) {
		keyspaceRun(b, st, keys, commands)
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
