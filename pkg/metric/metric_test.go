package metric

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestDeclare(t *testing.T) {
	buckets := []float64{1, 5, 25}
	tests := []struct {
		name    string
		declare func(prometheus.Registerer) // declares govwatch_test and records one value
		want    string
	}{
		{"counter", func(r prometheus.Registerer) { Counter(r, "govwatch_test", "A help.").Inc() }, `
# HELP govwatch_test A help.
# TYPE govwatch_test counter
govwatch_test 1
`},
		{"counter vec", func(r prometheus.Registerer) {
			CounterVec(r, "govwatch_test", "A help.", "platform", "result").WithLabelValues("weibo", "ok").Inc()
		}, `
# HELP govwatch_test A help.
# TYPE govwatch_test counter
govwatch_test{platform="weibo",result="ok"} 1
`},
		{"gauge", func(r prometheus.Registerer) { Gauge(r, "govwatch_test", "A help.").Set(2) }, `
# HELP govwatch_test A help.
# TYPE govwatch_test gauge
govwatch_test 2
`},
		{"gauge vec", func(r prometheus.Registerer) {
			GaugeVec(r, "govwatch_test", "A help.", "status").WithLabelValues("active").Set(2)
		}, `
# HELP govwatch_test A help.
# TYPE govwatch_test gauge
govwatch_test{status="active"} 2
`},
		{"histogram", func(r prometheus.Registerer) {
			Histogram(r, "govwatch_test", "A help.", buckets).Observe(2)
		}, `
# HELP govwatch_test A help.
# TYPE govwatch_test histogram
govwatch_test_bucket{le="1"} 0
govwatch_test_bucket{le="5"} 1
govwatch_test_bucket{le="25"} 1
govwatch_test_bucket{le="+Inf"} 1
govwatch_test_sum 2
govwatch_test_count 1
`},
		{"histogram vec", func(r prometheus.Registerer) {
			HistogramVec(r, "govwatch_test", "A help.", buckets, "severity").WithLabelValues("serious").Observe(2)
		}, `
# HELP govwatch_test A help.
# TYPE govwatch_test histogram
govwatch_test_bucket{severity="serious",le="1"} 0
govwatch_test_bucket{severity="serious",le="5"} 1
govwatch_test_bucket{severity="serious",le="25"} 1
govwatch_test_bucket{severity="serious",le="+Inf"} 1
govwatch_test_sum{severity="serious"} 2
govwatch_test_count{severity="serious"} 1
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			tc.declare(reg)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(tc.want)); err != nil {
				t.Error(err)
			}

			// A nil registerer builds the metric and registers nothing.
			tc.declare(nil)

			// A second metric of the same name fails as MustRegister does.
			defer func() {
				if recover() == nil {
					t.Error("got no panic declaring govwatch_test twice on one registry, want MustRegister's")
				}
			}()
			tc.declare(reg)
		})
	}
}
