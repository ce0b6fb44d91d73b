// Package store holds the state govwatch's components share between restarts
// and between replicas: de-duplication keys, feed validators, per-account
// detector state, alert state and the notification log.
//
// Components do not depend on a backend. Each declares the small interface it
// consumes (usually a subset of Store) and is handed one of the two backends:
// redis (several replicas, go-redis UniversalClient) or embedded (one process,
// a bbolt file under the data directory). Both pass the same contract suite in
// storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for a key that is absent or expired.
var ErrNotFound = errors.New("store: key not found")

// Store is a key-value store with per-key expiry and the atomic operations
// that let replicas coordinate. Keys are plain strings; components prefix
// theirs ("collector/seen/…", "notifier/alert/…"). A ttl of 0 means the key
// never expires. Implementations are safe for concurrent use.
type Store interface {
	KV
	// Incr adds delta to the integer stored at key (absent counts as 0),
	// sets the expiry when the key is created, and returns the new value.
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	// Scan calls fn for every live key with the given prefix, in no
	// particular order, until fn returns an error, which Scan returns.
	// It walks the keyspace: for admin tools, never a hot path, which
	// reads a declared kind with List instead.
	Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error
	Lister
	// Close releases the backend.
	Close() error
}

// ScanKV is KV with Scan: what a package asks for that keeps state by key
// and reads it back by prefix.
type ScanKV interface {
	KV
	Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error
}

// KV is the part of a Store that reads and writes keys one at a time: what
// a package that keeps state by key asks for, adding Incr or Scan where it
// needs them.
type KV interface {
	// Get returns the value of key, or ErrNotFound. The value is never
	// nil (an empty one is []byte{}), so it can be passed back as
	// CompareAndSwap's old; Scan hands fn values the same way.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores val under key, replacing any value and expiry.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	// SetNX stores val only when key is absent (or expired) and reports
	// whether it did: the building block for de-duplication and leases.
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	// CompareAndSwap replaces the value of key with val only when the
	// current value equals old (old == nil: the key must be absent), and
	// reports whether it did.
	CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error)
	// Delete removes key; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
