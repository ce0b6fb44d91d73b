// Package sourcetest holds what the tests of every source folder share: the
// README's config sample, recorded answers in testdata, upstreams that
// answer or fail as real ones do.
package sourcetest

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/conf"
)

// Sample reads the sample.yaml of the source whose tests run (the current
// folder), fails the test unless its README.md shows it verbatim, so the
// docs cannot drift from the sample, and decodes it into out, failing on a
// key out does not declare.
func Sample(t testing.TB, out any) {
	t.Helper()
	sample, err := os.ReadFile("sample.yaml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, sample) {
		t.Errorf("got a README without sample.yaml verbatim, want it shown")
	}
	if err := conf.CheckAliases("sample.yaml", sample); err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(sample))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		t.Fatal(err)
	}
}

// Testdata reads a file of the current folder's testdata.
func Testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Serve starts an upstream that answers every request with status, body
// and, when not empty, contentType; the test's end closes it.
func Serve(t testing.TB, status int, contentType string, body []byte) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// ServeFile starts an upstream that answers every request with a testdata
// file.
func ServeFile(t testing.TB, file, contentType string) *httptest.Server {
	t.Helper()
	return Serve(t, http.StatusOK, contentType, Testdata(t, file))
}

// Get fetches url with client (nil: the default of what is tested) under
// ctx, the way the code under test reads its upstream.
type Get func(ctx context.Context, client *http.Client, url string) error

// NetworkFailures checks what get says when the network fails: a refused
// connection and a timeout are worth retrying, a cancelled poll is
// context.Canceled and is not. retryable is the rule under test.
func NetworkFailures(t *testing.T, get Get, retryable func(error) bool) {
	t.Helper()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer slow.Close()
	tests := []struct {
		name   string
		url    string
		client *http.Client
	}{
		{"connection refused", closed.URL, nil},
		{"timeout", slow.URL, &http.Client{Timeout: 50 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := get(context.Background(), tt.client, tt.url)
			if err == nil || !retryable(err) {
				t.Errorf("got %v retryable %v, want an error worth retrying", err, err != nil && retryable(err))
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := get(ctx, nil, slow.URL)
	if !errors.Is(err, context.Canceled) || retryable(err) {
		t.Errorf("got %v retryable %v, want context.Canceled, not retryable", err, retryable(err))
	}
}

// SecretFile writes secret, with the newline an editor leaves, to a file of
// the test's temporary folder, for an account's secret_file.
func SecretFile(t testing.TB, secret string) conf.File {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf.File(f)
}
