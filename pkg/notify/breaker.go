package notify

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

// breaker short-circuits a receiver that keeps failing. Once its run of
// retryable failures in a row (failureRuns, shared by every replica)
// reaches the receiver's BreakerAfter, sends to it are not tried: they fail
// at once with errBreakerOpen, so the fallback takes them without waiting
// out the retries, or they stay owed. One send per probe interval, across
// all replicas (a claim in the store), is tried for real; its success ends
// the run, which closes the breaker.
type breaker struct {
	failures *failureRuns
	store    store.KV
	probe    time.Duration // Options.BreakerProbe
	m        *metrics
}

// errBreakerOpen is what a send not tried returns: retryable, so the
// fallback and the owed log take it as any retryable failure.
var errBreakerOpen = errors.New("not tried: the receiver's breaker is open after failing too often in a row")

func breakerKey(receiver string) string { return "notifier/breaker/" + receiver }

// allow reports whether a send to recv is to be tried: its breaker is
// closed, or open and this send is the probe.
func (b *breaker) allow(ctx context.Context, recv Receiver) (bool, error) {
	if recv.BreakerAfter <= 0 {
		return true, nil
	}
	run, err := b.failures.count(ctx, recv.Name)
	if err != nil {
		return false, err
	}
	if run < int64(recv.BreakerAfter) {
		b.m.breakerOpen.WithLabelValues(recv.Name).Set(0)
		return true, nil
	}
	b.m.breakerOpen.WithLabelValues(recv.Name).Set(1)
	probe, err := b.takeProbe(ctx, recv.Name)
	if err != nil || probe {
		return probe, err
	}
	b.m.breakerSkipped.WithLabelValues(recv.Name).Inc()
	return false, nil
}

// takeProbe claims the probe of receiver when it is due: the entry holds
// the time the next probe is due, on the notifier's clock, and the replica
// that moves it on sends the probe.
func (b *breaker) takeProbe(ctx context.Context, receiver string) (bool, error) {
	key, now := breakerKey(receiver), b.failures.clock.Now()
	next := []byte(strconv.FormatInt(now.Add(b.probe).UnixNano(), 10))
	ttl := 2 * b.probe // the entry only matters while the breaker is open
	old, err := b.store.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return b.store.SetNX(ctx, key, next, ttl)
	}
	if err != nil {
		return false, err
	}
	if due, perr := strconv.ParseInt(string(old), 10, 64); perr == nil && now.UnixNano() < due {
		return false, nil
	}
	return b.store.CompareAndSwap(ctx, key, old, next, ttl)
}

// failureRuns counts each receiver's retryable failures in a row, in the
// store, so every replica sees the same run; a day without failure forgets
// it. Each replica reads a run at most once a second: the breaker asks for
// every send.
type failureRuns struct {
	store store.Store
	clock clockwork.Clock

	mu   sync.Mutex
	seen map[string]seenRun
}

// seenRun is a run as this replica last read or changed it.
type seenRun struct {
	n  int64
	at time.Time
}

// runFresh is how long a run read from the store is taken as current.
const runFresh = time.Second

func failKey(receiver string) string { return "notifier/failures/" + receiver }

// observe counts a send's outcome: a success ends the run, a retryable
// failure adds to it, a permanent one leaves it.
func (f *failureRuns) observe(ctx context.Context, receiver string, err error) error {
	switch {
	case err == nil:
		if f.noRun(receiver) {
			return nil // no run to end: no write on the way of every success
		}
		if derr := f.store.Delete(context.WithoutCancel(ctx), failKey(receiver)); derr != nil {
			return derr
		}
		f.remember(receiver, 0)
	case channel.Retryable(err):
		n, ierr := f.store.Incr(context.WithoutCancel(ctx), failKey(receiver), 1, 24*time.Hour)
		if ierr != nil {
			return ierr
		}
		f.remember(receiver, n)
	}
	return nil
}

// count returns receiver's run, read from the store unless this replica
// saw it within runFresh.
func (f *failureRuns) count(ctx context.Context, receiver string) (int64, error) {
	f.mu.Lock()
	s, ok := f.seen[receiver]
	f.mu.Unlock()
	if ok && f.clock.Since(s.at) < runFresh {
		return s.n, nil
	}
	n, err := f.store.Incr(ctx, failKey(receiver), 0, 24*time.Hour)
	if err != nil {
		return 0, err
	}
	f.remember(receiver, n)
	return n, nil
}

// noRun reports whether this replica saw receiver's run at 0 within
// runFresh.
func (f *failureRuns) noRun(receiver string) bool {
	f.mu.Lock()
	s, ok := f.seen[receiver]
	f.mu.Unlock()
	return ok && s.n == 0 && f.clock.Since(s.at) < runFresh
}

func (f *failureRuns) remember(receiver string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]seenRun{}
	}
	f.seen[receiver] = seenRun{n: n, at: f.clock.Now()}
}
