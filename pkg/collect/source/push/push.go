// Package push takes posts that crawlers push instead of the collector
// polling for them: POST /api/v1/ingest with a JSON array of posts, signed
// with a per-key secret. Every post is checked before any is published; a
// bad request gets a 4xx JSON answer saying what is wrong and where.
package push

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// markerTimeout bounds storing the replay marker of a published request.
const markerTimeout = 5 * time.Second

// Path is where the handler is mounted.
const Path = "/api/v1/ingest"

// Headers of a pushed request. The signature is
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)).
const (
	HeaderKey       = "X-Govwatch-Key"
	HeaderTimestamp = "X-Govwatch-Timestamp" // unix seconds
	HeaderSignature = "X-Govwatch-Signature"
)

// Key is one crawler's credentials. Accounts, when not empty, are the only
// accounts it may push for.
type Key struct {
	ID       string
	Secret   []byte
	Accounts []string
}

// Ingester publishes checked posts (the collector's Ingest: same
// de-duplication as polled posts).
type Ingester interface {
	Ingest(ctx context.Context, posts []model.Post) (published int, err error)
}

// Counters is the part of the store the handler shares with other
// replicas: per-key request counts and the signatures already used.
type Counters interface {
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error
}

// Options build a Handler. Keys, Registry, Ingester and Store are required.
type Options struct {
	Keys          []Key
	Registry      *registry.Registry
	Ingester      Ingester
	Store         Counters
	RatePerMinute int           // requests per key and minute; default 60
	MaxBody       int64         // bytes; default 4 MiB
	MaxPosts      int           // per request; default 500
	MaxSkew       time.Duration // timestamp window either side of now; default 5 min
	Clock         clockwork.Clock
	Log           *zap.Logger
}

// Handler serves POST /api/v1/ingest.
type Handler struct {
	o    Options
	keys map[string]*Key
}

// New checks the keys and returns a Handler.
func New(o Options) (*Handler, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.RatePerMinute <= 0 {
		o.RatePerMinute = 60
	}
	if o.MaxBody <= 0 {
		o.MaxBody = 4 << 20
	}
	if o.MaxPosts <= 0 {
		o.MaxPosts = 500
	}
	if o.MaxSkew <= 0 {
		o.MaxSkew = 5 * time.Minute
	}
	h := &Handler{o: o, keys: map[string]*Key{}}
	for i := range o.Keys {
		k := &o.Keys[i]
		if k.ID == "" || len(k.Secret) == 0 {
			return nil, fmt.Errorf("push key %d: missing id or secret", i)
		}
		h.keys[k.ID] = k
	}
	return h, nil
}

// Problem is one thing wrong with one pushed post.
type Problem struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// answer is the JSON body of every response.
type answer struct {
	Error     string    `json:"error,omitempty"`
	Problems  []Problem `json:"problems,omitempty"`
	Accepted  int       `json:"accepted"`
	Published int       `json:"published"`
}

func reply(w http.ResponseWriter, status int, a answer) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}

func fail(w http.ResponseWriter, status int, format string, args ...any) {
	reply(w, status, answer{Error: fmt.Sprintf(format, args...)})
}

// ServeHTTP checks, in order: method, key, body size, timestamp,
// signature, replay, rate, JSON, each post; then publishes them all.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		fail(w, http.StatusMethodNotAllowed, "method %s not allowed: POST a JSON array of posts", r.Method)
		return
	}
	ctx := r.Context()
	keyID := r.Header.Get(HeaderKey)
	key, ok := h.keys[keyID]
	if !ok {
		fail(w, http.StatusUnauthorized, "unknown key %q in %s", truncate(keyID, 64), HeaderKey)
		return
	}
	if r.ContentLength > h.o.MaxBody {
		fail(w, http.StatusRequestEntityTooLarge, "body of %d bytes is over the limit of %d", r.ContentLength, h.o.MaxBody)
		return
	}
	body, err := readBody(r, h.o.MaxBody)
	switch {
	case errors.Is(err, errBodyTooLarge):
		fail(w, http.StatusRequestEntityTooLarge, "body is over the limit of %d bytes", h.o.MaxBody)
		return
	case errors.Is(err, os.ErrDeadlineExceeded):
		// Not too large: too slow. Resending it as it was may pass.
		fail(w, http.StatusRequestTimeout, "the body did not arrive within the server's read timeout (http.read_timeout)")
		return
	case err != nil:
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	now := h.o.Clock.Now()
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		fail(w, http.StatusUnauthorized, "%s must be unix seconds, got %q", HeaderTimestamp, truncate(r.Header.Get(HeaderTimestamp), 32))
		return
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > h.o.MaxSkew || skew < -h.o.MaxSkew {
		fail(w, http.StatusUnauthorized, "%s %d is %s away from the server's time, over %s: resign with the current time", HeaderTimestamp, ts, skew.Round(time.Second), h.o.MaxSkew)
		return
	}
	sig := r.Header.Get(HeaderSignature)
	if !Verify(key.Secret, strconv.FormatInt(ts, 10), body, sig) {
		fail(w, http.StatusUnauthorized, "bad %s: want sha256=<hex HMAC-SHA256 of timestamp + \".\" + body>", HeaderSignature)
		return
	}
	// The marker is stored once the posts are published: a client that
	// timed out on a request that was not published may resend it. Two
	// copies racing both get published, which Ingest de-duplicates.
	marker := "push/sig/" + strings.TrimPrefix(sig, "sha256=")
	if _, err := h.o.Store.Get(ctx, marker); err == nil {
		fail(w, http.StatusConflict, "this signed request was already received and published: a replay is not accepted")
		return
	} else if !errors.Is(err, store.ErrNotFound) {
		h.o.Log.Error("push replay check", zap.String("key", key.ID), zap.Error(err))
		fail(w, http.StatusServiceUnavailable, "state store unavailable, retry later")
		return
	}
	minute := now.Unix() / 60
	n, err := h.o.Store.Incr(ctx, fmt.Sprintf("push/rate/%s/%d", key.ID, minute), 1, 2*time.Minute)
	if err != nil {
		h.o.Log.Error("push rate check", zap.String("key", key.ID), zap.Error(err))
		fail(w, http.StatusServiceUnavailable, "state store unavailable, retry later")
		return
	}
	if n > int64(h.o.RatePerMinute) {
		w.Header().Set("Retry-After", strconv.FormatInt(60-now.Unix()%60, 10))
		fail(w, http.StatusTooManyRequests, "key %q is over its %d requests per minute", key.ID, h.o.RatePerMinute)
		return
	}
	posts, probs, err := Parse(body, h.o.Registry, key.Accounts, now, h.o.MaxPosts)
	if err != nil {
		fail(w, http.StatusBadRequest, "%v", err)
		return
	}
	if len(probs) > 0 {
		status := http.StatusUnprocessableEntity
		for _, p := range probs {
			if p.Field == "account_id" && strings.Contains(p.Message, "may not push") {
				status = http.StatusForbidden
			}
		}
		reply(w, status, answer{Error: fmt.Sprintf("%d problem(s) in the posts; nothing was accepted", len(probs)), Problems: probs})
		return
	}
	published, err := h.o.Ingester.Ingest(ctx, posts)
	if err != nil {
		h.o.Log.Error("push publish", zap.String("key", key.ID), zap.Int("published", published), zap.Error(err))
		reply(w, http.StatusServiceUnavailable, answer{Error: "publishing failed part-way; resend the same posts, they are de-duplicated", Accepted: len(posts), Published: published})
		return
	}
	// Recorded even when the client has gone: it was published.
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markerTimeout)
	defer cancel()
	if err := h.o.Store.Set(mctx, marker, []byte(key.ID), 2*h.o.MaxSkew); err != nil {
		// A resend would be published again and de-duplicated downstream.
		h.o.Log.Warn("push replay marker", zap.String("key", key.ID), zap.Error(err))
	}
	reply(w, http.StatusOK, answer{Accepted: len(posts), Published: published})
}

// Sign returns the signature header value of body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature in constant time.
func Verify(secret []byte, timestamp string, body []byte, sig string) bool {
	want := Sign(secret, timestamp, body)
	return hmac.Equal([]byte(want), []byte(sig))
}

// errBodyTooLarge is readBody's error for a body over its limit.
var errBodyTooLarge = errors.New("body over the limit")

func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errBodyTooLarge
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
