package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/store"
)

// Store is the part of the shared store the source keeps tokens in, so
// that every collector replica uses the same token and only one refreshes it.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
	CompareAndSwap(ctx context.Context, key string, old, val []byte, ttl time.Duration) (bool, error)
	Delete(ctx context.Context, key string) error
}

// Refresh margins: a token is refreshed when it has less than refreshBefore
// left; the refresh lease outlives one stable_token call.
const (
	refreshBefore = 5 * time.Minute
	leaseTTL      = 30 * time.Second
)

// token is what the store holds under wechat/token/<appid>.
type token struct {
	Value     string    `json:"access_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

func tokenKey(appID string) string { return "wechat/token/" + appID }
func leaseKey(appID string) string { return "wechat/token-lease/" + appID }

// accessToken returns a token with time left, refreshing it under a store
// lease when it is about to expire. A replica that finds another holding
// the lease uses the current token while it is still valid, else gives up
// with a retry-later error. stale, when set, is a token the platform
// refused: it is dropped first (only if the store still holds it).
func (s *Source) accessToken(ctx context.Context, appID string, secret []byte, stale string) (string, error) {
	key := tokenKey(appID)
	cur, err := s.loadToken(ctx, key)
	if err != nil {
		return "", err
	}
	if stale != "" && cur != nil && cur.Value == stale {
		old, _ := json.Marshal(cur)
		if _, err := s.Store.CompareAndSwap(ctx, key, old, []byte("{}"), time.Minute); err != nil {
			return "", err
		}
		cur = nil
	}
	now := s.clock().Now()
	if cur != nil && cur.ExpiresAt.Sub(now) > refreshBefore {
		return cur.Value, nil
	}
	got, err := s.Store.SetNX(ctx, leaseKey(appID), []byte("refreshing"), leaseTTL)
	if err != nil {
		return "", err
	}
	if !got {
		if cur != nil && cur.ExpiresAt.After(now) {
			return cur.Value, nil
		}
		return "", fmt.Errorf("wechat %s: %w: another collector is refreshing the token", appID, source.ErrRetryLater)
	}
	defer s.Store.Delete(context.WithoutCancel(ctx), leaseKey(appID))
	// Another replica may have refreshed between our read and the lease.
	if again, err := s.loadToken(ctx, key); err == nil && again != nil && again.ExpiresAt.Sub(now) > refreshBefore && again.Value != stale {
		return again.Value, nil
	}
	var resp struct {
		apiError
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	req := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": string(secret), "force_refresh": false}
	if err := s.call(ctx, "/cgi-bin/stable_token", "", req, &resp); err != nil {
		return "", err
	}
	if resp.AccessToken == "" || resp.ExpiresIn <= 0 {
		return "", fmt.Errorf("wechat stable_token for %s: answer without a token", appID)
	}
	t := token{Value: resp.AccessToken, ExpiresAt: now.Add(time.Duration(resp.ExpiresIn) * time.Second)}
	b, _ := json.Marshal(t)
	if err := s.Store.Set(ctx, key, b, time.Duration(resp.ExpiresIn)*time.Second); err != nil {
		return "", err
	}
	return t.Value, nil
}

func (s *Source) loadToken(ctx context.Context, key string) (*token, error) {
	b, err := s.Store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var t token
	if json.Unmarshal(b, &t) != nil || t.Value == "" {
		return nil, nil
	}
	return &t, nil
}
