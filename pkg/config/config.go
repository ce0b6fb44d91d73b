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
	DataDir   string          `yaml:"data_dir"`
	Log       LogConfig       `yaml:"log"`
	HTTP      HTTPConfig      `yaml:"http"`
	NATS      NATSConfig      `yaml:"nats"`
	Store     StoreConfig     `yaml:"store"`
	Registry  RegistryConfig  `yaml:"registry"`
	Collector CollectorConfig `yaml:"collector"`
	Analyzer  AnalyzerConfig  `yaml:"analyzer"`
	Notifier  NotifierConfig  `yaml:"notifier"`
	Simulate  SimulateConfig  `yaml:"simulate"`

	// Path is the file the config was read from; relative paths inside it
	// (registry file, scenario, secrets) are resolved against its directory.
	Path string `yaml:"-"`
}

// LogConfig selects zap's output.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or console
}

// HTTPConfig is the all-in-one process's single HTTP endpoint.
type HTTPConfig struct {
	Listen string `yaml:"listen"`
	// ExternalURL is how people reach this endpoint; links in alerts use it.
	ExternalURL string `yaml:"external_url"`
}

// NATSConfig chooses an embedded server or external ones.
type NATSConfig struct {
	Embedded        bool          `yaml:"embedded"`
	URLs            []string      `yaml:"urls"`
	Listen          string        `yaml:"listen"` // embedded server's client port; "" = in-process only
	SubjectPrefix   string        `yaml:"subject_prefix"`
	CredentialsFile string        `yaml:"credentials_file"`
	NKeyFile        string        `yaml:"nkey_file"`
	StreamReplicas  int           `yaml:"stream_replicas"`
	MaxAge          conf.Duration `yaml:"max_age"`
}

// StoreConfig chooses the state backend.
type StoreConfig struct {
	Backend string      `yaml:"backend"` // embedded or redis
	Redis   RedisConfig `yaml:"redis"`
}

// RedisConfig reaches a single server, a Sentinel set (master_name) or a Cluster.
type RedisConfig struct {
	Addrs        []string `yaml:"addrs"`
	Username     string   `yaml:"username"`
	PasswordFile string   `yaml:"password_file"`
	PasswordEnv  string   `yaml:"password_env"`
	DB           int      `yaml:"db"`
	MasterName   string   `yaml:"master_name"`
	Prefix       string   `yaml:"prefix"`
}

// RegistryConfig lists units and accounts inline, in a file, or both.
type RegistryConfig struct {
	File     string          `yaml:"file"`
	Units    []UnitConfig    `yaml:"units"`
	Accounts []AccountConfig `yaml:"accounts"`
}

// RegistryFile is the format of the file RegistryConfig.File names.
type RegistryFile struct {
	Units    []UnitConfig    `yaml:"units"`
	Accounts []AccountConfig `yaml:"accounts"`
}

// ContactConfig is a person to reach.
type ContactConfig struct {
	Name   string `yaml:"name"`
	Title  string `yaml:"title"`
	Mobile string `yaml:"mobile"`
	Email  string `yaml:"email"`
	// IDs are the person's accounts on other systems, by system name
	// (wecom: their WeCom user id, which the wecom_app channel pages).
	IDs map[string]string `yaml:"ids"`
}

// UnitConfig is a government body.
type UnitConfig struct {
	ID       string          `yaml:"id"`
	Name     string          `yaml:"name"`
	Region   string          `yaml:"region"`
	Parent   string          `yaml:"parent"`
	Head     ContactConfig   `yaml:"head"`
	Contacts []ContactConfig `yaml:"contacts"`
}

// AccountConfig is an official account.
type AccountConfig struct {
	ID         string        `yaml:"id"`
	Name       string        `yaml:"name"`
	Platform   string        `yaml:"platform"`
	Unit       string        `yaml:"unit"`
	Status     string        `yaml:"status"`
	Source     SourceConfig  `yaml:"source"`
	StaleAfter conf.Duration `yaml:"stale_after"`
	// StaleWarningAfter and ZombieAfter override analyzer.account_checks.staleness.
	StaleWarningAfter conf.Duration `yaml:"stale_warning_after"`
	ZombieAfter       conf.Duration `yaml:"zombie_after"`
	Tier              string        `yaml:"tier"` // a collector.tiers name; "" = collector.default_tier
}

// SourceConfig says how an account is collected.
type SourceConfig struct {
	Type     string        `yaml:"type"`
	URL      string        `yaml:"url"`
	Interval conf.Duration `yaml:"interval"`

	SourceOptions `yaml:",inline"` // per-type settings, see sources.go
}

// CollectorConfig tunes polling.
type CollectorConfig struct {
	Listen    string        `yaml:"listen"` // when run as its own daemon
	Interval  conf.Duration `yaml:"interval"`
	Workers   int           `yaml:"workers"`
	Timeout   conf.Duration `yaml:"timeout"`
	MaxBody   conf.ByteSize `yaml:"max_body"`
	UserAgent string        `yaml:"user_agent"`

	Sources          SourcesConfig            `yaml:"sources"`      // per source type, see sources.go
	Tiers            map[string]conf.Duration `yaml:"tiers"`        // poll interval by account tier
	DefaultTier      string                   `yaml:"default_tier"` // for accounts that name none; "" = interval above
	Adapt            AdaptConfig              `yaml:"adapt"`
	Hosts            HostsConfig              `yaml:"hosts"`
	Backoff          BackoffConfig            `yaml:"backoff"`
	FailureThreshold int                      `yaml:"failure_threshold"` // failed polls in a row before system.source_down
	HTTP             CollectorHTTPConfig      `yaml:"http"`
}

// AnalyzerConfig tunes detection.
type AnalyzerConfig struct {
	Listen string `yaml:"listen"`
	// StaleAfter is the default silence after which account.stale fires
	// (the checklist's two weeks).
	StaleAfter conf.Duration `yaml:"stale_after"`
	// Sweep is the cron schedule (robfig/cron syntax with CRON_TZ and
	// @every) on which every account's silence is judged.
	Sweep   string `yaml:"sweep"`
	Workers int    `yaml:"workers"`
	// Opinion tunes the opinion, engagement and consistency detectors.
	Opinion OpinionConfig `yaml:"opinion"`
	// AccountChecks tunes the account detectors (detect_account.go).
	AccountChecks AccountChecksConfig `yaml:"account_checks"`
	// Content: lexicons and their reload (content.go).
	Content `yaml:",inline"`
	// Texts replaces detectors' alert templates: detector (the package
	// name under pkg/analyze/detect) → template name → text/template
	// body. Templates not named keep their defaults. pkg/daemon checks
	// the names and bodies, which this package cannot see.
	Texts map[string]map[string]string `yaml:"texts"`
}

// NotifierConfig lists where alerts go.
type NotifierConfig struct {
	Listen    string           `yaml:"listen"`
	Receivers []ReceiverConfig `yaml:"receivers"`
	Route     RouteConfig      `yaml:"route"`
	// ResolveTimeout ends an alert that came without endsAt and was not
	// repeated, as Alertmanager does for alerts on its API.
	ResolveTimeout conf.Duration `yaml:"resolve_timeout"`
	Workers        int           `yaml:"workers"`

	NotifyCoreConfig `yaml:",inline"` // roster, escalation, inhibition, ack links, API tokens (notify.go)
}

// ReceiverConfig is a named set of channels; exactly one channel per entry is usual.
type ReceiverConfig struct {
	Name    string         `yaml:"name"`
	Console *ConsoleConfig `yaml:"console"`
	Webhook *WebhookConfig `yaml:"webhook"`

	DingTalk *DingTalkConfig `yaml:"dingtalk"`
	WeCom    *WeComConfig    `yaml:"wecom"`
	Feishu   *FeishuConfig   `yaml:"feishu"`
	Email    *EmailConfig    `yaml:"email"`
	SMS      *SMSConfig      `yaml:"sms"`
	// Fallback takes the notifications once this receiver has failed
	// FallbackAfter times in a row (default 1).
	Fallback      string `yaml:"fallback"`
	FallbackAfter int    `yaml:"fallback_after"`
}

// ConsoleConfig writes a Chinese summary of each alert on standard output.
type ConsoleConfig struct {
	Template string `yaml:"template"` // optional text/template overriding the default
}

// WebhookConfig posts Alertmanager's webhook payload (version 4).
type WebhookConfig struct {
	URL        string        `yaml:"url"`
	SecretFile string        `yaml:"secret_file"`
	SecretEnv  string        `yaml:"secret_env"`
	MaxAlerts  int           `yaml:"max_alerts"`
	Timeout    conf.Duration `yaml:"timeout"`
}

// RouteConfig is a node of the routing tree: alerts whose labels match go to
// Receiver, then to the first matching child (all matching children while
// Continue is set on them).
type RouteConfig struct {
	Receiver string            `yaml:"receiver"`
	Match    map[string]string `yaml:"match"`
	Matchers []string          `yaml:"matchers"` // Alertmanager's: severity="critical", unit=~"fz.*"
	Continue bool              `yaml:"continue"`
	Routes   []RouteConfig     `yaml:"routes"`
	// Grouping as Alertmanager's; unset inherits, no group_by at all sends
	// each alert on its own at once. Critical alerts skip group_wait.
	GroupBy        []string      `yaml:"group_by"`
	GroupWait      conf.Duration `yaml:"group_wait"`
	GroupInterval  conf.Duration `yaml:"group_interval"`
	RepeatInterval conf.Duration `yaml:"repeat_interval"`
}

// SimulateConfig starts the fake platform inside `govwatch run`.
type SimulateConfig struct {
	Enabled  bool   `yaml:"enabled"`
	Scenario string `yaml:"scenario"`
}

// Default returns the configuration used for every key a file leaves out.
// This is the one place defaults live.
func Default() Config {
	c := Config{
		DataDir: "data",
		Log:     LogConfig{Level: "info", Format: "json"},
		HTTP:    HTTPConfig{Listen: ":8080"},
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
			Sources:   defaultSources(),
		},
		Analyzer: AnalyzerConfig{
			Listen:        ":9102",
			StaleAfter:    conf.Duration(14 * 24 * time.Hour),
			Sweep:         "@every 1m",
			Workers:       1,
			Opinion:       DefaultOpinion(),
			AccountChecks: DefaultAccountChecks(),
			Content:       Content{LexiconReload: defaultLexiconReload},
		},
		Notifier: NotifierConfig{
			Listen:         ":9103",
			ResolveTimeout: conf.Duration(5 * time.Minute),
			Workers:        1,
		},
	}
	defaultCollect(&c.Collector)
	return c
}
