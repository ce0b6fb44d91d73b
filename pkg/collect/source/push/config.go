package push

import (
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Config is collector.sources.push: the ingest endpoint crawlers push
// posts to, mounted when it has keys.
type Config struct {
	Keys          []KeyConfig   `yaml:"keys" doc:"The crawlers' keys; without any, the endpoint is not mounted."`
	RatePerMinute int           `yaml:"rate_per_minute" doc:"Requests per key and minute, shared by all replicas."`
	MaxBody       conf.ByteSize `yaml:"max_body" doc:"Largest request body."`
	MaxPosts      int           `yaml:"max_posts" doc:"Posts in one request at most."`
	MaxSkew       conf.Duration `yaml:"max_skew" doc:"How far X-Govwatch-Timestamp may be from the server's time."`
}

// KeyConfig is one crawler's key.
type KeyConfig struct {
	ID         string    `yaml:"id" doc:"The key's id, sent in X-Govwatch-Key." example:"vendor-crawler"`
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the key's signing secret."`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the secret, when no secret_file."`
	Accounts   []string  `yaml:"accounts" doc:"The only accounts the key may push for; empty: any push account."`
}

// Validate checks the keys, the accounts they name and the limits.
func (c *Config) Validate(ch *plugin.Check) {
	ids := map[string]bool{}
	for i, k := range c.Keys {
		p := fmt.Sprintf("keys[%d]", i)
		switch {
		case k.ID == "":
			ch.Errorf(p+".id", "push key has no id")
		case ids[k.ID]:
			ch.Errorf(p+".id", "duplicate push key %q", k.ID)
		}
		ids[k.ID] = true
		if k.SecretFile == "" && k.SecretEnv == "" {
			ch.Errorf(p+".secret_file", "push key %q needs secret_file or secret_env", k.ID)
		}
		if ch.Registry == nil {
			continue // the registry has problems of its own
		}
		for j, id := range k.Accounts {
			if _, ok := ch.Registry.Account(id); !ok {
				ch.Errorf(fmt.Sprintf("%s.accounts[%d]", p, j), "unknown account %q", id)
			}
		}
	}
	ch.AtLeast("rate_per_minute", c.RatePerMinute, 1)
	if c.MaxBody < 1024 {
		ch.Errorf("max_body", "must be at least 1KiB")
	}
	ch.AtLeast("max_posts", c.MaxPosts, 1)
	ch.MinDuration("max_skew", c.MaxSkew, time.Second)
}

func init() {
	source.Register(source.Plugin[Config, struct{}]{
		Name:    "push",
		Summary: "Posts that crawlers push, signed, to POST /api/v1/ingest; its accounts are never polled.",
		Defaults: func() Config {
			return Config{RatePerMinute: 60, MaxBody: 4 << 20, MaxPosts: 500, MaxSkew: conf.Duration(5 * time.Minute)}
		},
		New: mount,
	})
}

// mount reads the keys' secrets and mounts the endpoint when there are
// keys; the collector polls no push account, so there is no Source.
func mount(c *Config, d source.Deps) (source.Source, error) {
	if len(c.Keys) == 0 {
		return nil, nil
	}
	var keys []Key
	for _, k := range c.Keys {
		secret, err := conf.Secret(k.SecretFile, k.SecretEnv)
		if err != nil {
			return nil, fmt.Errorf("push key %s: %w", k.ID, err)
		}
		keys = append(keys, Key{ID: k.ID, Secret: secret, Accounts: k.Accounts})
	}
	if d.Handle == nil || d.Ingest == nil {
		return nil, fmt.Errorf("push needs an HTTP listener and an ingester")
	}
	h, err := New(Options{
		Keys: keys, Registry: d.Registry, Ingester: d.Ingest, Store: d.Store,
		RatePerMinute: c.RatePerMinute, MaxBody: int64(c.MaxBody), MaxPosts: c.MaxPosts, MaxSkew: c.MaxSkew.D(),
		Clock: d.Clock, Log: d.Log.Named("push"),
	})
	if err != nil {
		return nil, err
	}
	d.Handle(Path, h)
	return nil, nil
}
