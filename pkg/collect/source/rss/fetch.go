// Package rss collects an account's posts from its RSS 2.0, Atom or JSON
// Feed, such as a self-hosted RSSHub route. It does the HTTP itself:
// conditional GET, a body cap and charset handling that gofeed lacks.
package rss

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
)

// DefaultMaxBody caps a feed body when Fetcher.MaxBody is zero.
const DefaultMaxBody = 8 << 20

// ErrBodyTooLarge is wrapped by the error of a feed larger than MaxBody.
var ErrBodyTooLarge = errors.New("body too large")

// Fetcher fetches and parses feeds. The zero value is usable; it is safe
// for concurrent use once its fields are set.
type Fetcher struct {
	// Client makes the requests; nil means a client with a 30 s timeout.
	// Gzip is negotiated and decoded by its transport.
	Client *http.Client
	// MaxBody caps the (decompressed) body in bytes; 0 means DefaultMaxBody.
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
}

// StatusError is an HTTP status other than 200 and 304.
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch %s: status %d", e.URL, e.StatusCode)
}

// ParseError is a body that is not a feed gofeed can read, or is in an
// unknown charset.
type ParseError struct {
	URL string
	Err error
}

func (e *ParseError) Error() string { return fmt.Sprintf("parse %s: %v", e.URL, e.Err) }

func (e *ParseError) Unwrap() error { return e.Err }

// IsRetryable reports whether a fetch error may go away by itself: network
// errors, timeouts, 429 and 5xx. Other statuses, parse errors, oversized
// bodies and cancellation are permanent.
func IsRetryable(err error) bool {
	var se *StatusError
	var pe *ParseError
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &se):
		return se.StatusCode == http.StatusTooManyRequests || se.StatusCode >= 500
	case errors.As(err, &pe), errors.Is(err, ErrBodyTooLarge), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return false
}

// Fetch gets url with the validators of the last response and parses it.
func (f *Fetcher) Fetch(ctx context.Context, url string, v Validators) (*Result, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8")
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	if v.ETag != "" {
		req.Header.Set("If-None-Match", v.ETag)
	}
	if v.LastModified != "" {
		req.Header.Set("If-Modified-Since", v.LastModified)
	}
	resp, err := f.client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified:
		return &Result{NotModified: true, Validators: next(resp, v)}, nil
	default:
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &StatusError{URL: url, StatusCode: resp.StatusCode}
	}

	limit := f.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", url, err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("fetch %s: %w: over %d bytes", url, ErrBodyTooLarge, limit)
	}

	res, err := parse(body, resp.Header.Get("Content-Type"), f.now(), shanghai())
	if err != nil {
		return nil, &ParseError{URL: url, Err: err}
	}
	res.Validators = next(resp, Validators{})
	return res, nil
}

// next returns the validators of resp, keeping the old ones a 304 omits.
func next(resp *http.Response, old Validators) Validators {
	v := Validators{ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified")}
	if v.ETag == "" {
		v.ETag = old.ETag
	}
	if v.LastModified == "" {
		v.LastModified = old.LastModified
	}
	return v
}

func (f *Fetcher) client() *http.Client {
	if f.Client != nil {
		return f.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (f *Fetcher) now() time.Time {
	if f.Clock != nil {
		return f.Clock.Now()
	}
	return time.Now()
}
