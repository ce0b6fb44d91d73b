// Package httpclient builds the HTTP client every collector source uses, hardened
// against hostile or broken upstreams: timeouts on dialing, the TLS
// handshake, the response header and the whole request; a cap on the body
// after gzip decoding (a gzip bomb stops at the cap); at most MaxRedirects
// redirects and only to http or https; per-host limits shared between
// replicas (hostlimit), with Retry-After on 429 and 503 honoured for the
// whole host.
package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
)

// Options tune the client. Zero values take the defaults shown.
type Options struct {
	DialTimeout   time.Duration // 5s
	TLSTimeout    time.Duration // 5s
	HeaderTimeout time.Duration // 10s: from the request sent to the status line and headers read
	Timeout       time.Duration // 30s: the whole request, body included
	MaxRedirects  int           // 5; -1 follows none
	MaxBody       int64         // 8 MiB, after content decoding
	UserAgent     string        // set on requests that carry none
	// Limiter, when set, holds each request to its host's limits.
	Limiter *hostlimit.Limiter
	Clock   clockwork.Clock // reads Retry-After dates; default real
	// Base is the transport underneath (tests); default a new http.Transport.
	Base http.RoundTripper
	// Aliases dial the address on the right for the host:port on the left
	// (the default transport only): the demo's registry names its
	// simulator at the configured listen address, which the process may
	// have been told to serve elsewhere.
	Aliases map[string]string
}

// ErrBodyTooLarge is returned by the body's Read past MaxBody.
var ErrBodyTooLarge = errors.New("response body too large")

// RedirectError is a redirect the client refused to follow. It is permanent.
type RedirectError struct{ Reason string }

func (e *RedirectError) Error() string { return "redirect refused: " + e.Reason }

// Retryable implements source.Retryable: a redirect loop or a redirect to
// another scheme will not mend itself.
func (e *RedirectError) Retryable() bool { return false }

// New returns the hardened client.
func New(o Options) *http.Client {
	if o.DialTimeout <= 0 {
		o.DialTimeout = 5 * time.Second
	}
	if o.TLSTimeout <= 0 {
		o.TLSTimeout = 5 * time.Second
	}
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 10 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.MaxRedirects == 0 {
		o.MaxRedirects = 5
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 8 << 20
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	base := o.Base
	if base == nil {
		dial := (&net.Dialer{Timeout: o.DialTimeout, KeepAlive: 30 * time.Second}).DialContext
		if len(o.Aliases) > 0 {
			next := dial
			dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				if to, ok := o.Aliases[addr]; ok {
					addr = to
				}
				return next(ctx, network, addr)
			}
		}
		base = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dial,
			TLSHandshakeTimeout:   o.TLSTimeout,
			ResponseHeaderTimeout: o.HeaderTimeout,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   32,
			IdleConnTimeout:       90 * time.Second,
			// Headers are small for feeds and APIs; a slowloris header
			// stream stops at ResponseHeaderTimeout, a huge one here.
			MaxResponseHeaderBytes: 256 << 10,
		}
	}
	maxRedirects := o.MaxRedirects
	return &http.Client{
		Timeout:   o.Timeout,
		Transport: &transport{o: o, base: base},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return &RedirectError{Reason: fmt.Sprintf("to scheme %q", req.URL.Scheme)}
			}
			if maxRedirects < 0 || len(via) > maxRedirects {
				return &RedirectError{Reason: fmt.Sprintf("more than %d redirects", max(maxRedirects, 0))}
			}
			return nil
		},
	}
}

type transport struct {
	o    Options
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.o.UserAgent != "" && req.Header.Get("User-Agent") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", t.o.UserAgent)
	}
	host := req.URL.Hostname()
	release := func() {}
	if t.o.Limiter != nil {
		r, err := t.o.Limiter.Acquire(req.Context(), host)
		if err != nil {
			return nil, err
		}
		release = r
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	if t.o.Limiter != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if until, ok := RetryAfter(resp.Header.Get("Retry-After"), t.o.Clock.Now()); ok {
			// Best effort: without the store the next request simply
			// meets the host's answer again.
			_ = t.o.Limiter.Cooldown(context.WithoutCancel(req.Context()), host, until)
		}
	}
	resp.Body = &cappedBody{rc: resp.Body, left: t.o.MaxBody, release: release}
	return resp, nil
}

// RetryAfter reads a Retry-After value, seconds or an HTTP date, as the time
// it names.
func RetryAfter(v string, now time.Time) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return time.Time{}, false
		}
		s = min(s, 366*24*3600) // no overflow; the limiter caps it further
		return now.Add(time.Duration(s) * time.Second), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// cappedBody fails reads past the cap and ends the host lease on Close.
type cappedBody struct {
	rc      io.ReadCloser
	left    int64
	release func()
	once    sync.Once
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the cap from a larger one.
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, ErrBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *cappedBody) Close() error {
	err := b.rc.Close()
	b.once.Do(b.release)
	return err
}
