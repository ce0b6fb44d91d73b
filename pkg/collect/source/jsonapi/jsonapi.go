// Package jsonapi collects an account from any JSON HTTP API — a vendor's
// data service, an in-house platform — by mapping its answers to Posts with
// gjson path expressions, following a cursor across pages.
package jsonapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/text"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Fields are gjson paths, relative to one item, of a post's fields. ID or
// URL must be set; the others may be empty.
type Fields struct {
	ID, URL, Title, Text, Author, PublishedAt, Kind, ParentID string
	Likes, Comments, Shares, Views                            string
	// Links holds HTML or an array of links; empty: the links of Text.
	Links string
}

// Mapping turns one API's answers into posts.
type Mapping struct {
	// Items is the path of the array of items in an answer.
	Items  string
	Fields Fields
	// TimeLayout is a Go layout for published_at strings (Beijing time
	// when it has no zone); empty means RFC 3339 and the forms feeds use.
	// Numbers are unix seconds, or milliseconds when over 1e12.
	TimeLayout string
	// NextCursor is the path of the next page's cursor; empty means one
	// page. CursorParam is the query parameter that carries it.
	NextCursor  string
	CursorParam string
	// MaxPages bounds the pages of one poll; 0 means 5.
	MaxPages int
	// AuthHeader, when set, is sent as AuthHeader: AuthValue (a secret).
	AuthHeader string
	AuthValue  string
}

// Source polls JSON APIs.
type Source struct {
	Client   fetch.Client
	Mappings map[string]*Mapping // by name, the account's source.mapping
	Clock    clockwork.Clock
	// Log receives the items skipped as unreadable, with their index.
	Log *zap.Logger
}

var _ source.Source = (*Source)(nil)

// state is the poll state: the first page's ETag.
type state struct {
	ETag string `json:"etag,omitempty"`
}

// Poll reads the account's URL page by page.
func (s *Source) Poll(ctx context.Context, a *registry.Account, st []byte) (*source.Batch, error) {
	o := source.Options[Account](a.Source.Options)
	m, ok := s.Mappings[o.Mapping]
	if !ok {
		return nil, fmt.Errorf("jsonapi %s: unknown mapping %q", a.ID, o.Mapping)
	}
	var prev state
	if len(st) > 0 {
		_ = json.Unmarshal(st, &prev) // unreadable state: fetch unconditionally
	}
	maxPages := m.MaxPages
	if maxPages <= 0 {
		maxPages = 5
	}
	now := s.clock().Now().UTC()
	b := &source.Batch{Complete: true}
	var next state
	cursor := ""
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page == maxPages {
			b.Complete = false // the feed goes on beyond what was read
			break
		}
		u, err := pageURL(o.URL, m.CursorParam, cursor)
		if err != nil {
			return nil, fmt.Errorf("jsonapi %s: %w", a.ID, err)
		}
		h := http.Header{"Accept": {"application/json"}}
		if m.AuthHeader != "" {
			h.Set(m.AuthHeader, m.AuthValue)
		}
		if page == 0 && prev.ETag != "" {
			h.Set("If-None-Match", prev.ETag)
		}
		resp, err := s.Client.Do(ctx, fetch.Request{URL: u, Header: h})
		if err != nil {
			return nil, err
		}
		if resp.NotModified() {
			b.NotModified, b.State = true, st
			return b, nil
		}
		if page == 0 {
			next.ETag = resp.Header.Get("ETag")
		}
		body, _, err := fetch.ToUTF8(resp.Body, resp.Header.Get("Content-Type"))
		if err != nil {
			return nil, &fetch.ParseError{URL: u, Err: err}
		}
		posts, nextCursor, skipped, err := m.Map(body, a, now)
		if err != nil {
			return nil, &fetch.ParseError{URL: u, Err: err}
		}
		for _, sk := range skipped {
			s.log().Warn("item skipped", zap.String("account_id", a.ID), zap.Int("page", page), zap.Error(sk))
		}
		for _, p := range posts {
			if !seen[p.ID] {
				seen[p.ID] = true
				b.Posts = append(b.Posts, p)
			}
		}
		if nextCursor == "" || nextCursor == cursor || len(posts)+len(skipped) == 0 {
			break
		}
		cursor = nextCursor
	}
	b.SortNewestFirst()
	var err error
	if b.State, err = json.Marshal(next); err != nil {
		return nil, err
	}
	return b, nil
}

func pageURL(base, param, cursor string) (string, error) {
	if cursor == "" {
		return base, nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set(param, cursor)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// ItemError is an item that could not be mapped; the others still are.
type ItemError struct {
	Index int
	Field string
	Msg   string
}

func (e *ItemError) Error() string {
	return fmt.Sprintf("item %d: %s: %s", e.Index, e.Field, e.Msg)
}

// Map reads one answer: the posts of its items, the next cursor, and the
// items it skipped. err is set when the answer is not JSON or its items
// path is not an array.
func (m *Mapping) Map(body []byte, a *registry.Account, now time.Time) (posts []model.Post, next string, skipped []error, err error) {
	if !gjson.ValidBytes(body) {
		return nil, "", nil, errors.New("answer is not valid JSON")
	}
	if !utf8.Valid(body) {
		return nil, "", nil, errors.New("answer is not UTF-8 and its Content-Type names no charset")
	}
	items := gjson.GetBytes(body, m.Items)
	if !items.IsArray() {
		return nil, "", nil, fmt.Errorf("items path %q is %s, not an array", m.Items, describe(items))
	}
	if m.NextCursor != "" {
		if c := gjson.GetBytes(body, m.NextCursor); c.Type == gjson.String || c.Type == gjson.Number {
			next = c.String()
		}
	}
	f := m.Fields
	i := -1
	items.ForEach(func(_, it gjson.Result) bool {
		i++
		str := func(path string) string {
			if path == "" {
				return ""
			}
			return it.Get(path).String()
		}
		count := func(path string) int64 {
			if path == "" {
				return 0
			}
			n := it.Get(path).Int()
			if n < 0 {
				return 0
			}
			return n
		}
		native, link := str(f.ID), str(f.URL)
		if native == "" {
			native = link
		}
		if native == "" {
			skipped = append(skipped, &ItemError{i, "id", fmt.Sprintf("no value at %q or %q", f.ID, f.URL)})
			return true
		}
		kind := str(f.Kind)
		if kind == "" {
			kind = model.KindPost
		}
		if kind != model.KindPost && kind != model.KindComment && kind != model.KindReply {
			skipped = append(skipped, &ItemError{i, "kind", fmt.Sprintf("unknown kind %q", kind)})
			return true
		}
		published, ok := m.time(it.Get(f.PublishedAt))
		if f.PublishedAt == "" || !ok {
			published = now
		}
		p := model.Post{
			Schema: model.SchemaVersion, AccountID: a.ID, Platform: a.Platform, NativeID: native,
			Kind: kind, URL: link, Title: text.PlainText(str(f.Title)), Text: text.PlainText(str(f.Text)),
			Author: str(f.Author), PublishedAt: published, CollectedAt: now,
			Metrics: model.Metrics{Likes: count(f.Likes), Comments: count(f.Comments), Shares: count(f.Shares), Views: count(f.Views)},
		}
		if parent := str(f.ParentID); parent != "" {
			p.ParentID = model.PostID(a.Platform, a.ID, parent)
		}
		p.ID = model.PostID(a.Platform, a.ID, native)
		if f.Links != "" {
			p.Links = links(it.Get(f.Links), link)
		} else if f.Text != "" {
			p.Links = text.ExtractLinks(str(f.Text), link)
		}
		p.ContentHash = model.ContentHashLinks(p.Title, p.Text, p.URL, p.Links)
		posts = append(posts, p)
		return true
	})
	return posts, next, skipped, nil
}

// links reads an item's links field: HTML, or an array of URLs or of
// {url|href, text|title, hidden} objects; base resolves relative ones.
func links(v gjson.Result, base string) []model.Link {
	switch {
	case v.Type == gjson.String:
		return text.ExtractLinks(v.String(), base)
	case v.IsArray():
		var ls []model.Link
		v.ForEach(func(_, e gjson.Result) bool {
			switch {
			case e.Type == gjson.String:
				ls = append(ls, model.Link{URL: e.String()})
			case e.IsObject():
				first := func(keys ...string) string {
					for _, k := range keys {
						if r := e.Get(k); r.Type == gjson.String {
							return r.String()
						}
					}
					return ""
				}
				ls = append(ls, model.Link{URL: first("url", "href"), Text: first("text", "title"), Hidden: e.Get("hidden").Bool()})
			}
			return len(ls) < 4*text.MaxLinks // enough to fill the cap after dropping bad ones
		})
		return text.CleanLinks(ls, base)
	}
	return nil
}

// time reads a published_at value: numbers as unix seconds (milliseconds
// when over 1e12), strings with TimeLayout or the forms feeds use.
func (m *Mapping) time(v gjson.Result) (time.Time, bool) {
	switch v.Type {
	case gjson.Number:
		n := v.Int()
		if n <= 0 {
			return time.Time{}, false
		}
		if n > 1e12 {
			return time.UnixMilli(n).UTC(), true
		}
		return time.Unix(n, 0).UTC(), true
	case gjson.String:
		s := v.String()
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return m.time(gjson.Result{Type: gjson.Number, Num: float64(n), Raw: s})
		}
		if m.TimeLayout != "" {
			t, err := time.ParseInLocation(m.TimeLayout, s, calendar.Shanghai)
			return t.UTC(), err == nil
		}
		return text.ParseTime(s)
	}
	return time.Time{}, false
}

func describe(r gjson.Result) string {
	if !r.Exists() {
		return "missing"
	}
	return "a " + r.Type.String()
}

func (s *Source) clock() clockwork.Clock { return source.Clock(s.Clock) }

func (s *Source) log() *zap.Logger { return source.Log(s.Log) }
