// Package ack signs and checks the one-click acknowledgement and resolution
// links put in every message. None of the chat robots calls back, so the link
// itself carries the authority: an HMAC-SHA256 over the alert's fingerprint,
// the incident, the action and the expiry, keyed with a secret only the
// notifiers know.
//
// A token is base64url(payload) "." base64url(mac), with payload
// "<fingerprint>|<incident>|<action>|<expiry unix seconds>".
package ack

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Actions a link may carry.
const (
	ActionAck     = "ack"
	ActionResolve = "resolve"
)

// MinKeyLen is the shortest signing key accepted.
const MinKeyLen = 16

// Errors from Verify; each names what was wrong with the link.
var (
	ErrMalformed = errors.New("malformed link")
	ErrSignature = errors.New("link signature does not match")
	ErrExpired   = errors.New("link expired")
)

// Claims is what a link asks for.
type Claims struct {
	Fingerprint string
	Incident    int
	Action      string
	Expires     time.Time
}

// Signer makes and checks links. It is safe for concurrent use.
//
// It holds a key ring: the first key signs, every key verifies, so a key
// can be rotated without breaking the links already sent. A signer made by
// NewSigner keeps its keys; one made by FromStore shares its ring with the
// other replicas through the store and re-reads it (see FromStore).
type Signer struct {
	ring atomic.Pointer[[][]byte]
	sync *storeSync // nil: the ring is fixed
}

// NewSigner returns a signer that signs with key and also accepts links
// signed with any of previous (each at least MinKeyLen bytes).
func NewSigner(key []byte, previous ...[]byte) (*Signer, error) {
	ring := make([][]byte, 0, 1+len(previous))
	for i, k := range append([][]byte{key}, previous...) {
		if len(k) < MinKeyLen {
			which := "ack signing key"
			if i > 0 {
				which = fmt.Sprintf("previous ack key %d", i)
			}
			return nil, fmt.Errorf("%s has %d bytes, want at least %d", which, len(k), MinKeyLen)
		}
		ring = append(ring, bytes.Clone(k))
	}
	s := &Signer{}
	s.ring.Store(&ring)
	return s, nil
}

func (s *Signer) keys() [][]byte { return *s.ring.Load() }

var b64 = base64.RawURLEncoding.Strict()

// Token signs c.
// Token signs c with the first key of the ring, re-read from the store
// first when the signer shares its ring.
func (s *Signer) Token(c Claims) string {
	s.sync.refresh(s)
	payload := fmt.Sprintf("%s|%d|%s|%d", c.Fingerprint, c.Incident, c.Action, c.Expires.Unix())
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(mac(s.keys()[0], payload))
}

func mac(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// signedBy reports whether sum is the MAC of payload under a key of the ring.
func (s *Signer) signedBy(payload string, sum []byte) bool {
	for _, k := range s.keys() {
		if hmac.Equal(sum, mac(k, payload)) {
			return true
		}
	}
	return false
}

// Verify checks token's signature and that it has not expired at now.
func (s *Signer) Verify(token string, now time.Time) (Claims, error) {
	// The decoder skips \r and \n; a token is only its alphabet, so one
	// link has one spelling.
	if strings.ContainsFunc(token, func(r rune) bool {
		return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) {
		return Claims{}, ErrMalformed
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrMalformed
	}
	payload, err := b64.DecodeString(p64)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	sum, err := b64.DecodeString(m64)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	// A key another replica added to the shared ring since the last read
	// (after a store wipe) is looked for once before the link is refused.
	if !s.signedBy(string(payload), sum) && (!s.sync.refresh(s) || !s.signedBy(string(payload), sum)) {
		return Claims{}, ErrSignature
	}
	parts := strings.Split(string(payload), "|")
	if len(parts) != 4 {
		return Claims{}, ErrMalformed
	}
	inc, err1 := strconv.Atoi(parts[1])
	exp, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || (parts[2] != ActionAck && parts[2] != ActionResolve) {
		return Claims{}, ErrMalformed
	}
	c := Claims{Fingerprint: parts[0], Incident: inc, Action: parts[2], Expires: time.Unix(exp, 0).UTC()}
	if !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}
