package config

import (
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/registry"
)

// SourceOptions are the per-type settings of an account's source block,
// inlined into SourceConfig; each source's README shows which it reads.
type SourceOptions struct {
	// UserID is the account's id on its platform (rsshub, weibo).
	UserID string `yaml:"user_id"`
	// Route is an RSSHub route used instead of the platform's default.
	Route string `yaml:"route"`
	// Mapping names the collector.sources.jsonapi entry a jsonapi account uses.
	Mapping string `yaml:"mapping"`
	// AppID is a WeChat official account's appid.
	AppID string `yaml:"app_id"`
	// SecretFile / SecretEnv hold the WeChat app secret or the Weibo access token.
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// Probe is what a probe account checks: app, miniprogram or web
	// (default from the platform); PackageURL is an app's package.
	Probe      string `yaml:"probe"`
	PackageURL string `yaml:"package_url"`
}

// SourcesConfig is the collector's settings per source type.
type SourcesConfig struct {
	RSSHub  RSSHubConfig             `yaml:"rsshub"`
	WeChat  APIConfig                `yaml:"wechat"`
	Weibo   WeiboConfig              `yaml:"weibo"`
	JSONAPI map[string]JSONAPIConfig `yaml:"jsonapi"`
	Push    PushConfig               `yaml:"push"`
}

// RSSHubConfig points at a self-hosted RSSHub.
type RSSHubConfig struct {
	BaseURL string `yaml:"base_url"`
}

// APIConfig is a platform API's address (tests and proxies change it).
type APIConfig struct {
	BaseURL string `yaml:"base_url"`
}

// WeiboConfig is the Weibo open API.
type WeiboConfig struct {
	BaseURL string `yaml:"base_url"`
	// Comments also collects public comments (and the account's replies)
	// on the posts of each poll.
	Comments bool `yaml:"comments"`
}

// JSONAPIConfig maps one JSON API's answers to posts. Paths are gjson
// paths (https://github.com/tidwall/gjson/blob/master/SYNTAX.md).
type JSONAPIConfig struct {
	Items       string            `yaml:"items"` // path of the array of items
	Fields      JSONAPIFields     `yaml:"fields"`
	TimeLayout  string            `yaml:"time_layout"` // Go layout; default RFC 3339 or unix seconds
	NextCursor  string            `yaml:"next_cursor"` // path of the next page's cursor
	CursorParam string            `yaml:"cursor_param"`
	MaxPages    int               `yaml:"max_pages"`
	Auth        JSONAPIAuthConfig `yaml:"auth"`
}

// JSONAPIFields are the paths, relative to one item, of a post's fields.
type JSONAPIFields struct {
	ID          string `yaml:"id"`
	URL         string `yaml:"url"`
	Title       string `yaml:"title"`
	Text        string `yaml:"text"`
	Author      string `yaml:"author"`
	PublishedAt string `yaml:"published_at"`
	Kind        string `yaml:"kind"`
	ParentID    string `yaml:"parent_id"`
	Likes       string `yaml:"likes"`
	Comments    string `yaml:"comments"`
	Shares      string `yaml:"shares"`
	Views       string `yaml:"views"`
}

// JSONAPIAuthConfig sends a secret in a header: Header: Prefix+secret.
type JSONAPIAuthConfig struct {
	Header     string `yaml:"header"`
	Prefix     string `yaml:"prefix"` // e.g. "Bearer "
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
}

// PushConfig is the ingest endpoint crawlers push posts to.
type PushConfig struct {
	Keys          []PushKeyConfig `yaml:"keys"`
	RatePerMinute int             `yaml:"rate_per_minute"` // per key
	MaxBody       conf.ByteSize   `yaml:"max_body"`
	MaxPosts      int             `yaml:"max_posts"` // per request
	MaxSkew       conf.Duration   `yaml:"max_skew"`  // timestamp window
}

// PushKeyConfig is one crawler's key. Accounts, when set, are the only
// accounts it may push for.
type PushKeyConfig struct {
	ID         string   `yaml:"id"`
	SecretFile string   `yaml:"secret_file"`
	SecretEnv  string   `yaml:"secret_env"`
	Accounts   []string `yaml:"accounts"`
}

// defaultSources are the source defaults, used by Default.
func defaultSources() SourcesConfig {
	return SourcesConfig{
		WeChat: APIConfig{BaseURL: "https://api.weixin.qq.com"},
		Weibo:  WeiboConfig{BaseURL: "https://api.weibo.com"},
		Push: PushConfig{
			RatePerMinute: 60,
			MaxBody:       4 << 20,
			MaxPosts:      500,
			MaxSkew:       conf.Duration(5 * time.Minute),
		},
	}
}

// sourceOptions copies an account's per-type settings into the registry,
// resolving secret files against the config's directory.
func (c *Config) sourceOptions(o SourceOptions) registry.SourceOptions {
	return registry.SourceOptions{
		UserID: o.UserID, Route: o.Route, Mapping: o.Mapping, AppID: o.AppID,
		SecretFile: c.Resolve(o.SecretFile), SecretEnv: o.SecretEnv,
		Probe: o.Probe, PackageURL: o.PackageURL,
	}
}

// checkAccountSource reports what an account's source block lacks for its type.
func (c *Config) checkAccountSource(o origin, a AccountConfig) conf.Problems {
	var ps conf.Problems
	bad := func(field, format string, args ...any) {
		ps = append(ps, o.pos.Problem(o.path+".source."+field, format, args...))
	}
	s := a.Source
	needURL := func() {
		if err := conf.HTTPURL(s.URL); err != nil {
			bad("url", "%v", err)
		}
	}
	needSecret := func(what string) {
		if s.SecretFile == "" && s.SecretEnv == "" {
			bad("secret_file", "a %s source needs the %s in secret_file or secret_env", s.Type, what)
		}
		c.checkFile(func(p, f string, args ...any) { bad(strings.TrimPrefix(p, "source."), f, args...) }, "source.secret_file", s.SecretFile)
		checkEnv(func(p, f string, args ...any) { bad(strings.TrimPrefix(p, "source."), f, args...) }, "source.secret_env", s.SecretEnv)
	}
	switch s.Type {
	case "rss":
		needURL()
	case "rsshub":
		if s.Route == "" && s.UserID == "" {
			bad("user_id", "an rsshub source needs user_id (the account's id on %s) or route", a.Platform)
		}
		if s.Route != "" && !strings.HasPrefix(s.Route, "/") {
			bad("route", "route %q must start with /", s.Route)
		}
		if s.Route == "" && !slices.Contains(RSSHubPlatforms, a.Platform) {
			bad("route", "RSSHub has no default route for platform %q: set route", a.Platform)
		}
	case "jsonapi":
		needURL()
		if _, ok := c.Collector.Sources.JSONAPI[s.Mapping]; !ok {
			bad("mapping", "unknown jsonapi mapping %q (collector.sources.jsonapi has %v)", s.Mapping, mapKeys(c.Collector.Sources.JSONAPI))
		}
	case "wechat":
		if s.AppID == "" {
			bad("app_id", "a wechat source needs the official account's app_id")
		}
		needSecret("app secret")
	case "weibo":
		if s.UserID == "" {
			bad("user_id", "a weibo source needs the authorised account's uid in user_id")
		}
		needSecret("access token")
	case "probe":
		needURL()
		if s.Probe != "" && !slices.Contains([]string{"app", "miniprogram", "web"}, s.Probe) {
			bad("probe", "unknown probe %q (app, miniprogram or web)", s.Probe)
		}
		if s.PackageURL != "" {
			if err := conf.HTTPURL(s.PackageURL); err != nil {
				bad("package_url", "%v", err)
			}
		}
		if (s.Probe == "app" || s.Probe == "" && a.Platform == "app") && s.PackageURL == "" {
			bad("package_url", "an app probe needs the package's package_url")
		}
	}
	return ps
}

// RSSHubPlatforms are the platforms the rsshub source has a default route for.
// WeChat has only indirect routes, so its accounts name theirs.
var RSSHubPlatforms = []string{"weibo", "douyin", "bilibili", "toutiao", "xiaohongshu", "kuaishou", "zhihu"}

// validateSources checks collector.sources.
func (c *Config) validateSources(pos *conf.Positions) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	s := c.Collector.Sources
	if s.RSSHub.BaseURL != "" { // when accounts use rsshub, buildRegistry requires it
		if err := conf.HTTPURL(s.RSSHub.BaseURL); err != nil {
			bad("collector.sources.rsshub.base_url", "%v", err)
		}
	}
	if err := conf.HTTPURL(s.WeChat.BaseURL); err != nil {
		bad("collector.sources.wechat.base_url", "%v", err)
	}
	if err := conf.HTTPURL(s.Weibo.BaseURL); err != nil {
		bad("collector.sources.weibo.base_url", "%v", err)
	}
	for _, name := range mapKeys(s.JSONAPI) {
		m := s.JSONAPI[name]
		p := "collector.sources.jsonapi." + name
		if m.Items == "" {
			bad(p+".items", "mapping %q needs items, the path of the array of items", name)
		}
		if m.Fields.ID == "" && m.Fields.URL == "" {
			bad(p+".fields.id", "mapping %q needs fields.id or fields.url to identify items", name)
		}
		if m.MaxPages < 0 {
			bad(p+".max_pages", "must not be negative, not %d", m.MaxPages)
		}
		if m.NextCursor != "" && m.CursorParam == "" {
			bad(p+".cursor_param", "next_cursor is set but not the query parameter that carries it")
		}
		if m.Auth.Header != "" && m.Auth.SecretFile == "" && m.Auth.SecretEnv == "" {
			bad(p+".auth.secret_file", "auth.header %q needs secret_file or secret_env", m.Auth.Header)
		}
		c.checkFile(bad, p+".auth.secret_file", m.Auth.SecretFile)
		checkEnv(bad, p+".auth.secret_env", m.Auth.SecretEnv)
	}
	ids := map[string]bool{}
	for i, k := range s.Push.Keys {
		p := fmt.Sprintf("collector.sources.push.keys[%d]", i)
		switch {
		case k.ID == "":
			bad(p+".id", "push key has no id")
		case ids[k.ID]:
			bad(p+".id", "duplicate push key %q", k.ID)
		}
		ids[k.ID] = true
		if k.SecretFile == "" && k.SecretEnv == "" {
			bad(p+".secret_file", "push key %q needs secret_file or secret_env", k.ID)
		}
		c.checkFile(bad, p+".secret_file", k.SecretFile)
		checkEnv(bad, p+".secret_env", k.SecretEnv)
	}
	if s.Push.RatePerMinute < 1 {
		bad("collector.sources.push.rate_per_minute", "must be at least 1, not %d", s.Push.RatePerMinute)
	}
	if s.Push.MaxBody < 1024 {
		bad("collector.sources.push.max_body", "must be at least 1KiB")
	}
	if s.Push.MaxPosts < 1 {
		bad("collector.sources.push.max_posts", "must be at least 1, not %d", s.Push.MaxPosts)
	}
	if s.Push.MaxSkew < conf.Duration(time.Second) {
		bad("collector.sources.push.max_skew", "must be at least 1s, not %s", s.Push.MaxSkew)
	}
	return ps
}

// checkPushAccounts checks that push keys name accounts the registry has
// (reg is nil when the registry itself has problems).
func (c *Config) checkPushAccounts(pos *conf.Positions, reg *registry.Registry) conf.Problems {
	if reg == nil {
		return nil
	}
	var ps conf.Problems
	for i, k := range c.Collector.Sources.Push.Keys {
		for j, id := range k.Accounts {
			if _, ok := reg.Account(id); !ok {
				ps = append(ps, pos.Problem(fmt.Sprintf("collector.sources.push.keys[%d].accounts[%d]", i, j), "unknown account %q", id))
			}
		}
	}
	return ps
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
