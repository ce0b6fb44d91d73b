package notify

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// TestSeriesStartAtZero: every series whose labels are known at start
// exists before the first alert, at 0.
func TestSeriesStartAtZero(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := newMetrics(reg, func(context.Context, bool) ([]Record, error) { return nil, nil })
	m.zero(map[string]Receiver{"duty": {Name: "duty", Channels: []channel.Channel{&recorder{name: "webhook"}}}})
	cats := len(model.Categories())
	if cats == 0 {
		t.Fatal("no category declared")
	}
	for name, want := range map[string]int{
		"govwatch_notifier_alerts_received_total": 2 * cats,
		"govwatch_notifier_notifications_total":   2,
		"govwatch_notifier_escalations_total":     4,
		"govwatch_notifier_silenced_total":        cats,
		// Every category but system.unrouted, which raises no other.
		"govwatch_notifier_unrouted_total": cats - 1,
	} {
		if got := testutil.CollectAndCount(reg, name); got != want {
			t.Errorf("%s: %d series, want %d", name, got, want)
		}
	}
	if v := testutil.ToFloat64(m.received.WithLabelValues(model.Categories()[0].ID, StatusFiring)); v != 0 {
		t.Errorf("received starts at %v", v)
	}
	// The channel series name their receiver, so an alert on failures
	// says whose pages are not going out.
	for _, result := range []string{"ok", "error"} {
		if v := testutil.ToFloat64(m.notifications.WithLabelValues("webhook", "duty", result)); v != 0 {
			t.Errorf("notifications{webhook, duty, %s} starts at %v", result, v)
		}
	}
	if got := testutil.CollectAndCount(reg, "govwatch_notifier_notification_retries_total"); got != 1 {
		t.Errorf("retries: %d series, want 1 (webhook of duty)", got)
	}
}
