package ack

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/store"
)

// KeyStore is what FromStore needs of the store.
type KeyStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error)
}

// StoreKey is where the shared key ring is kept: its keys of StoreKeyLen
// bytes one after the other, the signing key first. (A single key, as
// earlier versions stored, is a ring of one.)
const StoreKey = "notifier/ack/key"

// StoreKeyLen is the length of a generated key.
const StoreKeyLen = 32

// MaxStoreKeys bounds the shared ring: the signing key and the keys of
// replicas that signed with their own before they saw it (one per store
// wipe they lived through).
const MaxStoreKeys = 4

// SyncEvery is how often, at most, a store-backed signer re-reads the ring.
const SyncEvery = time.Second

// syncTimeout bounds one re-read; the links go on with the keys held.
const syncTimeout = 2 * time.Second

// StoreOptions configure FromStore. Clock and Log default to the real
// clock and a logger that drops everything.
type StoreOptions struct {
	Clock clockwork.Clock
	Log   *zap.Logger
}

// storeSync re-reads a signer's ring from the store.
type storeSync struct {
	st    KeyStore
	clock clockwork.Clock
	log   *zap.Logger
	mu    sync.Mutex // held by the one re-read under way
	last  time.Time  // when the last re-read started
}

// FromStore returns a signer whose keys are kept in st, for deployments
// that configure no key file or variable. The first replica to start
// generates the key; the others read it.
//
// The ring is re-read (at most every SyncEvery) before a link is signed and
// before one is refused, so replicas keep agreeing when the store loses its
// data: the first signer to notice puts its ring back, and one that finds a
// new key there (a replica restarted on the empty store generated it)
// signs with that key from then on and adds its own to the ring as a
// previous key, so the links it sent before still verify on every replica.
// A re-read that fails is logged and the keys held are used.
func FromStore(ctx context.Context, st KeyStore, o StoreOptions) (*Signer, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	s := &Signer{sync: &storeSync{st: st, clock: o.Clock, log: o.Log, last: o.Clock.Now()}}
	ring, err := s.sync.merge(ctx, nil)
	if err != nil {
		return nil, err
	}
	s.ring.Store(&ring)
	return s, nil
}

// refresh re-reads s's ring unless it was read in the last SyncEvery or is
// being read; it reports whether it read it. A nil storeSync never reads.
func (y *storeSync) refresh(s *Signer) bool {
	if y == nil || !y.mu.TryLock() {
		return false
	}
	defer y.mu.Unlock()
	now := y.clock.Now()
	if now.Sub(y.last) < SyncEvery {
		return false
	}
	y.last = now
	ctx, cancel := context.WithTimeout(context.Background(), syncTimeout)
	defer cancel()
	ring, err := y.merge(ctx, s.keys())
	if err != nil {
		y.log.Warn("re-read the ack key ring; signing with the keys held", zap.Error(err))
		return false
	}
	s.ring.Store(&ring)
	return true
}

// merge returns the ring in the store after adding the keys of held it
// lacks, putting held back (or a new key when held is empty) if the store
// has none.
func (y *storeSync) merge(ctx context.Context, held [][]byte) ([][]byte, error) {
	for range 8 { // each turn loses a race to another replica's write
		if len(held) == 0 {
			k := make([]byte, StoreKeyLen)
			if _, err := rand.Read(k); err != nil {
				return nil, fmt.Errorf("generate ack key: %w", err)
			}
			held = [][]byte{k}
		}
		set, err := y.st.SetNX(ctx, StoreKey, bytes.Join(held, nil), 0)
		if err != nil {
			return nil, fmt.Errorf("store ack key: %w", err)
		}
		if set {
			return held, nil
		}
		cur, err := y.st.Get(ctx, StoreKey)
		if errors.Is(err, store.ErrNotFound) {
			continue // wiped in between
		}
		if err != nil {
			return nil, fmt.Errorf("read ack key: %w", err)
		}
		ring, err := decodeRing(cur)
		if err != nil {
			return nil, err
		}
		merged := ring
		for _, k := range held {
			if len(merged) < MaxStoreKeys && !slices.ContainsFunc(merged, func(m []byte) bool { return bytes.Equal(m, k) }) {
				merged = append(merged, k)
			}
		}
		if len(merged) == len(ring) {
			return ring, nil
		}
		swapped, err := y.st.CompareAndSwap(ctx, StoreKey, cur, bytes.Join(merged, nil), 0)
		if err != nil {
			return nil, fmt.Errorf("store ack key: %w", err)
		}
		if swapped {
			return merged, nil
		}
	}
	return nil, errors.New("store ack key: the key ring kept changing under concurrent writes")
}

// decodeRing splits the stored ring into its keys.
func decodeRing(v []byte) ([][]byte, error) {
	if len(v) == 0 || len(v)%StoreKeyLen != 0 || len(v) > MaxStoreKeys*StoreKeyLen {
		return nil, fmt.Errorf("ack key ring at %s has %d bytes, want 1 to %d keys of %d bytes", StoreKey, len(v), MaxStoreKeys, StoreKeyLen)
	}
	var ring [][]byte
	for k := range slices.Chunk(bytes.Clone(v), StoreKeyLen) {
		ring = append(ring, k)
	}
	return ring, nil
}
