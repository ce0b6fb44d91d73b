// Package embedded is the single-process store.Store backend: one bbolt file
// under the data directory.
//
// Every value is stored with its expiry in front of it. Expired keys are
// invisible to Get, Scan, SetNX, CompareAndSwap and Incr at once; they are
// removed from the file lazily (by Get and by writes that meet them) and by a
// janitor goroutine that the Store starts in Open and stops in Close.
//
// bbolt locks the file, so only one process can have it open. A second Open
// of the same path waits for the lock for the open timeout (WithOpenTimeout)
// and then fails with an error that names the path.
package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	bolt "go.etcd.io/bbolt"

	"github.com/govwatch/govwatch/pkg/store"
)

// Defaults for the options.
const (
	DefaultOpenTimeout     = time.Second
	DefaultJanitorInterval = time.Minute
)

// bucketName is the single bucket that holds every key.
var bucketName = []byte("kv")

// headerLen is the size of the expiry header in front of every value: the
// expiry as big-endian Unix nanoseconds, 0 for a key that never expires.
const headerLen = 8

// sweepBatch bounds how many keys one janitor or Scan transaction touches, so
// that writers are never held up for long.
const sweepBatch = 512

// Option configures Open.
type Option func(*options)

type options struct {
	clock           clockwork.Clock
	openTimeout     time.Duration
	janitorInterval time.Duration
	noSync          bool // skip fsync on commit
}

// WithClock sets the clock that expiry and the janitor use; tests pass a
// clockwork.FakeClock to move time by hand.
func WithClock(c clockwork.Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithOpenTimeout sets how long Open waits for the file lock held by another
// process before giving up (DefaultOpenTimeout when unset).
func WithOpenTimeout(d time.Duration) Option {
	return func(o *options) { o.openTimeout = d }
}

// WithJanitorInterval sets how often the janitor removes expired keys
// (DefaultJanitorInterval when unset).
func WithJanitorInterval(d time.Duration) Option {
	return func(o *options) { o.janitorInterval = d }
}

// WithoutSync skips the fsync on every commit: a crash may then lose or
// corrupt the file. Only for throwaway stores (tests, `govwatch replay`).
func WithoutSync() Option {
	return func(o *options) { o.noSync = true }
}

// Store is a store.Store on a bbolt file. Build it with Open and release it
// with Close, which also stops its janitor.
type Store struct {
	db    *bolt.DB
	path  string
	clock clockwork.Clock

	// writers counts the writes under way: a write alone commits at once,
	// one among others joins a batch (see write).
	writers atomic.Int64

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the bbolt file at path and starts the
// janitor.
func Open(path string, opts ...Option) (*Store, error) {
	o := options{
		clock:           clockwork.NewRealClock(),
		openTimeout:     DefaultOpenTimeout,
		janitorInterval: DefaultJanitorInterval,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if o.openTimeout <= 0 {
		return nil, fmt.Errorf("open %s: open timeout must be positive, got %s", path, o.openTimeout)
	}
	if o.janitorInterval <= 0 {
		return nil, fmt.Errorf("open %s: janitor interval must be positive, got %s", path, o.janitorInterval)
	}

	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.openTimeout, NoSync: o.noSync, NoFreelistSync: o.noSync})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("open %s: file is locked by another process (waited %s): %w", path, o.openTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketName)
		return err
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: create bucket: %w", path, err)
	}

	db.MaxBatchDelay = time.Millisecond
	s := &Store{
		db:    db,
		path:  path,
		clock: o.clock,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go s.janitor(o.janitorInterval)
	return s, nil
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// Close stops the janitor and closes the file. It is safe to call more than
// once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// Get returns the value of key, or store.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("bbolt get %s: %w", key, err)
	}
	var (
		val     []byte
		found   bool
		expired bool
	)
	now := s.clock.Now()
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucketName).Get([]byte(key))
		if raw == nil {
			return nil
		}
		if isExpired(raw, now) {
			expired = true
			return nil
		}
		found = true
		val = bytes.Clone(raw[headerLen:]) // not nil: raw is not
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bbolt get %s: %w", key, err)
	}
	if expired {
		if err := s.purge(key); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, store.ErrNotFound
	}
	return val, nil
}

// write runs fn in a read-write transaction. bbolt has one writer and
// each commit is an fsync, so many writers at once (the collector, the
// analyzer and the notifier of one process) queue behind one another's
// fsyncs. A write that finds batchFrom others under way joins bbolt's
// Batch, which commits the writes that arrive within a millisecond
// together; a write with fewer others commits at once, as before. fn may run more than once (a
// batch that fails is retried one function at a time), so it sets its
// results from the transaction, not by accumulating.
func (s *Store) write(fn func(*bolt.Tx) error) error {
	defer s.writers.Add(-1)
	if s.writers.Add(1) <= batchFrom {
		return s.db.Update(fn)
	}
	return s.db.Batch(fn)
}

// batchFrom is how many writes may be under way before the next joins a
// batch: below it, waiting for others costs more than the fsyncs it saves.
const batchFrom = 4

// purge removes key if it is still expired.
func (s *Store) purge(key string) error {
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		if raw := b.Get([]byte(key)); raw != nil && isExpired(raw, s.clock.Now()) {
			return b.Delete([]byte(key))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bbolt purge %s: %w", key, err)
	}
	return nil
}

// Set stores val under key, replacing any value and expiry.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := checkArgs(ctx, ttl); err != nil {
		return fmt.Errorf("bbolt set %s: %w", key, err)
	}
	err := s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketName).Put([]byte(key), s.encode(val, ttl))
	})
	if err != nil {
		return fmt.Errorf("bbolt set %s: %w", key, err)
	}
	return nil
}

// SetNX stores val only when key is absent or expired.
func (s *Store) SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error) {
	if err := checkArgs(ctx, ttl); err != nil {
		return false, fmt.Errorf("bbolt setnx %s: %w", key, err)
	}
	var stored bool
	err := s.write(func(tx *bolt.Tx) error {
		stored = false // a batch may run fn again
		b := tx.Bucket(bucketName)
		if raw := b.Get([]byte(key)); raw != nil && !isExpired(raw, s.clock.Now()) {
			return nil
		}
		stored = true
		return b.Put([]byte(key), s.encode(val, ttl))
	})
	if err != nil {
		return false, fmt.Errorf("bbolt setnx %s: %w", key, err)
	}
	return stored, nil
}

// CompareAndSwap replaces the value of key with val only when the current
// value equals old; old == nil requires the key to be absent or expired.
func (s *Store) CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error) {
	if err := checkArgs(ctx, ttl); err != nil {
		return false, fmt.Errorf("bbolt cas %s: %w", key, err)
	}
	var swapped bool
	err := s.write(func(tx *bolt.Tx) error {
		swapped = false // a batch may run fn again
		b := tx.Bucket(bucketName)
		raw := b.Get([]byte(key))
		live := raw != nil && !isExpired(raw, s.clock.Now())
		switch {
		case old == nil && live:
			return nil
		case old != nil && (!live || !bytes.Equal(raw[headerLen:], old)):
			return nil
		}
		swapped = true
		return b.Put([]byte(key), s.encode(val, ttl))
	})
	if err != nil {
		return false, fmt.Errorf("bbolt cas %s: %w", key, err)
	}
	return swapped, nil
}

// Incr adds delta to the decimal integer stored at key (absent or expired
// counts as 0), sets the expiry only when it creates the key, and returns the
// new value. The value is stored as decimal text, as Redis does.
func (s *Store) Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error) {
	if err := checkArgs(ctx, ttl); err != nil {
		return 0, fmt.Errorf("bbolt incr %s: %w", key, err)
	}
	var n int64
	err := s.write(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketName)
		raw := b.Get([]byte(key))
		if raw == nil || isExpired(raw, s.clock.Now()) {
			n = delta
			return b.Put([]byte(key), s.encode(strconv.AppendInt(nil, n, 10), ttl))
		}
		cur, err := strconv.ParseInt(string(raw[headerLen:]), 10, 64)
		if err != nil {
			return errors.New("value is not an integer")
		}
		if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
			return errors.New("increment would overflow")
		}
		n = cur + delta
		enc := make([]byte, headerLen, headerLen+20)
		copy(enc, raw[:headerLen]) // keep the expiry set at creation
		return b.Put([]byte(key), strconv.AppendInt(enc, n, 10))
	})
	if err != nil {
		return 0, fmt.Errorf("bbolt incr %s: %w", key, err)
	}
	return n, nil
}

// Delete removes key; deleting an absent key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("bbolt delete %s: %w", key, err)
	}
	err := s.write(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketName).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("bbolt delete %s: %w", key, err)
	}
	return nil
}

// Scan calls fn for every live key with the given prefix, in key order, until
// fn returns an error. It reads in batches and calls fn outside any bbolt
// transaction, so fn may write to the store; keys written during the Scan may
// or may not be visited.
func (s *Store) Scan(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	return s.scanRange(ctx, prefix, nil, fn)
}

// List calls fn for every live key of the declared kind prefix. bbolt keeps
// keys sorted, so the kind is one range of the B+tree: the cost is a seek
// plus the members, whatever else the file holds.
func (s *Store) List(ctx context.Context, prefix string, fn func(key string, val []byte) error) error {
	return store.ListAll(ctx, s, prefix, fn)
}

// ListShard is List over one shard of the kind: the range, keeping the keys
// that hash to shard.
func (s *Store) ListShard(ctx context.Context, prefix string, shard int, fn func(key string, val []byte) error) error {
	k, err := store.LookupShard(prefix, shard)
	if err != nil {
		return err
	}
	keep := func(key []byte) bool { return k.ShardOf(string(key)) == shard }
	if k.Shards == 1 {
		keep = nil
	}
	return s.scanRange(ctx, prefix, keep, fn)
}

// scanRange walks the keys with prefix in key order, those keep accepts
// (all when nil), in batches outside any transaction.
func (s *Store) scanRange(ctx context.Context, prefix string, keep func(key []byte) bool, fn func(key string, val []byte) error) error {
	type kv struct {
		key string
		val []byte
	}
	p := []byte(prefix)
	from := p
	skipFrom := false // whether from was already visited
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("bbolt scan %s: %w", prefix, err)
		}
		var batch []kv
		more := false
		now := s.clock.Now()
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketName).Cursor()
			k, v := c.Seek(from)
			if skipFrom && bytes.Equal(k, from) {
				k, v = c.Next()
			}
			for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				if len(batch) == sweepBatch {
					more = true
					return nil
				}
				if isExpired(v, now) || keep != nil && !keep(k) {
					continue
				}
				batch = append(batch, kv{key: string(k), val: bytes.Clone(v[headerLen:])})
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bbolt scan %s: %w", prefix, err)
		}
		for _, e := range batch {
			if err := fn(e.key, e.val); err != nil {
				return err
			}
		}
		if !more {
			return nil
		}
		from, skipFrom = []byte(batch[len(batch)-1].key), true
	}
}

// janitor removes expired keys every interval until Close.
func (s *Store) janitor(interval time.Duration) {
	defer close(s.done)
	t := s.clock.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.Chan():
			// A failed sweep is retried at the next tick; the only
			// errors bbolt can return here are I/O errors that the
			// next write will report to its caller as well.
			_ = s.sweep()
		}
	}
}

// sweep removes every expired key, a batch per write transaction.
func (s *Store) sweep() error {
	var from []byte
	for {
		select {
		case <-s.stop:
			return nil
		default:
		}
		var expired [][]byte
		more := false
		now := s.clock.Now()
		err := s.db.View(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketName).Cursor()
			var k, v []byte
			if from == nil {
				k, v = c.First()
			} else {
				k, v = c.Seek(from)
			}
			for ; k != nil; k, v = c.Next() {
				if len(expired) == sweepBatch {
					more = true
					from = bytes.Clone(k)
					return nil
				}
				if isExpired(v, now) {
					expired = append(expired, bytes.Clone(k))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bbolt sweep: %w", err)
		}
		if len(expired) > 0 {
			err = s.db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketName)
				for _, k := range expired {
					// The key may have been written again since.
					if v := b.Get(k); v != nil && isExpired(v, now) {
						if err := b.Delete(k); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("bbolt sweep: %w", err)
			}
		}
		if !more {
			return nil
		}
	}
}

// encode prepends the expiry header for ttl to val.
func (s *Store) encode(val []byte, ttl time.Duration) []byte {
	var exp int64
	if ttl > 0 {
		exp = s.clock.Now().Add(ttl).UnixNano()
	}
	buf := make([]byte, headerLen+len(val))
	binary.BigEndian.PutUint64(buf, uint64(exp))
	copy(buf[headerLen:], val)
	return buf
}

// isExpired reports whether the stored value raw has expired at now. A value
// too short to carry a header is treated as expired, so that damage is
// cleaned up rather than served.
func isExpired(raw []byte, now time.Time) bool {
	if len(raw) < headerLen {
		return true
	}
	exp := int64(binary.BigEndian.Uint64(raw))
	return exp != 0 && now.UnixNano() >= exp
}

// checkArgs rejects a done context and a negative ttl.
func checkArgs(ctx context.Context, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ttl < 0 {
		return fmt.Errorf("negative ttl %s", ttl)
	}
	return nil
}
