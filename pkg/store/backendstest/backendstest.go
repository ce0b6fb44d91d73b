// Package backendstest opens one store of each backend for a test.
package backendstest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jonboulle/clockwork"

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
