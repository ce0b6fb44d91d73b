package source

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Deps are what a source may use besides its config; the collector gives
// every source the same.
type Deps struct {
	// HTTP is the collector's hardened client: timeouts, bounded
	// redirects, per-host limits, collector.user_agent on every request.
	HTTP *http.Client
	// MaxBody caps a response body (collector.max_body).
	MaxBody int64
	// Store is the shared store (tokens, leases, counters).
	Store    store.Store
	Registry *registry.Registry
	Clock    clockwork.Clock
	Log      *zap.Logger
	Metrics  prometheus.Registerer
	// Ingest publishes posts that were pushed rather than polled, with the
	// de-duplication of polled ones.
	Ingest Ingester
	// Handle mounts an HTTP endpoint on the daemon's listener, for sources
	// that are pushed to.
	Handle func(pattern string, h http.Handler)
}

// Ingester publishes checked posts (the collector's Ingest).
type Ingester interface {
	Ingest(ctx context.Context, posts []model.Post) (published int, err error)
}

// Plugin describes a source to Register. C is its collector-wide config
// (collector.sources.<name>) and A an account's options (the keys of the
// account's source block besides type and interval), both with yaml and
// doc tags; (*C).Validate and (*A).Validate, when defined, check them (see
// pkg/plugin). A source without collector-wide settings uses struct{} for C.
type Plugin[C, A any] struct {
	// Name is the source type accounts name, e.g. "rss".
	Name    string
	Summary string
	// Defaults and AccountDefaults return the configs with their
	// defaults; nil: the zero values.
	Defaults        func() C
	AccountDefaults func() A
	// New builds the source from its validated config. A source that is
	// pushed to rather than polled returns a nil Source and mounts its
	// endpoint with Deps.Handle; the collector then never polls its accounts.
	New func(c *C, d Deps) (Source, error)
}

var (
	mu       sync.RWMutex
	builders = map[string]func(cfg any, d Deps) (Source, error){}
)

// Register makes a source known by name; call it from the source's
// init(). It panics when the name is taken.
func Register[C, A any](p Plugin[C, A]) {
	config, validate := plugin.Configure(p.Defaults)
	account, validateAccount := plugin.ConfigureAccount[C](p.AccountDefaults)
	plugin.Register(plugin.Spec{
		Kind: plugin.Source, Name: p.Name, Summary: p.Summary,
		Config: config, Validate: validate, Account: account, ValidateAccount: validateAccount,
	}, 1)
	mu.Lock()
	defer mu.Unlock()
	builders[p.Name] = func(cfg any, d Deps) (Source, error) { return p.New(plugin.Config[C](cfg), d) }
}

// New builds the source name from its decoded and validated config; a nil
// Source is one that is pushed to.
func New(name string, cfg any, d Deps) (Source, error) {
	mu.RLock()
	build, ok := builders[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown source %q (%s)", name, plugin.List(plugin.Source))
	}
	d.Clock, d.Log = Clock(d.Clock), Log(d.Log)
	s, err := build(cfg, d)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", name, err)
	}
	return s, nil
}

// Clock is c, or the real clock when c is nil: a Source built without
// Deps, as tests build them, still tells the time.
func Clock(c clockwork.Clock) clockwork.Clock {
	if c != nil {
		return c
	}
	return clockwork.NewRealClock()
}

// Log is l, or a logger that drops everything when l is nil.
func Log(l *zap.Logger) *zap.Logger {
	if l != nil {
		return l
	}
	return zap.NewNop()
}

// Options returns an account's source options (registry.Source.Options)
// as the *A its source declared, or A's zero value when they are not.
func Options[A any](opts any) *A {
	if o, ok := opts.(*A); ok && o != nil {
		return o
	}
	return new(A)
}
