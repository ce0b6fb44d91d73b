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
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
type Signer struct{ key []byte }

// NewSigner returns a signer keyed with key (at least MinKeyLen bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("ack signing key has %d bytes, want at least %d", len(key), MinKeyLen)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

var b64 = base64.RawURLEncoding.Strict()

// Token signs c.
func (s *Signer) Token(c Claims) string {
	payload := fmt.Sprintf("%s|%d|%s|%d", c.Fingerprint, c.Incident, c.Action, c.Expires.Unix())
	return b64.EncodeToString([]byte(payload)) + "." + b64.EncodeToString(s.mac(payload))
}

func (s *Signer) mac(payload string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(payload))
	return m.Sum(nil)
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
	mac, err := b64.DecodeString(m64)
	if err != nil {
		return Claims{}, ErrMalformed
	}
	if !hmac.Equal(mac, s.mac(string(payload))) {
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

// KeyStore is what KeyFromStore needs of the store.
type KeyStore interface {
	Get(ctx context.Context, key string) ([]byte, error)
	SetNX(ctx context.Context, key string, val []byte, ttl time.Duration) (bool, error)
}

// StoreKey is where a generated signing key is kept.
const StoreKey = "notifier/ack/key"

// KeyFromStore returns the signing key kept in the store, generating and
// storing one first when there is none; replicas race with set-if-absent,
// so all of them end up with the same key. For deployments that configure
// no key file or variable.
func KeyFromStore(ctx context.Context, st KeyStore) ([]byte, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generate ack key: %w", err)
	}
	if _, err := st.SetNX(ctx, StoreKey, k, 0); err != nil {
		return nil, fmt.Errorf("store ack key: %w", err)
	}
	v, err := st.Get(ctx, StoreKey)
	if err != nil {
		return nil, fmt.Errorf("read ack key: %w", err)
	}
	return v, nil
}
