package bus

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/metric"
)

// metrics are the bus's counters; nil when Options.Metrics is nil.
type metrics struct {
	published *prometheus.CounterVec // stream, result: ok|duplicate|error
	handled   *prometheus.CounterVec // stream, result: ack|nak|term
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	if reg == nil {
		return nil, nil
	}
	// Built unregistered: registerShared registers them, or hands back
	// those another bus of this process registered first.
	m := &metrics{
		published: metric.CounterVec(nil, "govwatch_bus_published_total",
			"Messages published to JetStream, by stream and result (ok, duplicate, error).", "stream", "result"),
		handled: metric.CounterVec(nil, "govwatch_bus_handled_total",
			"Messages consumed from JetStream, by stream and outcome (ack, nak, term).", "stream", "result"),
	}
	var err error
	if m.published, err = registerShared(reg, m.published); err != nil {
		return nil, fmt.Errorf("register bus metrics: %w", err)
	}
	if m.handled, err = registerShared(reg, m.handled); err != nil {
		return nil, fmt.Errorf("register bus metrics: %w", err)
	}
	return m, nil
}

// registerShared registers c, or returns the collector of the same type
// already registered in its place, so the buses of one process (the
// single binary opens one per component) can share a registry.
func registerShared[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, err
	}
	return c, nil
}

func (m *metrics) publishedInc(stream, result string) {
	if m != nil {
		m.published.WithLabelValues(stream, result).Inc()
	}
}

func (m *metrics) handledInc(stream, result string) {
	if m != nil {
		m.handled.WithLabelValues(stream, result).Inc()
	}
}
