package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
)

// maxCASAttempts bounds Update's retries; losing this often means something
// rewrites the key in a loop.
const maxCASAttempts = 64

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

// Update is a read-modify-write of the JSON value at key that several
// replicas can run at once: it reads the value (the zero T when absent),
// calls fn, and when fn asks to write, stores the result with
// compare-and-swap, calling fn again on a fresh read when another writer
// came first. fn must therefore be free of side effects other than on v, or
// safe to repeat (publishing an alert is: the bus drops the repeat). It
// returns the value as finally stored (or as read, when fn wrote nothing).
func Update[T any](ctx context.Context, s Store, key string, ttl time.Duration, fn func(v *T, found bool) (write bool, err error)) (T, error) {
	for range maxCASAttempts {
		var v T
		old, err := s.Get(ctx, key)
		found := err == nil
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return v, err
		default:
			if err := json.Unmarshal(old, &v); err != nil {
				return v, fmt.Errorf("decode %s: %w", key, err)
			}
		}
		write, err := fn(&v, found)
		if err != nil || !write {
			return v, err
		}
		b, err := json.Marshal(&v)
		if err != nil {
			return v, fmt.Errorf("encode %s: %w", key, err)
		}
		ok, err := s.CompareAndSwap(ctx, key, old, b, ttl)
		if err != nil {
			return v, err
		}
		if ok {
			return v, nil
		}
	}
	var zero T
	return zero, fmt.Errorf("update %s: still contended after %d attempts", key, maxCASAttempts)
}
