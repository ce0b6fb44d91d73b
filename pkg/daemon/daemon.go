// Package daemon turns a loaded configuration into running components: it
// opens the store and the bus, builds the collector, analyzer and notifier
// that were asked for, serves their HTTP endpoints (/metrics, /healthz,
// /readyz, the notifier's API, the simulator) on one listener, and shuts
// everything down in order when its context ends. The three daemons and the
// all-in-one `govwatch run` are all this one Run with different components.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
)

// Components.
const (
	Collector = "collector"
	Analyzer  = "analyzer"
	Notifier  = "notifier"
)

// All is every component: `govwatch run`.
var All = []string{Collector, Analyzer, Notifier}

// Options say what to run.
type Options struct {
	Config     *config.Loaded
	Components []string
	// Listen overrides the address to serve HTTP on; "" means the config's:
	// http.listen for all components, otherwise the component's own listen.
	Listen string
	Log    *zap.Logger
	// Stdout receives the console channel's output.
	Stdout io.Writer
	Clock  clockwork.Clock
	// Ready, when set, is told the address HTTP is served on once every
	// component is running.
	Ready func(addr string)
}

// Run starts the components and blocks until ctx is done, then stops them:
// the collector finishes polls in flight, consumers ack what they handled and
// leave the rest for redelivery, and the bus and store close last.
func Run(ctx context.Context, o Options) error {
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	cfg := o.Config
	addr := o.Listen
	if addr == "" {
		addr = listenAddr(cfg, o.Components)
	}
	if slices.Contains(o.Components, Notifier) && cfg.OpenAPIOn(addr) {
		return fmt.Errorf("listen %s: the notifier's API has no token and would be open to every host that reaches %s; "+
			"give notifier.api an admin_token_file or unit tokens, listen on 127.0.0.1, or set http.insecure_open_api: true", addr, addr)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo(reg, o.Components)
	reg.MustRegister(registry.NewCollector(cfg.Registry))

	st, err := openStore(ctx, cfg, o.Clock)
	if err != nil {
		return err
	}
	defer st.Close()
	b, err := openBus(ctx, cfg, o.Log, reg, name(o.Components))
	if err != nil {
		return err
	}
	defer b.Close()
	// A consumer paused by a store outage resumes when the store answers.
	b.SetDependencyCheck(func(ctx context.Context) error { return storeAnswers(ctx, st) })

	mux := http.NewServeMux()
	var ready readiness
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready.check(r.Context(), b, st); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	defer ln.Close()
	external := cfg.HTTP.ExternalURL
	if external == "" {
		external = externalURL(ln.Addr())
	}

	env := &env{external: external, cfg: cfg, log: o.Log, reg: reg, store: st, bus: b, clock: o.Clock, stdout: o.Stdout, mux: mux}
	if cfg.Simulate.Enabled && len(o.Components) == len(All) && cfg.HTTP.Listen != "" && ln.Addr().String() != cfg.HTTP.Listen {
		// The demo's registry names the simulator at http.listen; this
		// process serves it where -listen said.
		env.aliases = map[string]string{cfg.HTTP.Listen: ln.Addr().String()}
		o.Log.Info("the simulator is served here, not at http.listen: polls of it are sent here",
			zap.String("http_listen", cfg.HTTP.Listen), zap.String("serving", ln.Addr().String()))
	}
	var runners []runner
	for _, c := range o.Components {
		r, err := env.build(c)
		if err != nil {
			return fmt.Errorf("%s: %w", c, err)
		}
		runners = append(runners, r)
	}
	if cfg.Simulate.Enabled && len(o.Components) == len(All) {
		sc, err := simulate.LoadScenario(cfg.Resolve(cfg.Simulate.Scenario))
		if err != nil {
			return err
		}
		mux.Handle("/simulate/", http.StripPrefix("/simulate", simulate.New(sc, o.Clock).Handler()))
	}

	srv := newHTTPServer(mux, serverTimeouts(cfg.HTTP))
	httpErr := make(chan error, 1)
	served := limitConnsPerClient(ln, cfg.HTTP.MaxConnsPerClient, refusedConns(reg))
	go func() { httpErr <- srv.Serve(served) }()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, len(runners))
	for i, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", o.Components[i], err)
				cancel()
			}
		}()
	}
	ready.set()
	o.Log.Info("govwatch running", zap.Strings("components", o.Components), zap.String("http", ln.Addr().String()))
	if o.Ready != nil {
		o.Ready(ln.Addr().String())
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-httpErr:
		runErr = fmt.Errorf("http: %w", err)
		cancel()
	}
	ready.unset()
	wg.Wait()
	close(errs)
	for err := range errs {
		runErr = errors.Join(runErr, err)
	}
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		runErr = errors.Join(runErr, fmt.Errorf("http shutdown: %w", err))
	}
	o.Log.Info("govwatch stopped")
	return runErr
}

// externalURL guesses how people reach addr when the config does not say.
func externalURL(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "http://" + addr.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		} else {
			host = "localhost"
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// runner runs a component until ctx is done.
type runner func(ctx context.Context) error

func listenAddr(cfg *config.Loaded, comps []string) string {
	if len(comps) != 1 {
		return cfg.HTTP.Listen
	}
	switch comps[0] {
	case Collector:
		return cfg.Collector.Listen
	case Analyzer:
		return cfg.Analyzer.Listen
	default:
		return cfg.Notifier.Listen
	}
}

func name(comps []string) string {
	if len(comps) == 1 {
		return "govwatch-" + comps[0]
	}
	return "govwatch"
}

func openStore(ctx context.Context, cfg *config.Loaded, clock clockwork.Clock) (store.Store, error) {
	switch cfg.Store.Backend {
	case "redis":
		return OpenRedis(ctx, cfg)
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		return embedded.Open(filepath.Join(cfg.DataDir, "state.db"), embedded.WithClock(clock))
	}
}

// OpenRedis opens the Redis store cfg.Store.Redis describes, reading its
// password from its file or environment variable.
func OpenRedis(ctx context.Context, cfg *config.Loaded) (*redis.Store, error) {
	rc := cfg.Store.Redis
	pw, err := cfg.Secret(rc.PasswordFile, rc.PasswordEnv)
	if err != nil {
		return nil, fmt.Errorf("redis password: %w", err)
	}
	return redis.Open(ctx, redis.Options{Addrs: rc.Addrs, Username: rc.Username, Password: string(pw), DB: rc.DB, MasterName: rc.MasterName, Prefix: rc.Prefix})
}

func openBus(ctx context.Context, cfg *config.Loaded, log *zap.Logger, reg prometheus.Registerer, connName string) (*bus.Bus, error) {
	n := cfg.NATS
	o := bus.Options{
		Prefix: n.SubjectPrefix, CredentialsFile: cfg.Resolve(n.CredentialsFile), NKeyFile: cfg.Resolve(n.NKeyFile),
		Replicas: n.StreamReplicas, MaxAge: n.MaxAge.D(), MaxBytes: int64(n.MaxBytes), Name: connName, Logger: log, Metrics: reg,
	}
	if n.Embedded && len(n.URLs) == 0 {
		o.Embedded = true
		o.StoreDir = filepath.Join(cfg.DataDir, "nats")
		o.Listen = n.Listen
	} else {
		o.URLs = n.URLs
	}
	return bus.Open(ctx, o)
}

// readiness is ready between start and shutdown, while the bus and store answer.
type readiness struct {
	mu sync.Mutex
	on bool
}

func (r *readiness) set()   { r.mu.Lock(); r.on = true; r.mu.Unlock() }
func (r *readiness) unset() { r.mu.Lock(); r.on = false; r.mu.Unlock() }

func (r *readiness) check(ctx context.Context, b *bus.Bus, st store.Store) error {
	r.mu.Lock()
	on := r.on
	r.mu.Unlock()
	if !on {
		return errors.New("starting or stopping")
	}
	if err := b.Ready(); err != nil {
		return err
	}
	return storeAnswers(ctx, st)
}

// storeAnswers reads a key within two seconds: the store check of /readyz
// and of consumers paused by a store outage.
func storeAnswers(ctx context.Context, st store.Store) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := st.Get(ctx, "readyz"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// Version is set at build time with -ldflags "-X …/daemon.Version=…".
var Version = "dev"

func buildInfo(reg prometheus.Registerer, comps []string) {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "govwatch_build_info",
		Help: "Always 1; the version and components of this process as labels.",
	}, []string{"version", "components"})
	label := ""
	for i, c := range comps {
		if i > 0 {
			label += ","
		}
		label += c
	}
	g.WithLabelValues(Version, label).Set(1)
	reg.MustRegister(g)
}

// httpTimeouts bound how long a client may hold a connection: to send its
// headers, its whole request, to read the answer, and idle between requests.
// Without them slow bodies and idle keep-alives stay open for ever.
type httpTimeouts struct {
	header, read, write, idle time.Duration
}

// serverTimeouts are the daemons' limits, http.*_timeout of the config.
func serverTimeouts(c config.HTTPConfig) httpTimeouts {
	return httpTimeouts{header: c.HeaderTimeout.D(), read: c.ReadTimeout.D(), write: c.WriteTimeout.D(), idle: c.IdleTimeout.D()}
}

func newHTTPServer(h http.Handler, t httpTimeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle}
}

// OpenBus connects to the bus cfg.NATS describes, as the daemons do, for
// tools (govwatch deadletter). With the embedded server it opens the data
// directory's JetStream store, so the daemon must not be running.
func OpenBus(ctx context.Context, cfg *config.Loaded, log *zap.Logger, connName string) (*bus.Bus, error) {
	return openBus(ctx, cfg, log, nil, connName)
}
