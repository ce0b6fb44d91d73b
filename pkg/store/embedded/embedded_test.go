package embedded

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		// A short janitor interval lets sweeps race with the suite's
		// operations under -race. fsync has no bearing on the contract
		// and makes the suite slow on some disks.
		return openTest(t, filepath.Join(t.TempDir(), "state.db"),
			WithJanitorInterval(20*time.Millisecond), WithoutSync())
	})
}

func TestPersistence(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	path := filepath.Join(t.TempDir(), "state.db")

	s := openTest(t, path, WithClock(clock))
	for _, kv := range []struct {
		key string
		ttl time.Duration
	}{{"forever", 0}, {"hour", time.Hour}, {"minute", time.Minute}} {
		if err := s.Set(ctx, kv.key, []byte("v:"+kv.key), kv.ttl); err != nil {
			t.Fatalf("Set(%s): %v", kv.key, err)
		}
	}
	if _, err := s.Incr(ctx, "count", 7, 0); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	clock.Advance(2 * time.Minute) // the minute key expires while closed
	s = openTest(t, path, WithClock(clock))
	tests := []struct {
		key  string
		want string // "": not found
	}{
		{"forever", "v:forever"},
		{"hour", "v:hour"},
		{"minute", ""},
		{"count", "7"},
	}
	for _, tc := range tests {
		got, err := s.Get(ctx, tc.key)
		switch {
		case tc.want == "" && !errors.Is(err, store.ErrNotFound):
			t.Errorf("Get(%s) after reopen = %q, %v; want ErrNotFound", tc.key, got, err)
		case tc.want != "" && (err != nil || string(got) != tc.want):
			t.Errorf("Get(%s) after reopen = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	if n, err := s.Incr(ctx, "count", 1, 0); err != nil || n != 8 {
		t.Errorf("Incr after reopen = %d, %v; want 8, nil", n, err)
	}
}

// TestExpiryVirtualTime checks the exact expiry instant: a key is live until
// its ttl has fully passed on the store's clock.
func TestExpiryVirtualTime(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := openTest(t, filepath.Join(t.TempDir(), "state.db"), WithClock(clock))
	if err := s.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	clock.Advance(time.Minute - time.Nanosecond)
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatalf("Get just before expiry: %v", err)
	}
	if ok, err := s.SetNX(ctx, "k", []byte("w"), 0); err != nil || ok {
		t.Fatalf("SetNX just before expiry = %v, %v; want false, nil", ok, err)
	}
	clock.Advance(time.Nanosecond)
	if _, err := s.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get at expiry: %v, want ErrNotFound", err)
	}
	if got := rawCount(t, s); got != 0 {
		t.Fatalf("%d raw keys after Get of an expired key, want 0 (lazy purge)", got)
	}
}

func TestJanitor(t *testing.T) {
	ctx := t.Context()
	clock := clockwork.NewFakeClock()
	s := openTest(t, filepath.Join(t.TempDir(), "state.db"),
		WithClock(clock), WithJanitorInterval(time.Minute))
	// Enough keys for several sweep transactions, written in one commit
	// rather than n.
	const n = 3*sweepBatch + 7
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			if err := tx.Bucket(bucketName).Put(fmt.Appendf(nil, "old/%d", i), s.encode([]byte("v"), 30*time.Second)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fill: %v", err)
	}
	if err := s.Set(ctx, "keep", []byte("v"), 0); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if got := rawCount(t, s); got != n+1 {
		t.Fatalf("%d raw keys before the sweep, want %d", got, n+1)
	}

	waitCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := clock.BlockUntilContext(waitCtx, 1); err != nil {
		t.Fatalf("janitor ticker never started: %v", err)
	}
	clock.Advance(time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for rawCount(t, s) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d raw keys 5s after the janitor's tick, want 1", rawCount(t, s))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := s.Get(ctx, "keep"); err != nil {
		t.Fatalf("Get(keep) after sweep: %v", err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	openTest(t, path)
	start := time.Now()
	s, err := Open(path, WithOpenTimeout(100*time.Millisecond))
	if err == nil {
		s.Close()
		t.Fatal("second Open of a locked file succeeded, want an error")
	}
	if !errors.Is(err, bolt.ErrTimeout) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: got %q, want a timeout error naming %s", err, path)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Fatalf("second Open took %s, want about the 100ms timeout", waited)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
}

// openTest opens a store that is closed at the end of the test.
func openTest(t testing.TB, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(path, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawCount counts the entries in the file, expired ones included.
func rawCount(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketName).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

func TestFill(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "state.db"), WithoutSync())
	if err := s.Set(ctx, "other/a", []byte("kept"), 0); err != nil {
		t.Fatal(err)
	}
	// More than one transaction's worth, ending inside the last one.
	const n = fillBatch + 2345
	if err := s.Fill("fill/", n, []byte("x")); err != nil {
		t.Fatal(err)
	}
	got := 0
	err := s.Scan(ctx, "fill/", func(key string, val []byte) error {
		if string(val) != "x" {
			return fmt.Errorf("%s holds %q, want x", key, val)
		}
		got++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("Fill wrote %d keys, want %d", got, n)
	}
	for _, k := range []string{"fill/0", fmt.Sprint("fill/", n-1)} {
		if v, err := s.Get(ctx, k); err != nil || string(v) != "x" {
			t.Fatalf("Get(%s) = %q, %v; want x", k, v, err)
		}
	}
	if v, err := s.Get(ctx, "other/a"); err != nil || string(v) != "kept" {
		t.Fatalf("Fill touched other keys: other/a = %q, %v", v, err)
	}
}

// BenchmarkConcurrentWrites measures writes from many goroutines at once,
// with fsync on, as the components of `govwatch run` write: a write among
// others joins a batch instead of queuing for its own commit.
func BenchmarkConcurrentWrites(b *testing.B) {
	for _, writers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openTest(b, filepath.Join(b.TempDir(), "state.db"))
			ctx := b.Context()
			b.SetParallelism(writers) // × GOMAXPROCS goroutines; writers=1 runs one per core
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					k := fmt.Sprintf("k/%d", n.Add(1)%4096)
					if _, err := s.CompareAndSwap(ctx, k, nil, []byte("v"), time.Hour); err != nil {
						b.Error(err)
						return
					}
					if err := s.Set(ctx, k, []byte("w"), time.Hour); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
