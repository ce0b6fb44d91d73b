// Package storetest is the contract suite that every store.Store backend
// passes. A backend's test calls Run with a function that opens a fresh,
// empty store.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/store"
)

const (
	// shortTTL is the expiry used by the tests that wait for a key to go.
	shortTTL = 100 * time.Millisecond
	// longTTL outlives every test.
	longTTL = time.Hour
	// waitTimeout bounds every poll for an expiry.
	waitTimeout = 5 * time.Second
	// workers is the number of goroutines in the concurrency tests.
	workers = 20
)

// Run runs the contract suite. open is called once per subtest, possibly
// from parallel subtests at the same time, and must return an empty store
// that no other subtest sees; it is responsible for closing it (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"get set overwrite", testGetSetOverwrite},
		{"set replaces expiry", testSetReplacesExpiry},
		{"not found", testNotFound},
		{"slices not shared", testSlicesNotShared},
		{"setnx first wins", testSetNXFirstWins},
		{"setnx concurrent", testSetNXConcurrent},
		{"cas", testCAS},
		{"cas ttl", testCASTTL},
		{"cas concurrent", testCASConcurrent},
		{"incr", testIncr},
		{"incr concurrent", testIncrConcurrent},
		{"incr ttl on create only", testIncrTTLOnCreate},
		{"delete", testDelete},
		{"scan prefix", testScanPrefix},
		{"scan glob characters in prefix", testScanGlobPrefix},
		{"scan stops on error", testScanStops},
		{"scan callback may write", testScanWrites},
		{"scan many keys", testScanMany},
		{"expiry", testExpiry},
		{"expired key counts as absent", testExpiredAbsent},
		{"binary values", testBinary},
		{"empty values", testEmpty},
		{"large values", testLarge},
		{"negative ttl", testNegativeTTL},
		{"canceled context", testCanceled},
		{"list follows every write", testListWrites},
		{"list skips expired and cleans", testListExpired},
		{"list shards partition a kind", testListShards},
		{"list refuses undeclared kinds", testListUndeclared},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, open(t))
		})
	}
}

func testGetSetOverwrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", []byte("one"), 0)
	wantValue(t, s, "k", []byte("one"))
	mustSet(t, s, "k", []byte("two"), longTTL)
	wantValue(t, s, "k", []byte("two"))
	mustSet(t, s, "other", []byte("x"), 0)
	wantValue(t, s, "k", []byte("two"))
	if err := s.Set(ctx, "a/b c:d/é", []byte("path-like"), 0); err != nil {
		t.Fatalf("Set with odd key: %v", err)
	}
	wantValue(t, s, "a/b c:d/é", []byte("path-like"))
}

// testSetReplacesExpiry checks that Set drops an earlier expiry, by letting a
// marker set later with the same ttl expire first.
func testSetReplacesExpiry(t *testing.T, s store.Store) {
	mustSet(t, s, "k", []byte("short"), shortTTL)
	mustSet(t, s, "k", []byte("forever"), 0)
	mustSet(t, s, "marker", []byte("m"), shortTTL)
	waitGone(t, s, "marker")
	wantValue(t, s, "k", []byte("forever"))
}

func testNotFound(t *testing.T, s store.Store) {
	if got, err := s.Get(t.Context(), "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(missing) = %q, %v; want ErrNotFound", got, err)
	}
}

func testSlicesNotShared(t *testing.T, s store.Store) {
	ctx := t.Context()
	in := []byte("abc")
	mustSet(t, s, "k", in, 0)
	in[0] = 'X'
	got := mustGet(t, s, "k")
	if string(got) != "abc" {
		t.Fatalf("after changing the slice given to Set: got %q, want %q", got, "abc")
	}
	got[0] = 'Y'
	wantValue(t, s, "k", []byte("abc"))
	err := s.Scan(ctx, "k", func(_ string, val []byte) error {
		val[0] = 'Z'
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	wantValue(t, s, "k", []byte("abc"))
}

func testSetNXFirstWins(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i, tc := range []struct {
		val  string
		want bool
	}{{"first", true}, {"second", false}, {"third", false}} {
		ok, err := s.SetNX(ctx, "k", []byte(tc.val), 0)
		if err != nil {
			t.Fatalf("SetNX #%d: %v", i+1, err)
		}
		if ok != tc.want {
			t.Fatalf("SetNX #%d = %v, want %v", i+1, ok, tc.want)
		}
	}
	wantValue(t, s, "k", []byte("first"))
}

func testSetNXConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	var (
		mu      sync.Mutex
		winners []int
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	for i := range workers {
		wg.Go(func() {
			<-start
			ok, err := s.SetNX(ctx, "lease", []byte(strconv.Itoa(i)), longTTL)
			if err != nil {
				t.Errorf("SetNX from worker %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				winners = append(winners, i)
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("got %d winners %v, want exactly 1", len(winners), winners)
	}
	wantValue(t, s, "lease", []byte(strconv.Itoa(winners[0])))
}

func testCAS(t *testing.T, s store.Store) {
	tests := []struct {
		name    string
		initial []byte // nil: key absent
		old     []byte
		want    bool
	}{
		{"absent, old nil", nil, nil, true},
		{"absent, old set", nil, []byte("v1"), false},
		{"absent, old empty", nil, []byte{}, false},
		{"present, old nil", []byte("v1"), nil, false},
		{"present, old matches", []byte("v1"), []byte("v1"), true},
		{"present, old differs", []byte("v1"), []byte("v2"), false},
		{"present, old is a prefix", []byte("v1"), []byte("v"), false},
		{"empty, old empty", []byte{}, []byte{}, true},
		{"empty, old nil", []byte{}, nil, false},
	}
	ctx := t.Context()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := fmt.Sprintf("cas/%d", i)
			if tc.initial != nil {
				mustSet(t, s, key, tc.initial, 0)
			}
			ok, err := s.CompareAndSwap(ctx, key, tc.old, []byte("new"), 0)
			if err != nil {
				t.Fatalf("CompareAndSwap: %v", err)
			}
			if ok != tc.want {
				t.Fatalf("CompareAndSwap = %v, want %v", ok, tc.want)
			}
			switch {
			case ok:
				wantValue(t, s, key, []byte("new"))
			case tc.initial == nil:
				wantMissing(t, s, key)
			default:
				wantValue(t, s, key, tc.initial)
			}
		})
	}
}

func testCASTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", []byte("v1"), 0)
	ok, err := s.CompareAndSwap(ctx, "k", []byte("v1"), []byte("v2"), shortTTL)
	if err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v; want true, nil", ok, err)
	}
	waitGone(t, s, "k")
}

// testCASConcurrent has every worker add to a decimal counter with a CAS
// loop; a lost update shows as a short total.
func testCASConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const perWorker = 10
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			for range perWorker {
				for {
					var old, val []byte
					cur, err := s.Get(ctx, "counter")
					switch {
					case errors.Is(err, store.ErrNotFound):
						val = []byte("1")
					case err != nil:
						t.Errorf("Get from worker %d: %v", i, err)
						return
					default:
						n, err := strconv.Atoi(string(cur))
						if err != nil {
							t.Errorf("counter %q: %v", cur, err)
							return
						}
						old, val = cur, []byte(strconv.Itoa(n+1))
					}
					ok, err := s.CompareAndSwap(ctx, "counter", old, val, 0)
					if err != nil {
						t.Errorf("CompareAndSwap from worker %d: %v", i, err)
						return
					}
					if ok {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	wantValue(t, s, "counter", []byte(strconv.Itoa(workers*perWorker)))
}

func testIncr(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "ten", []byte("10"), 0)
	mustSet(t, s, "text", []byte("abc"), 0)
	mustSet(t, s, "max", []byte(strconv.FormatInt(math.MaxInt64, 10)), 0)
	tests := []struct {
		name    string
		key     string
		delta   int64
		want    int64
		wantErr bool
		stored  string // value read back afterwards
	}{
		{"absent counts as zero", "new", 3, 3, false, "3"},
		{"adds to previous", "new", 4, 7, false, "7"},
		{"negative delta", "new", -10, -3, false, "-3"},
		{"zero delta", "new", 0, -3, false, "-3"},
		{"adds to a set value", "ten", 5, 15, false, "15"},
		{"not an integer", "text", 1, 0, true, "abc"},
		{"overflow", "max", 1, 0, true, strconv.FormatInt(math.MaxInt64, 10)},
	}
	for _, tc := range tests { // in order: the cases build on each other
		got, err := s.Incr(ctx, tc.key, tc.delta, 0)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: Incr(%s, %d) = %d, want an error", tc.name, tc.key, tc.delta, got)
			}
		} else if err != nil || got != tc.want {
			t.Errorf("%s: Incr(%s, %d) = %d, %v; want %d, nil", tc.name, tc.key, tc.delta, got, err, tc.want)
		}
		wantValue(t, s, tc.key, []byte(tc.stored))
	}
}

func testIncrConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const perWorker = 50
	var (
		mu   sync.Mutex
		seen = make(map[int64]bool)
		wg   sync.WaitGroup
	)
	for i := range workers {
		wg.Go(func() {
			for range perWorker {
				n, err := s.Incr(ctx, "hits", 1, longTTL)
				if err != nil {
					t.Errorf("Incr from worker %d: %v", i, err)
					return
				}
				mu.Lock()
				if seen[n] {
					t.Errorf("Incr returned %d twice", n)
				}
				seen[n] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const want = workers * perWorker
	wantValue(t, s, "hits", []byte(strconv.Itoa(want)))
	if len(seen) != want {
		t.Fatalf("got %d distinct results, want %d", len(seen), want)
	}
}

// testIncrTTLOnCreate checks that only the Incr that creates a key sets its
// expiry: a later long ttl does not extend it, a later short one does not
// shorten a key created without one.
func testIncrTTLOnCreate(t *testing.T, s store.Store) {
	ctx := t.Context()
	incr := func(key string, ttl time.Duration, want int64) {
		t.Helper()
		if got, err := s.Incr(ctx, key, 1, ttl); err != nil || got != want {
			t.Fatalf("Incr(%s, ttl %s) = %d, %v; want %d, nil", key, ttl, got, err, want)
		}
	}
	incr("short", shortTTL, 1)
	incr("short", longTTL, 2)
	incr("short", 0, 3)
	incr("forever", 0, 1)
	incr("forever", shortTTL, 2)
	mustSet(t, s, "marker", []byte("m"), shortTTL)
	waitGone(t, s, "short")
	waitGone(t, s, "marker")
	wantValue(t, s, "forever", []byte("2"))
	incr("short", 0, 1) // expired: starts again from zero
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "k", []byte("v"), 0)
	mustSet(t, s, "k2", []byte("v"), 0)
	for _, key := range []string{"k", "k", "absent"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Fatalf("Delete(%s): %v", key, err)
		}
	}
	wantMissing(t, s, "k")
	wantValue(t, s, "k2", []byte("v"))
}

func testScanPrefix(t *testing.T, s store.Store) {
	for _, k := range []string{"a/1", "a/2", "a/3", "ab", "b/1", "x/a/1"} {
		mustSet(t, s, k, []byte("v:"+k), 0)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1", "a/2", "a/3"}},
		{"a", []string{"a/1", "a/2", "a/3", "ab"}},
		{"a/2", []string{"a/2"}},
		{"b/", []string{"b/1"}},
		{"c/", nil},
		{"", []string{"a/1", "a/2", "a/3", "ab", "b/1", "x/a/1"}},
	}
	for _, tc := range tests {
		got := scanAll(t, s, tc.prefix)
		wantKeys(t, tc.prefix, got, tc.want)
		for k, v := range got {
			if string(v) != "v:"+k {
				t.Errorf("Scan(%q): %s = %q, want %q", tc.prefix, k, v, "v:"+k)
			}
		}
	}
}

// testScanGlobPrefix checks that characters that are patterns to Redis's
// SCAN MATCH are plain characters in a Scan prefix.
func testScanGlobPrefix(t *testing.T, s store.Store) {
	keys := []string{
		"x*/1", "x*/2", "xa/1", "xb/1", "x[ab]/1", "x?/1", `x\/1`, "x]/1", "x^-/1", "xx/1",
	}
	for _, k := range keys {
		mustSet(t, s, k, []byte("v"), 0)
	}
	tests := []struct {
		prefix string
		want   []string
	}{
		{"x*/", []string{"x*/1", "x*/2"}},
		{"x*", []string{"x*/1", "x*/2"}},
		{"x[ab]/", []string{"x[ab]/1"}},
		{"x[", []string{"x[ab]/1"}},
		{"x?/", []string{"x?/1"}},
		{`x\`, []string{`x\/1`}},
		{"x]", []string{"x]/1"}},
		{"x^-", []string{"x^-/1"}},
		{"x", keys},
	}
	for _, tc := range tests {
		wantKeys(t, tc.prefix, scanAll(t, s, tc.prefix), tc.want)
	}
}

func testScanStops(t *testing.T, s store.Store) {
	for i := range 10 {
		mustSet(t, s, fmt.Sprintf("k/%d", i), []byte("v"), 0)
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.Scan(t.Context(), "k/", func(string, []byte) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Scan = %v, want the callback's error", err)
	}
	if calls != 3 {
		t.Fatalf("got %d calls, want 3", calls)
	}
}

// testScanWrites writes from inside the callback, as a component cleaning up
// what it scans does; a backend that holds a lock across fn deadlocks here.
func testScanWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 600
	for i := range n {
		mustSet(t, s, fmt.Sprintf("bulk/%04d", i), []byte("v"), 0)
	}
	moved := 0
	err := s.Scan(ctx, "bulk/", func(key string, val []byte) error {
		moved++
		if err := s.Set(ctx, "done/"+key, bytes.Repeat(val, 512), 0); err != nil {
			return err
		}
		return s.Delete(ctx, key)
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if moved != n {
		t.Fatalf("callback ran %d times, want %d", moved, n)
	}
	if left := scanAll(t, s, "bulk/"); len(left) != 0 {
		t.Fatalf("%d keys left under bulk/, want 0", len(left))
	}
	if done := scanAll(t, s, "done/"); len(done) != n {
		t.Fatalf("%d keys under done/, want %d", len(done), n)
	}
}

func testScanMany(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 1500
	want := make([]string, 0, n)
	for i := range n {
		k := fmt.Sprintf("many/%05d", i)
		want = append(want, k)
		mustSet(t, s, k, []byte(k), 0)
	}
	mustSet(t, s, "manz", []byte("outside"), 0)
	calls := 0
	got := make(map[string]bool)
	err := s.Scan(ctx, "many/", func(key string, val []byte) error {
		calls++
		if string(val) != key {
			return fmt.Errorf("%s = %q, want %q", key, val, key)
		}
		got[key] = true
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	if calls != n || len(got) != n {
		t.Fatalf("got %d calls for %d keys, want %d each", calls, len(got), n)
	}
	for _, k := range want {
		if !got[k] {
			t.Fatalf("Scan missed %s", k)
		}
	}
}

func testExpiry(t *testing.T, s store.Store) {
	mustSet(t, s, "e/short", []byte("v"), shortTTL)
	mustSet(t, s, "e/long", []byte("v"), longTTL)
	mustSet(t, s, "e/forever", []byte("v"), 0)
	waitGone(t, s, "e/short")
	wantValue(t, s, "e/long", []byte("v"))
	wantValue(t, s, "e/forever", []byte("v"))
	wantKeys(t, "e/", scanAll(t, s, "e/"), []string{"e/long", "e/forever"})
}

func testExpiredAbsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, k := range []string{"setnx", "cas", "incr"} {
		mustSet(t, s, k, []byte("41"), shortTTL)
	}
	for _, k := range []string{"setnx", "cas", "incr"} {
		waitGone(t, s, k)
	}
	if ok, err := s.SetNX(ctx, "setnx", []byte("v"), 0); err != nil || !ok {
		t.Errorf("SetNX on expired key = %v, %v; want true, nil", ok, err)
	}
	if ok, err := s.CompareAndSwap(ctx, "cas", nil, []byte("v"), 0); err != nil || !ok {
		t.Errorf("CompareAndSwap(old nil) on expired key = %v, %v; want true, nil", ok, err)
	}
	if n, err := s.Incr(ctx, "incr", 1, 0); err != nil || n != 1 {
		t.Errorf("Incr on expired key = %d, %v; want 1, nil", n, err)
	}
}

func testBinary(t *testing.T, s store.Store) {
	all := make([]byte, 0, 512)
	for i := range 256 {
		all = append(all, byte(i))
	}
	for i := range 256 {
		all = append(all, byte(255-i))
	}
	tests := []struct {
		name string
		val  []byte
	}{
		{"every byte", all},
		{"nul bytes", []byte{0, 0, 0}},
		{"invalid utf-8", []byte{0xff, 0xfe, 0xc3, 0x28}},
		{"crlf", []byte("a\r\nb\r\n")},
	}
	ctx := t.Context()
	for _, tc := range tests {
		key := "bin/" + tc.name
		mustSet(t, s, key, tc.val, 0)
		wantValue(t, s, key, tc.val)
		ok, err := s.CompareAndSwap(ctx, key, tc.val, append([]byte{0}, tc.val...), 0)
		if err != nil || !ok {
			t.Errorf("%s: CompareAndSwap = %v, %v; want true, nil", tc.name, ok, err)
		}
	}
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, "empty", []byte{}, 0)
	mustSet(t, s, "nil", nil, 0)
	if ok, err := s.SetNX(ctx, "setnx", nil, 0); err != nil || !ok {
		t.Fatalf("SetNX(nil) = %v, %v; want true, nil", ok, err)
	}
	// Empty, never nil: a value read is handed back as CompareAndSwap's
	// old, where nil means "absent".
	for _, k := range []string{"empty", "nil", "setnx"} {
		got, err := s.Get(ctx, k)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Get(%s) = %#v, %v; want a non-nil empty slice, nil", k, got, err)
		}
		if ok, err := s.CompareAndSwap(ctx, k, got, got, 0); err != nil || !ok {
			t.Errorf("CompareAndSwap(%s) with the value read = %v, %v; want true, nil", k, ok, err)
		}
	}
	got := scanAll(t, s, "")
	wantKeys(t, "", got, []string{"empty", "nil", "setnx"})
	for k, v := range got {
		if v == nil {
			t.Errorf("Scan: %s = nil, want a non-nil empty slice", k)
		}
	}
}

func testLarge(t *testing.T, s store.Store) {
	ctx := t.Context()
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	mustSet(t, s, "big", big, longTTL)
	wantValue(t, s, "big", big)
	bigger := append(bytes.Clone(big), 'x')
	ok, err := s.CompareAndSwap(ctx, "big", big, bigger, 0)
	if err != nil || !ok {
		t.Fatalf("CompareAndSwap of 1 MiB values = %v, %v; want true, nil", ok, err)
	}
	wantValue(t, s, "big", bigger)
	got := scanAll(t, s, "big")
	if !bytes.Equal(got["big"], bigger) {
		t.Fatalf("Scan: got %d bytes, want the %d written", len(got["big"]), len(bigger))
	}
}

// testNegativeTTL pins down a ttl the contract does not define: it is an
// error, never "keep the current expiry" (go-redis's -1) or "expire now".
func testNegativeTTL(t *testing.T, s store.Store) {
	ctx := t.Context()
	ttl := -time.Second
	if err := s.Set(ctx, "k", []byte("v"), ttl); err == nil {
		t.Error("Set with negative ttl: got nil error")
	}
	if _, err := s.SetNX(ctx, "k", []byte("v"), ttl); err == nil {
		t.Error("SetNX with negative ttl: got nil error")
	}
	if _, err := s.CompareAndSwap(ctx, "k", nil, []byte("v"), ttl); err == nil {
		t.Error("CompareAndSwap with negative ttl: got nil error")
	}
	if _, err := s.Incr(ctx, "k", 1, ttl); err == nil {
		t.Error("Incr with negative ttl: got nil error")
	}
	wantMissing(t, s, "k")
}

func testCanceled(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	checks := []struct {
		op  string
		err error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "k"); return err }()},
		{"Set", s.Set(ctx, "k", []byte("v"), 0)},
		{"SetNX", func() error { _, err := s.SetNX(ctx, "k", []byte("v"), 0); return err }()},
		{"CompareAndSwap", func() error { _, err := s.CompareAndSwap(ctx, "k", nil, []byte("v"), 0); return err }()},
		{"Incr", func() error { _, err := s.Incr(ctx, "k", 1, 0); return err }()},
		{"Delete", s.Delete(ctx, "k")},
		{"Scan", s.Scan(ctx, "", func(string, []byte) error { return nil })},
	}
	for _, c := range checks {
		if !errors.Is(c.err, context.Canceled) {
			t.Errorf("%s with canceled context = %v, want context.Canceled", c.op, c.err)
		}
	}
	wantMissing(t, s, "k")
}

// mustSet sets key or fails the test.
func mustSet(t *testing.T, s store.Store, key string, val []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(t.Context(), key, val, ttl); err != nil {
		t.Fatalf("Set(%s): %v", key, err)
	}
}

// mustGet gets key or fails the test.
func mustGet(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	return got
}

// wantValue fails the test unless key holds want.
func wantValue(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got := mustGet(t, s, key)
	if bytes.Equal(got, want) {
		return
	}
	if len(got) > 64 || len(want) > 64 {
		t.Fatalf("Get(%s): got %d bytes, want %d bytes (different)", key, len(got), len(want))
	}
	t.Fatalf("Get(%s) = %q, want %q", key, got, want)
}

// wantMissing fails the test unless key is absent.
func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	if got, err := s.Get(t.Context(), key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%s) = %q, %v; want ErrNotFound", key, got, err)
	}
}

// waitGone polls until key has expired, failing the test after waitTimeout.
func waitGone(t *testing.T, s store.Store, key string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%s) while waiting for expiry: %v", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still present %s after its %s ttl", key, waitTimeout, shortTTL)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scanAll returns every key and value under prefix, failing the test on an
// error or on a key reported twice.
func scanAll(t *testing.T, s store.Store, prefix string) map[string][]byte {
	t.Helper()
	got := make(map[string][]byte)
	err := s.Scan(t.Context(), prefix, func(key string, val []byte) error {
		if _, dup := got[key]; dup {
			return fmt.Errorf("key %q reported twice", key)
		}
		got[key] = val
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return got
}

// wantKeys fails the test unless got holds exactly the keys in want.
func wantKeys(t *testing.T, prefix string, got map[string][]byte, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for _, k := range want {
		if _, found := got[k]; !found {
			ok = false
		}
	}
	if !ok {
		keys := make([]string, 0, len(got))
		for k := range got {
			keys = append(keys, k)
		}
		t.Errorf("Scan(%q) keys = %q, want %q", prefix, keys, want)
	}
}

// The kinds the list tests use; declared at initialisation, as components do.
var (
	listKind  = store.DeclareKind("storetest/list/", 1)
	shardKind = store.DeclareKind("storetest/shard/", 4)
)

// listAll returns every key and value of kind, failing on a key twice.
func listAll(t *testing.T, s store.Store, kind string) map[string][]byte {
	t.Helper()
	got := make(map[string][]byte)
	err := s.List(t.Context(), kind, func(key string, val []byte) error {
		if _, dup := got[key]; dup {
			return fmt.Errorf("key %q listed twice", key)
		}
		got[key] = val
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q): %v", kind, err)
	}
	return got
}

func testListWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustSet(t, s, listKind+"set", []byte("a"), 0)
	mustSet(t, s, "storetest/other", []byte("x"), 0)
	if ok, err := s.SetNX(ctx, listKind+"setnx", []byte("b"), longTTL); err != nil || !ok {
		t.Fatalf("SetNX = %v, %v", ok, err)
	}
	if ok, err := s.CompareAndSwap(ctx, listKind+"cas", nil, []byte("c"), 0); err != nil || !ok {
		t.Fatalf("CompareAndSwap = %v, %v", ok, err)
	}
	if _, err := s.Incr(ctx, listKind+"incr", 3, 0); err != nil {
		t.Fatalf("Incr: %v", err)
	}
	mustSet(t, s, listKind+"gone", []byte("d"), 0)
	if err := s.Delete(ctx, listKind+"gone"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	got := listAll(t, s, listKind)
	wantKeys(t, listKind, got, []string{listKind + "set", listKind + "setnx", listKind + "cas", listKind + "incr"})
	if string(got[listKind+"incr"]) != "3" || string(got[listKind+"cas"]) != "c" {
		t.Errorf("List values = %q", got)
	}
	// The index lives beside the values, never among them.
	wantKeys(t, "", scanAll(t, s, ""), []string{listKind + "set", listKind + "setnx", listKind + "cas", listKind + "incr", "storetest/other"})
}

func testListExpired(t *testing.T, s store.Store) {
	mustSet(t, s, listKind+"short", []byte("v"), shortTTL)
	mustSet(t, s, listKind+"long", []byte("v"), longTTL)
	waitGone(t, s, listKind+"short")
	for range 2 { // the second List reads the index as the first left it
		wantKeys(t, listKind, listAll(t, s, listKind), []string{listKind + "long"})
	}
	mustSet(t, s, listKind+"short", []byte("again"), 0)
	wantKeys(t, listKind, listAll(t, s, listKind), []string{listKind + "long", listKind + "short"})
}

func testListShards(t *testing.T, s store.Store) {
	k, err := store.LookupKind(shardKind)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 40 {
		key := fmt.Sprintf("%sacct%d/x", shardKind, i)
		mustSet(t, s, key, []byte("v"), 0)
		mustSet(t, s, fmt.Sprintf("%sacct%d/y", shardKind, i), []byte("v"), 0)
		want = append(want, key, fmt.Sprintf("%sacct%d/y", shardKind, i))
	}
	seen := map[string][]byte{}
	used := 0
	for shard := range k.Shards {
		n := 0
		err := s.ListShard(t.Context(), shardKind, shard, func(key string, val []byte) error {
			if got := k.ShardOf(key); got != shard {
				return fmt.Errorf("%s listed in shard %d, belongs to %d", key, shard, got)
			}
			if _, dup := seen[key]; dup {
				return fmt.Errorf("%s listed twice", key)
			}
			seen[key] = val
			n++
			return nil
		})
		if err != nil {
			t.Fatalf("ListShard(%d): %v", shard, err)
		}
		if n > 0 {
			used++
		}
	}
	wantKeys(t, shardKind, seen, want)
	if used < 2 {
		t.Errorf("40 accounts landed in %d of %d shards", used, k.Shards)
	}
	if k.ShardOf(shardKind+"acct1/x") != k.ShardOf(shardKind+"acct1/y") {
		t.Errorf("one account's keys in different shards")
	}
	if err := s.ListShard(t.Context(), shardKind, k.Shards, func(string, []byte) error { return nil }); err == nil {
		t.Errorf("ListShard(%d) of a %d-shard kind: no error", k.Shards, k.Shards)
	}
}

func testListUndeclared(t *testing.T, s store.Store) {
	err := s.List(t.Context(), "storetest/undeclared/", func(string, []byte) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "storetest/undeclared/") {
		t.Errorf("List of an undeclared prefix = %v, want an error naming it", err)
	}
}
