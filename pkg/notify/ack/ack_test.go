package ack

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store/embedded"
)

var now = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)

func TestTokenVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef-key"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another-key-of-16-bytes"))
	c := Claims{Fingerprint: "a1b2c3d4e5f60718", Incident: 2, Action: ActionAck, Expires: now.Add(24 * time.Hour)}
	tok := s.Token(c)
	payload, mac, _ := strings.Cut(tok, ".")
	swap := func(action string) string {
		c2 := c
		c2.Action = action
		p2, _, _ := strings.Cut(s.Token(c2), ".")
		return p2 + "." + mac // payload changed, old signature kept
	}
	tests := []struct {
		name    string
		token   string
		at      time.Time
		signer  *Signer
		wantErr error
	}{
		{"valid", tok, now, s, nil},
		{"valid a second before expiry", tok, now.Add(24*time.Hour - time.Second), s, nil},
		{"expired", tok, now.Add(24 * time.Hour), s, ErrExpired},
		{"ack turned into resolve", swap(ActionResolve), now, s, ErrSignature},
		{"signature flipped", payload + "." + flip(mac), now, s, ErrSignature},
		{"another key", tok, now, other, ErrSignature},
		{"no dot", payload, now, s, ErrMalformed},
		{"not base64", "!!!." + mac, now, s, ErrMalformed},
		{"empty", "", now, s, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.signer.Verify(tc.token, tc.at)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify: got error %v, want %v", err, tc.wantErr)
			}
			if err == nil && got != c {
				t.Errorf("claims: got %+v, want %+v", got, c)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestShortKeyRejected(t *testing.T) {
	if _, err := NewSigner([]byte("short")); err == nil || !strings.Contains(err.Error(), "at least 16") {
		t.Fatalf("NewSigner(short): got %v, want an error asking for 16 bytes", err)
	}
}

func TestKeyFromStoreIsShared(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.WithClock(clockwork.NewFakeClockAt(now)))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	k1, err := KeyFromStore(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := KeyFromStore(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 || string(k1) != string(k2) {
		t.Fatalf("keys: got %x and %x, want the same 32 bytes twice", k1, k2)
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner([]byte("0123456789abcdef-key"))
	f.Add(s.Token(Claims{Fingerprint: "x", Incident: 1, Action: ActionAck, Expires: now.Add(time.Hour)}))
	f.Add("a.b")
	good := s.Token(Claims{Fingerprint: "x", Incident: 1, Action: ActionAck, Expires: now.Add(time.Hour)})
	f.Add(good[:4] + "\r\n" + good[4:])
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, now)
		if err == nil && s.Token(c) != tok {
			// A different encoding of the same payload would need the key.
			t.Fatalf("accepted %q, which is not the canonical token %q", tok, s.Token(c))
		}
	})
}
