package wecomapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/accesstoken"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/store"
)

// newTokens returns the cache of the application's access token, kept in
// the shared store under key (the lease under key + "/lease"), so that
// every notifier replica uses the same one and one at a time fetches a new
// one. Without a store (`govwatch notify test`) the token lives in memory.
func newTokens(a *App, st store.Store, clock clockwork.Clock, corpID, secret, key string) *accesstoken.Cache {
	return &accesstoken.Cache{Store: st, Key: key, LeaseKey: key + "/lease", Clock: clock,
		Fetch: func(ctx context.Context) (string, time.Duration, error) { return a.fetchToken(ctx, corpID, secret) },
		Busy:  func() error { return fmt.Errorf("wecom_app: %w", errRefreshing) },
	}
}

// errRefreshing is returned while another replica holds the lease and the
// current token has run out: the retry stage tries again shortly.
var errRefreshing = errors.New("another notifier is fetching the WeCom token")

// fetchToken calls gettoken. The secret travels in the query, so no error may
// repeat the URL.
func (a *App) fetchToken(ctx context.Context, corpID, secret string) (string, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	u := a.base + "/cgi-bin/gettoken?" + url.Values{"corpid": {corpID}, "corpsecret": {secret}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, channel.Permanent(errors.New("build wecom_app gettoken request: bad url"))
	}
	req.Header.Set("User-Agent", "govwatch-notifier")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", 0, fmt.Errorf("wecom_app gettoken: %w", robot.StripURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", 0, fmt.Errorf("read wecom_app gettoken answer: %w", robot.StripURL(err))
	}
	if err := robot.CheckStatus("wecom_app gettoken", resp.StatusCode, string(robot.Head(raw))); err != nil {
		return "", 0, err
	}
	var ans struct {
		ErrCode     *int64 `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return "", 0, fmt.Errorf("wecom_app gettoken answered %q", robot.Head(raw))
	}
	if ans.ErrCode != nil && *ans.ErrCode != 0 {
		return "", 0, fmt.Errorf("gettoken: %w", classify(*ans.ErrCode, ans.ErrMsg))
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return "", 0, errors.New("wecom_app gettoken answered without a token")
	}
	return ans.AccessToken, time.Duration(ans.ExpiresIn) * time.Second, nil
}
