package channeltest

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// SendInTurn makes sends attempts to deliver n, through each of chans in
// turn as replicas sharing one robot would, and returns how many the rate
// limit refused (retryable errors wrapping ratelimit.ErrLimited). Any other
// error fails the test.
func SendInTurn[C channel.Channel](t *testing.T, chans []C, n *channel.Notification, sends int) (limited int) {
	t.Helper()
	for i := range sends {
		err := chans[i%len(chans)].Notify(context.Background(), n)
		switch {
		case err == nil:
		case errors.Is(err, ratelimit.ErrLimited) && channel.Retryable(err):
			limited++
		default:
			t.Fatalf("send %d: %v", i, err)
		}
	}
	return limited
}

// Store is a one-machine store in the test's temporary folder, dated by
// clock and closed when the test ends: what replicas share a rate limit or
// a token through.
func Store(t *testing.T, clock clockwork.Clock) store.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Replicas builds n channels to one destination, as n notifier replicas
// would: each from its own limiter over st, dated by clock.
func Replicas[C channel.Channel](t *testing.T, n int, st ratelimit.Counter, clock clockwork.Clock, build func(*ratelimit.Limiter) (C, error)) []C {
	t.Helper()
	chans := make([]C, n)
	for i := range chans {
		ch, err := build(ratelimit.New(st, clock, nil))
		if err != nil {
			t.Fatal(err)
		}
		chans[i] = ch
	}
	return chans
}
