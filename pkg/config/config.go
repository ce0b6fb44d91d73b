// Package config reads govwatch's one YAML file: the settings of every
// component, the registry of units and accounts (inline or in a file it
// names), and the notifier's receivers. Loading is strict — an unknown key is
// an error naming file:line — and reports every problem at once. Secrets are
// never written in the file: fields ending in _file or _env name where they are.
package config

import (
	"github.com/govwatch/govwatch/pkg/conf"
	"time"
)

// Config is the whole file.
type Config struct {
	// DataDir holds the embedded store and the embedded NATS server's files.
	DataDir   string          `yaml:"data_dir" doc:"Folder of the embedded store and the embedded NATS server's files."`
	Log       LogConfig       `yaml:"log" doc:"Logging (zap)."`
	HTTP      HTTPConfig      `yaml:"http" doc:"The all-in-one process's HTTP endpoint: metrics, health, APIs, acknowledgement links. Its timeouts and connection cap hold for every daemon's endpoint."`
	NATS      NATSConfig      `yaml:"nats" doc:"The bus: an embedded NATS server or external ones."`
	Store     StoreConfig     `yaml:"store" doc:"Where state shared by replicas lives."`
	Registry  RegistryConfig  `yaml:"registry" doc:"The units and accounts watched."`
	Collector CollectorConfig `yaml:"collector" doc:"Polling the accounts' feeds."`
	Analyzer  AnalyzerConfig  `yaml:"analyzer" doc:"Judging posts and accounts."`
	Notifier  NotifierConfig  `yaml:"notifier" doc:"Paging people: receivers, routing, roster, escalation."`
	Simulate  SimulateConfig  `yaml:"simulate" doc:"The fake platform for the demo."`

	// Path is the file the config was read from; relative paths inside it
	// (registry file, scenario, secrets) are resolved against its directory.
	Path string `yaml:"-"`
}

// LogConfig selects zap's output.
type LogConfig struct {
	Level  string `yaml:"level" doc:"debug, info, warn or error."`
	Format string `yaml:"format" doc:"json, or console for people."`
}

// HTTPConfig is the all-in-one process's single HTTP endpoint.
type HTTPConfig struct {
	Listen string `yaml:"listen" doc:"Address the HTTP endpoint listens on."`
	// ExternalURL is how people reach this endpoint; links in alerts use it.
	ExternalURL string `yaml:"external_url" doc:"How people reach the endpoint; acknowledgement links in alerts use it. Required when the notifier listens on an address other hosts reach, and then neither loopback nor a cluster-internal name (*.svc, *.cluster.local, *.internal, *.local). Empty on loopback: the listening address." example:"https://govwatch.example.gov.cn"`
	// InsecureOpenAPI lets the notifier's API run without tokens on an
	// address other hosts reach.
	InsecureOpenAPI bool `yaml:"insecure_open_api" doc:"Serve the notifier's API without any token on an address other hosts reach (anyone there can post, silence and resolve alerts). Without it, an API with no notifier.api token must listen on a loopback address."`

	// The limits of every daemon's HTTP server, so that slow bodies, idle
	// keep-alives and one client's many connections cannot hold it.
	HeaderTimeout     conf.Duration `yaml:"header_timeout" doc:"How long a client has to send a request's headers; a connection that sends nothing is closed after it."`
	ReadTimeout       conf.Duration `yaml:"read_timeout" doc:"How long a client has to send a whole request, body included: a body trickled in slowly is cut off after it. A pushed batch of collector.sources.push.max_body must arrive within it."`
	WriteTimeout      conf.Duration `yaml:"write_timeout" doc:"How long a request may take from the end of its headers to the last byte of the answer (reading the body included): the largest alert list or scrape must be written within it."`
	IdleTimeout       conf.Duration `yaml:"idle_timeout" doc:"How long a keep-alive connection may sit idle between requests before it is closed."`
	MaxConnsPerClient int           `yaml:"max_conns_per_client" doc:"Connections one client address (an IPv6 client: its /64) may hold open at once; more are closed as they are accepted and counted in govwatch_http_connections_refused_total. Behind a reverse proxy or an Ingress every connection comes from the proxy: raise it above the proxy's connection pool there. 0: no cap."`
}

// NATSConfig chooses an embedded server or external ones.
type NATSConfig struct {
	Embedded        bool          `yaml:"embedded" doc:"Runs a NATS server with JetStream inside the process (one machine)."`
	URLs            []string      `yaml:"urls" doc:"External NATS servers, when not embedded." example:"[nats://nats-1:4222, nats://nats-2:4222]"`
	Listen          string        `yaml:"listen" doc:"Client port of the embedded server; empty: reachable in the process only."`
	SubjectPrefix   string        `yaml:"subject_prefix" doc:"First token of every subject and stream name ([a-z0-9_-]+)."`
	CredentialsFile string        `yaml:"credentials_file" doc:"NATS credentials (.creds) file."`
	NKeyFile        string        `yaml:"nkey_file" doc:"NATS NKey seed file."`
	StreamReplicas  int           `yaml:"stream_replicas" doc:"Replicas of each JetStream stream (1 to 5; 3 on a cluster)."`
	MaxAge          conf.Duration `yaml:"max_age" doc:"How long the streams keep messages."`
	MaxBytes        conf.ByteSize `yaml:"max_bytes" doc:"Cap on each of the five streams' size; past it the oldest messages go first. Keep five times it under each NATS server's max_file_store, or a full store refuses every publish. 0: bounded by max_age only." example:"1400MiB"`
}

// StoreConfig chooses the state backend.
type StoreConfig struct {
	Backend string      `yaml:"backend" doc:"embedded (one machine) or redis (replicas share it)."`
	Redis   RedisConfig `yaml:"redis" doc:"The Redis server, Sentinel set or Cluster of the redis backend."`
}

// RedisConfig reaches a single server, a Sentinel set (master_name) or a Cluster.
type RedisConfig struct {
	Addrs        []string `yaml:"addrs" doc:"host:port of the server, the Sentinels or the Cluster's nodes." example:"[redis:6379]"`
	Username     string   `yaml:"username" doc:"ACL user."`
	PasswordFile string   `yaml:"password_file" doc:"File holding the password."`
	PasswordEnv  string   `yaml:"password_env" doc:"Environment variable holding the password."`
	DB           int      `yaml:"db" doc:"Database number (not with a Cluster)."`
	MasterName   string   `yaml:"master_name" doc:"The Sentinel set's master name; addrs are then the Sentinels."`
	Prefix       string   `yaml:"prefix" doc:"Prefix of every key, so deployments can share a server."`
}

// RegistryConfig lists units and accounts inline, in a file, or both.
type RegistryConfig struct {
	File     string          `yaml:"file" doc:"A file of units and accounts (same keys as here), read in batches; for large registries." example:"registry.yaml"`
	Units    []UnitConfig    `yaml:"units" doc:"Government bodies."`
	Accounts []AccountConfig `yaml:"accounts" doc:"Official accounts."`
}

// RegistryFile is the format of the file RegistryConfig.File names.
type RegistryFile struct {
	Units    []UnitConfig    `yaml:"units"`
	Accounts []AccountConfig `yaml:"accounts"`
}

// ContactConfig is a person to reach.
type ContactConfig struct {
	Name   string `yaml:"name" doc:"The person's name."`
	Title  string `yaml:"title" doc:"Their post, as messages name it."`
	Mobile string `yaml:"mobile" doc:"Mobile number robots mention and SMS reaches."`
	Email  string `yaml:"email" doc:"Mail address."`
	// IDs are the person's accounts on other systems, by system name
	// (wecom: their WeCom user id, which the wecom_app channel pages).
	IDs map[string]string `yaml:"ids" doc:"Their accounts on other systems, by system: wecom is the WeCom user id wecom_app pages." example:"{wecom: zhangsan}"`
}

// UnitConfig is a government body.
type UnitConfig struct {
	ID       string          `yaml:"id" doc:"Unique id ([a-z0-9_-]+)." example:"fz-gov"`
	Name     string          `yaml:"name" doc:"The unit's Chinese name, as messages show it."`
	Region   string          `yaml:"region" doc:"Administrative region, for reports."`
	Parent   string          `yaml:"parent" doc:"The supervising unit's id; escalation goes up this chain."`
	Head     ContactConfig   `yaml:"head" doc:"The unit head (第一责任人), paged when no duty officer answers."`
	Contacts []ContactConfig `yaml:"contacts" doc:"Other people of the unit."`
}

// AccountConfig is an official account.
type AccountConfig struct {
	ID         string        `yaml:"id" doc:"Unique id ([a-z0-9_-]+)." example:"fz-wechat"`
	Name       string        `yaml:"name" doc:"The account's name, as messages show it."`
	Platform   string        `yaml:"platform" doc:"wechat, weibo, douyin, toutiao, app, web …"`
	Unit       string        `yaml:"unit" doc:"The id of the unit that runs it."`
	Status     string        `yaml:"status" doc:"active (default), suspended or closed; only active accounts are collected and judged."`
	Source     conf.Section  `yaml:"source" doc:"How the account is collected: type (a source), interval, and the options its source's README lists."`
	StaleAfter conf.Duration `yaml:"stale_after" doc:"Silence after which this account is stale; empty: the staleness detector's."`
	// StaleWarningAfter and ZombieAfter override the staleness detector's.
	StaleWarningAfter conf.Duration `yaml:"stale_warning_after" doc:"Silence after which a warning goes out first; empty: the staleness detector's."`
	ZombieAfter       conf.Duration `yaml:"zombie_after" doc:"Silence after which the account counts as a zombie; empty: the staleness detector's."`
	Tier              string        `yaml:"tier" doc:"A collector.tiers name setting its poll interval; empty: collector.default_tier."`

	// source is Source decoded by the source it names (decodeAccountSource).
	source *AccountSource
}

// CollectorConfig tunes polling.
type CollectorConfig struct {
	Listen    string        `yaml:"listen" doc:"Address the collector daemon's HTTP endpoint (metrics, health, pushed posts) listens on, when run on its own."`
	Interval  conf.Duration `yaml:"interval" doc:"Poll interval of accounts whose tier sets none."`
	Workers   int           `yaml:"workers" doc:"Polls at once."`
	Timeout   conf.Duration `yaml:"timeout" doc:"Bounds one whole poll of an account."`
	MaxBody   conf.ByteSize `yaml:"max_body" doc:"Largest response body read from an upstream; a larger one fails the poll."`
	UserAgent string        `yaml:"user_agent" doc:"User-Agent of every request to an upstream."`

	Sources          map[string]conf.Section  `yaml:"sources" doc:"Each source's collector-wide settings, by source name; its README lists them."`
	Tiers            map[string]conf.Duration `yaml:"tiers" doc:"Poll interval by account tier; an account names its tier."`
	DefaultTier      string                   `yaml:"default_tier" doc:"The tier of accounts that name none; empty: collector.interval."`
	Adapt            AdaptConfig              `yaml:"adapt" doc:"How far an account's polling adapts to how often it publishes."`
	Hosts            HostsConfig              `yaml:"hosts" doc:"Request limits per upstream host, shared by the replicas."`
	Backoff          BackoffConfig            `yaml:"backoff" doc:"The wait after failed polls."`
	FailureThreshold int                      `yaml:"failure_threshold" doc:"Failed polls in a row before system.source_down fires."`
	HTTP             CollectorHTTPConfig      `yaml:"http" doc:"Timeouts and redirects of the collector's HTTP client."`
	Links            LinksConfig              `yaml:"links" doc:"The daily check of the links of collected posts, which raises content.dead_link."`

	// SourceSettings are the sources' decoded settings (decodeSettings),
	// by source name, for source.New; a source without settings has none.
	SourceSettings map[string]any `yaml:"-"`
}

// AnalyzerConfig tunes detection.
type AnalyzerConfig struct {
	Listen string `yaml:"listen" doc:"Address the analyzer daemon's HTTP endpoint (metrics, health, draft checks) listens on, when run on its own."`
	// Sweep is the cron schedule (robfig/cron syntax with CRON_TZ and
	// @every) on which every account's silence is judged.
	Sweep   string `yaml:"sweep" doc:"Cron schedule (CRON_TZ and @every allowed) on which sweeping detectors judge every account."`
	Workers int    `yaml:"workers" doc:"Posts judged at once, one account's in order; 0: twice the CPU cores (on Redis 1 worker judged 348 posts/s, 4 1,316/s, 16 1,369/s on 2 cores)."`
	// Content: lexicons and their reload (content.go).
	Content `yaml:",inline"`
	// Detectors are the detectors' sections, each decoded by its detector
	// (pkg/analyze/detect/<name>); Loaded.Detectors holds the result.
	Detectors map[string]conf.Section `yaml:"detectors" doc:"Each detector's section, by name: enabled, texts and the detector's own keys (see Detectors below)."`

	// The keys the detectors' sections replaced, kept only to say where
	// each went (moved.go).
	MovedStaleAfter    conf.Section `yaml:"stale_after" doc:"-"`
	MovedOpinion       conf.Section `yaml:"opinion" doc:"-"`
	MovedAccountChecks conf.Section `yaml:"account_checks" doc:"-"`
	MovedTexts         conf.Section `yaml:"texts" doc:"-"`
}

// NotifierConfig lists where alerts go.
type NotifierConfig struct {
	Listen    string           `yaml:"listen" doc:"Address the notifier daemon's HTTP endpoint (metrics, health, Alertmanager API, acknowledgement links) listens on, when run on its own."`
	Receivers []ReceiverConfig `yaml:"receivers" doc:"Named sets of channels that routes and escalation steps send to."`
	Route     RouteConfig      `yaml:"route" doc:"The routing tree: which receivers an alert goes to, and how alerts are grouped."`
	// ResolveTimeout ends an alert that came without endsAt and was not
	// repeated, as Alertmanager does for alerts on its API.
	ResolveTimeout conf.Duration `yaml:"resolve_timeout" doc:"Ends an alert that came without endsAt and was not repeated for this long, as Alertmanager does."`
	Workers        int           `yaml:"workers" doc:"Alerts handled at once; one alert's messages are always handled in order, one at a time."`

	NotifyCoreConfig `yaml:",inline"` // roster, escalation, inhibition, ack links, API tokens (notify.go)
}

// ReceiverConfig is a named set of channels; one channel per receiver is
// usual. The keys besides name, fallback and fallback_after are channels'
// sections, each decoded and validated by the channel of that name.
type ReceiverConfig struct {
	Name string `yaml:"name" doc:"The receiver's name, which routes and escalation steps use."`
	// Fallback takes the notifications once this receiver has failed
	// FallbackAfter times in a row (default 1).
	Fallback      string `yaml:"fallback" doc:"Another receiver that takes the notifications once this one has failed fallback_after times in a row."`
	FallbackAfter int    `yaml:"fallback_after" doc:"Failed sends in a row before the fallback takes over; 0: 1."`
	// BreakerAfter opens the receiver's breaker after that many failed
	// sends in a row: it is then not tried, but for one probe every
	// notifier.breaker_probe, and its notifications go to the fallback at
	// once or stay owed.
	BreakerAfter int `yaml:"breaker_after" doc:"Failed sends in a row that open the receiver's breaker: it is then tried once per notifier.breaker_probe, its notifications going to the fallback at once or staying owed; 0: 5, -1: never."`
	// Sections are the channel keys as written, by channel name.
	Sections map[string]conf.Section `yaml:",inline" doc:"A channel's section, under the channel's name (see Channels)."`
	// Channels are the sections decoded by their channels, by name.
	Channels []PluginConfig `yaml:"-"`
}

// receiverKeys are a receiver's own keys, for problems naming what is known.
const receiverKeys = "name, fallback, fallback_after or breaker_after"

// RouteConfig is a node of the routing tree: alerts whose labels match go to
// Receiver, then to the first matching child (all matching children while
// Continue is set on them).
type RouteConfig struct {
	Receiver string            `yaml:"receiver" doc:"The receiver of the alerts this route matches; empty: the parent's."`
	Match    map[string]string `yaml:"match" doc:"Labels an alert must have, exactly."`
	Matchers []string          `yaml:"matchers" doc:"Alertmanager's matchers." example:"[severity=\"critical\", unit=~\"fz.*\"]"`
	Continue bool              `yaml:"continue" doc:"Goes on to the next sibling route after matching this one."`
	Routes   []RouteConfig     `yaml:"routes" doc:"Child routes; the first that matches takes the alert."`
	// Grouping as Alertmanager's; unset inherits, no group_by at all sends
	// each alert on its own at once. Critical alerts skip group_wait.
	GroupBy        []string      `yaml:"group_by" doc:"Labels whose values make one notification of many alerts; none: each alert alone."`
	GroupWait      conf.Duration `yaml:"group_wait" doc:"How long a new group waits for more alerts (critical ones skip it)."`
	GroupInterval  conf.Duration `yaml:"group_interval" doc:"How long a group waits before telling of alerts added to it."`
	RepeatInterval conf.Duration `yaml:"repeat_interval" doc:"How long before a notification still true is sent again."`
}

// SimulateConfig starts the fake platform inside `govwatch run`.
type SimulateConfig struct {
	Enabled  bool   `yaml:"enabled" doc:"Serves the fake platform under /simulate/ in govwatch run."`
	Scenario string `yaml:"scenario" doc:"The scenario file: accounts, their posts and the incidents to inject." example:"scenarios/demo.yaml"`
}

// Default returns the configuration used for every key a file leaves out.
// This is the one place defaults live.
func Default() Config {
	c := Config{
		DataDir: "data",
		Log:     LogConfig{Level: "info", Format: "json"},
		HTTP: HTTPConfig{
			Listen: "127.0.0.1:8080",
			// A pushed batch of 4 MiB has a minute to arrive, the largest
			// alert list or scrape two to be written.
			HeaderTimeout: conf.Duration(10 * time.Second), ReadTimeout: conf.Duration(time.Minute),
			WriteTimeout: conf.Duration(2 * time.Minute), IdleTimeout: conf.Duration(2 * time.Minute),
			MaxConnsPerClient: 64,
		},
		NATS: NATSConfig{
			Embedded:       true,
			SubjectPrefix:  "govwatch",
			StreamReplicas: 1,
			MaxAge:         conf.Duration(7 * 24 * time.Hour),
		},
		Store: StoreConfig{Backend: "embedded", Redis: RedisConfig{Prefix: "govwatch:"}},
		Collector: CollectorConfig{
			Listen:    ":9101",
			Interval:  conf.Duration(10 * time.Minute),
			Workers:   16,
			Timeout:   conf.Duration(20 * time.Second),
			MaxBody:   8 << 20,
			UserAgent: "govwatch-collector/1",
		},
		Analyzer: AnalyzerConfig{
			Listen:  ":9102",
			Sweep:   "@every 1m",
			Workers: 0, // twice the cores
			Content: Content{LexiconReload: defaultLexiconReload},
		},
		Notifier: NotifierConfig{
			Listen:           "127.0.0.1:9103",
			ResolveTimeout:   conf.Duration(5 * time.Minute),
			Workers:          8,
			NotifyCoreConfig: defaultNotifyCore(),
		},
	}
	defaultCollect(&c.Collector)
	return c
}
