package daemon

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/collect/hostlimit"
	"github.com/govwatch/govwatch/pkg/collect/httpclient"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/store"
)

// collectHTTPClient is the one hardened client every collector source
// shares, its hosts limited through the store across replicas.
func collectHTTPClient(cc config.CollectorConfig, st store.Store, clock clockwork.Clock, reg prometheus.Registerer, aliases map[string]string) *http.Client {
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
		UserAgent: cc.UserAgent, Limiter: lim, Clock: clock, Aliases: aliases,
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

// collectSources builds every registered source from its settings
// (collector.sources) with the dependencies they share: the hardened
// client, the store, and for sources that are pushed to, the daemon's
// listener and the collector's Ingest. A source that is pushed to has a
// nil Source: the collector polls none of its accounts.
func (e *env) collectSources(client *http.Client, ingest source.Ingester) (map[string]source.Source, error) {
	cc := e.cfg.Collector
	deps := source.Deps{
		HTTP: client, MaxBody: int64(cc.MaxBody), Store: e.store, Registry: e.cfg.Registry,
		Clock: e.clock, Log: e.log, Metrics: e.reg, Ingest: ingest,
		Handle: func(pattern string, h http.Handler) { e.mux.Handle(pattern, h) },
	}
	out := map[string]source.Source{}
	for _, name := range plugin.Names(plugin.Source) {
		s, err := source.New(name, cc.SourceSettings[name], deps)
		if err != nil {
			return nil, err
		}
		out[name] = s
	}
	return out, nil
}

// lateIngester is the collector's Ingest for the sources built before the
// collector itself; it refuses posts until the collector is set.
type lateIngester struct {
	mu sync.RWMutex
	c  source.Ingester
}

func (l *lateIngester) set(c source.Ingester) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c = c
}

func (l *lateIngester) Ingest(ctx context.Context, posts []model.Post) (int, error) {
	l.mu.RLock()
	c := l.c
	l.mu.RUnlock()
	if c == nil {
		return 0, errors.New("the collector is not running yet")
	}
	return c.Ingest(ctx, posts)
}
