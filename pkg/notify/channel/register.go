package channel

import (
	"fmt"
	"io"
	"sync"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/store"
)

// Deps are what a channel may use besides its config; the notifier and
// `govwatch notify test` give every channel the same.
type Deps struct {
	// Store is the shared store (tokens a channel caches, leases).
	Store store.Store
	// Limiter keeps sending limits shared by replicas through the store;
	// nil keeps none.
	Limiter *ratelimit.Limiter
	// Clock signs and dates requests.
	Clock clockwork.Clock
	Log   *zap.Logger
	// Stdout is where the console channel writes.
	Stdout io.Writer

	// secrets are the channel's secrets, read for its New (see Secret);
	// behind a pointer, so that printing Deps never shows them.
	secrets *secretValues
}

// Secret is a credential a channel's config names rather than holds: the
// file it is in or the environment variable it is in, under the keys
// <Key>_file and <Key>_env. A channel lists its secrets in Plugin.Secrets;
// validation then reports a required one that is set neither way, and
// before the channel's New each is read with conf.Secret, for New to take
// with Deps.Secret. Nothing in this package logs or wraps a value.
type Secret struct {
	// Key is the keys' stem: "secret" for secret_file and secret_env.
	Key  string
	File conf.File
	Env  conf.Env
	// Required names the secret in the problem reported when neither key
	// is set ("no access_token: set access_token_file or
	// access_token_env"); empty: the secret is optional.
	Required string
}

type secretValues struct{ byKey map[string][]byte }

// Secret is the value of the channel's secret key, read before New from
// where its config says; empty when an optional secret is not set. It
// panics on a key the channel's Plugin.Secrets does not list.
func (d Deps) Secret(key string) []byte {
	if d.secrets != nil {
		if v, ok := d.secrets.byKey[key]; ok {
			return v
		}
	}
	panic(fmt.Sprintf("channel: secret %q is not declared in Plugin.Secrets", key))
}

// readSecrets reads secrets; the first that cannot be read is the error,
// which names the file or variable and never a value.
func readSecrets(secrets []Secret) (*secretValues, error) {
	v := &secretValues{byKey: make(map[string][]byte, len(secrets))}
	for _, s := range secrets {
		b, err := conf.Secret(s.File, s.Env)
		if err != nil {
			return nil, err
		}
		v.byKey[s.Key] = b
	}
	return v, nil
}

// Plugin describes a channel to Register. C is its config type: the keys
// of its section in a receiver, with yaml and doc tags; (*C).Validate, when
// defined, checks it (see pkg/plugin).
type Plugin[C any] struct {
	// Name is the receiver key the channel is configured under and its
	// metric label, e.g. "dingtalk".
	Name    string
	Summary string
	// Defaults returns the config with its defaults; nil: the zero value.
	Defaults func() C
	// Secrets lists the secrets c names (see Secret); nil: none.
	Secrets func(c *C) []Secret
	// New builds the channel from its validated config; d.Secret holds
	// the secrets Secrets lists.
	New func(c *C, d Deps) (Channel, error)
}

var (
	mu       sync.RWMutex
	builders = map[string]func(cfg any, d Deps) (Channel, error){}
)

// Register makes a channel known by name; call it from the channel's
// init(). It panics when the name is taken.
func Register[C any](p Plugin[C]) {
	config, validate := plugin.Configure(p.Defaults)
	if p.Secrets != nil {
		validate = checkSecrets(p.Secrets, validate)
	}
	plugin.Register(plugin.Spec{Kind: plugin.Channel, Name: p.Name, Summary: p.Summary, Config: config, Validate: validate}, 1)
	mu.Lock()
	defer mu.Unlock()
	builders[p.Name] = func(cfg any, d Deps) (Channel, error) {
		c := plugin.Config[C](cfg)
		var secrets []Secret
		if p.Secrets != nil {
			secrets = p.Secrets(c)
		}
		v, err := readSecrets(secrets)
		if err != nil {
			return nil, err
		}
		d.secrets = v
		return p.New(c, d)
	}
}

// checkSecrets returns validate preceded by the report of every required
// secret that is set neither as a file nor as a variable. Whether the file
// is readable and the variable set is judged when decoding.
func checkSecrets[C any](secrets func(*C) []Secret, validate func(any, *plugin.Check)) func(any, *plugin.Check) {
	return func(cfg any, ch *plugin.Check) {
		for _, s := range secrets(plugin.Config[C](cfg)) {
			if s.Required != "" {
				ch.Secret(s.Key, s.Required, s.File, s.Env)
			}
		}
		if validate != nil {
			validate(cfg, ch)
		}
	}
}

// New builds the channel name from its decoded and validated config.
func New(name string, cfg any, d Deps) (Channel, error) {
	mu.RLock()
	build, ok := builders[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown channel %q (%s)", name, plugin.List(plugin.Channel))
	}
	if d.Clock == nil {
		d.Clock = clockwork.NewRealClock()
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	ch, err := build(cfg, d)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return ch, nil
}
