package detect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
)

// ErrUnchanged, returned by the function given to Update, leaves the stored
// value as it is.
var ErrUnchanged = errors.New("unchanged")

// maxUpdateTries bounds the compare-and-swap loop of Update; replicas racing
// on one key settle within a few tries.
const maxUpdateTries = 64

// Update is a read-modify-write of the JSON value under key, safe against
// other replicas: it reads the value (the zero T when absent), lets fn change
// it, and writes it back with compare-and-swap, calling fn again on a fresh
// read when another writer came first. fn must therefore only compute; it
// must not publish. Update returns the value written (or left, on
// ErrUnchanged).
func Update[T any](ctx context.Context, st Store, key string, ttl time.Duration, fn func(v *T) error) (T, error) {
	for range maxUpdateTries {
		var v T
		old, err := st.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return v, err
		default:
			if err := json.Unmarshal(old, &v); err != nil {
				return v, fmt.Errorf("state %s: %w", key, err)
			}
		}
		if err := fn(&v); errors.Is(err, ErrUnchanged) {
			return v, nil
		} else if err != nil {
			return v, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return v, fmt.Errorf("state %s: %w", key, err)
		}
		ok, err := st.CompareAndSwap(ctx, key, old, b, ttl)
		if err != nil {
			return v, err
		}
		if ok {
			return v, nil
		}
		if err := ctx.Err(); err != nil {
			return v, err
		}
	}
	var zero T
	return zero, fmt.Errorf("state %s: too many concurrent writers", key)
}
