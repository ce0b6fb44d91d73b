package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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
}

// durationBuckets run from a minute to two days: how long people take.
var durationBuckets = []float64{60, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400, 172800}

// newMetrics builds the notifier's metrics and registers them on r, when
// not nil; active lists the open alerts at scrape time.
func newMetrics(r prometheus.Registerer, active func(ctx context.Context, active bool) ([]Record, error)) *metrics {
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_alerts_received_total",
			Help: "Alert messages received, by category and status (firing, resolved), repeats included.",
		}, []string{"category", "status"}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_notifications_total",
			Help: "Notifications delivered per channel, by result (ok, error), after retries.",
		}, []string{"channel", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_notification_retries_total",
			Help: "Delivery attempts repeated after a retryable failure, by channel.",
		}, []string{"channel"}),
		ackDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "govwatch_notifier_ack_duration_seconds",
			Help:    "Time from an incident opening to its acknowledgement, by severity.",
			Buckets: durationBuckets,
		}, []string{"severity"}),
		resolveDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "govwatch_notifier_resolve_duration_seconds",
			Help:    "Time from an incident opening to its resolution (by the analyzer or a person), by severity.",
			Buckets: durationBuckets,
		}, []string{"severity"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_escalations_total",
			Help: "Pages sent by escalation, by level reached (duty, head, parent, upper).",
		}, []string{"level"}),
		veto: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_veto_incidents_total",
			Help: "Veto-level incidents opened (reported upward at once), by category.",
		}, []string{"category"}),
		silenced: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_silenced_total",
			Help: "Alert lifecycle moves whose notifications a silence held back, by category.",
		}, []string{"category"}),
		inhibited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "govwatch_notifier_inhibited_total",
			Help: "Alert lifecycle moves whose notifications an inhibiting alert held back, by category.",
		}, []string{"category"}),
	}
	if r != nil {
		r.MustRegister(m.received, m.notifications, m.retries, m.ackDuration, m.resolveDuration,
			m.escalations, m.veto, m.silenced, m.inhibited, &activeCollector{active: active})
	}
	return m
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
