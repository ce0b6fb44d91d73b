package wechat

import (
	"context"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/accesstoken"
	"github.com/govwatch/govwatch/pkg/collect/source"
)

// Store is the part of the shared store the source keeps tokens in, so
// that every collector replica uses the same token and only one refreshes it.
type Store = accesstoken.Store

// The store holds an official account's token under tokenKey and the lease
// to refresh it under leaseKey.
func tokenKey(appID string) string { return "wechat/token/" + appID }
func leaseKey(appID string) string { return "wechat/token-lease/" + appID }

// accessToken returns a token with time left, refreshing it with
// stable_token under a store lease when it is about to expire. A replica
// that finds another holding the lease uses the current token while it is
// still valid, else gives up with a retry-later error. stale, when set, is
// a token the platform refused: it is dropped first (only if the store
// still holds it).
func (s *Source) accessToken(ctx context.Context, appID string, secret []byte, stale string) (string, error) {
	c := &accesstoken.Cache{
		Store: s.Store, Key: tokenKey(appID), LeaseKey: leaseKey(appID), Clock: s.clock(),
		Fetch: func(ctx context.Context) (string, time.Duration, error) {
			var resp struct {
				apiError
				AccessToken string `json:"access_token"`
				ExpiresIn   int64  `json:"expires_in"`
			}
			req := map[string]any{"grant_type": "client_credential", "appid": appID, "secret": string(secret), "force_refresh": false}
			if err := s.call(ctx, "/cgi-bin/stable_token", "", req, &resp); err != nil {
				return "", 0, err
			}
			if resp.AccessToken == "" || resp.ExpiresIn <= 0 {
				return "", 0, fmt.Errorf("wechat stable_token for %s: answer without a token", appID)
			}
			return resp.AccessToken, time.Duration(resp.ExpiresIn) * time.Second, nil
		},
		Busy: func() error {
			return fmt.Errorf("wechat %s: %w: another collector is refreshing the token", appID, source.ErrRetryLater)
		},
	}
	return c.Get(ctx, stale)
}
