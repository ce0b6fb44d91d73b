package registry

import "github.com/prometheus/client_golang/prometheus"

var accountsDesc = prometheus.NewDesc(
	"govwatch_registry_accounts",
	"Accounts in the registry by platform, region (of the unit running them) and status (active, suspended, closed).",
	[]string{"platform", "region", "status"}, nil)

// Collector reports the registry's accounts as govwatch_registry_accounts,
// the account matrix a supervisor reads by region and platform. The registry
// is immutable, so the counts are taken once.
type Collector struct {
	counts map[[3]string]int
}

// NewCollector counts r's accounts by platform, region and status.
func NewCollector(r *Registry) *Collector {
	c := &Collector{counts: map[[3]string]int{}}
	for _, a := range r.Accounts() {
		region := ""
		if u, ok := r.Unit(a.Unit); ok {
			region = u.Region
		}
		c.counts[[3]string{a.Platform, region, a.Status}]++
	}
	return c
}

func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- accountsDesc }

func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for k, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.GaugeValue, float64(n), k[0], k[1], k[2])
	}
}
