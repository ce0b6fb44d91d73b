package notify

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// slowChannel answers each notification after delay, like a chat robot's
// API, and keeps when each alert arrived and how many sends overlapped.
type slowChannel struct {
	delay time.Duration

	mu             sync.Mutex
	arrived        map[string][]time.Time // fingerprint → arrivals
	inFlight, most int
}

func (c *slowChannel) Name() string { return "robot" }

func (c *slowChannel) Notify(ctx context.Context, n *channel.Notification) error {
	c.mu.Lock()
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.mu.Unlock()
	time.Sleep(c.delay)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
	now := time.Now()
	for _, a := range n.Alerts {
		c.arrived[a.Fingerprint] = append(c.arrived[a.Fingerprint], now)
	}
	return nil
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// TestBurstDeliveredInParallel publishes a burst of alerts at once
// (GOVWATCH_NOTIFY_BURST, default 400) to a notifier on Redis whose one
// receiver takes 50 ms to answer, with GOVWATCH_NOTIFY_WORKERS workers
// (default 8, the config's default): every alert arrives once, and sends
// overlap. It logs the time to deliver the burst and the delay from
// publication to arrival; docs/performance.md has the figures of a 5,000
// alert burst.
func TestBurstDeliveredInParallel(t *testing.T) {
	if testing.Short() {
		t.Skip("delivers a burst of alerts through a slow receiver")
	}
	n, workers := envInt(t, "GOVWATCH_NOTIFY_BURST", 400), envInt(t, "GOVWATCH_NOTIFY_WORKERS", 8)
	b := testBus(t)
	robot := &slowChannel{delay: 50 * time.Millisecond, arrived: map[string][]time.Time{}}
	nt := newTestNotifier(t, Options{
		Store:     openRedis(t, nil),
		Receivers: []Receiver{{Name: "robot", Channels: []channel.Channel{robot}}},
		Route:     &Route{Receiver: "robot"},
		Clock:     clockwork.NewRealClock(),
		Log:       zap.NewNop(),
		Bus:       b, Consumer: "notifier", Workers: workers,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	published := map[string]time.Time{}
	start := time.Now()
	for i := range n {
		a := &model.Alert{
			Labels: model.LabelSet{model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelSeverity: model.SeverityMajor,
				model.LabelUnit: "fz-gov", model.LabelAccountID: fmt.Sprintf("acct-%05d", i)},
			StartsAt: time.Now(),
		}
		if _, err := b.PublishAlert(ctx, a); err != nil {
			t.Fatal(err)
		}
		published[a.Fingerprint()] = time.Now()
	}
	stop := runInBackground(t, ctx, nt.Notifier)
	defer stop()
	done := func() bool {
		robot.mu.Lock()
		defer robot.mu.Unlock()
		return len(robot.arrived) == n
	}
	for !done() {
		select {
		case <-ctx.Done():
			t.Fatalf("delivered %d of %d alerts", len(robot.arrived), n)
		case <-time.After(20 * time.Millisecond):
		}
	}
	took := time.Since(start)
	robot.mu.Lock()
	defer robot.mu.Unlock()
	var delays []time.Duration
	for fp, at := range robot.arrived {
		if len(at) != 1 {
			t.Errorf("alert %s arrived %d times", fp, len(at))
		}
		delays = append(delays, at[0].Sub(published[fp]))
	}
	slices.Sort(delays)
	t.Logf("%d alerts, %d workers, receiver 50 ms: delivered in %s (%.0f/s); publication to arrival p50 %s, p99 %s, max %s; %d sends at once at most",
		n, workers, took.Round(time.Millisecond), float64(n)/took.Seconds(),
		delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)*99/100].Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond), robot.most)
	if workers > 1 && robot.most < 2 {
		t.Errorf("at most %d sends at once with %d workers, want them in parallel", robot.most, workers)
	}
}
