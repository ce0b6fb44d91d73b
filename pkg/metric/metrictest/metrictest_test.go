package metrictest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestSum(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "c_total", Help: "h"}, []string{"platform", "result"})
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "g", Help: "h"})
	reg.MustRegister(c, g)
	c.WithLabelValues("weibo", "ok").Add(2)
	c.WithLabelValues("wechat", "ok").Add(3)
	c.WithLabelValues("wechat", "error").Add(5)
	g.Set(7)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
		found  bool
	}{
		{"c_total", map[string]string{"platform": "wechat", "result": "ok"}, 3, true},
		{"c_total", map[string]string{"result": "ok"}, 5, true},
		{"c_total", nil, 10, true},
		{"c_total", map[string]string{"platform": "douyin"}, 0, false},
		{"g", nil, 7, true},
		{"absent", nil, 0, false},
	} {
		if got, found := Sum(t, reg, tt.name, tt.labels); got != tt.want || found != tt.found {
			t.Errorf("Sum(%s, %v) = %v, %v; want %v, %v", tt.name, tt.labels, got, found, tt.want, tt.found)
		}
	}
}
