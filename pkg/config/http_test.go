package config

import (
	"strings"
	"testing"
	"time"
)

// TestHTTPLimits: the HTTP server's timeouts and connection cap have
// defaults, take a file's values, and refuse a timeout that would hold a
// slow client for ever or a negative cap.
func TestHTTPLimits(t *testing.T) {
	d := Default().HTTP
	if d.HeaderTimeout.D() != 10*time.Second || d.ReadTimeout.D() != time.Minute || d.WriteTimeout.D() != 2*time.Minute ||
		d.IdleTimeout.D() != 2*time.Minute || d.MaxConnsPerClient != 64 {
		t.Errorf("defaults %+v, want timeouts 10s, 1m, 2m, 2m and 64 connections per client", d)
	}
	const sample = "http: {header_timeout: 2s, read_timeout: 5s, write_timeout: 10s, idle_timeout: 3s, max_conns_per_client: 8}\n"
	l, err := Load(write(t, t.TempDir(), "govwatch.yaml", sample))
	if err != nil {
		t.Fatal(err)
	}
	if h := l.HTTP; h.HeaderTimeout.D() != 2*time.Second || h.ReadTimeout.D() != 5*time.Second || h.WriteTimeout.D() != 10*time.Second ||
		h.IdleTimeout.D() != 3*time.Second || h.MaxConnsPerClient != 8 {
		t.Errorf("loaded %+v", h)
	}
	for _, tc := range []struct{ from, to, want string }{
		{"header_timeout: 2s", "header_timeout: 0s", "http.header_timeout: must be at least 100ms"},
		{"read_timeout: 5s", "read_timeout: 10ms", "http.read_timeout: must be at least 100ms"},
		{"write_timeout: 10s", "write_timeout: 0s", "http.write_timeout: must be at least 100ms"},
		{"idle_timeout: 3s", "idle_timeout: 0s", "http.idle_timeout: must be at least 100ms"},
		{"max_conns_per_client: 8", "max_conns_per_client: -1", "http.max_conns_per_client: must not be negative"},
	} {
		_, err := Load(write(t, t.TempDir(), "govwatch.yaml", strings.Replace(sample, tc.from, tc.to, 1)))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "govwatch.yaml:1") {
			t.Errorf("%s: Load: %v, want %q at govwatch.yaml:1", tc.to, err, tc.want)
		}
	}
	if _, err := Load(write(t, t.TempDir(), "govwatch.yaml", strings.Replace(sample, "max_conns_per_client: 8", "max_conns_per_client: 0", 1))); err != nil {
		t.Errorf("max_conns_per_client 0 (no cap): %v", err)
	}
}
