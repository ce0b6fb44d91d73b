package detecttest

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// MemStore is a detect.Store in a map, without expiry. Benchmarks use it to
// measure what a detector itself costs per input, apart from the backend;
// tests of behaviour use the real backends.
type MemStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: map[string][]byte{}} }

// Get implements detect.Store.
func (s *MemStore) Get(_ context.Context, key string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return nil, store.ErrNotFound
	}
	return v, nil
}

// Set implements detect.Store.
func (s *MemStore) Set(_ context.Context, key string, val []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = bytes.Clone(val)
	return nil
}

// SetNX implements detect.Store.
func (s *MemStore) SetNX(_ context.Context, key string, val []byte, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; ok {
		return false, nil
	}
	s.m[key] = bytes.Clone(val)
	return true, nil
}

// CompareAndSwap implements detect.Store.
func (s *MemStore) CompareAndSwap(_ context.Context, key string, old, val []byte, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.m[key]
	if old == nil && ok || old != nil && (!ok || !bytes.Equal(cur, old)) {
		return false, nil
	}
	s.m[key] = bytes.Clone(val)
	return true, nil
}

// Delete implements detect.Store.
func (s *MemStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// List implements detect.Store: the keys of the declared kind prefix.
func (s *MemStore) List(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	return store.ListAll(ctx, s, prefix, fn)
}

// ListShard implements detect.Store: the keys of one shard of the kind.
func (s *MemStore) ListShard(_ context.Context, prefix string, shard int, fn func(key string, val []byte) error) error {
	kind, err := store.LookupShard(prefix, shard)
	if err != nil {
		return err
	}
	s.mu.Lock()
	var keys []string
	for k := range s.m {
		if strings.HasPrefix(k, prefix) && kind.ShardOf(k) == shard {
			keys = append(keys, k)
		}
	}
	s.mu.Unlock()
	for _, k := range keys {
		s.mu.Lock()
		v, ok := s.m[k]
		s.mu.Unlock()
		if !ok {
			continue
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// BenchStart is when the inputs of a benchmark begin.
var BenchStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// Bench runs b.N inputs, input(i) for i = 0 … b.N-1, through the detector
// build makes for a case of the defaults (no detector section) over a
// MemStore ("mem") and over an embedded store file ("embedded"), as
// sub-benchmarks: ns/op and allocs/op are per input, building the input
// included (a few small allocations, the same for every backend).
func Bench(b *testing.B, reg *registry.Registry, build Build, input func(i int) Event) {
	for _, backend := range []string{"mem", "embedded"} {
		b.Run(backend, func(b *testing.B) {
			var st detect.Store = NewMemStore()
			first := input(0).At
			clock := clockwork.NewFakeClockAt(first)
			if backend == "embedded" {
				es, err := embedded.Open(filepath.Join(b.TempDir(), "state.db"), embedded.WithClock(clock))
				if err != nil {
					b.Fatal(err)
				}
				defer es.Close()
				st = es
			}
			d := build(&Case{Name: b.Name(), Registry: reg})
			env := &detect.Env{Registry: reg, Store: st, Publisher: &discard{}, Now: clock.Now}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ev := input(i)
				if ev.At.After(clock.Now()) {
					clock.Advance(ev.At.Sub(clock.Now()))
				}
				if err := step(ctx, env, d, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// discard is a Publisher that drops alerts.
type discard struct{}

func (*discard) PublishAlert(context.Context, *model.Alert) (bool, error) { return false, nil }
