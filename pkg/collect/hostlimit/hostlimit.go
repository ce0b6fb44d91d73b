// Package hostlimit caps the requests the collector sends to each upstream
// host, across every collector replica: a rate (requests per second, counted
// with Incr on one store key per host and second) and a concurrency (a fixed
// number of lease keys per host, taken with SetNX and released with Delete;
// a crashed holder's lease expires by itself). A host that answered 429 or
// 503 with Retry-After is left alone until then.
package hostlimit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/store"
)

// Store is the part of the store the limiter uses.
type Store interface {
	store.KV
	Incr(ctx context.Context, key string, delta int64, ttl time.Duration) (int64, error)
}

// Limit is what one host may receive; 0 means no limit.
type Limit struct {
	Rate        int // requests per second
	Concurrency int // requests at once
}

// ErrThrottled is matched (errors.Is) by every *ThrottledError.
var ErrThrottled = errors.New("host throttled")

// ThrottledError says a request was not sent to protect its host. It may be
// retried: it is not the account's fault.
type ThrottledError struct {
	Host   string
	Reason string    // rate, concurrency or retry_after
	Until  time.Time // for retry_after
}

func (e *ThrottledError) Error() string {
	if e.Reason == ReasonRetryAfter {
		return fmt.Sprintf("host %s throttled: retry after %s", e.Host, e.Until.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("host %s throttled: %s limit", e.Host, e.Reason)
}

// Is makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Retryable implements source.Retryable.
func (e *ThrottledError) Retryable() bool { return true }

// Reasons a request is throttled, the result label of the throttle metric.
const (
	ReasonRate        = "rate"
	ReasonConcurrency = "concurrency"
	ReasonRetryAfter  = "retry_after"
)

// Options build a Limiter. Store is required.
type Options struct {
	Store   Store
	Default Limit
	Hosts   map[string]Limit // by host name, without port
	// Lease is how long a concurrency slot is held at most, so a replica
	// that dies mid-request frees it; longer than a request can take.
	Lease time.Duration
	// MaxWait is how long Acquire waits for a free second or slot before it
	// gives up with a ThrottledError; default 2s.
	MaxWait time.Duration
	// MaxRetryAfter caps a Retry-After a host asks for; default 1h.
	MaxRetryAfter time.Duration
	Clock         clockwork.Clock
	Metrics       prometheus.Registerer
}

// Limiter is safe for concurrent use.
type Limiter struct {
	o         Options
	throttled *prometheus.CounterVec
}

// New returns a Limiter with defaults filled in.
func New(o Options) *Limiter {
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Second
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = time.Hour
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	l := &Limiter{o: o, throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "govwatch_collector_host_throttled_total",
		Help: "Requests held back or refused to protect an upstream host, by result (rate, concurrency, retry_after).",
	}, []string{"result"})}
	if o.Metrics != nil {
		o.Metrics.MustRegister(l.throttled)
	}
	return l
}

// Limit returns the limit that applies to host.
func (l *Limiter) Limit(host string) Limit {
	if lim, ok := l.o.Hosts[host]; ok {
		return lim
	}
	return l.o.Default
}

func key(host, what string) string { return "collector/host/" + host + "/" + what }

// Acquire waits (up to MaxWait) until a request to host is allowed and
// returns the function that ends it. It fails with a *ThrottledError when
// the host is cooling down after Retry-After or stays at its limit, and with
// the store's error when the store cannot be asked.
func (l *Limiter) Acquire(ctx context.Context, host string) (release func(), err error) {
	b, err := l.o.Store.Get(ctx, key(host, "cooldown"))
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, fmt.Errorf("host limit %s: %w", host, err)
	default:
		if ns, perr := strconv.ParseInt(string(b), 10, 64); perr == nil && l.o.Clock.Now().UnixNano() < ns {
			l.throttled.WithLabelValues(ReasonRetryAfter).Inc()
			return nil, &ThrottledError{Host: host, Reason: ReasonRetryAfter, Until: time.Unix(0, ns)}
		}
	}
	lim := l.Limit(host)
	deadline := l.o.Clock.Now().Add(l.o.MaxWait)
	if lim.Rate > 0 {
		if err := l.takeToken(ctx, host, lim.Rate, deadline); err != nil {
			return nil, err
		}
	}
	if lim.Concurrency <= 0 {
		return func() {}, nil
	}
	return l.takeSlot(ctx, host, lim.Concurrency, deadline)
}

// takeToken counts the request in the current second's key; past the rate
// it waits for the next second.
func (l *Limiter) takeToken(ctx context.Context, host string, rate int, deadline time.Time) error {
	for {
		now := l.o.Clock.Now()
		n, err := l.o.Store.Incr(ctx, key(host, "rate/"+strconv.FormatInt(now.Unix(), 10)), 1, 2*time.Second)
		if err != nil {
			return fmt.Errorf("host limit %s: %w", host, err)
		}
		if n <= int64(rate) {
			return nil
		}
		next := now.Truncate(time.Second).Add(time.Second)
		if next.After(deadline) {
			l.throttled.WithLabelValues(ReasonRate).Inc()
			return &ThrottledError{Host: host, Reason: ReasonRate}
		}
		if err := l.sleep(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
}

// takeSlot takes one of the host's concurrency leases, starting at a random
// one so that replicas do not all queue on slot 0.
func (l *Limiter) takeSlot(ctx context.Context, host string, slots int, deadline time.Time) (func(), error) {
	const pause = 50 * time.Millisecond
	for {
		start := rand.IntN(slots)
		for i := range slots {
			k := key(host, "slot/"+strconv.Itoa((start+i)%slots))
			ok, err := l.o.Store.SetNX(ctx, k, []byte{'1'}, l.o.Lease)
			if err != nil {
				return nil, fmt.Errorf("host limit %s: %w", host, err)
			}
			if ok {
				return func() {
					// A fresh context: the request's may be cancelled, and
					// a lease left behind would block the host for Lease.
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = l.o.Store.Delete(ctx, k) // on failure the lease expires
				}, nil
			}
		}
		if l.o.Clock.Now().Add(pause).After(deadline) {
			l.throttled.WithLabelValues(ReasonConcurrency).Inc()
			return nil, &ThrottledError{Host: host, Reason: ReasonConcurrency}
		}
		if err := l.sleep(ctx, pause); err != nil {
			return nil, err
		}
	}
}

func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
	t := l.o.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.Chan():
		return nil
	}
}

// Cooldown keeps every replica away from host until until (at most
// MaxRetryAfter from now), as a Retry-After answer asks.
func (l *Limiter) Cooldown(ctx context.Context, host string, until time.Time) error {
	now := l.o.Clock.Now()
	if !until.After(now) {
		return nil
	}
	if until.Sub(now) > l.o.MaxRetryAfter {
		until = now.Add(l.o.MaxRetryAfter)
	}
	err := l.o.Store.Set(ctx, key(host, "cooldown"), []byte(strconv.FormatInt(until.UnixNano(), 10)), until.Sub(now))
	if err != nil {
		return fmt.Errorf("host cooldown %s: %w", host, err)
	}
	return nil
}
