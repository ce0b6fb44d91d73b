package ack

import (
	"errors"
	"strings"
	"testing"
	"time"
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

func TestPreviousKeyVerifies(t *testing.T) {
	oldKey, newKey := []byte("the-key-of-last-year"), []byte("the-key-of-this-year")
	before, err := NewSigner(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	after, err := NewSigner(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{Fingerprint: "a1b2c3d4e5f60718", Incident: 1, Action: ActionResolve, Expires: now.Add(time.Hour)}
	if _, err := after.Verify(before.Token(c), now); err != nil {
		t.Errorf("a link signed before the rotation: got %v, want it accepted", err)
	}
	if _, err := before.Verify(after.Token(c), now); !errors.Is(err, ErrSignature) {
		t.Errorf("a link signed after the rotation, checked with the old key alone: got %v, want ErrSignature (the new key signs)", err)
	}
	if _, err := NewSigner(newKey, []byte("short")); err == nil || !strings.Contains(err.Error(), "previous ack key 1 has 5 bytes") {
		t.Errorf("NewSigner(short previous key): got %v, want an error naming the previous key", err)
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
