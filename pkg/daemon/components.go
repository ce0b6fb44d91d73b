package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/collect"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/console"
	"github.com/govwatch/govwatch/pkg/notify/channel/webhook"
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
	client := &http.Client{Timeout: cc.Timeout.D()}
	sources := map[string]source.Source{
		"rss": &rss.Source{Fetcher: &rss.Fetcher{Client: client, MaxBody: int64(cc.MaxBody), UserAgent: cc.UserAgent, Clock: e.clock}},
	}
	c, err := collect.New(collect.Options{
		Registry: e.cfg.Registry, Sources: sources, Publisher: e.bus, State: e.store,
		Interval: cc.Interval.D(), Workers: cc.Workers, Timeout: cc.Timeout.D(),
		Clock: e.clock, Log: e.log.Named("collector"), Metrics: e.reg,
	})
	if err != nil {
		return nil, err
	}
	return c.Run, nil
}

func (e *env) analyzer() (runner, error) {
	ac := e.cfg.Analyzer
	sweep, err := config.ParseSchedule(ac.Sweep)
	if err != nil {
		return nil, fmt.Errorf("sweep schedule: %w", err)
	}
	stale := staleness.New(ac.StaleAfter.D())
	lex, err := textscan.NewLive(e.cfg.Resolve(ac.Lexicons), e.reg, e.log.Named("lexicons"), e.clock.Now)
	if err != nil {
		return nil, err
	}
	e.mux.Handle("POST /api/v1/check", textscan.CheckHandler(lex.Engine))
	a := analyze.New(analyze.Options{
		Registry: e.cfg.Registry, Bus: e.bus, Store: e.store,
		Posts:    []detect.PostDetector{content.New(lex.Scan), stale},
		Sweepers: []detect.Sweeper{stale},
		Sweep:    sweep, Workers: ac.Workers,
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
	for _, rc := range nc.Receivers {
		r := notify.Receiver{Name: rc.Name}
		if rc.Console != nil {
			ch, err := console.New(console.Config{Template: rc.Console.Template}, e.stdout)
			if err != nil {
				return nil, fmt.Errorf("receiver %s: %w", rc.Name, err)
			}
			r.Channels = append(r.Channels, ch)
		}
		if wc := rc.Webhook; wc != nil {
			secret, err := e.cfg.Secret(wc.SecretFile, wc.SecretEnv)
			if err != nil {
				return nil, fmt.Errorf("receiver %s: %w", rc.Name, err)
			}
			ch, err := webhook.New(webhook.Config{URL: wc.URL, MaxAlerts: wc.MaxAlerts, Timeout: wc.Timeout.D()}, webhook.Options{Secret: secret, Now: e.clock.Now})
			if err != nil {
				return nil, fmt.Errorf("receiver %s: %w", rc.Name, err)
			}
			r.Channels = append(r.Channels, ch)
		}
		receivers = append(receivers, r)
	}
	n, err := notify.New(notify.Options{
		Bus: e.bus, Store: e.store, Receivers: receivers, Route: route(nc.Route),
		ExternalURL: e.external, ResolveTimeout: nc.ResolveTimeout.D(), Workers: nc.Workers,
		Clock: e.clock, Log: e.log.Named("notifier"), Metrics: e.reg,
	})
	if err != nil {
		return nil, err
	}
	n.Routes(e.mux)
	return n.Run, nil
}

func route(rc config.RouteConfig) *notify.Route {
	r := &notify.Route{Receiver: rc.Receiver, Match: rc.Match, Continue: rc.Continue}
	for _, c := range rc.Routes {
		r.Routes = append(r.Routes, route(c))
	}
	return r
}

var (
	_ channel.Channel = (*console.Console)(nil)
	_                 = context.Background
	_                 = time.Second
)
