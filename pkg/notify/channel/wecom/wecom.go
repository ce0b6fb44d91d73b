// Package wecom is the WeCom group robot channel (企业微信群机器人): a
// Chinese markdown message per notification with colours by severity, kept
// within 4096 bytes and the robot's 20 messages a minute across replicas.
// The key in the robot's URL is its only credential.
package wecom

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultTemplate defines "title", "text" (the markdown content) and
// "mention" (the text message that mentions people).
//
//go:embed default.tmpl
var DefaultTemplate string

// DefaultURL is WeCom's robot endpoint.
const DefaultURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

// Size limits of WeCom's message types, in bytes.
const (
	MaxMarkdown = 4096
	MaxText     = 2048
)

// Limit is a WeCom group robot's documented limit: 20 messages a minute.
var Limit = []ratelimit.Limit{{Max: 20, Per: time.Minute}}

// platform is how WeCom's robots answer: 200 with errcode ≠ 0 on failure.
// Worth retrying are system busy and the robot's frequency limit.
var platform = robot.Platform{
	Name: "wecom", URL: DefaultURL, Limits: Limit, Answer: robot.ErrCode,
	Retryable: map[int64]bool{-1: true, 45009: true},
	Msg:       withoutHint,
}

// withoutHint keeps an error message, not the request id, caller IP and
// help link WeCom appends after "hint:".
func withoutHint(msg string) string {
	if i := strings.Index(msg, "hint:"); i >= 0 {
		msg = strings.TrimSpace(msg[:i])
	}
	return strings.TrimRight(msg, ", ")
}

// Config is a receiver's wecom section.
type Config struct {
	// URL is the robot endpoint without the key.
	URL     string    `yaml:"url" doc:"The robot endpoint, without the key."`
	KeyFile conf.File `yaml:"key_file" doc:"File holding the robot's key (the credential in its webhook URL); or key_env." example:"/run/secrets/wecom-key"`
	KeyEnv  conf.Env  `yaml:"key_env" doc:"Environment variable holding the robot's key." example:"GOVWATCH_WECOM_KEY"`
	// MentionMobiles are mentioned in every message, before the
	// notification's own recipients. MentionAll mentions everyone ("@all").
	MentionMobiles []string `yaml:"mention_mobiles" doc:"Mobiles mentioned in every message, before the paged people's." example:"[\"13800138000\"]"`
	MentionAll     bool     `yaml:"mention_all" doc:"Mentions everyone in the group (@all)."`
	// Template redefines some of DefaultTemplate's templates.
	Template string `yaml:"template" doc:"Redefines the templates title, text and/or mention (text/template, Chinese)."`
	// Timeout bounds one attempt.
	Timeout conf.Duration `yaml:"timeout" doc:"Bounds one request to WeCom."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config { return Config{URL: DefaultURL, Timeout: conf.Duration(robot.DefaultTimeout)} }

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	ch.URL("url", c.URL, true)
	ch.Endpoint("url", c.URL, "put the key in key_file or key_env")
	ch.Mobiles("mention_mobiles", c.MentionMobiles)
	if _, err := parse(c.Template); err != nil {
		ch.Errorf("template", "%v", err)
	}
}

func parse(override string) (*render.Template, error) {
	return render.Parse("wecom", DefaultTemplate, override, "title", "text", "mention")
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "wecom",
		Summary:  "WeCom group robot (企业微信群机器人): markdown by severity within 4096 bytes and its 20 messages a minute.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{{Key: "key", File: c.KeyFile, Env: c.KeyEnv, Required: "key"}}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{Key: string(d.Secret("key")), Limiter: d.Limiter})
		},
	})
}

// Options are the runtime parts of the channel.
type Options struct {
	// Key is the robot's key, the credential in its URL.
	Key string
	// Limiter keeps the robot's rate limit; nil keeps none.
	Limiter *ratelimit.Limiter
	Client  *http.Client
}

// WeCom sends to one robot. It is safe for concurrent use.
type WeCom struct {
	target     string
	mobiles    []string
	mentionAll bool
	tmpl       *render.Template
	sender     *robot.Sender
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*WeCom, error) {
	endpoint, err := platform.Endpoint(cfg.URL)
	if err != nil {
		return nil, err
	}
	if opts.Key == "" {
		return nil, errors.New("wecom: no robot key")
	}
	tmpl, err := parse(cfg.Template)
	if err != nil {
		return nil, err
	}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	w := &WeCom{
		target:  endpoint + sep + url.Values{"key": {opts.Key}}.Encode(),
		mobiles: cfg.MentionMobiles, mentionAll: cfg.MentionAll, tmpl: tmpl,
		sender: robot.NewSender(&platform, opts.Key, opts.Limiter, opts.Client, cfg.Timeout.D()),
	}
	return w, nil
}

// Name implements channel.Channel.
func (w *WeCom) Name() string { return "wecom" }

// Request bodies.
type (
	message struct {
		MsgType  string    `json:"msgtype"`
		Markdown *markdown `json:"markdown,omitempty"`
		Text     *text     `json:"text,omitempty"`
	}
	markdown struct {
		Content string `json:"content"`
	}
	text struct {
		Content             string   `json:"content"`
		MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
	}
)

// Color is the WeCom font colour for a message: warning (orange) for firing
// critical and major alerts, comment (grey) for the others, info (green)
// once resolved.
func Color(m *render.Message) string {
	switch {
	case !m.Firing:
		return "info"
	case model.SeverityRank(m.Severity) >= model.SeverityRank(model.SeverityMajor):
		return "warning"
	}
	return "comment"
}

// Notify renders n and POSTs it once as markdown. WeCom's markdown cannot
// mention people by mobile, so when n has recipients with mobiles (or MentionAll is
// set) a short text message with mentioned_mobile_list goes first; a retry
// after a failed markdown message repeats it. Each message takes one send
// from the robot's rate limit.
func (w *WeCom) Notify(ctx context.Context, n *channel.Notification) error {
	m := render.NewMessage(n, render.Markdown)
	m.Color = Color(m)
	content, err := w.tmpl.Execute("text", m)
	if err != nil {
		return channel.Permanent(fmt.Errorf("render wecom text: %w", err))
	}
	mobiles := render.Mobiles(w.mobiles, n.Recipients)
	if w.mentionAll {
		mobiles = append(mobiles, "@all")
	}
	if len(mobiles) > 0 {
		mention, err := w.tmpl.Execute("mention", m)
		if err != nil {
			return channel.Permanent(fmt.Errorf("render wecom mention: %w", err))
		}
		msg := message{MsgType: "text", Text: &text{Content: render.Truncate(mention, MaxText), MentionedMobileList: mobiles}}
		if err := w.send(ctx, msg); err != nil {
			return fmt.Errorf("mention: %w", err)
		}
	}
	md := render.Truncate(strings.TrimRight(content, "\n"), MaxMarkdown)
	return w.send(ctx, message{MsgType: "markdown", Markdown: &markdown{Content: md}})
}

func (w *WeCom) send(ctx context.Context, msg message) error {
	body, err := robot.Encode(msg)
	if err != nil {
		return channel.Permanent(fmt.Errorf("encode wecom message: %w", err))
	}
	return w.sender.Send(ctx, w.target, body)
}

var _ channel.Channel = (*WeCom)(nil)
