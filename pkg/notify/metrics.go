package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/metric"
	"github.com/govwatch/govwatch/pkg/model"
)

type metrics struct {
	received      *prometheus.CounterVec
	notifications *prometheus.CounterVec
	retries       *prometheus.CounterVec

	ackDuration     *prometheus.HistogramVec
	resolveDuration *prometheus.HistogramVec
	escalations     *prometheus.CounterVec
	veto            *prometheus.CounterVec
	silenced        *prometheus.CounterVec
	inhibited       *prometheus.CounterVec
	unrouted        *prometheus.CounterVec

	owed           *prometheus.GaugeVec
	owedExpired    *prometheus.CounterVec
	breakerOpen    *prometheus.GaugeVec
	breakerSkipped *prometheus.CounterVec
}

// durationBuckets run from a minute to two days: how long people take.
var durationBuckets = []float64{60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800}

// newMetrics builds the notifier's metrics and registers them on r, when
// not nil; active lists the open alerts at scrape time.
func newMetrics(r prometheus.Registerer, active func(ctx context.Context, active bool) ([]Record, error)) *metrics {
	m := &metrics{
		received: metric.CounterVec(r, "govwatch_notifier_alerts_received_total",
			"Alert messages received, by category and status (firing, resolved), repeats included.", "category", "status"),
		notifications: metric.CounterVec(r, "govwatch_notifier_notifications_total",
			"Notifications delivered per channel and receiver, by result (ok, error), after retries.", "channel", "receiver", "result"),
		retries: metric.CounterVec(r, "govwatch_notifier_notification_retries_total",
			"Delivery attempts repeated after a retryable failure, by channel and receiver.", "channel", "receiver"),
		ackDuration: metric.HistogramVec(r, "govwatch_notifier_ack_duration_seconds",
			"Time from an incident opening to its acknowledgement, by severity.", durationBuckets, "severity"),
		resolveDuration: metric.HistogramVec(r, "govwatch_notifier_resolve_duration_seconds",
			"Time from an incident opening to its resolution (by the analyzer or a person), by severity.", durationBuckets, "severity"),
		escalations: metric.CounterVec(r, "govwatch_notifier_escalations_total",
			"Pages sent by escalation, by level reached (duty, head, parent, upper).", "level"),
		veto: metric.CounterVec(r, "govwatch_notifier_veto_incidents_total",
			"Veto-level incidents opened (reported upward at once), by category.", "category"),
		silenced: metric.CounterVec(r, "govwatch_notifier_silenced_total",
			"Alert lifecycle moves whose notifications a silence held back, by category.", "category"),
		inhibited: metric.CounterVec(r, "govwatch_notifier_inhibited_total",
			"Alert lifecycle moves whose notifications an inhibiting alert held back, by category.", "category"),
		unrouted: metric.CounterVec(r, "govwatch_notifier_unrouted_total",
			"Incidents whose first notification paged no person, each raising one system.unrouted alert, by category of the alert that paged nobody.", "category"),
		owed: metric.GaugeVec(r, "govwatch_notifier_owed_notifications",
			"Alerts whose notification failed with a retryable error and is delivered again on every tick, by receiver, as the last tick found them.", "receiver"),
		owedExpired: metric.CounterVec(r, "govwatch_notifier_owed_expired_total",
			"Owed notifications given up on after notifier.owed_for without delivery, by receiver.", "receiver"),
		breakerOpen: metric.GaugeVec(r, "govwatch_notifier_breaker_open",
			"1 while the receiver's breaker is open (breaker_after failures in a row): its notifications go to the fallback or stay owed without being tried, but for one probe every notifier.breaker_probe.", "receiver"),
		breakerSkipped: metric.CounterVec(r, "govwatch_notifier_breaker_skipped_total",
			"Sends not tried because the receiver's breaker was open, by receiver.", "receiver"),
	}
	if r != nil {
		r.MustRegister(&activeCollector{active: active})
	}
	return m
}

// zero creates every series whose labels are known at start — each
// category by status and as the category of an alert that paged nobody, each receiver's channels by result, each escalation level — at 0,
// so the first alert of a kind is an increase a rate() sees, not a series
// that appears already at 1.
func (m *metrics) zero(receivers map[string]Receiver) {
	for _, c := range model.Categories() {
		for _, st := range []string{StatusFiring, StatusResolved} {
			m.received.WithLabelValues(c.ID, st)
		}
		m.silenced.WithLabelValues(c.ID)
		m.inhibited.WithLabelValues(c.ID)
		if c.Veto {
			m.veto.WithLabelValues(c.ID)
		}
		if c.ID != model.CategorySystemUnrouted { // raises no other
			m.unrouted.WithLabelValues(c.ID)
		}
	}
	for _, r := range receivers {
		for _, ch := range r.Channels {
			m.notifications.WithLabelValues(ch.Name(), r.Name, "ok")
			m.notifications.WithLabelValues(ch.Name(), r.Name, "error")
			m.retries.WithLabelValues(ch.Name(), r.Name)
		}
		m.owed.WithLabelValues(r.Name)
		m.owedExpired.WithLabelValues(r.Name)
		m.breakerOpen.WithLabelValues(r.Name)
		m.breakerSkipped.WithLabelValues(r.Name)
	}
	for _, level := range []string{"duty", "head", "parent", "upper"} {
		m.escalations.WithLabelValues(level)
	}
}

// activeCollector reports the firing alerts by category and severity, read
// from the store at scrape time so every replica reports the same truth.
type activeCollector struct {
	active func(ctx context.Context, active bool) ([]Record, error)
}

var activeDesc = prometheus.NewDesc(
	"govwatch_notifier_active_alerts",
	"Firing alerts by category and severity.",
	[]string{"category", "severity"}, nil)

func (c *activeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- activeDesc }

func (c *activeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := c.active(ctx, true)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(activeDesc, err)
		return
	}
	type key struct{ cat, sev string }
	counts := map[key]int{}
	for _, r := range recs {
		counts[key{r.Alert.Name(), r.Alert.Labels[model.LabelSeverity]}]++
	}
	for k, v := range counts {
		ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(v), k.cat, k.sev)
	}
}
