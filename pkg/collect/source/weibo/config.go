package weibo

import (
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config is collector.sources.weibo.
type Config struct {
	BaseURL  string `yaml:"base_url" doc:"The Weibo open API; tests and proxies change it." example:"https://api.weibo.com"`
	Comments bool   `yaml:"comments" doc:"Also collects the public comments on each poll's posts, and the account's replies."`
}

// Validate checks the address.
func (c *Config) Validate(ch *plugin.Check) { ch.URL("base_url", c.BaseURL, true) }

// Account is a weibo account's options.
type Account struct {
	UserID     string    `yaml:"user_id" doc:"The authorised account's uid." example:"3197355467"`
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the account's OAuth2 access token."`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the access token, when no secret_file."`
}

// Validate requires the uid and its token.
func (a *Account) Validate(c *plugin.AccountCheck, _ *Config) {
	if a.UserID == "" {
		c.Errorf("user_id", "a weibo source needs the authorised account's uid in user_id")
	}
	if a.SecretFile == "" && a.SecretEnv == "" {
		c.Errorf("secret_file", "a weibo source needs the access token in secret_file or secret_env")
	}
}

func init() {
	source.Register(source.Plugin[Config, Account]{
		Name:     "weibo",
		Summary:  "A Weibo account through the open API with its access token: posts, profile and, optionally, comments.",
		Defaults: func() Config { return Config{BaseURL: DefaultBaseURL} },
		New: func(c *Config, d source.Deps) (source.Source, error) {
			return &Source{BaseURL: c.BaseURL, Client: fetch.Client{HTTP: d.HTTP, MaxBody: d.MaxBody}, Clock: d.Clock, Comments: c.Comments}, nil
		},
	})
}
