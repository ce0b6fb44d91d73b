// Package accesstoken keeps a platform's access token (WeChat's
// stable_token, WeCom's gettoken) in the shared store, so that every
// replica uses the same token and only one at a time asks the platform for
// a new one.
package accesstoken

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store"
)

// Store is the part of the shared store a Cache keeps its token and its
// refresh lease in.
type Store = store.KV

// Refresh margins: a token is refreshed when it has less than RefreshBefore
// left; the refresh lease outlives one call to the platform.
const (
	RefreshBefore = 5 * time.Minute
	LeaseTTL      = 30 * time.Second
)

// Token is what the store holds under a Cache's key.
type Token struct {
	Value     string    `json:"access_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Cache is one credential's access token. Set the fields before the first
// Get; a Cache is safe for concurrent use and must not be copied after.
type Cache struct {
	// Store holds the token and the lease; nil keeps both in this process
	// alone (a one-off command without a store).
	Store Store
	// Key is the token's key in the store, LeaseKey the refresh lease's.
	Key, LeaseKey string
	// Fetch asks the platform for a new token: its value and how long it
	// is valid.
	Fetch func(ctx context.Context) (value string, ttl time.Duration, err error)
	// Busy is the error Get returns when another replica holds the lease
	// and the current token has run out: the caller tries again shortly.
	Busy func() error
	// Clock dates tokens; nil means the real clock.
	Clock clockwork.Clock

	mu       sync.Mutex // guards local
	local    *Token     // when Store is nil
	fetching sync.Mutex // the lease, when Store is nil
}

// Get returns a token with time left, fetching a new one under the lease
// when it is about to expire. A replica that finds another holding the
// lease uses the current token while it is still valid, else returns
// Busy(). stale, when set, is a token the platform refused: it is dropped
// first, if the store still holds it.
func (c *Cache) Get(ctx context.Context, stale string) (string, error) {
	now := c.now()
	cur, err := c.load(ctx)
	if err != nil {
		return "", err
	}
	if stale != "" && cur != nil && cur.Value == stale {
		if err := c.drop(ctx, cur); err != nil {
			return "", err
		}
		cur = nil
	}
	if cur != nil && cur.ExpiresAt.Sub(now) > RefreshBefore {
		return cur.Value, nil
	}
	got, release, err := c.lease(ctx)
	if err != nil {
		return "", err
	}
	if !got {
		if cur != nil && cur.ExpiresAt.After(now) {
			return cur.Value, nil
		}
		return "", c.Busy()
	}
	defer release()
	// Another replica may have fetched one between our read and the lease.
	if again, err := c.load(ctx); err == nil && again != nil && again.ExpiresAt.Sub(now) > RefreshBefore && again.Value != stale {
		return again.Value, nil
	}
	value, ttl, err := c.Fetch(ctx)
	if err != nil {
		return "", err
	}
	fresh := &Token{Value: value, ExpiresAt: now.Add(ttl)}
	return fresh.Value, c.save(ctx, fresh, ttl)
}

func (c *Cache) now() time.Time {
	if c.Clock == nil {
		return time.Now()
	}
	return c.Clock.Now()
}

func (c *Cache) load(ctx context.Context) (*Token, error) {
	if c.Store == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.local, nil
	}
	b, err := c.Store.Get(ctx, c.Key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t Token
	if json.Unmarshal(b, &t) != nil || t.Value == "" {
		return nil, nil
	}
	return &t, nil
}

func (c *Cache) save(ctx context.Context, t *Token, ttl time.Duration) error {
	if c.Store == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.local = t
		return nil
	}
	b, _ := json.Marshal(t)
	return c.Store.Set(ctx, c.Key, b, ttl)
}

// drop forgets cur, unless another replica has replaced it meanwhile.
func (c *Cache) drop(ctx context.Context, cur *Token) error {
	if c.Store == nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.local != nil && c.local.Value == cur.Value {
			c.local = nil
		}
		return nil
	}
	old, _ := json.Marshal(cur)
	_, err := c.Store.CompareAndSwap(ctx, c.Key, old, []byte("{}"), time.Minute)
	return err
}

// lease takes the right to fetch a token; release gives it back.
func (c *Cache) lease(ctx context.Context) (got bool, release func(), err error) {
	if c.Store == nil {
		c.fetching.Lock()
		return true, c.fetching.Unlock, nil
	}
	got, err = c.Store.SetNX(ctx, c.LeaseKey, []byte("refreshing"), LeaseTTL)
	if err != nil || !got {
		return false, nil, err
	}
	return true, func() { _ = c.Store.Delete(context.WithoutCancel(ctx), c.LeaseKey) }, nil
}
