package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// NotifyCoreConfig is the notifier's duty side: roster, escalation,
// inhibition, acknowledgement links and API tokens. It is inlined into
// NotifierConfig, so its keys sit directly under notifier:.
type NotifyCoreConfig struct {
	// Roster is the duty roster file (configs/roster.yaml); empty pages
	// unit heads from the registry instead of duty officers.
	Roster string `yaml:"roster" doc:"The duty roster file; empty pages unit heads from the registry instead of duty officers." example:"roster.yaml"`
	// Escalation lists the policies; the first whose match/matchers fit an
	// alert applies. None: the routed receivers are told once, nobody is paged.
	Escalation []EscalationPolicyConfig `yaml:"escalation" doc:"Escalation policies; the first whose matchers fit an alert applies. None: receivers are told once, nobody is paged."`
	// InhibitRules mute alerts made redundant by another firing alert.
	InhibitRules []InhibitRuleConfig `yaml:"inhibit_rules" doc:"Rules that mute alerts made redundant by another firing alert."`
	Ack          AckConfig           `yaml:"ack" doc:"The signed one-click acknowledgement links."`
	API          NotifierAPIConfig   `yaml:"api" doc:"Bearer tokens of the notifier's API."`
	// Tick is how often the notifier escalates, expires and redelivers.
	Tick conf.Duration `yaml:"tick" doc:"How often the notifier escalates, expires and redelivers."`
	// ReportTemplate is a text/template file replacing the built-in
	// upstream report (pkg/report/upstream.tmpl).
	ReportTemplate string `yaml:"report_template" doc:"A text/template file replacing the built-in upward report (pkg/report/upstream.tmpl)."`
	// Retry is the send stage's retry policy.
	Retry RetryConfig `yaml:"retry" doc:"How a notification is retried on a retryable failure before it is owed to the next ticks."`
	// OwedFor bounds how long a notification that keeps failing is tried
	// again on every tick.
	OwedFor conf.Duration `yaml:"owed_for" doc:"How long a notification that keeps failing (firing or resolved) is delivered again on every tick before it is given up on, logged and counted."`
	// BreakerProbe is how often a receiver whose breaker is open is tried.
	BreakerProbe conf.Duration `yaml:"breaker_probe" doc:"How often a receiver whose breaker is open is tried for real, across all replicas."`
}

// RetryConfig repeats a channel's retryable failures with exponential
// backoff within one handling of an alert.
type RetryConfig struct {
	Attempts int           `yaml:"attempts" doc:"Attempts per channel, the first included (at least 1)."`
	Initial  conf.Duration `yaml:"initial" doc:"Wait after the first failure; it doubles after each one."`
	Max      conf.Duration `yaml:"max" doc:"Longest wait between attempts (at least initial)."`
}

// defaultNotifyCore holds the defaults of the notifier's duty side and
// delivery; notify.New takes every one of them explicitly.
func defaultNotifyCore() NotifyCoreConfig {
	return NotifyCoreConfig{
		Tick:         conf.Duration(15 * time.Second),
		Ack:          AckConfig{LinkTTL: conf.Duration(72 * time.Hour)},
		API:          NotifierAPIConfig{MaxBody: 1 << 20, MaxAlerts: 1000},
		Retry:        RetryConfig{Attempts: 3, Initial: conf.Duration(time.Second), Max: conf.Duration(30 * time.Second)},
		OwedFor:      conf.Duration(24 * time.Hour),
		BreakerProbe: conf.Duration(30 * time.Second),
	}
}

// EscalationPolicyConfig is one escalation policy.
type EscalationPolicyConfig struct {
	Name     string                 `yaml:"name" doc:"The policy's name, in logs and metrics."`
	Match    map[string]string      `yaml:"match" doc:"Labels an alert must have, exactly."`
	Matchers []string               `yaml:"matchers" doc:"Alertmanager's matchers an alert must fit." example:"[severity=~\"critical|major\"]"`
	Steps    []EscalationStepConfig `yaml:"steps" doc:"Who is paged, and when, while nobody acknowledges."`
	Repeat   RepeatConfig           `yaml:"repeat" doc:"Repeats the last step."`
	// VetoUpward reports veto-level categories (secret.marking,
	// prohibited.*, wording.serious, opinion.emergency, critical opinion.*)
	// to every superior unit at once.
	VetoUpward bool `yaml:"veto_upward" doc:"Reports veto-level categories to every superior unit at once."`
}

// EscalationStepConfig pages Notify targets After the incident opened.
type EscalationStepConfig struct {
	After conf.Duration `yaml:"after" doc:"Time since the incident opened."`
	// Notify lists targets: duty, head, parent, top, chain.
	Notify []string `yaml:"notify" doc:"Targets: duty, head, parent, top, chain." example:"[duty]"`
	// Receivers to page through; empty: the alert's routed receivers.
	Receivers []string `yaml:"receivers" doc:"Receivers to page through; empty: the alert's routed receivers."`
}

// RepeatConfig repeats the last step a bounded number of times.
type RepeatConfig struct {
	Every conf.Duration `yaml:"every" doc:"Interval between repeats (at least 1m)."`
	Times int           `yaml:"times" doc:"How many times."`
}

// InhibitRuleConfig mutes target alerts while a source alert with the same
// Equal labels fires.
type InhibitRuleConfig struct {
	SourceMatch    map[string]string `yaml:"source_match" doc:"Labels of the muting alert, exactly."`
	SourceMatchers []string          `yaml:"source_matchers" doc:"Matchers of the muting alert."`
	TargetMatch    map[string]string `yaml:"target_match" doc:"Labels of the muted alerts, exactly."`
	TargetMatchers []string          `yaml:"target_matchers" doc:"Matchers of the muted alerts."`
	Equal          []string          `yaml:"equal" doc:"Labels both must share." example:"[account]"`
}

// AckConfig configures the signed one-click links. Without a key file or
// variable, a key is generated once and kept in the store, shared by all
// replicas and re-read by them.
type AckConfig struct {
	KeyFile         string        `yaml:"key_file" doc:"File holding the signing key (at least 16 bytes); none: one is generated and kept in the store, which then needs persistence."`
	KeyEnv          string        `yaml:"key_env" doc:"Environment variable holding the signing key."`
	PreviousKeyFile string        `yaml:"previous_key_file" doc:"File holding the key signed with before a rotation: links it signed are still accepted, new ones are signed with key_file or key_env."`
	PreviousKeyEnv  string        `yaml:"previous_key_env" doc:"Environment variable holding the previous key."`
	LinkTTL         conf.Duration `yaml:"link_ttl" doc:"How long a link works (at least 1m)."`
}

// NotifierAPIConfig holds the API's bearer tokens. With none configured
// the API is open, which suits the demo on loopback only.
type NotifierAPIConfig struct {
	AdminTokenFile string             `yaml:"admin_token_file" doc:"File holding the admin token (at least 32 bytes), which sees every unit."`
	AdminTokenEnv  string             `yaml:"admin_token_env" doc:"Environment variable holding the admin token."`
	Tokens         []UnitTokenConfig  `yaml:"tokens" doc:"Units' tokens. With no token at all the API is open: loopback demos only."`
	CheckTokens    []CheckTokenConfig `yaml:"check_tokens" doc:"Editors' tokens: they may call POST /api/v1/check and nothing else."`
	MaxBody        conf.ByteSize      `yaml:"max_body" doc:"Largest body of POST /api/v2/alerts (at least 1KiB); a larger one is refused with 413."`
	MaxAlerts      int                `yaml:"max_alerts" doc:"Most alerts in one POST /api/v2/alerts (at least 1); more are refused with 413."`
}

// CheckTokenConfig is an editor's token, which only checks drafts.
type CheckTokenConfig struct {
	Name      string `yaml:"name" doc:"Who holds the token, for the logs."`
	TokenFile string `yaml:"token_file" doc:"File holding the token (at least 32 bytes)."`
	TokenEnv  string `yaml:"token_env" doc:"Environment variable holding the token."`
}

// UnitTokenConfig is a unit's token: it sees the unit and the units below.
type UnitTokenConfig struct {
	Unit      string `yaml:"unit" doc:"The unit whose alerts, and its subordinates', the token sees."`
	TokenFile string `yaml:"token_file" doc:"File holding the token (at least 32 bytes)."`
	TokenEnv  string `yaml:"token_env" doc:"Environment variable holding the token."`
}

// EscalationTargets are the targets a step may notify.
var EscalationTargets = []string{"duty", "head", "parent", "top", "chain"}

// Matchers turns a match map and matcher strings into matchers.
func Matchers(eq map[string]string, ms []string) (match.Matchers, error) {
	out, err := match.ParseAll(ms)
	if err != nil {
		return nil, err
	}
	return append(match.Equals(eq), out...), nil
}

// decodeReceivers hands each receiver's channel sections to their channels.
func (c *Config) decodeReceivers(d *conf.Decoder) {
	for i := range c.Notifier.Receivers {
		r := &c.Notifier.Receivers[i]
		r.Channels = decodeChannels(d, fmt.Sprintf("notifier.receivers[%d]", i), r.Sections, receiverKeys)
	}
}

// validateReceivers runs the Validate of every receiver's channels.
func (c *Config) validateReceivers(d *conf.Decoder, reg *registry.Registry) {
	for i, r := range c.Notifier.Receivers {
		validateChannels(d, fmt.Sprintf("notifier.receivers[%d]", i), r.Channels, reg)
	}
}

func (c *Config) validateNotify(pos *conf.Positions) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	n := c.Notifier
	receivers := map[string]bool{}
	for i, r := range n.Receivers {
		p := fmt.Sprintf("notifier.receivers[%d]", i)
		switch {
		case r.Name == "":
			bad(p+".name", "receiver has no name")
		case receivers[r.Name]:
			bad(p+".name", "duplicate receiver %q", r.Name)
		}
		receivers[r.Name] = true
		if len(r.Sections) == 0 {
			bad(p, "receiver %q has no channel (%s)", r.Name, plugin.List(plugin.Channel))
		}
	}
	for i, r := range n.Receivers {
		p := fmt.Sprintf("notifier.receivers[%d]", i)
		if r.Fallback != "" && (!receivers[r.Fallback] || r.Fallback == r.Name) {
			bad(p+".fallback", "fallback %q is not another receiver", r.Fallback)
		}
		if r.FallbackAfter < 0 {
			bad(p+".fallback_after", "must not be negative, not %d", r.FallbackAfter)
		}
		if r.BreakerAfter < -1 {
			bad(p+".breaker_after", "must be -1 (never), 0 (5) or positive, not %d", r.BreakerAfter)
		}
	}
	if len(n.Receivers) > 0 && n.Route.Receiver == "" {
		bad("notifier.route.receiver", "the root route needs a receiver")
	}
	var walk func(r RouteConfig, path string)
	walk = func(r RouteConfig, path string) {
		if r.Receiver != "" && !receivers[r.Receiver] {
			bad(path+".receiver", "unknown receiver %q", r.Receiver)
		}
		for i, m := range r.Matchers {
			if _, err := match.Parse(m); err != nil {
				bad(fmt.Sprintf("%s.matchers[%d]", path, i), "%v", err)
			}
		}
		for i, ch := range r.Routes {
			walk(ch, fmt.Sprintf("%s.routes[%d]", path, i))
		}
	}
	walk(n.Route, "notifier.route")
	if n.Roster != "" {
		c.checkFile(bad, "notifier.roster", n.Roster)
	}
	if n.ReportTemplate != "" {
		c.checkFile(bad, "notifier.report_template", n.ReportTemplate)
	}
	if n.Tick < conf.Duration(time.Second) {
		bad("notifier.tick", "must be at least 1s, not %s", n.Tick)
	}
	if n.ResolveTimeout < conf.Duration(time.Second) {
		bad("notifier.resolve_timeout", "must be at least 1s, not %s", n.ResolveTimeout)
	}
	if n.OwedFor < n.Tick {
		bad("notifier.owed_for", "must be at least the tick (%s), not %s", n.Tick, n.OwedFor)
	}
	if n.BreakerProbe < conf.Duration(time.Second) {
		bad("notifier.breaker_probe", "must be at least 1s, not %s", n.BreakerProbe)
	}
	if n.Retry.Attempts < 1 {
		bad("notifier.retry.attempts", "must be at least 1, not %d", n.Retry.Attempts)
	}
	if n.Retry.Initial < conf.Duration(time.Millisecond) {
		bad("notifier.retry.initial", "must be at least 1ms, not %s", n.Retry.Initial)
	}
	if n.Retry.Max < n.Retry.Initial {
		bad("notifier.retry.max", "must be at least initial (%s), not %s", n.Retry.Initial, n.Retry.Max)
	}
	names := map[string]bool{}
	for i, pc := range n.Escalation {
		p := fmt.Sprintf("notifier.escalation[%d]", i)
		if pc.Name == "" {
			bad(p+".name", "policy has no name")
		} else if names[pc.Name] {
			bad(p+".name", "duplicate policy %q", pc.Name)
		}
		names[pc.Name] = true
		for j, m := range pc.Matchers {
			if _, err := match.Parse(m); err != nil {
				bad(fmt.Sprintf("%s.matchers[%d]", p, j), "%v", err)
			}
		}
		if len(pc.Steps) == 0 {
			bad(p+".steps", "policy %q has no steps", pc.Name)
		}
		var last conf.Duration
		for j, s := range pc.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", p, j)
			if s.After < last {
				bad(sp+".after", "steps must be in order: %s comes after %s", s.After, last)
			}
			last = s.After
			if len(s.Notify) == 0 {
				bad(sp+".notify", "step notifies nobody (one or more of %v)", EscalationTargets)
			}
			for k, t := range s.Notify {
				if !slices.Contains(EscalationTargets, t) {
					bad(fmt.Sprintf("%s.notify[%d]", sp, k), "unknown target %q (one of %v)", t, EscalationTargets)
				}
			}
			for k, r := range s.Receivers {
				if !receivers[r] {
					bad(fmt.Sprintf("%s.receivers[%d]", sp, k), "unknown receiver %q", r)
				}
			}
		}
		if pc.Repeat.Times < 0 || pc.Repeat.Times > 0 && pc.Repeat.Every < conf.Duration(time.Minute) {
			bad(p+".repeat", "repeat needs times ≥ 0 and every ≥ 1m")
		}
	}
	for i, ir := range n.InhibitRules {
		p := fmt.Sprintf("notifier.inhibit_rules[%d]", i)
		for j, m := range ir.SourceMatchers {
			if _, err := match.Parse(m); err != nil {
				bad(fmt.Sprintf("%s.source_matchers[%d]", p, j), "%v", err)
			}
		}
		for j, m := range ir.TargetMatchers {
			if _, err := match.Parse(m); err != nil {
				bad(fmt.Sprintf("%s.target_matchers[%d]", p, j), "%v", err)
			}
		}
		if len(ir.SourceMatch)+len(ir.SourceMatchers) == 0 || len(ir.TargetMatch)+len(ir.TargetMatchers) == 0 {
			bad(p, "an inhibition rule needs source and target matchers")
		}
	}
	c.checkFile(bad, "notifier.ack.key_file", n.Ack.KeyFile)
	checkEnv(bad, "notifier.ack.key_env", n.Ack.KeyEnv)
	c.checkFile(bad, "notifier.ack.previous_key_file", n.Ack.PreviousKeyFile)
	checkEnv(bad, "notifier.ack.previous_key_env", n.Ack.PreviousKeyEnv)
	if (n.Ack.PreviousKeyFile != "" || n.Ack.PreviousKeyEnv != "") && n.Ack.KeyFile == "" && n.Ack.KeyEnv == "" {
		bad("notifier.ack", "a previous key needs the key that replaced it: set key_file or key_env")
	}
	if n.Ack.LinkTTL < conf.Duration(time.Minute) {
		bad("notifier.ack.link_ttl", "must be at least 1m, not %s", n.Ack.LinkTTL)
	}
	for _, l := range []struct{ path, addr string }{{"http.listen", c.HTTP.Listen}, {"notifier.listen", n.Listen}} {
		if c.OpenAPIOn(l.addr) {
			bad(l.path, "%q is reachable from other hosts, and the notifier's API would be open there: give notifier.api an admin_token_file or unit tokens, listen on a loopback address (127.0.0.1%s), or set http.insecure_open_api: true", l.addr, portOf(l.addr))
		}
	}
	c.checkExternalURL(bad)
	c.checkFile(bad, "notifier.api.admin_token_file", n.API.AdminTokenFile)
	checkEnv(bad, "notifier.api.admin_token_env", n.API.AdminTokenEnv)
	for i, t := range n.API.Tokens {
		p := fmt.Sprintf("notifier.api.tokens[%d]", i)
		if t.Unit == "" {
			bad(p+".unit", "token has no unit (use admin_token_file for an admin token)")
		}
		if t.TokenFile == "" && t.TokenEnv == "" {
			bad(p, "token of unit %q names no token_file or token_env", t.Unit)
		}
		c.checkFile(bad, p+".token_file", t.TokenFile)
		checkEnv(bad, p+".token_env", t.TokenEnv)
	}
	for i, t := range n.API.CheckTokens {
		p := fmt.Sprintf("notifier.api.check_tokens[%d]", i)
		if t.TokenFile == "" && t.TokenEnv == "" {
			bad(p, "check token %q names no token_file or token_env", t.Name)
		}
		c.checkFile(bad, p+".token_file", t.TokenFile)
		checkEnv(bad, p+".token_env", t.TokenEnv)
	}
	if n.API.MaxBody < 1<<10 {
		bad("notifier.api.max_body", "must be at least 1KiB, not %s", n.API.MaxBody)
	}
	if n.API.MaxAlerts < 1 {
		bad("notifier.api.max_alerts", "must be at least 1, not %d", n.API.MaxAlerts)
	}
	return ps
}

// OpenAPIOn reports whether the notifier's API, served on addr, would take
// requests from other hosts without any token, and the config does not say
// that is meant (http.insecure_open_api).
func (c *Config) OpenAPIOn(addr string) bool {
	return !c.HTTP.InsecureOpenAPI && !c.Notifier.API.HasTokens() && !Loopback(addr)
}

// checkExternalURL holds http.external_url to the rule for links in
// messages: a notifier listening on an address other hosts reach is a
// production one, whose messages carry acknowledgement and API links that
// duty officers open on their phones. There the links cannot be built from
// the listening address, so external_url must be an absolute http(s) URL
// whose host is neither a loopback address nor a cluster-internal name
// (*.svc, *.svc.cluster.local, *.cluster.local, *.internal, *.local). A
// notifier on a loopback address (the demo) may leave it empty: links then
// use the listening address, which only that machine opens.
func (c *Config) checkExternalURL(bad func(path, format string, args ...any)) {
	public := ""
	for _, l := range []struct{ path, addr string }{{"http.listen", c.HTTP.Listen}, {"notifier.listen", c.Notifier.Listen}} {
		if public == "" && l.addr != "" && !Loopback(l.addr) {
			public = fmt.Sprintf("%s %q", l.path, l.addr)
		}
	}
	u := c.HTTP.ExternalURL
	switch {
	case u == "" && public != "":
		bad("http.external_url", "not set, and %s is reachable from other hosts: acknowledgement links in messages would name the listening address, which a phone cannot open; set the public address of the notifier (its Ingress or reverse proxy)", public)
	case u == "":
	case public == "":
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			bad("http.external_url", "%q is not an absolute http or https URL", u)
		}
	default:
		if why := unreachableLink(u); why != "" {
			bad("http.external_url", "%q %s, and %s is reachable from other hosts: set the address people open acknowledgement links at, e.g. https://govwatch.example.gov.cn", u, why, public)
		}
	}
}

// unreachableLink says why links under u would not open outside the
// machine or cluster, or returns "".
func unreachableLink(u string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return "is not an absolute http or https URL"
	}
	host := strings.ToLower(p.Hostname())
	if host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback() {
		return "names this machine only (loopback)"
	}
	for _, suffix := range []string{".svc", ".svc.cluster.local", ".cluster.local", ".internal", ".local"} {
		if strings.HasSuffix(host, suffix) {
			return "is a cluster-internal name that phones cannot resolve"
		}
	}
	return ""
}

// HasTokens reports whether the API is guarded by any token.
func (a NotifierAPIConfig) HasTokens() bool {
	return a.AdminTokenFile != "" || a.AdminTokenEnv != "" || len(a.Tokens) > 0 || len(a.CheckTokens) > 0
}

// Loopback reports whether a listen address takes connections from this
// host only: 127.0.0.1, ::1 or localhost. ":8080" and 0.0.0.0 listen on
// every interface.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// portOf is ":port" of addr, or "".
func portOf(addr string) string {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		return ":" + port
	}
	return ""
}
