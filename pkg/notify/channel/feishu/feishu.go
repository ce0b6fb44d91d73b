// Package feishu is the Feishu (Lark) custom bot channel (飞书自定义机器人):
// an interactive card per notification with a header coloured by severity,
// one lark_md block and a row of link buttons per alert, signed in the JSON
// body when the bot has a secret, kept within the bot's 100 messages a
// minute and 5 a second across replicas.
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultTemplate defines "title" (the card header) and "text" (the lark_md
// of one alert: "text" is executed once per alert, with .Alerts holding
// that alert alone).
//
//go:embed default.tmpl
var DefaultTemplate string

// DefaultURL is Feishu's bot hook endpoint; the token follows it.
const DefaultURL = "https://open.feishu.cn/open-apis/bot/v2/hook/"

// Size limits: Feishu refuses request bodies over 20 KB.
const (
	MaxBody      = 20 << 10
	MaxAlertText = 4 << 10
)

// Limit is a Feishu custom bot's documented limit: 100 messages a minute
// and 5 a second.
var Limit = []ratelimit.Limit{{Max: 100, Per: time.Minute}, {Max: 5, Per: time.Second}}

// platform is how Feishu's bots answer: 200 with code ≠ 0 on failure.
// Worth retrying is frequency limited.
var platform = robot.Platform{
	Name: "feishu", URL: DefaultURL, Limits: Limit, Answer: robot.Code,
	Retryable: map[int64]bool{11232: true},
}

// Config is a receiver's feishu section.
type Config struct {
	// URL is the hook endpoint without the token (use
	// https://open.larksuite.com/open-apis/bot/v2/hook/ for Lark).
	URL        string    `yaml:"url" doc:"The hook prefix, without the token (https://open.larksuite.com/open-apis/bot/v2/hook/ for Lark)."`
	TokenFile  conf.File `yaml:"token_file" doc:"File holding the bot token (the last part of its hook URL); or token_env." example:"/run/secrets/feishu-token"`
	TokenEnv   conf.Env  `yaml:"token_env" doc:"Environment variable holding the bot token." example:"GOVWATCH_FEISHU_TOKEN"`
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the bot's signing secret; none: messages are not signed."`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the signing secret." example:"GOVWATCH_FEISHU_SECRET"`
	// AtAll mentions everyone; AtUserIDs mentions people by open_id or
	// user_id. Feishu custom bots cannot mention by mobile, so the
	// notification's recipients are not mentioned.
	AtAll     bool     `yaml:"at_all" doc:"Mentions everyone in the group."`
	AtUserIDs []string `yaml:"at_user_ids" doc:"Members mentioned by open_id or user_id (custom bots cannot mention by mobile)." example:"[ou_7d8a6e6df7621556ce0d21922b676706]"`
	// Template redefines some of DefaultTemplate's templates.
	Template string `yaml:"template" doc:"Redefines the templates title and/or text (text/template, Chinese)."`
	// Timeout bounds one attempt.
	Timeout conf.Duration `yaml:"timeout" doc:"Bounds one request to Feishu."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config { return Config{URL: DefaultURL, Timeout: conf.Duration(robot.DefaultTimeout)} }

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	ch.URL("url", c.URL, true)
	ch.Endpoint("url", c.URL, "the bot token goes in token_file or token_env")
	for i, id := range c.AtUserIDs {
		if !validUserID(id) {
			ch.Errorf(fmt.Sprintf("at_user_ids[%d]", i), "%q is not a user id", id)
		}
	}
	if _, err := parse(c.Template); err != nil {
		ch.Errorf("template", "%v", err)
	}
}

func validUserID(id string) bool { return id != "" && !strings.ContainsAny(id, "<>\"' ") }

func parse(override string) (*render.Template, error) {
	return render.Parse("feishu", DefaultTemplate, override, "title", "text")
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "feishu",
		Summary:  "Feishu (Lark) custom bot (飞书自定义机器人): an interactive card per notification, signed, within its rate limits.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{
				{Key: "token", File: c.TokenFile, Env: c.TokenEnv, Required: "token"},
				{Key: "secret", File: c.SecretFile, Env: c.SecretEnv},
			}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{Token: string(d.Secret("token")), Secret: d.Secret("secret"), Limiter: d.Limiter, Clock: d.Clock})
		},
	})
}

// Options are the runtime parts of the channel.
type Options struct {
	// Token is the last part of the bot's hook URL, its credential.
	Token string
	// Secret is the bot's signing secret; empty sends unsigned messages.
	Secret  []byte
	Limiter *ratelimit.Limiter
	Client  *http.Client
	Clock   clockwork.Clock
}

// Feishu sends to one bot. It is safe for concurrent use.
type Feishu struct {
	target    string
	atAll     bool
	atUserIDs []string
	tmpl      *render.Template
	secret    []byte
	sender    *robot.Sender
	clock     clockwork.Clock
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*Feishu, error) {
	endpoint, err := platform.Endpoint(cfg.URL)
	if err != nil {
		return nil, err
	}
	if opts.Token == "" || strings.ContainsAny(opts.Token, "/?#") {
		return nil, errors.New("feishu: no bot token, or one that is not a single path segment")
	}
	for _, id := range cfg.AtUserIDs {
		if !validUserID(id) {
			return nil, fmt.Errorf("feishu at_user_ids: %q is not a user id", id)
		}
	}
	tmpl, err := parse(cfg.Template)
	if err != nil {
		return nil, err
	}
	f := &Feishu{
		target: strings.TrimSuffix(endpoint, "/") + "/" + opts.Token,
		atAll:  cfg.AtAll, atUserIDs: cfg.AtUserIDs, tmpl: tmpl, secret: opts.Secret, clock: opts.Clock,
		sender: robot.NewSender(&platform, opts.Token, opts.Limiter, opts.Client, cfg.Timeout.D()),
	}
	if f.clock == nil {
		f.clock = clockwork.NewRealClock()
	}
	return f, nil
}

// Name implements channel.Channel.
func (f *Feishu) Name() string { return "feishu" }

// Sign returns Feishu's signature for a timestamp in seconds:
// base64(HMAC-SHA256(key=timestamp+"\n"+secret, msg="")). Note the key and
// message are the other way round from DingTalk's.
func Sign(secret []byte, timestamp int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(timestamp, 10)+"\n"+string(secret)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Template is the card header colour for a message: red for critical,
// orange for major, yellow for minor, blue for info, green once resolved.
func Template(m *render.Message) string {
	if !m.Firing {
		return "green"
	}
	switch m.Severity {
	case model.SeverityCritical:
		return "red"
	case model.SeverityMajor:
		return "orange"
	case model.SeverityMinor:
		return "yellow"
	}
	return "blue"
}

// Request bodies.
type (
	message struct {
		Timestamp string `json:"timestamp,omitempty"`
		Sign      string `json:"sign,omitempty"`
		MsgType   string `json:"msg_type"`
		Card      card   `json:"card"`
	}
	card struct {
		Config   cardConfig `json:"config"`
		Header   header     `json:"header"`
		Elements []element  `json:"elements"`
	}
	cardConfig struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	}
	header struct {
		Template string    `json:"template"`
		Title    plainText `json:"title"`
	}
	plainText struct {
		Tag     string `json:"tag"`
		Content string `json:"content"`
	}
	element struct {
		Tag     string     `json:"tag"`
		Text    *plainText `json:"text,omitempty"`
		Actions []action   `json:"actions,omitempty"`
	}
	action struct {
		Tag  string    `json:"tag"`
		Text plainText `json:"text"`
		Type string    `json:"type"`
		URL  string    `json:"url"`
	}
)

// Notify renders n as a card, takes one send from the bot's rate limits and
// POSTs it once.
func (f *Feishu) Notify(ctx context.Context, n *channel.Notification) error {
	msg, err := f.card(n)
	if err != nil {
		return err
	}
	if len(f.secret) > 0 {
		ts := f.clock.Now().Unix()
		msg.Timestamp = strconv.FormatInt(ts, 10)
		msg.Sign = Sign(f.secret, ts)
	}
	body, err := robot.Encode(msg)
	if err != nil {
		return channel.Permanent(fmt.Errorf("encode feishu card: %w", err))
	}
	return f.sender.Send(ctx, f.target, body)
}

// card builds the message for n, dropping alerts from the end (and saying
// so) when the card would not fit in MaxBody.
func (f *Feishu) card(n *channel.Notification) (*message, error) {
	m := render.NewMessage(n, render.Markdown)
	m.Color = Template(m)
	title, err := f.tmpl.Execute("title", m)
	if err != nil {
		return nil, channel.Permanent(fmt.Errorf("render feishu title: %w", err))
	}
	msg := &message{MsgType: "interactive", Card: card{
		Config: cardConfig{WideScreenMode: true},
		Header: header{Template: m.Color, Title: plainText{Tag: "plain_text", Content: title}},
	}}
	if mention := f.mention(); mention != "" {
		msg.Card.Elements = append(msg.Card.Elements, element{Tag: "div", Text: &plainText{Tag: "lark_md", Content: mention}})
	}
	var blocks [][]element
	for i, a := range m.Alerts {
		one := *m
		one.Alerts = m.Alerts[i : i+1]
		btns := buttons(a)
		one.Buttons = len(btns) > 0
		text, err := f.tmpl.Execute("text", &one)
		if err != nil {
			return nil, channel.Permanent(fmt.Errorf("render feishu text: %w", err))
		}
		var block []element
		if i > 0 || len(msg.Card.Elements) > 0 {
			block = append(block, element{Tag: "hr"})
		}
		block = append(block, element{Tag: "div", Text: &plainText{Tag: "lark_md", Content: render.Truncate(strings.TrimRight(text, "\n"), MaxAlertText)}})
		if len(btns) > 0 {
			block = append(block, element{Tag: "action", Actions: btns})
		}
		blocks = append(blocks, block)
	}
	if m.Report != "" {
		// The report goes first: a card too large loses alerts, not it.
		msg.Card.Elements = append(msg.Card.Elements,
			element{Tag: "div", Text: &plainText{Tag: "lark_md", Content: render.Truncate("**上报材料**\n"+m.Report, MaxAlertText)}})
		if len(blocks) > 0 && blocks[0][0].Tag != "hr" {
			blocks[0] = append([]element{{Tag: "hr"}}, blocks[0]...)
		}
	}
	head := len(msg.Card.Elements)
	for shown := len(blocks); shown >= 1; shown-- {
		msg.Card.Elements = msg.Card.Elements[:head]
		for _, b := range blocks[:shown] {
			msg.Card.Elements = append(msg.Card.Elements, b...)
		}
		if left := len(blocks) - shown; left > 0 {
			msg.Card.Elements = append(msg.Card.Elements, element{Tag: "div", Text: &plainText{Tag: "lark_md", Content: fmt.Sprintf("…另有 %d 条告警未显示", left)}})
		}
		// Leave room for the timestamp and signature added later.
		if b, err := robot.Encode(msg); err == nil && len(b)+100 <= MaxBody {
			break
		}
	}
	return msg, nil
}

func (f *Feishu) mention() string {
	var b strings.Builder
	if f.atAll {
		b.WriteString(`<at user_id="all">所有人</at>`)
	}
	for _, id := range f.atUserIDs {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, `<at user_id="%s"></at>`, id)
	}
	return b.String()
}

func buttons(a render.Alert) []action {
	var out []action
	add := func(title, typ, url string) {
		if url != "" {
			out = append(out, action{Tag: "button", Text: plainText{Tag: "plain_text", Content: title}, Type: typ, URL: url})
		}
	}
	if a.Firing {
		add("确认告警", "primary", a.AckURL)
		add("标记已处理", "default", a.ResolveURL)
	}
	add("查看原文", "default", a.URL)
	return out
}

var _ channel.Channel = (*Feishu)(nil)
