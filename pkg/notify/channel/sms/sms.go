// Package sms is the SMS channel: it sends a short Chinese text to the
// configured numbers and the notification's recipients through an HTTP SMS
// gateway described by templates (URL, headers, body) and a success
// condition read from the gateway's JSON answer, so any provider's API can
// be used without code.
package sms

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultTemplate defines "text", the SMS content.
//
//go:embed default.tmpl
var DefaultTemplate string

// DefaultMaxSegments caps a message at 3 segments (201 Chinese characters).
const DefaultMaxSegments = 3

// Config is a receiver's sms section: the gateway and the message.
type Config struct {
	// URL is a text/template rendering the request URL (it may use
	// {{.Secret}} for a key in the query).
	URL string `yaml:"url" doc:"A text/template rendering the gateway's URL; may use {{.Secret}}." example:"https://sms.example.gov.cn/send"`
	// Method is POST (default) or GET.
	Method string `yaml:"method" doc:"POST or GET."`
	// Headers are header name → text/template of the value.
	Headers map[string]string `yaml:"headers" doc:"Request headers, by name; values are text/templates (e.g. Authorization: Bearer {{.Secret}})."`
	// Body is a text/template rendering the request body; empty sends
	// none. ContentType defaults to application/json when Body is set.
	Body        string    `yaml:"body" doc:"A text/template rendering the request body from .Phones, .Text, .Segments and .Secret; empty: none."`
	ContentType string    `yaml:"content_type" doc:"The body's Content-Type; empty: application/json when there is a body."`
	SecretFile  conf.File `yaml:"secret_file" doc:"File holding the gateway's key, which templates see as {{.Secret}}."`
	SecretEnv   conf.Env  `yaml:"secret_env" doc:"Environment variable holding the gateway's key." example:"GOVWATCH_SMS_KEY"`
	// Phones are texted on every notification, before the recipients'
	// mobiles.
	Phones []string `yaml:"phones" doc:"Numbers texted on every notification, before the paged people's mobiles." example:"[\"13800138000\"]"`
	// Template redefines "text".
	Template string `yaml:"template" doc:"Redefines the template text (text/template, Chinese)."`
	// SuccessField is a dotted path into the JSON answer ("code",
	// "result.code", "SendStatusSet.0.Code"); the send succeeded when its
	// value is SuccessValue. Empty: any 2xx answer is success.
	SuccessField string `yaml:"success_field" doc:"Dotted path into the gateway's JSON answer whose value tells success (code, result.code, SendStatusSet.0.Code); empty: any 2xx answer."`
	SuccessValue string `yaml:"success_value" doc:"The success_field value that means sent."`
	// RetryValues are values of SuccessField that mean "try again later"
	// (the gateway's throttling codes); other values are permanent.
	RetryValues []string `yaml:"retry_values" doc:"success_field values that mean try again later (throttling); other values fail for good."`
	// MaxSegments caps the text: 70 characters fit one Chinese SMS, 67 each
	// segment of a longer one (160 and 153 for ASCII-only text).
	MaxSegments int           `yaml:"max_segments" doc:"Caps the text at this many SMS segments (70 Chinese characters fit one, 67 each of a longer one)."`
	Timeout     conf.Duration `yaml:"timeout" doc:"Bounds one request to the gateway."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config {
	return Config{Method: http.MethodPost, MaxSegments: DefaultMaxSegments, Timeout: conf.Duration(robot.DefaultTimeout)}
}

// Validate reports what is wrong with c, each at its key, then tries the
// templates on a sample message.
func (c *Config) Validate(ch *plugin.Check) {
	before := ch.Count()
	if c.URL == "" {
		ch.Errorf("url", "missing url")
	}
	ch.OneOf("method", c.Method, http.MethodPost, http.MethodGet)
	if c.SuccessField == "" && (c.SuccessValue != "" || len(c.RetryValues) > 0) {
		ch.Errorf("success_field", "success_value and retry_values need a success_field to read")
	}
	ch.AtLeast("max_segments", c.MaxSegments, 1)
	ch.Mobiles("phones", c.Phones)
	if ch.Count() == before {
		if _, err := New(*c, Options{Secret: []byte("sample")}); err != nil {
			ch.Errorf("", "%v", err)
		}
	}
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "sms",
		Summary:  "Texts through any HTTP SMS gateway described by templates and a success condition on its JSON answer.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{{Key: "secret", File: c.SecretFile, Env: c.SecretEnv}}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{Secret: d.Secret("secret")})
		},
	})
}

// Options are the runtime parts of the channel.
type Options struct {
	// Secret is available to the URL, header and body templates as
	// {{.Secret}}; it never appears in errors.
	Secret []byte
	Client *http.Client
}

// Request is what the URL, header and body templates see.
type Request struct {
	Phones   []string // numbers to text
	Text     string   // the message, already cut to MaxSegments
	Segments int      // how many SMS segments Text takes
	Secret   string
}

// SMS sends through one gateway. It is safe for concurrent use.
type SMS struct {
	cfg     Config
	url     *template.Template
	headers map[string]*template.Template
	body    *template.Template
	text    *render.Template
	secret  string
	client  *http.Client
}

var gatewayFuncs = template.FuncMap{
	"join": strings.Join,
	// json renders a value as JSON: a string with its quotes, a list of
	// phones as an array.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*SMS, error) {
	switch cfg.Method {
	case "":
		cfg.Method = http.MethodPost
	case http.MethodPost, http.MethodGet:
	default:
		return nil, fmt.Errorf("sms method: %q (POST or GET)", cfg.Method)
	}
	if cfg.MaxSegments == 0 {
		cfg.MaxSegments = DefaultMaxSegments
	}
	if cfg.MaxSegments < 1 {
		return nil, fmt.Errorf("sms max_segments: got %d, want 1 or more", cfg.MaxSegments)
	}
	if cfg.Body != "" && cfg.ContentType == "" {
		cfg.ContentType = "application/json; charset=utf-8"
	}
	if cfg.SuccessField == "" && len(cfg.RetryValues) > 0 {
		return nil, errors.New("sms retry_values: need a success_field to read them from")
	}
	s := &SMS{cfg: cfg, headers: map[string]*template.Template{}, secret: string(opts.Secret), client: opts.Client}
	parse := func(name, text string) (*template.Template, error) {
		t, err := template.New(name).Funcs(gatewayFuncs).Option("missingkey=error").Parse(text)
		if err != nil {
			return nil, fmt.Errorf("parse sms %s template: %w", name, err)
		}
		return t, nil
	}
	var err error
	if s.url, err = parse("url", cfg.URL); err != nil {
		return nil, err
	}
	if s.body, err = parse("body", cfg.Body); err != nil {
		return nil, err
	}
	for k, v := range cfg.Headers {
		if s.headers[k], err = parse("header "+k, v); err != nil {
			return nil, err
		}
	}
	if s.text, err = render.Parse("sms", DefaultTemplate, cfg.Template, "text"); err != nil {
		return nil, err
	}
	// Try the gateway templates on a sample, and the URL they make.
	sample := &Request{Phones: []string{"13800000000"}, Text: "示例", Segments: 1, Secret: "sample"}
	if _, err := s.request(context.Background(), sample); err != nil {
		return nil, err
	}
	if s.client == nil {
		s.client = robot.NewClient()
	}
	return s, nil
}

// Name implements channel.Channel.
func (s *SMS) Name() string { return "sms" }

// Notify texts n's first alert (and the count of the others) to the
// configured numbers and the recipients' mobiles in one gateway request.
// An incident report (n.Report) is too long for SMS and is not sent.
func (s *SMS) Notify(ctx context.Context, n *channel.Notification) error {
	phones := render.Mobiles(s.cfg.Phones, n.Recipients)
	if len(phones) == 0 {
		return channel.Permanent(errors.New("sms: no phone numbers"))
	}
	text, err := s.text.Execute("text", render.NewMessage(n, render.Plain))
	if err != nil {
		return channel.Permanent(fmt.Errorf("render sms text: %w", err))
	}
	text = Cut(strings.Join(strings.Fields(text), " "), s.cfg.MaxSegments)
	req, err := s.request(ctx, &Request{Phones: phones, Text: text, Segments: Segments(text), Secret: s.secret})
	if err != nil {
		return channel.Permanent(err)
	}
	timeout := s.cfg.Timeout.D()
	if timeout <= 0 {
		timeout = robot.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := s.client.Do(req.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("sms gateway: %w", robot.StripURL(err))
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("read sms answer: %w", robot.StripURL(err))
	}
	if err := robot.CheckStatus("sms gateway", resp.StatusCode, s.hide(robot.Head(answer))); err != nil {
		return err
	}
	return s.judge(answer)
}

// judge applies the success condition to a 2xx answer.
func (s *SMS) judge(answer []byte) error {
	if s.cfg.SuccessField == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(answer))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("sms gateway answer is not JSON: %q", s.hide(robot.Head(answer)))
	}
	got, ok := Lookup(v, s.cfg.SuccessField)
	if ok && got == s.cfg.SuccessValue {
		return nil
	}
	err := fmt.Errorf("sms gateway refused: %s = %q, want %q: %q", s.cfg.SuccessField, got, s.cfg.SuccessValue, s.hide(robot.Head(answer)))
	if !ok {
		err = fmt.Errorf("sms gateway answer has no %s: %q", s.cfg.SuccessField, s.hide(robot.Head(answer)))
	}
	if ok && slices.Contains(s.cfg.RetryValues, got) {
		return err
	}
	return channel.Permanent(err)
}

// hide removes the secret from text a gateway echoed.
func (s *SMS) hide(b []byte) string {
	if s.secret == "" {
		return string(b)
	}
	return strings.ReplaceAll(string(b), s.secret, "***")
}

// request renders the gateway request. Its errors never quote the URL.
func (s *SMS) request(ctx context.Context, r *Request) (*http.Request, error) {
	var u, body bytes.Buffer
	if err := s.url.Execute(&u, r); err != nil {
		return nil, errors.New("render sms url template: a field or function it uses is missing")
	}
	if render.SafeURL(u.String()) == "" {
		return nil, errors.New("sms url: the template does not render an absolute http or https URL")
	}
	if err := s.body.Execute(&body, r); err != nil {
		return nil, fmt.Errorf("render sms body template: %w", err)
	}
	var rd io.Reader
	if body.Len() > 0 {
		rd = &body
	}
	req, err := http.NewRequestWithContext(ctx, s.cfg.Method, strings.TrimSpace(u.String()), rd)
	if err != nil {
		return nil, errors.New("build sms request: bad url")
	}
	if body.Len() > 0 {
		req.Header.Set("Content-Type", s.cfg.ContentType)
	}
	req.Header.Set("User-Agent", "govwatch-notifier")
	for k, t := range s.headers {
		var v bytes.Buffer
		if err := t.Execute(&v, r); err != nil {
			return nil, fmt.Errorf("render sms header %s: a field or function it uses is missing", k)
		}
		if strings.ContainsAny(v.String(), "\r\n") {
			return nil, fmt.Errorf("sms header %s: the value has a line break", k)
		}
		req.Header.Set(k, v.String())
	}
	return req, nil
}

// Lookup follows a dotted path ("result.code", "list.0.status") through
// decoded JSON and returns the value as text: strings as they are, numbers
// as written, booleans as true/false, null as "null".
func Lookup(v any, path string) (string, bool) {
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[part]; !ok {
				return "", false
			}
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	case nil:
		return "null", true
	}
	return "", false // an object or array is not a value to compare
}

// Segments is how many SMS segments text takes: one up to 70 characters
// (160 when all ASCII), then 67 (153) per segment.
func Segments(text string) int {
	single, multi := limits(text)
	n := utf8.RuneCountInString(text)
	if n <= single {
		return 1
	}
	return (n + multi - 1) / multi
}

// Cut shortens text to fit in max segments, ending it with an ellipsis
// when cut.
func Cut(text string, max int) string {
	if Segments(text) <= max {
		return text
	}
	single, multi := limits(text)
	keep := multi * max
	if max == 1 {
		keep = single
	}
	ellipsis := "…"
	if single == 160 {
		ellipsis = "..." // stay in the ASCII alphabet
	}
	runes := []rune(text)
	return string(runes[:keep-utf8.RuneCountInString(ellipsis)]) + ellipsis
}

func limits(text string) (single, multi int) {
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			return 70, 67
		}
	}
	return 160, 153
}

var _ channel.Channel = (*SMS)(nil)
