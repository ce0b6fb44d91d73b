// Package metric declares govwatch's Prometheus metrics one call each: the
// registerer, the name, the help text, for histograms the buckets, and the
// label names. Each call builds the metric and, when the registerer is not
// nil, registers it with MustRegister, so a clash of names fails as loudly
// as it would written out by hand. A nil registerer builds the metric
// unregistered, for a caller that registers it its own way.
//
// deployments/metrics_test.go reads these calls from the source to find
// every metric and its labels: keep the name and the labels string literals.
package metric

import "github.com/prometheus/client_golang/prometheus"

// Counter returns a counter without labels.
func Counter(r prometheus.Registerer, name, help string) prometheus.Counter {
	return register(r, prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help}))
}

// CounterVec returns a counter with the given labels.
func CounterVec(r prometheus.Registerer, name, help string, labels ...string) *prometheus.CounterVec {
	return register(r, prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels))
}

// Gauge returns a gauge without labels.
func Gauge(r prometheus.Registerer, name, help string) prometheus.Gauge {
	return register(r, prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help}))
}

// GaugeVec returns a gauge with the given labels.
func GaugeVec(r prometheus.Registerer, name, help string, labels ...string) *prometheus.GaugeVec {
	return register(r, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels))
}

// Histogram returns a histogram without labels over buckets.
func Histogram(r prometheus.Registerer, name, help string, buckets []float64) prometheus.Histogram {
	return register(r, prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}))
}

// HistogramVec returns a histogram over buckets with the given labels.
func HistogramVec(r prometheus.Registerer, name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	return register(r, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels))
}

func register[C prometheus.Collector](r prometheus.Registerer, c C) C {
	if r != nil {
		r.MustRegister(c)
	}
	return c
}
