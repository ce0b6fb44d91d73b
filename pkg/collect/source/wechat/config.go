package wechat

import (
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config is collector.sources.wechat.
type Config struct {
	BaseURL string `yaml:"base_url" doc:"The official-account API; tests and proxies change it." example:"https://api.weixin.qq.com"`
}

// Validate checks the address.
func (c *Config) Validate(ch *plugin.Check) { ch.URL("base_url", c.BaseURL, true) }

// Account is a wechat account's options.
type Account struct {
	AppID      string    `yaml:"app_id" doc:"The official account's appid." example:"wx5c3f2a1b0d9e8f7a"`
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the official account's AppSecret."`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the AppSecret, when no secret_file."`
}

// Validate requires the appid and its secret.
func (a *Account) Validate(c *plugin.AccountCheck, _ *Config) {
	if a.AppID == "" {
		c.Errorf("app_id", "a wechat source needs the official account's app_id")
	}
	if a.SecretFile == "" && a.SecretEnv == "" {
		c.Errorf("secret_file", "a wechat source needs the app secret in secret_file or secret_env")
	}
}

func init() {
	source.Register(source.Plugin[Config, Account]{
		Name:     "wechat",
		Summary:  "A WeChat official account through its own API (AppID and AppSecret): articles and their read counts.",
		Defaults: func() Config { return Config{BaseURL: DefaultBaseURL} },
		New: func(c *Config, d source.Deps) (source.Source, error) {
			return &Source{BaseURL: c.BaseURL, Client: fetch.Client{HTTP: d.HTTP, MaxBody: d.MaxBody}, Store: d.Store, Clock: d.Clock, Log: d.Log.Named("wechat")}, nil
		},
	})
}
