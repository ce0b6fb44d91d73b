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
}

func newMetrics(r prometheus.Registerer, n *Notifier) *metrics {
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
	}
	if r != nil {
		r.MustRegister(m.received, m.notifications, m.retries, &activeCollector{n: n})
	}
	return m
}

// activeCollector reports the firing alerts by category and severity, read
// from the store at scrape time so every replica reports the same truth.
type activeCollector struct{ n *Notifier }

var activeDesc = prometheus.NewDesc(
	"govwatch_notifier_active_alerts",
	"Firing alerts by category and severity.",
	[]string{"category", "severity"}, nil)

func (c *activeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- activeDesc }

func (c *activeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	recs, err := c.n.Alerts(ctx, true)
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
