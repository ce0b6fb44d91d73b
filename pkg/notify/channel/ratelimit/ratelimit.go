// Package ratelimit keeps the channels' sending limits (each channel
// declares its platform's, e.g. 20 messages a minute per DingTalk robot)
// across every notifier replica, by counting sends in the shared store.
//
// Each limit is a sliding-window counter: one store counter per window
// (Incr on a key named after the window's index), and a send is allowed when
// the current window's count plus the previous window's count, weighted by
// how much of it still overlaps the sliding window, stays within the limit.
// Unlike plain fixed windows it does not let 2× the limit through across a
// window boundary, which the platforms punish (DingTalk throttles a robot
// for 10 minutes).
package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
)

// Limit allows Max sends per window of Per.
type Limit struct {
	Max int64
	Per time.Duration
}

func (l Limit) String() string { return fmt.Sprintf("%d/%s", l.Max, l.Per) }

// Counter is the part of store.Store the limiter needs.
type Counter interface {
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// ErrLimited is wrapped by the error Take returns when a limit is reached.
var ErrLimited = errors.New("rate limited")

// LimitedError says which limit was reached and when a send may succeed.
// It is a retryable error for the notifier's retry stage.
type LimitedError struct {
	Limit      Limit
	RetryAfter time.Duration
}

func (e *LimitedError) Error() string {
	return fmt.Sprintf("rate limited: %s reached, retry after %s", e.Limit, e.RetryAfter.Round(time.Millisecond))
}

// Unwrap lets errors.Is(err, ErrLimited) match.
func (e *LimitedError) Unwrap() error { return ErrLimited }

// Limiter counts sends per robot in a shared store. It is safe for
// concurrent use, holds no goroutines and needs no closing.
type Limiter struct {
	store   Counter
	clock   clockwork.Clock
	limited *prometheus.CounterVec
}

// KeyPrefix starts every key the limiter writes.
const KeyPrefix = "notifier/ratelimit/"

// New builds a limiter over store. clock nil means the real clock; reg nil
// registers no metrics.
func New(store Counter, clock clockwork.Clock, reg prometheus.Registerer) *Limiter {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	l := &Limiter{
		store: store,
		clock: clock,
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_rate_limited_total",
			Help: "Sends refused by the per-robot rate limit, by channel.",
		}, []string{"channel"}),
	}
	if reg != nil {
		reg.MustRegister(l.limited)
	}
	return l
}

// RobotID names a robot in keys without revealing its credential: the first
// 16 hex digits of the SHA-256 of the token or key.
func RobotID(credential string) string {
	sum := sha256.Sum256([]byte(credential))
	return hex.EncodeToString(sum[:8])
}

// Take counts one send by robot (a channel kind and a RobotID) against every
// limit. It returns nil when the send may go ahead, a *LimitedError when a
// limit is reached (then nothing is counted), or the store's error. It never
// waits: the caller's retry stage decides when to try again.
func (l *Limiter) Take(ctx context.Context, channel, robot string, limits ...Limit) error {
	now := l.clock.Now()
	type counted struct {
		key string
		ttl time.Duration
	}
	var taken []counted // incremented so far, undone when a later limit refuses
	undo := func() {
		for _, c := range taken {
			// Best effort: a failed undo only makes the limit stricter
			// until the window ends.
			_, _ = l.store.Incr(context.WithoutCancel(ctx), c.key, -1, c.ttl)
		}
	}
	for _, lim := range limits {
		if lim.Max < 1 || lim.Per <= 0 {
			continue
		}
		idx := now.UnixNano() / int64(lim.Per)
		base := KeyPrefix + channel + "/" + robot + "/" + lim.Per.String() + "/"
		cur := base + strconv.FormatInt(idx, 10)
		ttl := 2*lim.Per + time.Second
		n, err := l.store.Incr(ctx, cur, 1, ttl)
		if err != nil {
			undo()
			return fmt.Errorf("rate limit: %w", err)
		}
		taken = append(taken, counted{cur, ttl})
		prev, err := l.store.Incr(ctx, base+strconv.FormatInt(idx-1, 10), 0, ttl)
		if err != nil {
			undo()
			return fmt.Errorf("rate limit: %w", err)
		}
		elapsed := time.Duration(now.UnixNano() - idx*int64(lim.Per))
		// The part of the previous window still inside the sliding window,
		// rounded up so the estimate never undercounts.
		weighted := (prev*int64(lim.Per-elapsed) + int64(lim.Per) - 1) / int64(lim.Per)
		if weighted+n > lim.Max {
			undo()
			l.limited.WithLabelValues(channel).Inc()
			return &LimitedError{Limit: lim, RetryAfter: retryAfter(lim, prev, n-1, elapsed)}
		}
	}
	return nil
}

// retryAfter estimates when the sliding window has room again: at the end
// of this window when the current window alone is full, otherwise when
// enough of the previous window has slid out.
func retryAfter(lim Limit, prev, cur int64, elapsed time.Duration) time.Duration {
	if cur >= lim.Max || prev == 0 {
		return lim.Per - elapsed
	}
	// Need prev*(Per-t)/Per + cur + 1 <= Max  ⇒  t >= Per*(1 - (Max-cur-1)/prev).
	room := lim.Max - cur - 1
	t := time.Duration(int64(lim.Per) - int64(lim.Per)*room/prev)
	if t <= elapsed {
		return time.Millisecond
	}
	return t - elapsed
}
