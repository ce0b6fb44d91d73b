package collect

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// openState opens an embedded store for one test. The store keeps a clock
// of its own, at t0: its janitor's ticker would otherwise count among the
// timers a test waits for on the collector's clock.
func openState(t testing.TB) store.Store {
	t.Helper()
	return openStateAt(t, clockwork.NewFakeClockAt(t0))
}

// openStateAt is openState whose expiries follow clock.
func openStateAt(t testing.TB, clock clockwork.Clock) store.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openRedisState opens a store on a private redis-server for one test,
// which is skipped where redis-server is not installed.
func openRedisState(t testing.TB) store.Store {
	t.Helper()
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{redistest.Start(t)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// stores open a fresh store of each backend, by backend name.
var stores = map[string]func(t testing.TB) store.Store{
	"embedded": openState,
	"redis":    openRedisState,
}

// newRegistry is the registry of units and accounts, which must be valid.
func newRegistry(t testing.TB, units []registry.Unit, accounts []registry.Account) *registry.Registry {
	t.Helper()
	reg, probs := registry.New(units, accounts)
	if probs != nil {
		t.Fatal(probs)
	}
	return reg
}

// testLog passes the collector's errors to the test log.
func testLog(t testing.TB) *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel)) }
