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
	dead      *prometheus.CounterVec // stream, reason: poison|max_deliveries
	paused    *prometheus.GaugeVec   // stream, consumer: 1 while paused
}

func (m *metrics) deadLetteredInit(stream string) {
	if m != nil {
		for _, r := range []string{ReasonPoison, ReasonMaxDeliveries} {
			m.dead.WithLabelValues(stream, r)
		}
	}
}

func (m *metrics) deadLetteredInc(stream, reason string) {
	if m != nil {
		m.dead.WithLabelValues(stream, reason).Inc()
	}
}

func (m *metrics) pausedSet(stream, consumer string, paused bool) {
	if m != nil {
		v := 0.0
		if paused {
			v = 1
		}
		m.paused.WithLabelValues(stream, consumer).Set(v)
	}
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
		dead: metric.CounterVec(nil, "govwatch_bus_deadlettered_total",
			"Messages moved to the dead-letter stream, by original stream and reason (poison, max_deliveries).", "stream", "reason"),
		paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "govwatch_bus_consumer_paused",
			Help: "1 while a consumer of this process is paused because a dependency of its handler (store, Redis, NATS) is down."},
			[]string{"stream", "consumer"}),
	}
	var err error
	if m.dead, err = registerShared(reg, m.dead); err != nil {
		return nil, fmt.Errorf("register bus metrics: %w", err)
	}
	if m.paused, err = registerShared(reg, m.paused); err != nil {
		return nil, fmt.Errorf("register bus metrics: %w", err)
	}
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
