// Package feed fetches and parses RSS 2.0, Atom and JSON Feed documents
// for the sources that read feeds (rss, rsshub). It does the HTTP itself:
// conditional GET, a body cap and charset handling that gofeed lacks.
package feed

import (
	"context"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Fetcher fetches and parses feeds. The zero value is usable; it is safe
// for concurrent use once its fields are set.
type Fetcher struct {
	// Client makes the requests; nil means a client with a 30 s timeout.
	// Gzip is negotiated and decoded by its transport.
	Client *http.Client
	// MaxBody caps the (decompressed) body in bytes; 0 means
	// fetch.DefaultMaxBody.
	MaxBody int64
	// UserAgent is sent when set.
	UserAgent string
	// Clock dates items that carry no time; nil means the real clock.
	Clock clockwork.Clock
}

// Validators are the cache validators of the last good response. The
// caller keeps them (they are JSON-serialisable) and passes them back.
type Validators struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
}

// Result is one fetch. NotModified means the server answered 304 and Items
// is empty; Validators are what to send next time.
type Result struct {
	NotModified bool
	Validators  Validators
	Items       []Item
	FeedTitle   string
}

// Item is one feed entry, text already plain.
type Item struct {
	NativeID    string
	URL         string
	Title       string
	Text        string
	Author      string
	PublishedAt time.Time
	Metrics     model.Metrics
	// Links are the outbound links of the item's content HTML, resolved
	// against its link (text.ExtractLinks).
	Links []model.Link
}

// Post is the item as a post of account a collected at now, under the
// native id native: the item's own, or one the source derives from it.
func (it Item) Post(a *registry.Account, native string, now time.Time) model.Post {
	return model.Post{
		Schema:      model.SchemaVersion,
		ID:          model.PostID(a.Platform, a.ID, native),
		AccountID:   a.ID,
		Platform:    a.Platform,
		NativeID:    native,
		Kind:        model.KindPost,
		URL:         it.URL,
		Title:       it.Title,
		Text:        it.Text,
		Author:      it.Author,
		PublishedAt: it.PublishedAt.UTC(),
		CollectedAt: now,
		ContentHash: model.ContentHashLinks(it.Title, it.Text, it.URL, it.Links),
		Metrics:     it.Metrics,
		Links:       it.Links,
	}
}

// Fetch gets url with the validators of the last response and parses it.
func (f *Fetcher) Fetch(ctx context.Context, url string, v Validators) (*Result, error) {
	h := http.Header{}
	h.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8")
	if v.ETag != "" {
		h.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		h.Set("If-Modified-Since", v.LastModified)
	}
	c := fetch.Client{HTTP: f.Client, MaxBody: f.MaxBody, UserAgent: f.UserAgent}
	resp, err := c.Do(ctx, fetch.Request{URL: url, Header: h})
	if err != nil {
		return nil, err
	}
	if resp.NotModified() {
		return &Result{NotModified: true, Validators: next(resp.Header, v)}, nil
	}
	res, err := Parse(resp.Body, resp.Header.Get("Content-Type"), f.now())
	if err != nil {
		return nil, &fetch.ParseError{URL: url, Err: err}
	}
	res.Validators = next(resp.Header, Validators{})
	return res, nil
}

// next returns the validators of resp, keeping the old ones a 304 omits.
func next(h http.Header, old Validators) Validators {
	v := Validators{ETag: h.Get("ETag"), LastModified: h.Get("Last-Modified")}
	if v.ETag == "" {
		v.ETag = old.ETag
	}
	if v.LastModified == "" {
		v.LastModified = old.LastModified
	}
	return v
}

// Now reads the fetcher's clock.
func (f *Fetcher) Now() time.Time { return f.now() }

func (f *Fetcher) now() time.Time {
	if f.Clock != nil {
		return f.Clock.Now()
	}
	return time.Now()
}
