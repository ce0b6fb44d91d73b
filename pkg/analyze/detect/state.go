package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
)

// Shards is the number of shards of the per-account kinds detectors
// declare: their index splits by account id, so that a sweep can be split
// between replicas shard by shard (store.Lister.ListShard).
const Shards = 16

// Load reads the JSON value at key into v and reports whether it was there.
func Load(ctx context.Context, s Store, key string, v any) (bool, error) {
	b, err := s.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// ScanJSON is Store.List over the declared kind prefix (store.DeclareKind)
// with every value decoded from JSON into a fresh T; a value that does not
// decode ends the listing with an error naming its key.
func ScanJSON[T any](ctx context.Context, s Store, prefix string, fn func(key string, v *T) error) error {
	return s.List(ctx, prefix, func(key string, val []byte) error {
		var v T
		if err := json.Unmarshal(val, &v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return fn(key, &v)
	})
}

// Update is store.UpdateJSON with one TTL for every write: a
// read-modify-write of the JSON value at key that several replicas can run
// at once. fn must be free of side effects other than on v, or safe to
// repeat (publishing an alert is: the bus drops the repeat).
func Update[T any](ctx context.Context, s Store, key string, ttl time.Duration, fn func(v *T, found bool) (write bool, err error)) (T, error) {
	return store.UpdateJSON(ctx, s, key, false, func(v *T, found bool) (bool, time.Duration, error) {
		write, err := fn(v, found)
		return write, ttl, err
	})
}
