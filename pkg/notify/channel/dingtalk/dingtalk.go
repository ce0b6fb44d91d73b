// Package dingtalk is the DingTalk custom robot channel (钉钉自定义机器人):
// a Chinese markdown or actionCard message per notification, signed with
// HMAC-SHA256 in the query when the robot has a signing secret, kept within
// the robot's 20 messages a minute across replicas.
package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultTemplate defines "title" (the notification preview) and "text"
// (the markdown body).
//
//go:embed default.tmpl
var DefaultTemplate string

// DefaultURL is DingTalk's robot endpoint.
const DefaultURL = "https://oapi.dingtalk.com/robot/send"

// Message types.
const (
	Markdown   = "markdown"
	ActionCard = "action_card"
)

// MaxText caps the markdown text; DingTalk refuses bodies over 20 KB.
const MaxText = 16 << 10

// Limit is a DingTalk custom robot's documented limit: 20 messages a minute.
var Limit = []ratelimit.Limit{{Max: 20, Per: time.Minute}}

// platform is how DingTalk's robots answer: 200 with errcode ≠ 0 on
// failure. Worth retrying are system busy and the two "sending too fast"
// codes (the second throttles the robot for 10 minutes).
var platform = robot.Platform{
	Name: "dingtalk", URL: DefaultURL, Limits: Limit, Answer: robot.ErrCode,
	Retryable: map[int64]bool{-1: true, 130101: true, 410100: true},
}

// Config is a receiver's dingtalk section. The access token and the
// signing secret come from files or the environment, never from the file.
type Config struct {
	// URL is the robot endpoint without the token.
	URL             string    `yaml:"url" doc:"The robot endpoint, without the token."`
	AccessTokenFile conf.File `yaml:"access_token_file" doc:"File holding the robot's access_token (the credential in its webhook URL); or access_token_env." example:"/run/secrets/dingtalk-token"`
	AccessTokenEnv  conf.Env  `yaml:"access_token_env" doc:"Environment variable holding the access_token." example:"GOVWATCH_DINGTALK_TOKEN"`
	SecretFile      conf.File `yaml:"secret_file" doc:"File holding the robot's SEC… signing secret; none: requests are not signed (robots protected by keywords or IP ranges)."`
	SecretEnv       conf.Env  `yaml:"secret_env" doc:"Environment variable holding the signing secret." example:"GOVWATCH_DINGTALK_SECRET"`
	// Message is Markdown (default) or ActionCard. An action card shows the
	// links of a single-alert notification as buttons; DingTalk cannot
	// mention people in one, so a notification with recipients goes as
	// markdown.
	Message string `yaml:"message" doc:"markdown, or action_card (links as buttons; a notification that mentions people still goes as markdown)."`
	// AtMobiles are mentioned in every message, before the notification's
	// own recipients.
	AtMobiles []string `yaml:"at_mobiles" doc:"Mobiles mentioned in every message, before the paged people's." example:"[\"13800138000\"]"`
	AtAll     bool     `yaml:"at_all" doc:"Mentions everyone in the group."`
	// Template redefines some of DefaultTemplate's templates.
	Template string `yaml:"template" doc:"Redefines the templates title and/or text (text/template, Chinese)."`
	// Timeout bounds one attempt.
	Timeout conf.Duration `yaml:"timeout" doc:"Bounds one request to DingTalk."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config {
	return Config{URL: DefaultURL, Message: Markdown, Timeout: conf.Duration(robot.DefaultTimeout)}
}

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	ch.URL("url", c.URL, true)
	ch.Endpoint("url", c.URL, "put the token in access_token_file or access_token_env")
	ch.OneOf("message", c.Message, Markdown, ActionCard)
	ch.Mobiles("at_mobiles", c.AtMobiles)
	if _, err := parse(c.Template); err != nil {
		ch.Errorf("template", "%v", err)
	}
}

func parse(override string) (*render.Template, error) {
	return render.Parse("dingtalk", DefaultTemplate, override, "title", "text")
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "dingtalk",
		Summary:  "DingTalk custom robot (钉钉自定义机器人): markdown or action card, signed, within its 20 messages a minute.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{
				{Key: "access_token", File: c.AccessTokenFile, Env: c.AccessTokenEnv, Required: "access_token"},
				{Key: "secret", File: c.SecretFile, Env: c.SecretEnv},
			}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{AccessToken: string(d.Secret("access_token")), Secret: d.Secret("secret"), Limiter: d.Limiter, Clock: d.Clock})
		},
	})
}

// Options are the runtime parts of the channel.
type Options struct {
	// AccessToken is the robot's access_token, the credential in its URL.
	AccessToken string
	// Secret is the robot's signing secret (SEC…); empty sends unsigned
	// requests, for robots protected by keywords or IP ranges.
	Secret []byte
	// Limiter keeps the robot's rate limit; nil keeps none.
	Limiter *ratelimit.Limiter
	Client  *http.Client
	Clock   clockwork.Clock
}

// DingTalk sends to one robot. It is safe for concurrent use.
type DingTalk struct {
	endpoint  string
	message   string
	atMobiles []string
	atAll     bool
	tmpl      *render.Template
	token     string
	secret    []byte
	sender    *robot.Sender
	clock     clockwork.Clock
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*DingTalk, error) {
	endpoint, err := platform.Endpoint(cfg.URL)
	if err != nil {
		return nil, err
	}
	switch cfg.Message {
	case "":
		cfg.Message = Markdown
	case Markdown, ActionCard:
	default:
		return nil, fmt.Errorf("dingtalk message: unknown type %q (markdown or action_card)", cfg.Message)
	}
	if opts.AccessToken == "" {
		return nil, errors.New("dingtalk: no access token")
	}
	tmpl, err := parse(cfg.Template)
	if err != nil {
		return nil, err
	}
	d := &DingTalk{
		endpoint: endpoint, message: cfg.Message, atMobiles: cfg.AtMobiles, atAll: cfg.AtAll, tmpl: tmpl,
		token: opts.AccessToken, secret: opts.Secret, clock: opts.Clock,
		sender: robot.NewSender(&platform, opts.AccessToken, opts.Limiter, opts.Client, cfg.Timeout.D()),
	}
	if d.clock == nil {
		d.clock = clockwork.NewRealClock()
	}
	return d, nil
}

// Name implements channel.Channel.
func (d *DingTalk) Name() string { return "dingtalk" }

// Sign returns DingTalk's signature for a timestamp in milliseconds:
// base64(HMAC-SHA256(key=secret, msg=timestamp+"\n"+secret)), before URL
// encoding.
func Sign(secret []byte, timestampMS int64) string {
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%d\n%s", timestampMS, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Request bodies.
type (
	message struct {
		MsgType    string      `json:"msgtype"`
		Markdown   *markdown   `json:"markdown,omitempty"`
		ActionCard *actionCard `json:"actionCard,omitempty"`
		At         *at         `json:"at,omitempty"`
	}
	markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	}
	actionCard struct {
		Title          string   `json:"title"`
		Text           string   `json:"text"`
		BtnOrientation string   `json:"btnOrientation"`
		Btns           []button `json:"btns"`
	}
	button struct {
		Title     string `json:"title"`
		ActionURL string `json:"actionURL"`
	}
	at struct {
		AtMobiles []string `json:"atMobiles,omitempty"`
		IsAtAll   bool     `json:"isAtAll"`
	}
)

// Notify renders n, takes one send from the robot's rate limit and POSTs
// the message once; DingTalk's error code decides whether a refusal is
// retryable.
func (d *DingTalk) Notify(ctx context.Context, n *channel.Notification) error {
	body, err := d.body(n)
	if err != nil {
		return err
	}
	q := url.Values{"access_token": {d.token}}
	if len(d.secret) > 0 {
		ts := d.clock.Now().UnixMilli()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(d.secret, ts))
	}
	target := d.endpoint + "?" + q.Encode()
	if strings.Contains(d.endpoint, "?") {
		target = d.endpoint + "&" + q.Encode()
	}
	return d.sender.Send(ctx, target, body)
}

// body builds the request body for n.
func (d *DingTalk) body(n *channel.Notification) ([]byte, error) {
	m := render.NewMessage(n, render.Markdown)
	mobiles := render.Mobiles(d.atMobiles, n.Recipients)
	card := d.message == ActionCard && len(mobiles) == 0 && !d.atAll
	var btns []button
	if card && len(m.Alerts) == 1 {
		a := m.Alerts[0]
		for _, b := range []button{{"查看原文", a.URL}, {"确认告警", a.AckURL}, {"标记已处理", a.ResolveURL}} {
			if b.ActionURL != "" && (a.Firing || b.Title == "查看原文") {
				btns = append(btns, b)
			}
		}
	}
	m.Buttons = len(btns) > 0
	title, err := d.tmpl.Execute("title", m)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("render dingtalk title: %w", err))
	}
	text, err := d.tmpl.Execute("text", m)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("render dingtalk text: %w", err))
	}
	// DingTalk mentions a mobile only when "@mobile" is also in the text.
	var mention strings.Builder
	for _, mob := range mobiles {
		mention.WriteString(" @" + mob)
	}
	if d.atAll {
		mention.WriteString(" @所有人")
	}
	text = render.Truncate(strings.TrimRight(text, "\n"), MaxText-mention.Len()-2)
	if mention.Len() > 0 {
		text += "\n\n" + strings.TrimSpace(mention.String())
	}

	msg := message{MsgType: "markdown", Markdown: &markdown{Title: title, Text: text}}
	if m.Buttons {
		msg = message{MsgType: "actionCard", ActionCard: &actionCard{Title: title, Text: text, BtnOrientation: "1", Btns: btns}}
	}
	if len(mobiles) > 0 || d.atAll {
		msg.At = &at{AtMobiles: mobiles, IsAtAll: d.atAll}
	}
	b, err := robot.Encode(msg)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("encode dingtalk message: %w", err))
	}
	return b, nil
}

var _ channel.Channel = (*DingTalk)(nil)
