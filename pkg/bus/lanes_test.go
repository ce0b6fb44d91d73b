package bus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

// TestConsumeKeyKeepsOrderPerKey: with a Key, four handlers work on
// several alerts at once, but each alert's messages one at a time and in
// the order they were published.
func TestConsumeKeyKeepsOrderPerKey(t *testing.T) {
	b := openEmbedded(t, Options{})
	ctx := context.Background()
	const alerts, episodes = 8, 24
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	// Two messages of an alert in a row, as a firing and its resolution
	// often come: without keys, two handlers would take them at once.
	for e := 0; e < episodes; e += 2 {
		for i := range alerts {
			for k := range 2 {
				a := &model.Alert{
					Labels:   model.LabelSet{model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelAccountID: fmt.Sprint("acct-", i)},
					StartsAt: start.Add(time.Duration(e+k) * time.Minute),
				}
				if _, err := b.PublishAlert(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	var mu sync.Mutex
	seen := map[string][]time.Time{}
	inFlight, busy := map[string]bool{}, 0
	maxBusy, overlapped := 0, false
	done := make(chan struct{})
	handled := 0
	stop := consumeInBackground(t, b, ConsumerConfig{Stream: b.Stream(KindAlert), Durable: "notifier", Concurrency: 4, Key: AlertKey},
		func(_ context.Context, m Message) error {
			var a model.Alert
			if err := json.Unmarshal(m.Data, &a); err != nil {
				return Permanent(err)
			}
			fp := a.Fingerprint()
			mu.Lock()
			if inFlight[fp] {
				overlapped = true
			}
			inFlight[fp] = true
			busy++
			maxBusy = max(maxBusy, busy)
			mu.Unlock()
			time.Sleep(2 * time.Millisecond) // a delivery's worth of work, so lanes overlap
			mu.Lock()
			defer mu.Unlock()
			inFlight[fp] = false
			busy--
			seen[fp] = append(seen[fp], a.StartsAt)
			if handled++; handled == alerts*episodes {
				close(done)
			}
			return nil
		})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("handled %d of %d", handled, alerts*episodes)
	}
	stop()
	if overlapped {
		t.Error("two messages of one alert were handled at once")
	}
	if maxBusy < 2 {
		t.Errorf("at most %d handlers busy at once, want several", maxBusy)
	}
	for fp, ts := range seen {
		for i := 1; i < len(ts); i++ {
			if !ts[i].After(ts[i-1]) {
				t.Errorf("alert %s: message %d (%s) handled after %s, out of order", fp, i, ts[i], ts[i-1])
				break
			}
		}
	}
}

func TestAlertKey(t *testing.T) {
	a := &model.Alert{Labels: model.LabelSet{model.LabelAlertname: "x"}, StartsAt: time.Unix(1, 0)}
	for _, id := range []string{AlertMsgID(a), PostedMsgID(&model.Alert{Labels: a.Labels, StartsAt: a.StartsAt, EndsAt: a.StartsAt}), AlertMsgID(a) + "@replay-3"} {
		h := map[string][]string{"Nats-Msg-Id": {id}}
		if got := AlertKey("gw.alert.x", h); got != a.Fingerprint() {
			t.Errorf("AlertKey(%q) = %q, want the fingerprint %q", id, got, a.Fingerprint())
		}
	}
	if got := AlertKey("gw.alert.x", nil); got != "gw.alert.x" {
		t.Errorf("AlertKey without a message id = %q, want the subject", got)
	}
}
