package channel

import (
	"fmt"
	"io"
	"sync"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

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
	// New builds the channel from its validated config.
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
	plugin.Register(plugin.Spec{Kind: plugin.Channel, Name: p.Name, Summary: p.Summary, Config: config, Validate: validate}, 1)
	mu.Lock()
	defer mu.Unlock()
	builders[p.Name] = func(cfg any, d Deps) (Channel, error) { return p.New(plugin.Config[C](cfg), d) }
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
