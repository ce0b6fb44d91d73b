package daemon

import (
	"net/http"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/store"
)

// collectHTTPClient is the one hardened client every collector source
// shares, its hosts limited through the store across replicas.
func collectHTTPClient(cc config.CollectorConfig, st store.Store, clock clockwork.Clock, reg prometheus.Registerer) *http.Client {
	hosts := map[string]hostlimit.Limit{}
	for h, l := range cc.Hosts.Limits {
		hosts[h] = hostlimit.Limit{Rate: l.Rate, Concurrency: l.Concurrency}
	}
	lim := hostlimit.New(hostlimit.Options{
		Store:   st,
		Default: hostlimit.Limit{Rate: cc.Hosts.Default.Rate, Concurrency: cc.Hosts.Default.Concurrency},
		Hosts:   hosts,
		Lease:   cc.Timeout.D() + cc.Timeout.D()/2,
		Clock:   clock,
		Metrics: reg,
	})
	return httpclient.New(httpclient.Options{
		DialTimeout: cc.HTTP.DialTimeout.D(), TLSTimeout: cc.HTTP.TLSTimeout.D(),
		HeaderTimeout: cc.HTTP.HeaderTimeout.D(), Timeout: cc.Timeout.D(),
		MaxRedirects: redirects(cc.HTTP.MaxRedirects), MaxBody: int64(cc.MaxBody),
		UserAgent: cc.UserAgent, Limiter: lim, Clock: clock,
	})
}

// redirects maps the config's 0 ("follow none") to the client's -1.
func redirects(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// collectTiers turns the configured tiers into paces with their bounds;
// the tier "" is collector.interval, for accounts naming no tier while
// default_tier is empty.
func collectTiers(cc config.CollectorConfig) map[string]pace.Tier {
	tiers := map[string]pace.Tier{"": pace.NewTier(cc.Interval.D(), cc.Adapt.Faster, cc.Adapt.Slower)}
	for name, iv := range cc.Tiers {
		tiers[name] = pace.NewTier(iv.D(), cc.Adapt.Faster, cc.Adapt.Slower)
	}
	return tiers
}
