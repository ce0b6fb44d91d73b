package daemon

import (
	"fmt"
	"net/http"

	"github.com/govwatch/govwatch/pkg/collect"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/jsonapi"
	"github.com/govwatch/govwatch/pkg/collect/source/probe"
	"github.com/govwatch/govwatch/pkg/collect/source/push"
	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/collect/source/rsshub"
	"github.com/govwatch/govwatch/pkg/collect/source/wechat"
	"github.com/govwatch/govwatch/pkg/collect/source/weibo"
)

// sources builds one Source per source type (config.SourceTypes) from the
// collector's settings; secrets are read here, once.
func (e *env) sources(client *http.Client) (map[string]source.Source, error) {
	// client (collectHTTPClient) sets collector.user_agent on every request.
	cc := e.cfg.Collector
	feeds := &feed.Fetcher{Client: client, MaxBody: int64(cc.MaxBody), Clock: e.clock}
	api := fetch.Client{HTTP: client, MaxBody: int64(cc.MaxBody)}
	mappings := map[string]*jsonapi.Mapping{}
	for name, m := range cc.Sources.JSONAPI {
		secret, err := e.cfg.Secret(m.Auth.SecretFile, m.Auth.SecretEnv)
		if err != nil {
			return nil, fmt.Errorf("jsonapi mapping %s: %w", name, err)
		}
		f := m.Fields
		mappings[name] = &jsonapi.Mapping{
			Items: m.Items,
			Fields: jsonapi.Fields{ID: f.ID, URL: f.URL, Title: f.Title, Text: f.Text, Author: f.Author,
				PublishedAt: f.PublishedAt, Kind: f.Kind, ParentID: f.ParentID,
				Likes: f.Likes, Comments: f.Comments, Shares: f.Shares, Views: f.Views},
			TimeLayout: m.TimeLayout, NextCursor: m.NextCursor, CursorParam: m.CursorParam, MaxPages: m.MaxPages,
			AuthHeader: m.Auth.Header, AuthValue: m.Auth.Prefix + string(secret),
		}
	}
	return map[string]source.Source{
		"rss":     &rss.Source{Fetcher: feeds},
		"rsshub":  &rsshub.Source{BaseURL: cc.Sources.RSSHub.BaseURL, Fetcher: feeds},
		"jsonapi": &jsonapi.Source{Client: api, Mappings: mappings, Clock: e.clock, Log: e.log.Named("jsonapi")},
		"probe":   &probe.Source{Client: client, Clock: e.clock},
		"push":    push.Source{},
		"weibo":   &weibo.Source{BaseURL: cc.Sources.Weibo.BaseURL, Client: api, Clock: e.clock, Comments: cc.Sources.Weibo.Comments},
		"wechat":  &wechat.Source{BaseURL: cc.Sources.WeChat.BaseURL, Client: api, Store: e.store, Clock: e.clock, Log: e.log.Named("wechat")},
	}, nil
}

// pushEndpoint mounts POST /api/v1/ingest when push keys are configured.
func (e *env) pushEndpoint(c *collect.Collector) error {
	pc := e.cfg.Collector.Sources.Push
	if len(pc.Keys) == 0 {
		return nil
	}
	var keys []push.Key
	for _, k := range pc.Keys {
		secret, err := e.cfg.Secret(k.SecretFile, k.SecretEnv)
		if err != nil {
			return fmt.Errorf("push key %s: %w", k.ID, err)
		}
		keys = append(keys, push.Key{ID: k.ID, Secret: secret, Accounts: k.Accounts})
	}
	h, err := push.New(push.Options{
		Keys: keys, Registry: e.cfg.Registry, Ingester: c, Store: e.store,
		RatePerMinute: pc.RatePerMinute, MaxBody: int64(pc.MaxBody), MaxPosts: pc.MaxPosts, MaxSkew: pc.MaxSkew.D(),
		Clock: e.clock, Log: e.log.Named("push"),
	})
	if err != nil {
		return err
	}
	e.mux.Handle(push.Path, h)
	return nil
}
