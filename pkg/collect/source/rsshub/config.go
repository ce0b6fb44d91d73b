package rsshub

import (
	"strings"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config is collector.sources.rsshub.
type Config struct {
	BaseURL string `yaml:"base_url" doc:"The self-hosted RSSHub instance; required when an account uses rsshub." example:"http://rsshub:1200"`
}

// Validate requires base_url once an account uses rsshub.
func (c *Config) Validate(ch *plugin.Check) {
	if c.BaseURL == "" && ch.Used {
		ch.Errorf("base_url", "accounts use rsshub but no base_url is set")
		return
	}
	ch.URL("base_url", c.BaseURL, false)
}

// Account is an rsshub account's options.
type Account struct {
	UserID string `yaml:"user_id" doc:"The account's id on its platform, filled into the platform's RSSHub route." example:"3197355467"`
	Route  string `yaml:"route" doc:"An RSSHub route used instead of the platform's (WeChat accounts need one)." example:"/wechat/wechat2rss/5b92…"`
}

// Validate checks that the account has a route.
func (a *Account) Validate(c *plugin.AccountCheck, _ *Config) {
	if a.Route == "" && a.UserID == "" {
		c.Errorf("user_id", "an rsshub source needs user_id (the account's id on %s) or route", c.Platform)
	}
	if a.Route != "" && !strings.HasPrefix(a.Route, "/") {
		c.Errorf("route", "route %q must start with /", a.Route)
	}
	if _, ok := routes[c.Platform]; a.Route == "" && !ok {
		c.Errorf("route", "RSSHub has no default route for platform %q: set route", c.Platform)
	}
}

func init() {
	source.Register(source.Plugin[Config, Account]{
		Name:    "rsshub",
		Summary: "An account on a social platform through a self-hosted RSSHub route, with engagement counts.",
		New: func(c *Config, d source.Deps) (source.Source, error) {
			return &Source{BaseURL: c.BaseURL, Fetcher: &feed.Fetcher{Client: d.HTTP, MaxBody: d.MaxBody, Clock: d.Clock}}, nil
		},
	})
}

// URL is the feed polled for a, "" when it has no route.
func (s *Source) URL(a *registry.Account) string {
	u, _ := s.FeedURL(a)
	return u
}
