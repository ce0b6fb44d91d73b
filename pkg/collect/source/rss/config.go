package rss

import (
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Account is an rss account's options.
type Account struct {
	URL string `yaml:"url" doc:"The account's feed: RSS 2.0, Atom or JSON Feed." example:"https://www.fuzhou.gov.cn/rss.xml"`
}

// Validate requires the feed's address.
func (a *Account) Validate(c *plugin.AccountCheck, _ *struct{}) { c.URL("url", a.URL, true) }

func init() {
	source.Register(source.Plugin[struct{}, Account]{
		Name:    "rss",
		Summary: "An account's own RSS 2.0, Atom or JSON Feed, with conditional GET.",
		New: func(_ *struct{}, d source.Deps) (source.Source, error) {
			return &Source{Fetcher: &feed.Fetcher{Client: d.HTTP, MaxBody: d.MaxBody, Clock: d.Clock}}, nil
		},
	})
}

// URL is the account's feed.
func (s *Source) URL(a *registry.Account) string {
	return source.Options[Account](a.Source.Options).URL
}
