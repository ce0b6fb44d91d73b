// Package rsshub collects an account through a self-hosted RSSHub: the
// account's platform and its id there choose the route, Atom is asked for
// because it carries engagement counts, and the feed is read by the shared feed
// fetcher (conditional GET, charsets, Beijing-time dates).
package rsshub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// routes are RSSHub's user-feed routes by platform; %s is the user id
// (path-escaped). WeChat has only indirect routes, so its accounts set
// source.route.
var routes = map[string]string{
	"weibo":       "/weibo/user/%s",
	"douyin":      "/douyin/user/%s",
	"bilibili":    "/bilibili/user/dynamic/%s",
	"toutiao":     "/toutiao/user/token/%s",
	"xiaohongshu": "/xiaohongshu/user/%s/notes",
	"kuaishou":    "/kuaishou/profile/%s",
	"zhihu":       "/zhihu/people/activities/%s",
}

// Route returns the RSSHub route of an account: its explicit route, else
// the platform's user route with its user id.
func Route(platform string, o *Account) (string, error) {
	if o.Route != "" {
		return o.Route, nil
	}
	tmpl, ok := routes[platform]
	if !ok {
		return "", fmt.Errorf("no rsshub route for platform %q: set source.route", platform)
	}
	if o.UserID == "" {
		return "", fmt.Errorf("no user_id for the %s route", platform)
	}
	return fmt.Sprintf(tmpl, url.PathEscape(o.UserID)), nil
}

// Source polls RSSHub routes.
type Source struct {
	// BaseURL is the RSSHub instance, e.g. http://rsshub:1200.
	BaseURL string
	// Fetcher does the HTTP and parsing.
	Fetcher *feed.Fetcher
}

var _ source.Source = (*Source)(nil)

// FeedURL is the full URL polled for a: base URL, route and format=atom
// (unless the route chose a format itself).
func (s *Source) FeedURL(a *registry.Account) (string, error) {
	route, err := Route(a.Platform, source.Options[Account](a.Source.Options))
	if err != nil {
		return "", err
	}
	u, err := url.Parse(strings.TrimRight(s.BaseURL, "/") + route)
	if err != nil {
		return "", fmt.Errorf("rsshub url: %w", err)
	}
	q := u.Query()
	if q.Get("format") == "" {
		q.Set("format", "atom")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// FetchingError is RSSHub's 503 "this path is currently fetching": the
// route is being filled by another request. It wraps source.ErrRetryLater.
type FetchingError struct{ URL string }

func (e *FetchingError) Error() string {
	return fmt.Sprintf("fetch %s: rsshub is still fetching this route, retry later", e.URL)
}

// Retryable is true.
func (e *FetchingError) Retryable() bool { return true }

func (e *FetchingError) Unwrap() error { return source.ErrRetryLater }

// Poll fetches the account's route with the ETag of the last answer.
func (s *Source) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	feedURL, err := s.FeedURL(a)
	if err != nil {
		return nil, fmt.Errorf("rsshub %s: %w", a.ID, err)
	}
	var v feed.Validators
	if len(state) > 0 {
		_ = json.Unmarshal(state, &v) // unreadable state: fetch unconditionally
	}
	// RSSHub honours only If-None-Match.
	v.LastModified = ""
	res, err := s.Fetcher.Fetch(ctx, feedURL, v)
	if err != nil {
		var se *fetch.StatusError
		if errors.As(err, &se) && se.StatusCode == 503 && bytes.Contains(bytes.ToLower(se.Body), []byte("currently fetching")) {
			return nil, &FetchingError{URL: feedURL}
		}
		return nil, err
	}
	next, err := json.Marshal(feed.Validators{ETag: res.Validators.ETag})
	if err != nil {
		return nil, err
	}
	b := &source.Batch{State: next, NotModified: res.NotModified, Complete: true}
	now := s.Fetcher.Now().UTC()
	seen := map[string]bool{}
	for _, it := range res.Items {
		native := it.NativeID
		if a.Platform == "wechat" {
			if k, ok := text.ArticleKey(it.URL); ok {
				native = k
			} else if k, ok := text.ArticleKey(it.NativeID); ok {
				native = k
			}
		}
		if seen[native] {
			continue // the same article through two indirect routes or two links
		}
		seen[native] = true
		p := it.Post(a, native, now)
		if a.Platform == "wechat" {
			// A WeChat link's volatile parameters change without the
			// article changing; the content hash leaves them out.
			p.ContentHash = model.ContentHashLinks(p.Title, p.Text, text.CanonicalURL(p.URL), p.Links)
		}
		b.Posts = append(b.Posts, p)
	}
	b.SortNewestFirst()
	return b, nil
}
