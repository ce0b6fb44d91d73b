// Package wechat collects a unit's own WeChat official account through the
// official API: articles published through drafts (freepublish/batchget)
// and their read counts (datacube). The access token is held in the shared
// store, obtained with stable_token, so replicas never invalidate each
// other's token.
package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// DefaultBaseURL is the API's address.
const DefaultBaseURL = "https://api.weixin.qq.com"

// Source polls official accounts.
type Source struct {
	BaseURL string // "" means DefaultBaseURL
	Client  fetch.Client
	Store   Store
	Clock   clockwork.Clock
	// PageSize is the count of one batchget call, at most 20 (the API's
	// limit); 0 means 20. MaxPages bounds one poll; 0 means 2.
	PageSize int
	MaxPages int
	Log      *zap.Logger
}

var _ source.Source = (*Source)(nil)

// errcodes are the official-account API's errors: system busy (-1) and
// frequency limits (45009, 45011) go away by themselves, and so does a
// refused token (40001, 42001), which a poll refreshes once and the next
// poll again; invalid credentials and permissions are permanent.
var errcodes = &fetch.APICodes{API: "wechat", Field: "errcode", Retryable: []int{-1, 45009, 45011, 40001, 42001}}

// tokenInvalid reports errcodes that mean "get a new access token".
func tokenInvalid(err error) bool {
	var ae *fetch.APIError
	return errors.As(err, &ae) && ae.Codes == errcodes && (ae.Code == 40001 || ae.Code == 42001 || ae.Code == 40014)
}

type apiError struct {
	ErrCode int    `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

func (e apiError) code() (int, string) { return e.ErrCode, e.ErrMsg }

// call POSTs req as JSON to path (with the token when not empty) and
// decodes the answer into out, turning a non-zero errcode into a *fetch.APIError.
func (s *Source) call(ctx context.Context, path, tok string, req, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	u := strings.TrimRight(s.base(), "/") + path
	if tok != "" {
		u += "?access_token=" + url.QueryEscape(tok)
	}
	resp, err := s.Client.Do(ctx, fetch.Request{Method: "POST", URL: u, Body: body,
		Header: map[string][]string{"Content-Type": {"application/json; charset=utf-8"}}})
	if err != nil {
		return redact(err, tok)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return &fetch.ParseError{URL: s.base() + path, Err: err}
	}
	if c, ok := out.(interface{ code() (int, string) }); ok {
		if code, msg := c.code(); code != 0 {
			return errcodes.Error(path, code, msg)
		}
	}
	return nil
}

// redact keeps the token out of error messages (they reach logs).
func redact(err error, tok string) error {
	if tok == "" || !strings.Contains(err.Error(), tok) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), url.QueryEscape(tok), "REDACTED"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// withToken runs f with the account's token, and once more with a fresh
// one when the platform says the token is invalid or expired.
func (s *Source) withToken(ctx context.Context, appID string, secret []byte, f func(tok string) error) error {
	tok, err := s.accessToken(ctx, appID, secret, "")
	if err != nil {
		return err
	}
	err = f(tok)
	if !tokenInvalid(err) {
		return err
	}
	if tok, err = s.accessToken(ctx, appID, secret, tok); err != nil {
		return err
	}
	return f(tok)
}

// batchget is one page of freepublish/batchget.
type batchget struct {
	apiError
	TotalCount int `json:"total_count"`
	ItemCount  int `json:"item_count"`
	Item       []struct {
		ArticleID string `json:"article_id"`
		Content   struct {
			NewsItem []struct {
				Title            string `json:"title"`
				Author           string `json:"author"`
				Digest           string `json:"digest"`
				Content          string `json:"content"`
				ContentSourceURL string `json:"content_source_url"`
				URL              string `json:"url"`
				IsDeleted        bool   `json:"is_deleted"`
			} `json:"news_item"`
			CreateTime int64 `json:"create_time"`
			UpdateTime int64 `json:"update_time"`
		} `json:"content"`
		UpdateTime int64 `json:"update_time"`
	} `json:"item"`
}

// state carries the last day of read counts fetched, so datacube is asked
// once a day.
type state struct {
	ReadDay string           `json:"read_day,omitempty"`
	Reads   map[string]reads `json:"reads,omitempty"`
}

type reads struct {
	Views  int64 `json:"views"`
	Shares int64 `json:"shares"`
}

// Poll lists the account's published articles, newest first, and adds
// yesterday's read counts where datacube has them.
func (s *Source) Poll(ctx context.Context, a *registry.Account, st []byte) (*source.Batch, error) {
	o := source.Options[Account](a.Source.Options)
	appID := o.AppID
	secret, err := source.ReadSecret(string(o.SecretFile), string(o.SecretEnv))
	if err != nil {
		return nil, fmt.Errorf("wechat %s: %w", a.ID, err)
	}
	var prev state
	if len(st) > 0 {
		_ = json.Unmarshal(st, &prev)
	}
	pageSize, maxPages := s.PageSize, s.MaxPages
	if pageSize <= 0 || pageSize > 20 {
		pageSize = 20
	}
	if maxPages <= 0 {
		maxPages = 2
	}
	now := s.clock().Now().UTC()
	b := &source.Batch{Complete: true}
	for page := 0; page < maxPages; page++ {
		var res batchget
		err := s.withToken(ctx, appID, secret, func(tok string) error {
			res = batchget{}
			return s.call(ctx, "/cgi-bin/freepublish/batchget", tok,
				map[string]any{"offset": page * pageSize, "count": pageSize, "no_content": 0}, &res)
		})
		if err != nil {
			return nil, fmt.Errorf("wechat %s: %w", a.ID, err)
		}
		for _, it := range res.Item {
			published := time.Unix(it.Content.CreateTime, 0).UTC()
			if it.Content.CreateTime <= 0 {
				published = time.Unix(it.UpdateTime, 0).UTC()
			}
			for i, n := range it.Content.NewsItem {
				if n.IsDeleted {
					continue // gone: the collector reports it deleted
				}
				native, ok := text.ArticleKey(n.URL)
				if !ok {
					native = it.ArticleID + "_" + strconv.Itoa(i+1)
				}
				body := text.PlainText(n.Content)
				if body == "" {
					body = text.PlainText(n.Digest)
				}
				p := model.Post{
					Schema: model.SchemaVersion, AccountID: a.ID, Platform: a.Platform, NativeID: native,
					Kind: model.KindPost, URL: n.URL, Title: text.PlainText(n.Title), Text: body, Author: n.Author,
					PublishedAt: published, CollectedAt: now,
				}
				p.ID = model.PostID(a.Platform, a.ID, native)
				p.ContentHash = model.ContentHash(p.Title, p.Text, p.URL)
				b.Posts = append(b.Posts, p)
			}
		}
		if (page+1)*pageSize >= res.TotalCount || len(res.Item) == 0 {
			break
		}
	}
	next := s.readCounts(ctx, a, appID, secret, prev, now)
	for i := range b.Posts {
		if r, ok := next.Reads[readKey(b.Posts[i].URL)]; ok {
			b.Posts[i].Metrics.Views, b.Posts[i].Metrics.Shares = r.Views, r.Shares
		}
	}
	b.SortNewestFirst()
	if b.State, err = json.Marshal(next); err != nil {
		return nil, err
	}
	return b, nil
}

// readCounts returns yesterday's (Beijing) read counts per article, from
// the state when already fetched today, else from datacube. Best effort: a
// failure keeps what the state had and is logged.
func (s *Source) readCounts(ctx context.Context, a *registry.Account, appID string, secret []byte, prev state, now time.Time) state {
	day := now.In(calendar.Shanghai).AddDate(0, 0, -1).Format("2006-01-02")
	if prev.ReadDay == day {
		return prev
	}
	var res struct {
		apiError
		List []struct {
			RefDate          string `json:"ref_date"`
			MsgID            string `json:"msgid"`
			IntPageReadCount int64  `json:"int_page_read_count"`
			ShareCount       int64  `json:"share_count"`
		} `json:"list"`
	}
	err := s.withToken(ctx, appID, secret, func(tok string) error {
		return s.call(ctx, "/datacube/getarticlesummary", tok, map[string]string{"begin_date": day, "end_date": day}, &res)
	})
	if err != nil {
		s.log().Info("read counts unavailable", zap.String("account_id", a.ID), zap.Error(err))
		return prev
	}
	next := state{ReadDay: day, Reads: map[string]reads{}}
	for _, r := range res.List {
		next.Reads[r.MsgID] = reads{Views: r.IntPageReadCount, Shares: r.ShareCount}
	}
	return next
}

// readKey is datacube's msgid of an article link: "<mid>_<idx>".
func readKey(link string) string {
	_, mid, idx, ok := text.WeChatArticle(link)
	if !ok {
		return ""
	}
	return mid + "_" + idx
}

func (s *Source) base() string {
	if s.BaseURL != "" {
		return s.BaseURL
	}
	return DefaultBaseURL
}

func (s *Source) clock() clockwork.Clock { return source.Clock(s.Clock) }

func (s *Source) log() *zap.Logger { return source.Log(s.Log) }
