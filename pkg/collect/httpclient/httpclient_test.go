package httpclient

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// gzipBomb is 16 MiB of zeros compressed to about 16 KiB, 16 times the cap.
func gzipBomb(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 16 {
		if _, err := zw.Write(zero); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hostile serves the misbehaviours a collector meets; stop ends the
// handlers that would otherwise run forever.
func hostile(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	bomb := gzipBomb(t)
	stop := make(chan struct{})
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/slowloris", func(w http.ResponseWriter, r *http.Request) {
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 200 OK\r\n")
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, err := rw.WriteString("X-Slow: a\r\n"); err != nil || rw.Flush() != nil {
				return
			}
		}
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		chunk := bytes.Repeat([]byte("<item>x</item>"), 1024)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	})
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/b", http.StatusFound) })
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop/a", http.StatusFound) })
	mux.HandleFunc("/to-file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "file:///etc/passwd")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Retry-After", "120")
		http.Error(w, "slow down", http.StatusTooManyRequests)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad gateway", http.StatusBadGateway) })
	mux.HandleFunc("/garbage", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte("\x00\x01\xffnot <a feed at all"))
	})
	mux.HandleFunc("/hangup", func(w http.ResponseWriter, r *http.Request) {
		conn, rw, _ := w.(http.Hijacker).Hijack()
		rw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n<rss")
		rw.Flush()
		conn.Close()
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(func() { close(stop); ts.Close() })
	return ts, &hits
}

func TestHostileUpstreams(t *testing.T) {
	ts, _ := hostile(t)
	client := New(Options{HeaderTimeout: 300 * time.Millisecond, Timeout: 3 * time.Second, MaxBody: 1 << 20})
	f := &feed.Fetcher{Client: client, MaxBody: 1 << 20}
	for _, tc := range []struct {
		path      string
		check     func(error) bool
		want      string
		retryable bool
	}{
		{"/slowloris", func(err error) bool { return strings.Contains(err.Error(), "timeout awaiting response headers") }, "a header timeout", true},
		{"/endless", func(err error) bool { return errors.Is(err, ErrBodyTooLarge) }, "ErrBodyTooLarge", false},
		{"/bomb", func(err error) bool { return errors.Is(err, ErrBodyTooLarge) }, "ErrBodyTooLarge after decoding", false},
		{"/loop/a", func(err error) bool { var re *RedirectError; return errors.As(err, &re) }, "a RedirectError", false},
		{"/to-file", func(err error) bool { var re *RedirectError; return errors.As(err, &re) }, "a RedirectError", false},
		{"/broken", func(err error) bool { var se *fetch.StatusError; return errors.As(err, &se) && se.StatusCode == 502 }, "status 502", true},
		{"/garbage", func(err error) bool { var pe *fetch.ParseError; return errors.As(err, &pe) }, "a ParseError", false},
		{"/hangup", func(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }, "an unexpected EOF", true},
	} {
		t.Run(tc.path, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := f.Fetch(ctx, ts.URL+tc.path, feed.Validators{})
			if err == nil || !tc.check(err) {
				t.Fatalf("Fetch %s: %v, want %s", tc.path, err, tc.want)
			}
			if got := retryable(err); got != tc.retryable {
				t.Errorf("retryable(%v) = %v, want %v", err, got, tc.retryable)
			}
		})
	}
}

// retryable is how the collector tells the two apart.
func retryable(err error) bool {
	var r interface{ Retryable() bool }
	if errors.As(err, &r) {
		return r.Retryable()
	}
	return fetch.IsRetryable(err)
}

func TestRedirectsUpToTheLimit(t *testing.T) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := n.Add(1); k <= 5 {
			http.Redirect(w, r, "/next", http.StatusFound)
			return
		}
		io.WriteString(w, "here")
	}))
	defer ts.Close()
	resp, err := New(Options{}).Get(ts.URL)
	if err != nil {
		t.Fatalf("5 redirects: %v, want them followed", err)
	}
	resp.Body.Close()
	n.Store(-1) // six redirects now
	_, err = New(Options{}).Get(ts.URL)
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Errorf("6 redirects: %v, want a RedirectError", err)
	}
}

func TestRetryAfterCoolsTheHostForEveryone(t *testing.T) {
	ts, hits := hostile(t)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC))
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	replica := func() *http.Client {
		return New(Options{Clock: clock, Limiter: hostlimit.New(hostlimit.Options{Store: st, Clock: clock})})
	}
	a, b := replica(), replica()
	resp, err := a.Get(ts.URL + "/busy")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", resp.StatusCode)
	}
	_, err = b.Get(ts.URL + "/busy")
	var te *hostlimit.ThrottledError
	if !errors.As(err, &te) || te.Reason != hostlimit.ReasonRetryAfter {
		t.Fatalf("the other replica's request during Retry-After: %v, want a retry_after ThrottledError", err)
	}
	if got := hits.Load(); got != 1 {
		t.Errorf("the host was hit %d times during its Retry-After, want 1", got)
	}
	if !retryable(err) {
		t.Errorf("a throttled request reads as permanent")
	}
	clock.Advance(121 * time.Second)
	resp, err = b.Get(ts.URL + "/busy")
	if err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
	resp.Body.Close()
	if got := hits.Load(); got != 2 {
		t.Errorf("hits after the wait = %d, want 2", got)
	}
}

func TestRetryAfterForms(t *testing.T) {
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"120", now.Add(2 * time.Minute), true},
		{"Fri, 27 Nov 2026 05:00:00 GMT", now.Add(time.Hour), true},
		{"", time.Time{}, false},
		{"-5", time.Time{}, false},
		{"soon", time.Time{}, false},
	} {
		got, ok := RetryAfter(tc.in, now)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("RetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBodyCapIsExact(t *testing.T) {
	for _, tc := range []struct {
		size int
		err  error
	}{{1024, nil}, {1025, ErrBodyTooLarge}} {
		body := &cappedBody{rc: io.NopCloser(bufio.NewReader(bytes.NewReader(make([]byte, tc.size)))), left: 1024, release: func() {}}
		_, err := io.ReadAll(body)
		if !errors.Is(err, tc.err) {
			t.Errorf("body of %d bytes under a 1024 cap: %v, want %v", tc.size, err, tc.err)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-1", "Fri, 27 Nov 2026 05:00:00 GMT", "Friday, 27-Nov-26 05:00:00 GMT", "", "9999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := RetryAfter(v, now)
		if !ok && !got.IsZero() {
			t.Errorf("RetryAfter(%q) = %v with ok false, want the zero time", v, got)
		}
		if _, err := strconv.Atoi(v); err == nil && ok && got.Before(now) {
			t.Errorf("RetryAfter(%q) = %v, before now", v, got)
		}
	})
}
