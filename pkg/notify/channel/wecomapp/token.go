package wecomapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/store"
)

// Refresh margins: a token is refreshed when it has less than refreshBefore
// left; the refresh lease outlives one gettoken call.
const (
	refreshBefore = 5 * time.Minute
	leaseTTL      = 30 * time.Second
)

// token is what the store holds under the application's key.
type token struct {
	Value     string    `json:"access_token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// tokens keeps the application's access token in the shared store, so
// that every notifier replica uses the same one and one at a time fetches
// a new one. Without a store (`govwatch notify test`) the token lives in
// memory.
type tokens struct {
	app    *App
	store  store.Store
	clock  clockwork.Clock
	corpID string
	secret string
	key    string // the token's key; the lease's is key + "/lease"

	mu       sync.Mutex // guards local
	local    *token     // when store is nil
	fetching sync.Mutex // the lease, when store is nil
}

// errRefreshing is returned while another replica holds the lease and the
// current token has run out: the retry stage tries again shortly.
var errRefreshing = errors.New("another notifier is fetching the WeCom token")

// get returns a token with time left, fetching a new one under the lease
// when it is about to expire. stale, when set, is a token WeCom refused:
// it is dropped first, if the store still holds it.
func (t *tokens) get(ctx context.Context, stale string) (string, error) {
	now := t.now()
	cur, err := t.load(ctx)
	if err != nil {
		return "", err
	}
	if stale != "" && cur != nil && cur.Value == stale {
		if err := t.drop(ctx, cur); err != nil {
			return "", err
		}
		cur = nil
	}
	if cur != nil && cur.ExpiresAt.Sub(now) > refreshBefore {
		return cur.Value, nil
	}
	got, release, err := t.lease(ctx)
	if err != nil {
		return "", err
	}
	if !got {
		if cur != nil && cur.ExpiresAt.After(now) {
			return cur.Value, nil
		}
		return "", fmt.Errorf("wecom_app: %w", errRefreshing)
	}
	defer release()
	// Another replica may have fetched one between our read and the lease.
	if again, err := t.load(ctx); err == nil && again != nil && again.ExpiresAt.Sub(now) > refreshBefore && again.Value != stale {
		return again.Value, nil
	}
	fresh, err := t.fetch(ctx, now)
	if err != nil {
		return "", err
	}
	return fresh.Value, t.save(ctx, fresh)
}

// fetch calls gettoken. The secret travels in the query, so no error may
// repeat the URL.
func (t *tokens) fetch(ctx context.Context, now time.Time) (*token, error) {
	a := t.app
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	u := a.base + "/cgi-bin/gettoken?" + url.Values{"corpid": {t.corpID}, "corpsecret": {t.secret}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, channel.Permanent(errors.New("build wecom_app gettoken request: bad url"))
	}
	req.Header.Set("User-Agent", "govwatch-notifier")
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wecom_app gettoken: %w", robot.StripURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read wecom_app gettoken answer: %w", robot.StripURL(err))
	}
	if err := robot.CheckStatus("wecom_app gettoken", resp.StatusCode, string(robot.Head(raw))); err != nil {
		return nil, err
	}
	var ans struct {
		ErrCode     *int64 `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return nil, fmt.Errorf("wecom_app gettoken answered %q", robot.Head(raw))
	}
	if ans.ErrCode != nil && *ans.ErrCode != 0 {
		return nil, fmt.Errorf("gettoken: %w", classify(*ans.ErrCode, ans.ErrMsg))
	}
	if ans.AccessToken == "" || ans.ExpiresIn <= 0 {
		return nil, errors.New("wecom_app gettoken answered without a token")
	}
	return &token{Value: ans.AccessToken, ExpiresAt: now.Add(time.Duration(ans.ExpiresIn) * time.Second)}, nil
}

func (t *tokens) now() time.Time {
	if t.clock == nil {
		return time.Now()
	}
	return t.clock.Now()
}

func (t *tokens) load(ctx context.Context) (*token, error) {
	if t.store == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.local, nil
	}
	b, err := t.store.Get(ctx, t.key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var tok token
	if json.Unmarshal(b, &tok) != nil || tok.Value == "" {
		return nil, nil
	}
	return &tok, nil
}

func (t *tokens) save(ctx context.Context, tok *token) error {
	if t.store == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.local = tok
		return nil
	}
	b, _ := json.Marshal(tok)
	return t.store.Set(ctx, t.key, b, tok.ExpiresAt.Sub(t.now()))
}

// drop forgets cur, unless another replica has replaced it meanwhile.
func (t *tokens) drop(ctx context.Context, cur *token) error {
	if t.store == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.local != nil && t.local.Value == cur.Value {
			t.local = nil
		}
		return nil
	}
	old, _ := json.Marshal(cur)
	_, err := t.store.CompareAndSwap(ctx, t.key, old, []byte("{}"), time.Minute)
	return err
}

// lease takes the right to fetch a token; release gives it back.
func (t *tokens) lease(ctx context.Context) (got bool, release func(), err error) {
	if t.store == nil {
		t.fetching.Lock()
		return true, t.fetching.Unlock, nil
	}
	key := t.key + "/lease"
	got, err = t.store.SetNX(ctx, key, []byte("fetching"), leaseTTL)
	if err != nil || !got {
		return false, nil, err
	}
	return true, func() { _ = t.store.Delete(context.WithoutCancel(ctx), key) }, nil
}
