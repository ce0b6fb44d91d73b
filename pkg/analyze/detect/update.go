package detect

import (
	"context"
	"errors"
	"time"
)

// ErrUnchanged, returned by the function given to Change, leaves the stored
// value as it is.
var ErrUnchanged = errors.New("unchanged")

// Change is Update for a function that always writes its change unless it
// returns ErrUnchanged; the same compare-and-swap rules apply.
func Change[T any](ctx context.Context, st Store, key string, ttl time.Duration, fn func(v *T) error) (T, error) {
	return Update(ctx, st, key, ttl, func(v *T, _ bool) (bool, error) {
		switch err := fn(v); {
		case errors.Is(err, ErrUnchanged):
			return false, nil
		case err != nil:
			return false, err
		}
		return true, nil
	})
}
