package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
)

func TestDo(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 2048)
	tests := []struct {
		name      string
		status    int
		body      []byte
		maxBody   int64
		wantErr   string
		retryable bool
		wantBody  string
	}{
		{"200", http.StatusOK, []byte("hello"), 0, "", false, "hello"},
		{"304", http.StatusNotModified, nil, 0, "", false, ""},
		{"404", http.StatusNotFound, []byte("not found"), 0, "status 404", false, ""},
		{"429", http.StatusTooManyRequests, nil, 0, "status 429", true, ""},
		{"503", http.StatusServiceUnavailable, []byte("<html>busy</html>"), 0, "status 503", true, ""},
		{"oversized", http.StatusOK, big, 1024, "over 1024 bytes", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotUA, gotX string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotUA, gotX = r.UserAgent(), r.Header.Get("X-Test")
				w.WriteHeader(tt.status)
				_, _ = w.Write(tt.body)
			}))
			defer ts.Close()
			c := &Client{MaxBody: tt.maxBody, UserAgent: "govwatch-test"}
			resp, err := c.Do(context.Background(), Request{URL: ts.URL, Header: http.Header{"X-Test": {"1"}}})
			if gotUA != "govwatch-test" || gotX != "1" {
				t.Errorf("got user agent %q, X-Test %q; want govwatch-test, 1", gotUA, gotX)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if string(resp.Body) != tt.wantBody || resp.NotModified() != (tt.status == 304) {
					t.Errorf("got body %q not-modified %v, want %q %v", resp.Body, resp.NotModified(), tt.wantBody, tt.status == 304)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), ts.URL) {
				t.Fatalf("got %v, want an error naming %s and %q", err, ts.URL, tt.wantErr)
			}
			if got := IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v", got, tt.retryable)
			}
			var se *StatusError
			if errors.As(err, &se) && !bytes.Equal(se.Body, tt.body) {
				t.Errorf("got error body %q, want %q", se.Body, tt.body)
			}
		})
	}
}

func TestRetryableNetwork(t *testing.T) {
	sourcetest.NetworkFailures(t, func(ctx context.Context, client *http.Client, url string) error {
		_, err := (&Client{HTTP: client}).Do(ctx, Request{URL: url})
		return err
	}, IsRetryable)
	if IsRetryable(&ParseError{URL: "u", Err: errors.New("bad")}) {
		t.Error("got a parse error retryable, want permanent")
	}
}

func TestAPIError(t *testing.T) {
	codes := &APICodes{API: "weibo", Field: "error_code", Retryable: []int{10001, 10023}}
	tests := []struct {
		code      int
		want      string
		retryable bool
	}{
		{10023, "weibo /2/users/show.json: error_code 10023: out of rate limit", true},
		{21327, "weibo /2/users/show.json: error_code 21327: out of rate limit", false},
	}
	for _, tt := range tests {
		err := codes.Error("/2/users/show.json", tt.code, "out of rate limit")
		if got := err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
		if got := IsRetryable(fmt.Errorf("poll: %w", err)); got != tt.retryable {
			t.Errorf("code %d: got retryable %v, want %v", tt.code, got, tt.retryable)
		}
	}
}
