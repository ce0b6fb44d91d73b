// Package probe checks that what an account offers can be used: an app's
// download page answers and its package downloads, a mini-program's entry
// page answers, a web page answers with content. Each check is a
// model.ProbeResult in Batch.Probes; a failed check is a result, not a
// poll error.
package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Kinds of probe.
const (
	KindApp         = "app"
	KindMiniProgram = "miniprogram"
	KindWeb         = "web"
)

// rangeBytes is how much of a package a ranged GET asks for.
const rangeBytes = 1024

// Source probes accounts.
type Source struct {
	// Client makes the requests; nil means a client with a 20 s timeout.
	Client *http.Client
	// MaxBody caps how much of a page is read; 0 means 1 MiB.
	MaxBody int64
	// UserAgent is sent when set.
	UserAgent string
	// Clock dates results and measures latency; nil means the real clock.
	Clock clockwork.Clock
}

var _ source.Source = (*Source)(nil)

// Kind is what an account's probe checks: its source's probe setting, else
// app or miniprogram by platform, else web.
func Kind(a *registry.Account) string {
	if k := source.Options[Account](a.Source.Options).Probe; k != "" {
		return k
	}
	switch a.Platform {
	case "app":
		return KindApp
	case "miniprogram":
		return KindMiniProgram
	}
	return KindWeb
}

// Poll runs the account's checks: the page at source.url, and for an app
// also the package at source.package_url.
func (s *Source) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	b := &source.Batch{State: state}
	o := source.Options[Account](a.Source.Options)
	page := s.page(ctx, o.URL)
	b.Probes = append(b.Probes, s.result(a, page))
	if Kind(a) == KindApp {
		if o.PackageURL == "" {
			return nil, fmt.Errorf("probe %s: an app probe needs package_url", a.ID)
		}
		b.Probes = append(b.Probes, s.result(a, s.pkg(ctx, o.PackageURL)))
	}
	return b, nil
}

// check is one probe's outcome before it becomes a ProbeResult.
type check struct {
	target  string
	ok      bool
	status  int
	bytes   int64
	latency time.Duration
	err     string
}

func (s *Source) result(a *registry.Account, c check) model.ProbeResult {
	return model.ProbeResult{
		Schema: model.SchemaVersion, AccountID: a.ID, Platform: a.Platform, Target: c.target,
		OK: c.ok, StatusCode: c.status, Bytes: c.bytes, LatencyMS: c.latency.Milliseconds(),
		Error: c.err, CheckedAt: s.clock().Now().UTC(),
	}
}

// page GETs url: usable when it answers 2xx with a non-empty body that
// arrives whole.
func (s *Source) page(ctx context.Context, url string) check {
	c := check{target: url}
	start := s.clock().Now()
	resp, err := s.do(ctx, http.MethodGet, url, nil)
	if err != nil {
		c.latency, c.err = s.clock().Since(start), reason(err)
		return c
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, s.maxBody()))
	c.latency, c.bytes = s.clock().Since(start), n
	switch {
	case err != nil:
		c.err = reason(err)
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		c.err = fmt.Sprintf("status %d", resp.StatusCode)
	case n == 0:
		c.err = "empty page"
	default:
		c.ok = true
	}
	return c
}

// pkg checks a package URL without downloading it: HEAD for a positive
// Content-Length, else a ranged GET of its first bytes, which must arrive.
func (s *Source) pkg(ctx context.Context, url string) check {
	c := check{target: url}
	start := s.clock().Now()
	resp, err := s.do(ctx, http.MethodHead, url, nil)
	if err == nil {
		resp.Body.Close()
		c.status = resp.StatusCode
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 && resp.ContentLength > 0 {
			c.ok, c.bytes, c.latency = true, resp.ContentLength, s.clock().Since(start)
			return c
		}
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			c.err, c.latency = fmt.Sprintf("status %d", resp.StatusCode), s.clock().Since(start)
			return c
		}
	}
	// HEAD refused, failed or without a length: ask for the first bytes.
	h := http.Header{"Range": {"bytes=0-" + strconv.Itoa(rangeBytes-1)}}
	resp, err = s.do(ctx, http.MethodGet, url, h)
	if err != nil {
		c.latency, c.err = s.clock().Since(start), reason(err)
		return c
	}
	defer resp.Body.Close()
	c.status = resp.StatusCode
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, rangeBytes))
	c.latency = s.clock().Since(start)
	c.bytes = total(resp, n)
	switch {
	case resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent:
		c.err = fmt.Sprintf("status %d", resp.StatusCode)
	case err != nil:
		c.err = reason(err)
	case n == 0:
		c.err = "empty package"
	default:
		c.ok = true
	}
	return c
}

// total is a package's size: the total of a Content-Range, else the
// Content-Length, else what was read.
func total(resp *http.Response, read int64) int64 {
	if cr := resp.Header.Get("Content-Range"); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				return n
			}
		}
	}
	if resp.ContentLength > 0 && resp.StatusCode == http.StatusOK {
		return resp.ContentLength
	}
	return read
}

func (s *Source) do(ctx context.Context, method, url string, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	if s.UserAgent != "" {
		req.Header.Set("User-Agent", s.UserAgent)
	}
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 20 * time.Second}
	}
	return client.Do(req)
}

// reason is a short, stable description of a failed request.
func reason(err error) string {
	var ue interface{ Timeout() bool }
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ue) && ue.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated body"
	}
	return err.Error()
}

func (s *Source) maxBody() int64 {
	if s.MaxBody > 0 {
		return s.MaxBody
	}
	return 1 << 20
}

func (s *Source) clock() clockwork.Clock { return source.Clock(s.Clock) }
