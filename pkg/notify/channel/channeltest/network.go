package channeltest

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// ClosedURL is the address of an HTTP server that has stopped, so that a
// request to it is refused.
func ClosedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// StalledURL is the address of an HTTP server that accepts requests and
// answers none until the client gives up; it closes when the test ends.
func StalledURL(t *testing.T) string {
	t.Helper()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv.URL
}
