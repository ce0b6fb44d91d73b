// Package wecomapp is the WeCom application message channel (企业微信应用消息):
// it pages people directly, in their own WeCom, rather than posting to a
// group as the robots do. Each notification becomes a text card whose button
// is the signed acknowledgement link, sent to the WeCom user ids of the
// people the escalation pages (ids.wecom in the roster or the registry);
// a notification carrying an upward report goes as a text message, which
// has room for it.
//
// The application's secret buys an access token (gettoken, valid 7200 s)
// that every notifier replica shares through the store; one replica at a
// time refreshes it under a lease, and a token WeCom calls expired or invalid
// (42001, 40014) is refreshed and the message sent once more.
package wecomapp

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/accesstoken"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Name is the channel's key in a receiver and its metric label.
const Name = "wecom_app"

// IDKey is the key of a person's ids that holds their WeCom user id.
const IDKey = "wecom"

// DefaultURL is WeCom's API.
const DefaultURL = "https://qyapi.weixin.qq.com"

// DefaultTemplate defines "title", "description" and "button" (the text
// card) and "text" (the text message that carries an upward report).
//
//go:embed default.tmpl
var DefaultTemplate string

var templates = []string{"title", "description", "button", "text"}

// WeCom's limits on application messages, in bytes where they are sizes.
const (
	MaxTitle       = 128
	MaxDescription = 512
	MaxButton      = 4 // characters
	MaxText        = 2048
	MaxUsers       = 1000 // user ids in one touser
)

// PerUser is how many messages one member may receive from one
// application: 30 a minute and 1000 an hour. The limit is kept per person
// across replicas; a reached limit is a retryable error.
var PerUser = []ratelimit.Limit{{Max: 30, Per: time.Minute}, {Max: 1000, Per: time.Hour}}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     Name,
		Summary:  "WeCom application messages (企业微信应用消息): pages the on-duty officers in person, with the acknowledgement link on a text card.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{{Key: "secret", File: c.SecretFile, Env: c.SecretEnv, Required: "application secret"}}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) { return New(c, d.Secret("secret"), d) },
	})
}

// Config is a receiver's wecom_app section.
type Config struct {
	CorpID     string        `yaml:"corp_id" doc:"The enterprise's corp id (企业ID, on the admin console's 我的企业 page)." example:"ww0123456789abcdef"`
	AgentID    int64         `yaml:"agent_id" doc:"The application's AgentId (应用管理 → the self-built application)." example:"1000002"`
	SecretFile conf.File     `yaml:"secret_file" doc:"File holding the application's Secret; or secret_env." example:"/run/secrets/wecom_app"`
	SecretEnv  conf.Env      `yaml:"secret_env" doc:"Environment variable holding the application's Secret." example:"WECOM_APP_SECRET"`
	ToUser     []string      `yaml:"to_user" doc:"WeCom user ids paged when a notification names nobody with a WeCom id (ids.wecom of roster members and registry contacts)." example:"[zhangsan]"`
	URL        string        `yaml:"url" doc:"WeCom's API base; a private deployment's address."`
	Template   string        `yaml:"template" doc:"Redefines some of the templates title, description, button and text (text/template, Chinese)."`
	Timeout    conf.Duration `yaml:"timeout" doc:"Bounds one request to WeCom."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config {
	return Config{URL: DefaultURL, Timeout: conf.Duration(robot.DefaultTimeout)}
}

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	if strings.TrimSpace(c.CorpID) == "" {
		ch.Errorf("corp_id", "no corp id: the enterprise's 企业ID")
	}
	if c.AgentID <= 0 {
		ch.Errorf("agent_id", "want the application's AgentId, a positive number")
	}
	for i, u := range c.ToUser {
		if !validUser(u) {
			ch.Errorf(fmt.Sprintf("to_user[%d]", i), "%q is not a WeCom user id (letters, digits, ._-@)", u)
		}
	}
	if c.URL == "" {
		ch.Errorf("url", "empty: leave it out for %s", DefaultURL)
	}
	ch.Endpoint("url", c.URL, "the secret goes in secret_file or secret_env")
	ch.MinDuration("timeout", c.Timeout, time.Second)
	if _, err := parse(c.Template); err != nil {
		ch.Errorf("template", "%v", err)
	}
}

// validUser reports whether u can be a WeCom user id: WeCom allows
// letters, digits and ._-@, up to 64 bytes; "|" would split the list.
func validUser(u string) bool {
	if u == "" || len(u) > 64 {
		return false
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			return false
		}
	}
	return true
}

func parse(override string) (*render.Template, error) {
	return render.Parse(Name, DefaultTemplate, override, templates...)
}

// App sends one application's messages. It is safe for concurrent use.
type App struct {
	base    string
	agentID int64
	toUser  []string
	tmpl    *render.Template
	client  *http.Client
	timeout time.Duration
	tokens  *accesstoken.Cache
	limiter *ratelimit.Limiter
	log     *zap.Logger
}

// New builds the channel from a validated config and the application's
// secret, as read from secret_file or secret_env.
func New(c *Config, secret []byte, d channel.Deps) (*App, error) {
	if len(secret) == 0 {
		return nil, errors.New("the application secret is empty")
	}
	tmpl, err := parse(c.Template)
	if err != nil {
		return nil, err
	}
	a := &App{
		base: strings.TrimRight(c.URL, "/"), agentID: c.AgentID, toUser: c.ToUser, tmpl: tmpl,
		client: robot.NewClient(), timeout: c.Timeout.D(), limiter: d.Limiter, log: d.Log,
	}
	if a.log == nil {
		a.log = zap.NewNop()
	}
	if a.timeout <= 0 {
		a.timeout = robot.DefaultTimeout
	}
	a.tokens = newTokens(a, d.Store, d.Clock, c.CorpID, string(secret),
		"notifier/wecom_app/token/"+c.CorpID+"/"+strconv.FormatInt(c.AgentID, 10))
	return a, nil
}

// Name implements channel.Channel.
func (a *App) Name() string { return Name }

// Request and answer bodies of message/send.
type (
	message struct {
		ToUser   string    `json:"touser"`
		MsgType  string    `json:"msgtype"`
		AgentID  int64     `json:"agentid"`
		TextCard *textcard `json:"textcard,omitempty"`
		Text     *text     `json:"text,omitempty"`
		// Duplicate check: the same content to the same people within
		// half an hour is delivered once, so a retry after a lost answer
		// does not page twice.
		DuplicateCheck    int `json:"enable_duplicate_check"`
		DuplicateInterval int `json:"duplicate_check_interval"`
	}
	textcard struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		URL         string `json:"url"`
		BtnTxt      string `json:"btntxt,omitempty"`
	}
	text struct {
		Content string `json:"content"`
	}
	sent struct {
		ErrCode     *int64 `json:"errcode"`
		ErrMsg      string `json:"errmsg"`
		InvalidUser string `json:"invaliduser"`
		MsgID       string `json:"msgid"`
	}
)

// WeCom's error codes the channel acts on.
const (
	codeBusy          = -1
	codeBadSecret     = 40001
	codeBadToken      = 40014
	codeTokenExpired  = 42001
	codeFrequency     = 45009
	codeConcurrency   = 45033
	codeNoneValid     = 81013 // user, party and tag all invalid
	codeNoneGiven     = 82001 // every recipient is out of the app's visibility
	codeIPNotTrusted  = 60020
	duplicateInterval = 1800
)

var retryable = map[int64]bool{codeBusy: true, codeFrequency: true, codeConcurrency: true}

// Notify renders n and sends it once to the WeCom ids of its recipients,
// or to to_user when none has one. Nobody to page is a permanent error, so
// the receiver's fallback takes the notification.
func (a *App) Notify(ctx context.Context, n *channel.Notification) error {
	users := a.recipients(n)
	if len(users) == 0 {
		return channel.Permanent(errors.New("wecom_app: nobody to page: no recipient has a WeCom id (ids.wecom) and to_user is empty"))
	}
	msg, err := a.render(n)
	if err != nil {
		return channel.Permanent(err)
	}
	if a.limiter != nil {
		for _, u := range users {
			if err := a.limiter.Take(ctx, Name, ratelimit.RobotID(a.tokens.Key+"/"+u), PerUser...); err != nil {
				return fmt.Errorf("wecom_app to %s: %w", u, err)
			}
		}
	}
	for start := 0; start < len(users); start += MaxUsers {
		batch := users[start:min(start+MaxUsers, len(users))]
		msg.ToUser = strings.Join(batch, "|")
		if err := a.send(ctx, msg, batch); err != nil {
			return err
		}
	}
	return nil
}

// recipients are the WeCom ids of the people n pages, each once, in order.
func (a *App) recipients(n *channel.Notification) []string {
	var users []string
	seen := map[string]bool{}
	add := func(u string) {
		if validUser(u) && !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	for _, p := range n.Recipients {
		add(p.IDs[IDKey])
	}
	if len(users) == 0 {
		for _, u := range a.toUser {
			add(u)
		}
	}
	return users
}

// render builds the message: a text card whose button opens the first
// firing alert's acknowledgement link (else its post, else the console),
// or a text message when n carries an upward report or has no link at all.
func (a *App) render(n *channel.Notification) (message, error) {
	m := render.NewMessage(n, html.EscapeString)
	m.Buttons = true
	for i := range m.Alerts {
		m.Alerts[i].Summary = render.Truncate(m.Alerts[i].Summary, 240)
	}
	msg := message{AgentID: a.agentID, DuplicateCheck: 1, DuplicateInterval: duplicateInterval}
	link := cardLink(m)
	if m.Report != "" || link == "" {
		body, err := a.tmpl.Execute("text", m)
		if err != nil {
			return msg, fmt.Errorf("render wecom_app text: %w", err)
		}
		msg.MsgType, msg.Text = "text", &text{Content: render.Truncate(strings.TrimSpace(body), MaxText)}
		return msg, nil
	}
	var parts [3]string
	for i, name := range templates[:3] {
		s, err := a.tmpl.Execute(name, m)
		if err != nil {
			return msg, fmt.Errorf("render wecom_app %s: %w", name, err)
		}
		parts[i] = strings.TrimSpace(s)
	}
	btn := []rune(parts[2])
	if len(btn) > MaxButton {
		btn = btn[:MaxButton]
	}
	msg.MsgType = "textcard"
	msg.TextCard = &textcard{
		Title:       render.Truncate(html.UnescapeString(parts[0]), MaxTitle),
		Description: render.Truncate(parts[1], MaxDescription),
		URL:         link, BtnTxt: string(btn),
	}
	return msg, nil
}

func cardLink(m *render.Message) string {
	for _, al := range m.Alerts {
		if al.Firing && al.AckURL != "" {
			return al.AckURL
		}
	}
	for _, al := range m.Alerts {
		if al.URL != "" {
			return al.URL
		}
	}
	return render.SafeURL(m.ExternalURL)
}

// send posts msg with the shared token, and once more with a new token
// when WeCom says the token expired or is not valid.
func (a *App) send(ctx context.Context, msg message, users []string) error {
	tok, err := a.tokens.Get(ctx, "")
	if err != nil {
		return err
	}
	err = a.post(ctx, tok, msg, users)
	var we *robot.Error
	if !errors.As(err, &we) || (we.Code != codeTokenExpired && we.Code != codeBadToken) {
		return err
	}
	if tok, err = a.tokens.Get(ctx, tok); err != nil {
		return err
	}
	return a.post(ctx, tok, msg, users)
}

func (a *App) post(ctx context.Context, tok string, msg message, users []string) error {
	body, err := robot.Encode(msg)
	if err != nil {
		return channel.Permanent(fmt.Errorf("encode wecom_app message: %w", err))
	}
	target := a.base + "/cgi-bin/message/send?" + url.Values{"access_token": {tok}}.Encode()
	raw, err := robot.Post(ctx, a.client, Name, target, body, a.timeout)
	if err != nil {
		return err
	}
	var ans sent
	if err := json.Unmarshal(raw, &ans); err != nil || ans.ErrCode == nil {
		return fmt.Errorf("wecom_app answered without an errcode: %q", robot.Head(raw))
	}
	if *ans.ErrCode != 0 {
		return classify(*ans.ErrCode, ans.ErrMsg)
	}
	if ans.InvalidUser != "" {
		invalid := strings.Split(ans.InvalidUser, "|")
		if len(invalid) >= len(users) {
			return channel.Permanent(fmt.Errorf("wecom_app: no recipient is a member the application reaches: %s", ans.InvalidUser))
		}
		a.log.Warn("WeCom did not deliver to some users; check their ids and the application's visibility",
			zap.Strings("users", invalid), zap.String("msgid", ans.MsgID))
	}
	return nil
}

// classify turns an errcode into an error: retryable for a busy or
// throttled WeCom, permanent otherwise, with a hint for the codes an
// operator must act on.
func classify(code int64, msg string) error {
	// Keep the message, not the request id and help link after "hint:".
	if i := strings.Index(msg, "hint:"); i >= 0 {
		msg = strings.TrimRight(strings.TrimSpace(msg[:i]), ",")
	}
	switch code {
	case codeBadSecret:
		msg += " (check corp_id and the application's secret)"
	case codeIPNotTrusted:
		msg += " (add the notifier's address to the application's trusted IPs)"
	case codeNoneValid, codeNoneGiven:
		msg += " (no recipient is a member the application reaches)"
	}
	return robot.Classify(&robot.Error{Platform: Name, Code: code, Msg: msg}, retryable)
}

var _ channel.Channel = (*App)(nil)
