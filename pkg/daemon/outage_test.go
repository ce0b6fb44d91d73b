package daemon

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// postAlerts posts alerts (a JSON array) on the API of the first notifier
// that takes them, as Prometheus does, and fails the test if none does.
func (d *distributed) postAlerts(t *testing.T, alerts string) {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	for _, p := range d.notifiers {
		resp, err := client.Post("http://"+p.http+"/api/v2/alerts", "application/json", strings.NewReader(alerts))
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
	}
	t.Fatalf("no notifier took the alerts %.200s", alerts)
}

// apiAlerts is a JSON array of content.illegal_link alerts for the
// accounts prefix-<from>…prefix-<to-1>, ending at endsAt.
func apiAlerts(prefix string, from, to int, endsAt time.Time) string {
	var b strings.Builder
	b.WriteString("[")
	for i := from; i < to; i++ {
		if i > from {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"labels": {"alertname": "content.illegal_link", "severity": "critical", "unit": "fz-gov", "account_id": "%s-%02d"}, "endsAt": %q}`,
			prefix, i, endsAt.UTC().Format(time.RFC3339Nano))
	}
	b.WriteString("]")
	return b.String()
}

var owedMetric = regexp.MustCompile(`(?m)^govwatch_notifier_owed_notifications\{receiver="ops"\} (\S+)$`)

// TestDistributedChannelOutage takes the receiver down (503) while two
// notifier replicas work (GOVWATCH_CHANNEL_OUTAGE, default 30s;
// docs/performance.md has a 10-minute run). Meanwhile alerts it was told
// of resolve, new ones fire (the analyzer's, and on the API), and some of
// those resolve too. When it answers again it gets every one once: the
// resolutions of what it knew, the firing of what still fires, and for
// what fired and ended unseen, the resolution alone.
func TestDistributedChannelOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemons as processes")
	}
	outage := envDuration(t, "GOVWATCH_CHANNEL_OUTAGE", 30*time.Second)
	d := startDistributed(t, nil, 1, size{accounts: 20, leaks: 5, silent: 2})
	d.startNotifier(t)
	const n = 40
	later := time.Now().Add(2 * time.Hour)
	d.postAlerts(t, apiAlerts("before", 0, n, later))
	var before, during []string
	for i := range n {
		before = append(before, fmt.Sprintf("content.illegal_link/before-%02d", i))
		during = append(during, fmt.Sprintf("content.illegal_link/during-%02d", i))
	}
	d.hook.awaitFiring(t, 60*time.Second, before)

	d.hook.down.Store(true)
	start := time.Now()
	d.startAnalyzer(t) // its alerts fire during the outage
	d.postAlerts(t, apiAlerts("before", 0, n, time.Now()))
	d.postAlerts(t, apiAlerts("during", 0, n, later))
	for time.Since(start) < outage/2 {
		time.Sleep(100 * time.Millisecond)
	}
	d.postAlerts(t, apiAlerts("during", 0, n/2, time.Now()))
	for time.Since(start) < outage {
		time.Sleep(100 * time.Millisecond)
	}
	owed := owedMetric.FindStringSubmatch(get(t, "http://"+d.notifiers[0].http+"/metrics"))
	d.hook.down.Store(false)
	t.Logf("receiver down for %s: %d requests refused; owed at the end: %v", outage, d.hook.refused.Load(), owed)

	d.extra = append(append([]string(nil), before...), during[n/2:]...)
	wantResolved := append(append([]string(nil), before...), during[:n/2]...)
	waitFor(t, 3*time.Minute, "every resolution at the receiver", func() bool {
		got := d.hook.received("resolved")
		for _, k := range wantResolved {
			if len(got[k]) == 0 {
				return false
			}
		}
		return true
	})
	d.everyAlertOnce(t, 3*time.Minute)
	doubled, _ := d.hook.doublesOf("resolved")
	for _, k := range doubled {
		t.Errorf("resolution sent twice: %s", k)
	}
	firing := d.hook.firing()
	for _, k := range during[:n/2] {
		if len(firing[k]) > 0 {
			t.Errorf("%s fired and ended while the receiver was down, yet its firing was sent after its resolution was due", k)
		}
	}
}
