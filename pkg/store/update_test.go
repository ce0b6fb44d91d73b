package store_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

type counter struct{ N int }

// rewriter is a store where every compare-and-swap loses once, as when
// another replica keeps writing the key, and counts the writes.
type rewriter struct {
	*embedded.Store
	lose   int
	writes int
}

func (r *rewriter) CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	if r.lose > 0 {
		r.lose--
		return false, nil
	}
	r.writes++
	return r.Store.CompareAndSwap(ctx, key, old, val, ttl)
}

func TestUpdateJSON(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := &rewriter{Store: st, lose: 2}
	inc := func(c *counter, _ bool) (bool, time.Duration, error) { c.N++; return true, time.Hour, nil }

	got, err := store.UpdateJSON(ctx, r, "k", false, inc)
	if err != nil || got.N != 1 || r.writes != 1 {
		t.Fatalf("after two lost swaps: %+v, %v, %d writes; want N=1 written once", got, err, r.writes)
	}

	same := func(c *counter, found bool) (bool, time.Duration, error) { return true, time.Hour, nil }
	if _, err := store.UpdateJSON(ctx, r, "k", true, same); err != nil || r.writes != 1 {
		t.Fatalf("unchanged value with skipUnchanged: %v, %d writes; want no write", err, r.writes)
	}
	if _, err := store.UpdateJSON(ctx, r, "k", false, same); err != nil || r.writes != 2 {
		t.Fatalf("unchanged value without skipUnchanged: %v, %d writes; want a write (TTL refreshed)", err, r.writes)
	}

	r.lose = 1 << 30
	if _, err := store.UpdateJSON(ctx, r, "k", false, inc); err == nil || !strings.Contains(err.Error(), "still contended") {
		t.Fatalf("a key rewritten forever: %v; want a contention error", err)
	}
}
