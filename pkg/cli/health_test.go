package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHealth has the image's health check ask a readiness endpoint that is
// ready, one that is not (as /readyz answers while Redis is down), and
// nothing at all.
func TestHealth(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		if !ready {
			http.Error(w, "not ready: store: dial tcp 10.0.0.5:6379: connection refused", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()

	code, out, errOut := run("health", srv.URL+"/readyz")
	if code != ExitOK || out != "ok\n" {
		t.Errorf("ready: exit %d, stdout %q, stderr %q; want 0 and ok", code, out, errOut)
	}
	ready = false
	code, _, errOut = run("health", srv.URL+"/readyz")
	if code != ExitProblem || !strings.Contains(errOut, "503 Service Unavailable: not ready: store:") {
		t.Errorf("not ready: exit %d, stderr %q; want 1 and the readiness error", code, errOut)
	}
	closed := srv.URL
	srv.Close()
	code, _, errOut = run("health", "-timeout", "2s", closed+"/readyz")
	if code != ExitProblem || !strings.Contains(errOut, "connection refused") {
		t.Errorf("nothing listening: exit %d, stderr %q; want 1 and connection refused", code, errOut)
	}

	testRefusals(t, []refusal{
		{"no URL", []string{"health"}, ExitUsage, "usage: govwatch health"},
		{"two URLs", []string{"health", "http://a/", "http://b/"}, ExitUsage, "usage: govwatch health"},
		{"not http", []string{"health", "127.0.0.1:9101/readyz"}, ExitUsage, `"127.0.0.1:9101/readyz" is not an http or https URL`},
	})
}
