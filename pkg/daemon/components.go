package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/collect"
	"github.com/govwatch/govwatch/pkg/collect/linkcheck"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// env is what building a component needs.
type env struct {
	external string // the HTTP endpoint's external URL
	cfg      *config.Loaded
	log      *zap.Logger
	reg      prometheus.Registerer
	store    store.Store
	bus      *bus.Bus
	clock    clockwork.Clock
	stdout   io.Writer
	mux      *http.ServeMux
	// aliases are the collector's dial aliases (httpclient.Options).
	aliases map[string]string
}

func (e *env) build(component string) (runner, error) {
	switch component {
	case Collector:
		return e.collector()
	case Analyzer:
		return e.analyzer()
	case Notifier:
		return e.notifier()
	}
	return nil, fmt.Errorf("unknown component %q", component)
}

func (e *env) collector() (runner, error) {
	cc := e.cfg.Collector
	client := collectHTTPClient(cc, e.store, e.clock, e.reg, e.aliases)
	ingest := &lateIngester{}
	sources, err := e.collectSources(client, ingest)
	if err != nil {
		return nil, err
	}
	o := collect.Options{
		Registry: e.cfg.Registry, Sources: sources, Publisher: e.bus, State: e.store,
		Interval: cc.Interval.D(), Workers: cc.Workers, Timeout: cc.Timeout.D(),
		Clock: e.clock, Log: e.log.Named("collector"), Metrics: e.reg,
		Tiers: collectTiers(cc), DefaultTier: cc.DefaultTier, Alerts: e.bus,
		Backoff:          pace.Backoff{Initial: cc.Backoff.Initial.D(), Max: cc.Backoff.Max.D()},
		FailureThreshold: cc.FailureThreshold,
	}
	var links *linkcheck.Checker
	if cc.Links.Enabled {
		links, err = linkcheck.New(linkcheck.Options{
			Registry: e.cfg.Registry, Store: e.store, HTTP: client, Alerts: e.bus,
			MaxAge: cc.Links.MaxAge.D(), Failures: cc.Links.Failures, PerDay: cc.Links.PerDay, Every: cc.Links.Every.D(),
			Clock: e.clock, Log: e.log.Named("linkcheck"), Metrics: e.reg,
		})
		if err != nil {
			return nil, err
		}
		o.Links = links
	}
	c, err := collect.New(o)
	if err != nil {
		return nil, err
	}
	ingest.set(c)
	if links == nil {
		return c.Run, nil
	}
	return func(ctx context.Context) error {
		done := make(chan error, 1)
		go func() { done <- links.Run(ctx) }()
		err := c.Run(ctx)
		return errors.Join(err, <-done)
	}, nil
}

// detectors builds the analyzer's detectors as the configuration turns
// them on, and the lexicons the content detector scans with.
func (e *env) detectors() (analyze.DetectorSet, *textscan.Live, error) {
	lex, err := textscan.NewLive(e.cfg.Resolve(e.cfg.Analyzer.Lexicons), e.reg, e.log.Named("lexicons"), e.clock.Now)
	if err != nil {
		return analyze.DetectorSet{}, nil, err
	}
	ds, err := analyze.Detectors(e.cfg.Detectors, detect.Deps{Clock: e.clock, Log: e.log.Named("detect"), Metrics: e.reg, Lexicons: lex})
	if err != nil {
		return analyze.DetectorSet{}, nil, err
	}
	return ds, lex, nil
}

func (e *env) analyzer() (runner, error) {
	ac := e.cfg.Analyzer
	sweep, err := config.ParseSchedule(ac.Sweep)
	if err != nil {
		return nil, fmt.Errorf("sweep schedule: %w", err)
	}
	ds, lex, err := e.detectors()
	if err != nil {
		return nil, err
	}
	auth, err := e.apiAuth()
	if err != nil {
		return nil, err
	}
	e.mux.Handle("POST /api/v1/check", auth.Checker(textscan.CheckHandler(lex.Engine)))
	a := analyze.New(analyze.Options{
		Registry: e.cfg.Registry, Bus: e.bus, Store: e.store,
		Posts: ds.Posts, Snapshots: ds.Snapshots, Probes: ds.Probes, Sweepers: ds.Sweepers,
		Sweep: sweep, Workers: analyzerWorkers(ac.Workers),
		Clock: e.clock, Log: e.log.Named("analyzer"), Metrics: e.reg,
		SelfURL: e.external,
	})
	return func(ctx context.Context) error {
		return textscan.WatchWhile(ctx, lex, e.clock, ac.LexiconReload.D(), a.Run)
	}, nil
}

func (e *env) notifier() (runner, error) {
	nc := e.cfg.Notifier
	var receivers []notify.Receiver
	var infos []notify.ReceiverInfo
	deps := channel.Deps{
		Store: e.store, Limiter: ratelimit.New(e.store, e.clock, e.reg),
		Clock: e.clock, Log: e.log.Named("notifier"), Stdout: e.stdout,
	}
	for _, rc := range nc.Receivers {
		chans, err := ReceiverChannels(rc, deps)
		if err != nil {
			return nil, err
		}
		receivers = append(receivers, notify.Receiver{Name: rc.Name, Channels: chans, Fallback: rc.Fallback, FallbackAfter: rc.FallbackAfter,
			BreakerAfter: breakerAfter(rc.BreakerAfter)})
		info := notify.ReceiverInfo{Name: rc.Name, Fallback: rc.Fallback}
		for _, c := range rc.Channels {
			info.Channels = append(info.Channels, c.Name)
		}
		infos = append(infos, info)
	}
	rt, err := route(nc.Route)
	if err != nil {
		return nil, err
	}
	duty, err := e.notifyDuty()
	if err != nil {
		return nil, err
	}
	log := e.log.Named("notifier")
	o := notify.Options{
		Bus: e.bus, Consumer: "notifier", Workers: nc.Workers, Store: e.store, Receivers: receivers, Route: rt,
		ExternalURL: e.external, ResolveTimeout: nc.ResolveTimeout.D(),
		Retry:   notify.RetryPolicy{Attempts: nc.Retry.Attempts, Initial: nc.Retry.Initial.D(), Max: nc.Retry.Max.D()},
		OwedFor: nc.OwedFor.D(), BreakerProbe: nc.BreakerProbe.D(),
		Clock: e.clock, Log: log, Metrics: e.reg,
	}
	duty.apply(&o)
	n, err := notify.New(o)
	if err != nil {
		return nil, err
	}
	api, err := notify.NewAPI(n, notify.APIOptions{Clock: e.clock, Log: log, Signer: duty.signer, Auth: duty.auth,
		Status:  &notify.Status{Version: Version, Replica: hostname(), Route: rt, Receivers: infos},
		MaxBody: int64(nc.API.MaxBody), MaxAlerts: nc.API.MaxAlerts})
	if err != nil {
		return nil, err
	}
	api.Routes(e.mux)
	return n.Run, nil
}

// analyzerWorkers is analyzer.workers, 0 meaning twice the cores the
// process may use: a worker waits on the store most of the time.
func analyzerWorkers(n int) int {
	if n > 0 {
		return n
	}
	return 2 * runtime.GOMAXPROCS(0)
}

// DefaultBreakerAfter is the run of failures that opens a receiver's
// breaker when its config says 0.
const DefaultBreakerAfter = 5

// breakerAfter maps a receiver's breaker_after (0: the default, -1: never)
// to notify.Receiver's (0: never).
func breakerAfter(n int) int {
	switch {
	case n == 0:
		return DefaultBreakerAfter
	case n < 0:
		return 0
	}
	return n
}

func route(rc config.RouteConfig) (*notify.Route, error) {
	ms, err := config.Matchers(nil, rc.Matchers)
	if err != nil {
		return nil, err
	}
	r := &notify.Route{Receiver: rc.Receiver, Match: rc.Match, Matchers: ms, Continue: rc.Continue,
		GroupBy: rc.GroupBy, GroupWait: rc.GroupWait.D(), GroupInterval: rc.GroupInterval.D(), RepeatInterval: rc.RepeatInterval.D()}
	for _, c := range rc.Routes {
		child, err := route(c)
		if err != nil {
			return nil, err
		}
		r.Routes = append(r.Routes, child)
	}
	return r, nil
}

// hostname names this replica where it reports itself (the Alertmanager
// API's cluster status): the host's name, or govwatch.
func hostname() string {
	if h, err := os.Hostname(); err == nil && h != "" {
		return h
	}
	return "govwatch"
}
