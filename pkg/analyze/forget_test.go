package analyze_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestRemovedAccountsAreForgotten watches 20 accounts, then restarts the
// analyzer on the same Redis with a registry that has only the first 10:
// after a sweep every key of the 10 removed accounts is gone or expires by
// itself, the kept accounts' state is untouched, and the deletions are
// counted.
func TestRemovedAccountsAreForgotten(t *testing.T) {
	ctx := t.Context()
	addr := redistest.Start(t)
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	st, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}, Prefix: "forget:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	before := newHotPaths(t, st, 20)
	for r := range 3 {
		before.clock.Advance(time.Hour)
		before.round(t, r)
	}
	// Keys of account i: its id is a whole path segment.
	owned := func(key string, i int) bool {
		id := fmt.Sprint("fz-acc-", i)
		return strings.HasSuffix(key, "/"+id) || strings.Contains(key, "/"+id+"/")
	}
	keysOf := func(i int) (persistent, expiring []string) {
		keys, err := raw.Keys(ctx, "forget:*").Result() // the test may walk; the analyzer may not
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if !owned(k, i) {
				continue
			}
			ttl, err := raw.TTL(ctx, k).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl > 0 {
				expiring = append(expiring, k)
			} else {
				persistent = append(persistent, k)
			}
		}
		return persistent, expiring
	}
	kept, _ := keysOf(3)
	if p, _ := keysOf(15); len(p) == 0 {
		t.Fatal("account 15 has no persistent state before its removal: the test proves nothing")
	}

	reg := prometheus.NewRegistry()
	after := newHotPaths(t, st, 10, reg)
	after.clock.Advance(4 * time.Hour)
	if err := after.an.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 20; i++ {
		if p, _ := keysOf(i); len(p) > 0 {
			t.Errorf("account %d left the registry but keeps %v", i, p)
		}
	}
	if p, _ := keysOf(3); strings.Join(p, " ") != strings.Join(kept, " ") {
		t.Errorf("a kept account's state changed: %v, was %v", p, kept)
	}
	n, err := testutil.GatherAndCount(reg, "govwatch_analyzer_forgotten_keys_total")
	if err != nil || n == 0 {
		t.Fatalf("govwatch_analyzer_forgotten_keys_total: %d series, %v", n, err)
	}
	total := 0.0
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "govwatch_analyzer_forgotten_keys_total" {
			for _, m := range mf.GetMetric() {
				total += m.GetCounter().GetValue()
			}
		}
	}
	if total < 10 {
		t.Errorf("govwatch_analyzer_forgotten_keys_total sums to %v, want at least one key per removed account", total)
	}
}
