package jsonapi

import (
	"fmt"
	"maps"
	"slices"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config is collector.sources.jsonapi: the mappings accounts name.
type Config struct {
	Mappings map[string]MappingConfig `yaml:",inline" doc:"A mapping of one API's answers to posts, named by accounts' source.mapping."`
}

// MappingConfig maps one JSON API's answers to posts. Paths are gjson
// paths (https://github.com/tidwall/gjson/blob/master/SYNTAX.md).
type MappingConfig struct {
	Items       string       `yaml:"items" doc:"Path of the array of items in an answer." example:"data.list"`
	Fields      FieldsConfig `yaml:"fields" doc:"Paths, relative to one item, of a post's fields; id or url is required."`
	TimeLayout  string       `yaml:"time_layout" doc:"Go layout of published_at; empty: RFC 3339, the forms feeds use, or unix seconds or milliseconds."`
	NextCursor  string       `yaml:"next_cursor" doc:"Path of the next page's cursor; empty: one page." example:"data.next_cursor"`
	CursorParam string       `yaml:"cursor_param" doc:"Query parameter that carries the cursor." example:"cursor"`
	MaxPages    int          `yaml:"max_pages" doc:"Pages read in one poll at most; 0: 5."`
	Auth        AuthConfig   `yaml:"auth" doc:"A secret sent in a header of every request."`
}

// FieldsConfig are the paths of a post's fields.
type FieldsConfig struct {
	ID          string `yaml:"id" doc:"The item's id."`
	URL         string `yaml:"url" doc:"The item's link."`
	Title       string `yaml:"title" doc:"Its title (HTML stripped)."`
	Text        string `yaml:"text" doc:"Its text (HTML stripped)."`
	Author      string `yaml:"author" doc:"Its author."`
	PublishedAt string `yaml:"published_at" doc:"When it was published."`
	Kind        string `yaml:"kind" doc:"post, comment or reply; empty: post."`
	ParentID    string `yaml:"parent_id" doc:"The native id of a comment's or reply's parent."`
	Likes       string `yaml:"likes" doc:"Its like count."`
	Comments    string `yaml:"comments" doc:"Its comment count."`
	Shares      string `yaml:"shares" doc:"Its share count."`
	Views       string `yaml:"views" doc:"Its view count."`
	Links       string `yaml:"links" doc:"Its outbound links: a string of HTML (the links of its anchors are read, hidden ones marked), or an array of URL strings or of objects with url (or href), text (or title) and hidden. Relative URLs are resolved against the item's url; only http and https are kept, each once, at most 100. Empty: the links of the text field when it is HTML."`
}

// AuthConfig sends a secret in a header: Header: Prefix+secret.
type AuthConfig struct {
	Header     string    `yaml:"header" doc:"The header carrying the secret." example:"Authorization"`
	Prefix     string    `yaml:"prefix" doc:"Written before the secret." example:"Bearer "`
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the secret."`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the secret, when no secret_file."`
}

// Validate checks every mapping.
func (c *Config) Validate(ch *plugin.Check) {
	for _, name := range slices.Sorted(maps.Keys(c.Mappings)) {
		m := c.Mappings[name]
		r := ch.At(name)
		if m.Items == "" {
			r.Errorf("items", "mapping %q needs items, the path of the array of items", name)
		}
		if m.Fields.ID == "" && m.Fields.URL == "" {
			r.Errorf("fields.id", "mapping %q needs fields.id or fields.url to identify items", name)
		}
		r.AtLeast("max_pages", m.MaxPages, 0)
		if m.NextCursor != "" && m.CursorParam == "" {
			r.Errorf("cursor_param", "next_cursor is set but not the query parameter that carries it")
		}
		if m.Auth.Header != "" && m.Auth.SecretFile == "" && m.Auth.SecretEnv == "" {
			r.Errorf("auth.secret_file", "auth.header %q needs secret_file or secret_env", m.Auth.Header)
		}
	}
}

// Account is a jsonapi account's options.
type Account struct {
	URL     string `yaml:"url" doc:"The API address of the account's posts." example:"https://data.vendor.example/v2/accounts/3197355467/posts"`
	Mapping string `yaml:"mapping" doc:"The collector.sources.jsonapi mapping that reads its answers." example:"vendor-weibo"`
}

// Validate requires the address and a known mapping.
func (a *Account) Validate(c *plugin.AccountCheck, cfg *Config) {
	c.URL("url", a.URL, true)
	if _, ok := cfg.Mappings[a.Mapping]; !ok {
		c.Errorf("mapping", "unknown jsonapi mapping %q (collector.sources.jsonapi has %v)", a.Mapping, slices.Sorted(maps.Keys(cfg.Mappings)))
	}
}

func init() {
	source.Register(source.Plugin[Config, Account]{
		Name:    "jsonapi",
		Summary: "Any JSON HTTP API, mapped to posts with gjson paths and followed across pages.",
		New:     build,
	})
}

// build reads the mappings' secrets, once.
func build(c *Config, d source.Deps) (source.Source, error) {
	mappings := map[string]*Mapping{}
	for name, m := range c.Mappings {
		secret, err := conf.Secret(m.Auth.SecretFile, m.Auth.SecretEnv)
		if err != nil {
			return nil, fmt.Errorf("jsonapi mapping %s: %w", name, err)
		}
		f := m.Fields
		mappings[name] = &Mapping{
			Items: m.Items,
			Fields: Fields{ID: f.ID, URL: f.URL, Title: f.Title, Text: f.Text, Author: f.Author,
				PublishedAt: f.PublishedAt, Kind: f.Kind, ParentID: f.ParentID,
				Likes: f.Likes, Comments: f.Comments, Shares: f.Shares, Views: f.Views, Links: f.Links},
			TimeLayout: m.TimeLayout, NextCursor: m.NextCursor, CursorParam: m.CursorParam, MaxPages: m.MaxPages,
			AuthHeader: m.Auth.Header, AuthValue: m.Auth.Prefix + string(secret),
		}
	}
	return &Source{Client: fetch.Client{HTTP: d.HTTP, MaxBody: d.MaxBody}, Mappings: mappings, Clock: d.Clock, Log: d.Log.Named("jsonapi")}, nil
}

// URL is the account's API address.
func (s *Source) URL(a *registry.Account) string {
	return source.Options[Account](a.Source.Options).URL
}
