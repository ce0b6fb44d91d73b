package redis

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
	"github.com/govwatch/govwatch/pkg/store/storetest"
)

func TestContract(t *testing.T) {
	addr := redistest.Start(t)
	var n atomic.Int64
	storetest.Run(t, func(t *testing.T) store.Store {
		// One server, a fresh prefix per subtest; the '*' and '[' make
		// any unescaped SCAN MATCH see the other subtests' keys.
		s := New(newClient(t, addr), fmt.Sprintf("test*[%d]:", n.Add(1)))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPrefixIsolation checks that stores whose prefixes would match each other
// as glob patterns see only their own keys. (A prefix that is a plain prefix of
// another, "gw" and "gw:", does overlap; that is what a prefix means.)
func TestPrefixIsolation(t *testing.T) {
	ctx := t.Context()
	client := newClient(t, redistest.Start(t))
	stores := map[string]*Store{}
	for _, p := range []string{"gw*:", "gwx:", "g?:", "gw[x]:", `gw\:`} {
		stores[p] = New(client, p)
		if err := stores[p].Set(ctx, "k", []byte(p), 0); err != nil {
			t.Fatalf("Set under %q: %v", p, err)
		}
	}
	for p, s := range stores {
		var got []string
		err := s.Scan(ctx, "", func(key string, val []byte) error {
			got = append(got, key+"="+string(val))
			return nil
		})
		if err != nil {
			t.Fatalf("Scan under %q: %v", p, err)
		}
		if want := "k=" + p; len(got) != 1 || got[0] != want {
			t.Errorf("Scan under %q = %q, want [%q]", p, got, want)
		}
	}
}

func TestKeysUnderPrefix(t *testing.T) {
	ctx := t.Context()
	client := newClient(t, redistest.Start(t))
	tests := []struct {
		prefix string
		want   string
	}{
		{"", DefaultPrefix + "a/b"},
		{"other:", "other:a/b"},
	}
	for _, tc := range tests {
		s := New(client, tc.prefix)
		if err := s.Set(ctx, "a/b", []byte("v"), 0); err != nil {
			t.Fatalf("Set: %v", err)
		}
		if n, err := client.Exists(ctx, tc.want).Result(); err != nil || n != 1 {
			t.Errorf("prefix %q: EXISTS %s = %d, %v; want 1", tc.prefix, tc.want, n, err)
		}
	}
}

func TestTTLPrecision(t *testing.T) {
	ctx := t.Context()
	client := newClient(t, redistest.Start(t))
	s := New(client, "")
	// A sub-millisecond ttl rounds up instead of being sent as 0 (no
	// expiry) or logged and truncated by go-redis.
	if err := s.Set(ctx, "k", []byte("v"), 300*time.Microsecond); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if _, err := s.Incr(ctx, "n", 1, 1500*time.Microsecond); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	for _, key := range []string{"k", "n"} {
		deadline := time.Now().Add(5 * time.Second)
		for {
			_, err := s.Get(ctx, key)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never expired: %v", key, err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

func TestOpen(t *testing.T) {
	addr := redistest.Start(t)
	ctx := t.Context()
	s, err := Open(ctx, Options{Addrs: []string{addr}, DB: 2, Prefix: "p:"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatalf("Set: %v", err)
	}
	check := goredis.NewClient(&goredis.Options{Addr: addr, DB: 2})
	defer check.Close()
	if got, err := check.Get(ctx, "p:k").Result(); err != nil || got != "v" {
		t.Fatalf("GET p:k in db 2 = %q, %v; want \"v\"", got, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Set(ctx, "k", []byte("v"), 0); !errors.Is(err, goredis.ErrClosed) {
		t.Fatalf("Set after Close = %v, want ErrClosed (Open's Store owns its client)", err)
	}
}

func TestOpenErrors(t *testing.T) {
	addr := redistest.Start(t)
	admin := newClient(t, addr)
	if err := admin.ConfigSet(t.Context(), "requirepass", "secret").Err(); err != nil {
		t.Fatalf("CONFIG SET requirepass: %v", err)
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"no addresses", Options{}, true},
		{"nobody listening", Options{Addrs: []string{"127.0.0.1:1"}}, true},
		{"no password", Options{Addrs: []string{addr}}, true},
		{"wrong password", Options{Addrs: []string{addr}, Password: "nope"}, true},
		{"right password", Options{Addrs: []string{addr}, Password: "secret"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			s, err := Open(ctx, tc.opts)
			if err == nil {
				s.Close()
			}
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("Open: got error %v, want error: %v", err, tc.wantErr)
			}
		})
	}
}

func TestNewDoesNotOwnClient(t *testing.T) {
	client := newClient(t, redistest.Start(t))
	if err := New(client, "").Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := client.Ping(t.Context()).Err(); err != nil {
		t.Fatalf("client unusable after the Store's Close: %v", err)
	}
}

func TestEscapeGlob(t *testing.T) {
	tests := []struct{ in, want string }{
		{"govwatch:", "govwatch:"},
		{"a*b", `a\*b`},
		{"a?[b]", `a\?\[b\]`},
		{`a\b`, `a\\b`},
		{"^-", `\^\-`},
		{"\xff*", "\xff\\*"},
	}
	for _, tc := range tests {
		if got := escapeGlob(tc.in); got != tc.want {
			t.Errorf("escapeGlob(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// newClient returns a single-server client closed at the end of the test.
func newClient(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	return c
}

// migrationKind is a kind whose keys a test writes behind the index's back,
// as a version of govwatch without indexes did.
var migrationKind = store.DeclareKind("redistest/migrate/", 2)

// TestIndexBuiltFromKeyspaceOnce checks the migration: keys written before
// their kind had an index are listed after the first List builds it from
// the keyspace, and later Lists do not walk the keyspace again.
func TestIndexBuiltFromKeyspaceOnce(t *testing.T) {
	ctx := t.Context()
	client := newClient(t, redistest.Start(t))
	for i := range 10 {
		if err := client.Set(ctx, fmt.Sprintf("%s%sa%d", DefaultPrefix, migrationKind, i), "old", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s := New(client, "")
	list := func(s *Store) int {
		n := 0
		if err := s.List(ctx, migrationKind, func(string, []byte) error { n++; return nil }); err != nil {
			t.Fatalf("List: %v", err)
		}
		return n
	}
	scans := func() int64 {
		info, err := client.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		return redistest.CommandCalls(info, "scan")
	}
	before := scans()
	if n := list(s); n != 10 {
		t.Fatalf("first List = %d keys, want the 10 written before the index", n)
	}
	if scans() == before {
		t.Fatalf("first List did not build the index from the keyspace")
	}
	built := scans()
	if err := s.Set(ctx, migrationKind+"new", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if n := list(New(client, "")); n != 11 { // another replica, after the marker
		t.Fatalf("List after the migration = %d keys, want 11", n)
	}
	if got := scans(); got != built {
		t.Fatalf("SCAN calls went from %d to %d after the index was built", built, got)
	}
}
