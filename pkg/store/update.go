package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Swapper is the part of a Store that UpdateJSON needs.
type Swapper interface {
	Get(ctx context.Context, key string) ([]byte, error)
	CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error)
}

// maxUpdateAttempts bounds UpdateJSON's retries; losing this often means
// something rewrites the key in a loop.
const maxUpdateAttempts = 64

// UpdateJSON is a read-modify-write of the JSON value at key that several
// replicas can run at once: it reads the value (the zero T when absent),
// calls fn, and when fn asks to write, stores the result with the TTL fn
// gives by compare-and-swap, calling fn again on a fresh read when another
// writer came first. fn must therefore be free of side effects other than
// on v, or safe to repeat. With skipUnchanged, a result that encodes to the
// stored bytes is not written (its TTL is not refreshed either). It returns
// the value as finally stored, or as read when nothing was written.
func UpdateJSON[T any](ctx context.Context, s Swapper, key string, skipUnchanged bool,
	fn func(v *T, found bool) (write bool, ttl time.Duration, err error)) (T, error) {
	for range maxUpdateAttempts {
		var v T
		old, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, ErrNotFound):
			old = nil
		case err != nil:
			return v, err
		default:
			if err := json.Unmarshal(old, &v); err != nil {
				return v, fmt.Errorf("decode %s: %w", key, err)
			}
		}
		write, ttl, err := fn(&v, old != nil)
		if err != nil || !write {
			return v, err
		}
		b, err := json.Marshal(&v)
		if err != nil {
			return v, fmt.Errorf("encode %s: %w", key, err)
		}
		if skipUnchanged && old != nil && bytes.Equal(b, old) {
			return v, nil
		}
		ok, err := s.CompareAndSwap(ctx, key, old, b, ttl)
		if err != nil || ok {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("update %s: still contended after %d attempts", key, maxUpdateAttempts)
}
