package ack

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/backendstest"
)

// backends opens each store two notifiers would share.
func backends(t *testing.T, clock clockwork.Clock) map[string]store.Store {
	t.Helper()
	return backendstest.Open(t, clock, "test:")
}

// wipe deletes every key, as a Redis that lost its data.
func wipe(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := st.Scan(ctx, "", func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Get(ctx, StoreKey); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the wipe: got %v reading the key ring, want ErrNotFound", err)
	}
}

// TestStoreRingSurvivesWipe runs two notifiers' signers on one store,
// wipes the store, restarts one of them, and checks that every link made
// by either, before or after, verifies on both.
func TestStoreRingSurvivesWipe(t *testing.T) {
	clock := clockwork.NewFakeClockAt(now)
	for name, st := range backends(t, clock) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			start := func() *Signer {
				s, err := FromStore(ctx, st, StoreOptions{Clock: clock})
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			a, b := start(), start()
			if !bytes.Equal(a.keys()[0], b.keys()[0]) || len(a.keys()[0]) != StoreKeyLen {
				t.Fatalf("keys at start: got %x and %x, want the same %d bytes", a.keys()[0], b.keys()[0], StoreKeyLen)
			}
			n := 0
			link := func(s *Signer) string {
				n++
				return s.Token(Claims{Fingerprint: "a1b2c3d4e5f60718", Incident: n, Action: ActionAck, Expires: now.Add(72 * 3600e9)})
			}
			type made struct{ by, tok string }
			links := []made{{"a before the wipe", link(a)}, {"b before the wipe", link(b)}}

			wipe(t, st)
			b = start() // restarted on the empty store: generates a new key
			clock.Advance(SyncEvery)
			links = append(links, made{"a after the wipe", link(a)}, made{"restarted b", link(b)})
			clock.Advance(SyncEvery)
			links = append(links, made{"a later", link(a)}, made{"restarted b later", link(b)})

			for _, l := range links {
				for vname, v := range map[string]*Signer{"a": a, "b": b} {
					clock.Advance(SyncEvery)
					if _, err := v.Verify(l.tok, clock.Now()); err != nil {
						t.Errorf("link made by %s, verified on %s: got %v, want it accepted", l.by, vname, err)
					}
				}
			}
			if !bytes.Equal(a.keys()[0], b.keys()[0]) {
				t.Errorf("signing keys after the wipe: got %x on a and %x on b, want one key", a.keys()[0], b.keys()[0])
			}
			p, m, _ := strings.Cut(links[0].tok, ".")
			if _, err := a.Verify(p+"."+flip(m), clock.Now()); !errors.Is(err, ErrSignature) {
				t.Errorf("a link with a forged signature: got %v, want ErrSignature", err)
			}
		})
	}
}

func TestStoreRingBounded(t *testing.T) {
	clock := clockwork.NewFakeClockAt(now)
	st := backends(t, clock)["embedded"]
	ctx := context.Background()
	var signers []*Signer
	for range MaxStoreKeys + 2 { // each one started on a wiped store
		wipe(t, st)
		s, err := FromStore(ctx, st, StoreOptions{Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		signers = append(signers, s)
	}
	clock.Advance(SyncEvery)
	for _, s := range signers {
		s.Token(Claims{Fingerprint: "f", Incident: 1, Action: ActionAck, Expires: now.Add(3600e9)})
	}
	v, err := st.Get(ctx, StoreKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) != MaxStoreKeys*StoreKeyLen {
		t.Errorf("ring after %d wipes: got %d bytes, want %d keys of %d", MaxStoreKeys+2, len(v), MaxStoreKeys, StoreKeyLen)
	}
}

func TestStoreRingRejectsGarbage(t *testing.T) {
	clock := clockwork.NewFakeClockAt(now)
	st := backends(t, clock)["embedded"]
	ctx := context.Background()
	if err := st.Set(ctx, StoreKey, []byte("not a key ring"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := FromStore(ctx, st, StoreOptions{Clock: clock}); err == nil || !strings.Contains(err.Error(), "ack key ring at notifier/ack/key has 14 bytes") {
		t.Errorf("FromStore on a bad value: got %v, want an error naming the key and its length", err)
	}
}
