// Package metrictest reads metrics back in tests: what a counter or gauge
// stands at after the code under test ran.
package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// Sum gathers g and adds up the counters and gauges named name whose labels
// include every pair of labels (nil: every series of the name); found tells
// whether any series matched.
func Sum(tb testing.TB, g prometheus.Gatherer, name string, labels map[string]string) (sum float64, found bool) {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue series
				}
			}
			found = true
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			} else {
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum, found
}
