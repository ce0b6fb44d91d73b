// Package fetch is the HTTP every polling source shares: a body cap, a
// user agent, conditional-GET validators, errors that name the URL and say
// whether they are worth retrying. Sources build on it instead of calling
// net/http themselves.
package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"
)

// DefaultMaxBody caps a response body when Client.MaxBody is zero.
const DefaultMaxBody = 8 << 20

// ErrBodyTooLarge is wrapped by the error of a body larger than MaxBody.
var ErrBodyTooLarge = errors.New("body too large")

// Client makes capped requests. The zero value is usable; it is safe for
// concurrent use once its fields are set.
type Client struct {
	// HTTP makes the requests; nil means a client with a 30 s timeout.
	// Gzip is negotiated and decoded by its transport.
	HTTP *http.Client
	// MaxBody caps the (decompressed) body in bytes; 0 means DefaultMaxBody.
	MaxBody int64
	// UserAgent is sent when set.
	UserAgent string
}

// Request is one call. Header may be nil; Body is sent when not nil.
type Request struct {
	Method string // "" means GET
	URL    string
	Header http.Header
	Body   []byte
}

// Response is a 2xx or 304 answer with its whole (capped) body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// NotModified reports a 304.
func (r *Response) NotModified() bool { return r.StatusCode == http.StatusNotModified }

// StatusError is an HTTP status other than 2xx and 304. Body holds the first
// bytes of the answer (up to 4 KiB) so callers can tell error pages apart.
type StatusError struct {
	URL        string
	StatusCode int
	Body       []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("fetch %s: status %d", e.URL, e.StatusCode)
}

// Retryable is true for 429 and 5xx.
func (e *StatusError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// ParseError is a body a source cannot read: not its format, or in an
// unknown charset. It is permanent.
type ParseError struct {
	URL string
	Err error
}

func (e *ParseError) Error() string { return fmt.Sprintf("parse %s: %v", e.URL, e.Err) }

func (e *ParseError) Unwrap() error { return e.Err }

// Retryable is false: the same body will not parse next time either.
func (e *ParseError) Retryable() bool { return false }

// APICodes is how an API states an error in the body of its answer: the
// name of its code field, and the codes that go away by themselves (system
// busy, rate limits). Other codes are permanent until someone fixes the
// account's credentials or permissions.
type APICodes struct {
	API       string // the API as messages name it, e.g. "wechat"
	Field     string // its code field, e.g. "errcode"
	Retryable []int
}

// Error is the error path answered with code and msg.
func (c *APICodes) Error(path string, code int, msg string) *APIError {
	return &APIError{Path: path, Code: code, Message: msg, Codes: c}
}

// APIError is an error an API stated in its answer, other than success.
type APIError struct {
	Path    string
	Code    int
	Message string
	Codes   *APICodes
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s %s: %s %d: %s", e.Codes.API, e.Path, e.Codes.Field, e.Code, e.Message)
}

// Retryable is true for the codes the API's APICodes list as such.
func (e *APIError) Retryable() bool { return slices.Contains(e.Codes.Retryable, e.Code) }

// IsRetryable reports whether an error may go away by itself: network
// errors, timeouts, 429 and 5xx, or any error in the chain that says so
// through a Retryable() bool method. Other statuses, parse errors, oversized
// bodies and cancellation are permanent.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	var ne net.Error
	switch {
	case err == nil:
		return false
	case errors.As(err, &r):
		return r.Retryable()
	case errors.Is(err, ErrBodyTooLarge), errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return true
	}
	return false
}

// Do sends req and reads the whole answer, up to MaxBody. A status other
// than 2xx or 304 is a *StatusError; a body over the cap wraps
// ErrBodyTooLarge. Errors name the URL.
func (c *Client) Do(ctx context.Context, req Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hr, err := http.NewRequestWithContext(ctx, method, req.URL, body)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	for k, vs := range req.Header {
		hr.Header[k] = vs
	}
	if c.UserAgent != "" && hr.Header.Get("User-Agent") == "" {
		hr.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.client().Do(hr)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	defer resp.Body.Close()

	if resp.StatusCode == http.StatusNotModified {
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header}, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// Keep the start for the caller, drain a little more so the
		// connection can be reused.
		head, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, &StatusError{URL: req.URL, StatusCode: resp.StatusCode, Body: head}
	}
	limit := c.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("fetch %s: %w: over %d bytes", req.URL, ErrBodyTooLarge, limit)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: read body: %w", req.URL, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("fetch %s: %w: over %d bytes", req.URL, ErrBodyTooLarge, limit)
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

func (c *Client) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultClient
}

var defaultClient = &http.Client{Timeout: 30 * time.Second}
