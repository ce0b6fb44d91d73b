package channeltest

import (
	"context"
	"errors"
	"testing"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
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
