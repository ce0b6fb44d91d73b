package config

import (
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"sort"
	"time"
)

// The collector's scheduling and scale settings. They live here, apart from
// config.go, and are checked by validateCollect.

// AdaptConfig bounds how far an account's adaptive interval may move from
// its tier's interval: between interval/faster and interval×slower. 1 and 1
// turn adaptation off.
type AdaptConfig struct {
	Faster int `yaml:"faster" doc:"Least divisor of a tier interval an active account may be polled at (1: never faster)."`
	Slower int `yaml:"slower" doc:"Greatest multiple of a tier interval a quiet account may be polled at (1: never slower)."`
}

// HostLimitConfig caps the requests to one upstream host, shared by every
// collector replica through the store.
type HostLimitConfig struct {
	Rate        int `yaml:"rate" doc:"Requests per second to one host, across replicas; 0: no limit."`     // requests per second; 0 = no limit
	Concurrency int `yaml:"concurrency" doc:"Requests at once to one host, across replicas; 0: no limit."` // requests at once; 0 = no limit
}

// HostsConfig is the default host limit and the exceptions by host name.
type HostsConfig struct {
	Default HostLimitConfig            `yaml:"default" doc:"The limit of every host not listed under limits."`
	Limits  map[string]HostLimitConfig `yaml:"limits" doc:"Limits of particular hosts, by host name."`
}

// BackoffConfig is the wait after an account's failed poll: initial after
// the first failure, doubling, at most max.
type BackoffConfig struct {
	Initial conf.Duration `yaml:"initial" doc:"Wait after an account's first failed poll; it doubles with each further failure."`
	Max     conf.Duration `yaml:"max" doc:"Longest wait between an account's failed polls."`
}

// CollectorHTTPConfig hardens the collector's HTTP client against hostile
// or broken upstreams; collector.timeout bounds a whole poll.
type CollectorHTTPConfig struct {
	DialTimeout   conf.Duration `yaml:"dial_timeout" doc:"Bounds connecting to an upstream."`
	TLSTimeout    conf.Duration `yaml:"tls_timeout" doc:"Bounds the TLS handshake with an upstream."`
	HeaderTimeout conf.Duration `yaml:"header_timeout" doc:"Bounds waiting for an upstream's response headers."`
	MaxRedirects  int           `yaml:"max_redirects" doc:"Redirects followed before a poll fails."`
}

// LinksConfig is the collector's dead-link job (pkg/collect/linkcheck).
type LinksConfig struct {
	Enabled  bool          `yaml:"enabled" doc:"Check the links of collected posts once a day and raise content.dead_link."`
	MaxAge   conf.Duration `yaml:"max_age" doc:"How long after a post's last version its links are checked."`
	PerDay   int           `yaml:"per_day" doc:"Links one collector replica checks in one day at most; the rest wait for the next day, least recently checked first."`
	Failures int           `yaml:"failures" doc:"Check days in a row a link must fail (404, 410, 5xx, no answer; 429 and 403 count neither way) before content.dead_link fires."`
	Every    conf.Duration `yaml:"every" doc:"How often a pass looks for links not yet checked today."`
}

// DefaultTiers are the poll intervals by account tier.
func DefaultTiers() map[string]conf.Duration {
	return map[string]conf.Duration{"hot": conf.Duration(time.Minute), "normal": conf.Duration(10 * time.Minute), "cold": conf.Duration(time.Hour)}
}

func defaultCollect(c *CollectorConfig) {
	c.Tiers = DefaultTiers()
	c.DefaultTier = "" // collector.interval
	c.Adapt = AdaptConfig{Faster: 2, Slower: 4}
	c.Hosts = HostsConfig{Default: HostLimitConfig{Rate: 20, Concurrency: 8}}
	c.Backoff = BackoffConfig{Initial: conf.Duration(time.Minute), Max: conf.Duration(6 * time.Hour)}
	c.FailureThreshold = 5
	c.Links = LinksConfig{Enabled: true, MaxAge: conf.Duration(30 * 24 * time.Hour), PerDay: 10000, Failures: 3, Every: conf.Duration(time.Hour)}
	c.HTTP = CollectorHTTPConfig{
		DialTimeout: conf.Duration(5 * time.Second), TLSTimeout: conf.Duration(5 * time.Second),
		HeaderTimeout: conf.Duration(10 * time.Second), MaxRedirects: 5,
	}
}

// validateCollect checks the collector's scheduling settings and the tier
// each account names.
func (c *Config) validateCollect(bad func(path, format string, args ...any)) {
	cc := &c.Collector
	names := make([]string, 0, len(cc.Tiers))
	for name, iv := range cc.Tiers {
		names = append(names, name)
		if iv < conf.Duration(time.Second) {
			bad("collector.tiers."+name, "must be at least 1s, not %s", iv)
		}
	}
	sort.Strings(names)
	if _, ok := cc.Tiers[cc.DefaultTier]; !ok && cc.DefaultTier != "" {
		bad("collector.default_tier", "unknown tier %q (one of %v)", cc.DefaultTier, names)
	}
	if cc.Adapt.Faster < 1 || cc.Adapt.Faster > 60 {
		bad("collector.adapt.faster", "must be between 1 and 60, not %d", cc.Adapt.Faster)
	}
	if cc.Adapt.Slower < 1 || cc.Adapt.Slower > 60 {
		bad("collector.adapt.slower", "must be between 1 and 60, not %d", cc.Adapt.Slower)
	}
	checkHost := func(path string, h HostLimitConfig) {
		if h.Rate < 0 {
			bad(path+".rate", "must not be negative, not %d", h.Rate)
		}
		if h.Concurrency < 0 {
			bad(path+".concurrency", "must not be negative, not %d", h.Concurrency)
		}
	}
	checkHost("collector.hosts.default", cc.Hosts.Default)
	for host, h := range cc.Hosts.Limits {
		checkHost("collector.hosts.limits."+host, h)
	}
	if cc.Backoff.Initial < conf.Duration(time.Second) {
		bad("collector.backoff.initial", "must be at least 1s, not %s", cc.Backoff.Initial)
	}
	if cc.Backoff.Max < cc.Backoff.Initial {
		bad("collector.backoff.max", "must be at least backoff.initial (%s), not %s", cc.Backoff.Initial, cc.Backoff.Max)
	}
	if cc.FailureThreshold < 1 {
		bad("collector.failure_threshold", "must be at least 1, not %d", cc.FailureThreshold)
	}
	for path, d := range map[string]conf.Duration{
		"collector.http.dial_timeout": cc.HTTP.DialTimeout, "collector.http.tls_timeout": cc.HTTP.TLSTimeout,
		"collector.http.header_timeout": cc.HTTP.HeaderTimeout,
	} {
		if d < conf.Duration(100*time.Millisecond) {
			bad(path, "must be at least 100ms, not %s", d)
		}
	}
	if cc.Links.MaxAge < conf.Duration(24*time.Hour) {
		bad("collector.links.max_age", "must be at least 1d, not %s", cc.Links.MaxAge)
	}
	if cc.Links.PerDay < 1 {
		bad("collector.links.per_day", "must be at least 1, not %d", cc.Links.PerDay)
	}
	if cc.Links.Failures < 1 || cc.Links.Failures > 30 {
		bad("collector.links.failures", "must be between 1 and 30, not %d", cc.Links.Failures)
	}
	if cc.Links.Every < conf.Duration(time.Minute) || cc.Links.Every > conf.Duration(24*time.Hour) {
		bad("collector.links.every", "must be between 1m and 24h, not %s", cc.Links.Every)
	}
	if cc.HTTP.MaxRedirects < 0 || cc.HTTP.MaxRedirects > 20 {
		bad("collector.http.max_redirects", "must be between 0 and 20, not %d", cc.HTTP.MaxRedirects)
	}
}

// checkTier reports an account tier the collector does not know.
func (c *Config) checkTier(o origin, a AccountConfig) conf.Problems {
	if a.Tier == "" {
		return nil
	}
	if _, ok := c.Collector.Tiers[a.Tier]; ok {
		return nil
	}
	names := make([]string, 0, len(c.Collector.Tiers))
	for n := range c.Collector.Tiers {
		names = append(names, n)
	}
	sort.Strings(names)
	return conf.Problems{o.pos.Problem(o.path+".tier", "%s", fmt.Sprintf("unknown tier %q (one of %v)", a.Tier, names))}
}
