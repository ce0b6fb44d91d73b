// Package email is the mail channel: one message per notification, sent
// over SMTP (net/smtp) with STARTTLS, implicit TLS or, for a relay on the
// same host, none; plain text and HTML in Chinese as multipart/alternative,
// with a MIME-encoded subject.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// DefaultTemplate defines "subject" and "text" (the plain-text part).
//
//go:embed default.tmpl
var DefaultTemplate string

// DefaultHTML is the html/template of the HTML part; it sees the message and
// .Subject.
//
//go:embed default.html
var DefaultHTML string

// TLS modes.
const (
	StartTLS = "starttls" // plain connection upgraded with STARTTLS; refused if the server does not offer it
	TLS      = "tls"      // TLS from the first byte (SMTPS, usually port 465)
	None     = "none"     // no encryption: only for a relay on the same host
)

// DefaultTimeout bounds one attempt when the configuration sets none.
const DefaultTimeout = 30 * time.Second

// Config is a receiver's email section.
type Config struct {
	Host string `yaml:"host" doc:"The SMTP server's host name (the port goes in port)." example:"smtp.example.gov.cn"`
	// Port is the server's port; 0 means 587 for StartTLS, 465 for TLS and
	// 25 for None.
	Port int `yaml:"port" doc:"The SMTP port; 0: 587 with starttls, 465 with tls, 25 with none."`
	// TLS is StartTLS (default), TLS or None.
	TLS  string `yaml:"tls" doc:"starttls, tls (implicit TLS) or none (a relay on the same host)."`
	From string `yaml:"from" doc:"The sender address." example:"govwatch@example.gov.cn"`
	// To are the configured recipients; the notification's recipients with an
	// email address are added.
	To []string `yaml:"to" doc:"Recipients of every message, before the paged people with a mail address." example:"[duty@example.gov.cn]"`
	// Username enables AUTH PLAIN (only over TLS, or to localhost).
	Username     string    `yaml:"username" doc:"Enables AUTH PLAIN (over TLS, or to localhost only); needs password_file or password_env."`
	PasswordFile conf.File `yaml:"password_file" doc:"File holding the SMTP password."`
	PasswordEnv  conf.Env  `yaml:"password_env" doc:"Environment variable holding the SMTP password." example:"GOVWATCH_SMTP_PASSWORD"`
	// Template redefines "subject" and "text"; HTMLTemplate replaces the
	// HTML part.
	Template     string        `yaml:"template" doc:"Redefines the templates subject and/or text (text/template, Chinese)."`
	HTMLTemplate string        `yaml:"html_template" doc:"Replaces the HTML part (html/template)."`
	Timeout      conf.Duration `yaml:"timeout" doc:"Bounds one delivery, connection included."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config { return Config{TLS: StartTLS, Timeout: conf.Duration(DefaultTimeout)} }

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	if c.Host == "" || strings.ContainsAny(c.Host, "/: ") {
		ch.Errorf("host", "%q is not a host name (the port goes in port)", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		ch.Errorf("port", "%d is not a port", c.Port)
	}
	ch.OneOf("tls", c.TLS, StartTLS, TLS, None)
	if _, err := mail.ParseAddress(c.From); err != nil {
		ch.Errorf("from", "bad address %q: %v", c.From, err)
	}
	for i, to := range c.To {
		if _, err := mail.ParseAddress(to); err != nil {
			ch.Errorf(fmt.Sprintf("to[%d]", i), "bad address %q: %v", to, err)
		}
	}
	if c.Username != "" && c.PasswordFile == "" && c.PasswordEnv == "" {
		ch.Errorf("username", "a username needs password_file or password_env")
	}
	if _, err := render.Parse("email", DefaultTemplate, c.Template, "subject", "text"); err != nil {
		ch.Errorf("template", "%v", err)
	}
	if _, err := parseHTML(c.HTMLTemplate); err != nil {
		ch.Errorf("html_template", "%v", err)
	}
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "email",
		Summary:  "Mail over SMTP (STARTTLS, TLS or a local relay): plain text and HTML in Chinese.",
		Defaults: Defaults,
		// The password is required with a username, which Validate checks.
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{{Key: "password", File: c.PasswordFile, Env: c.PasswordEnv}}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{Password: d.Secret("password"), Clock: d.Clock})
		},
	})
}

// Options are the runtime parts of the channel.
type Options struct {
	Password []byte
	// TLSConfig is cloned for the connection; nil means the system roots.
	// ServerName defaults to Host.
	TLSConfig *tls.Config
	// LocalName is sent in EHLO; "" means "localhost".
	LocalName string
	Clock     clockwork.Clock
}

// Email sends to one SMTP server. It is safe for concurrent use.
type Email struct {
	cfg      Config
	addr     string
	from     *mail.Address
	to       []*mail.Address
	tmpl     *render.Template
	html     *template.Template
	password string
	tls      *tls.Config
	local    string
	clock    clockwork.Clock
}

// parseHTML parses the HTML part's template (DefaultHTML when text is
// empty) and tries it on a sample message.
func parseHTML(text string) (*template.Template, error) {
	if text == "" {
		text = DefaultHTML
	}
	html, err := template.New("email.html").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse email html template: %w", err)
	}
	if err := html.Execute(io.Discard, htmlData{Message: render.Sample(), Subject: "sample"}); err != nil {
		return nil, fmt.Errorf("try email html template: %w", err)
	}
	return html, nil
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*Email, error) {
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, "/: ") {
		return nil, fmt.Errorf("email host: %q is not a host name", cfg.Host)
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = StartTLS
	case StartTLS, TLS, None:
	default:
		return nil, fmt.Errorf("email tls: unknown mode %q (starttls, tls or none)", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{StartTLS: 587, TLS: 465, None: 25}[cfg.TLS]
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("email port: %d is not a port", cfg.Port)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = conf.Duration(DefaultTimeout)
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email from: %q: %w", cfg.From, err)
	}
	var to []*mail.Address
	for _, s := range cfg.To {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("email to: %q: %w", s, err)
		}
		to = append(to, a)
	}
	tmpl, err := render.Parse("email", DefaultTemplate, cfg.Template, "subject", "text")
	if err != nil {
		return nil, err
	}
	html, err := parseHTML(cfg.HTMLTemplate)
	if err != nil {
		return nil, err
	}
	e := &Email{
		cfg: cfg, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		from: from, to: to, tmpl: tmpl, html: html,
		password: string(opts.Password), local: opts.LocalName, clock: opts.Clock,
	}
	if opts.TLSConfig != nil {
		e.tls = opts.TLSConfig.Clone()
	} else {
		e.tls = &tls.Config{}
	}
	if e.tls.ServerName == "" {
		e.tls.ServerName = cfg.Host
	}
	if e.tls.MinVersion == 0 {
		e.tls.MinVersion = tls.VersionTLS12
	}
	if e.local == "" {
		e.local = "localhost"
	}
	if e.clock == nil {
		e.clock = clockwork.NewRealClock()
	}
	return e, nil
}

// Name implements channel.Channel.
func (e *Email) Name() string { return "email" }

type htmlData struct {
	*render.Message
	Subject string
}

// Notify renders n and sends it in one SMTP session. SMTP 4xx replies,
// network failures and timeouts are retryable; 5xx replies, TLS and
// authentication failures are permanent.
func (e *Email) Notify(ctx context.Context, n *channel.Notification) error {
	rcpts := e.recipients(n)
	if len(rcpts) == 0 {
		return channel.Permanent(errors.New("email: no recipients"))
	}
	msg, err := e.Message(n, rcpts)
	if err != nil {
		return channel.Permanent(err)
	}
	if err := e.send(ctx, rcpts, msg); err != nil {
		return classify(err)
	}
	return nil
}

// recipients are the configured ones and the notification's recipients'
// addresses, once each.
func (e *Email) recipients(n *channel.Notification) []*mail.Address {
	seen := map[string]bool{}
	var out []*mail.Address
	add := func(a *mail.Address) {
		k := strings.ToLower(a.Address)
		if !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	for _, a := range e.to {
		add(a)
	}
	for _, c := range n.Recipients {
		if c.Email == "" {
			continue
		}
		if a, err := mail.ParseAddress(c.Email); err == nil {
			a.Name = c.Name
			add(a)
		}
	}
	return out
}

// Message builds the RFC 5322 message for n: headers, then a
// multipart/alternative body with a plain-text and an HTML part, both
// UTF-8 in base64.
func (e *Email) Message(n *channel.Notification, rcpts []*mail.Address) ([]byte, error) {
	m := render.NewMessage(n, render.Plain)
	subject, err := e.tmpl.Execute("subject", m)
	if err != nil {
		return nil, fmt.Errorf("render email subject: %w", err)
	}
	subject = strings.Join(strings.Fields(subject), " ") // one line: no header injection
	text, err := e.tmpl.Execute("text", m)
	if err != nil {
		return nil, fmt.Errorf("render email text: %w", err)
	}
	var html bytes.Buffer
	if err := e.html.Execute(&html, htmlData{Message: m, Subject: subject}); err != nil {
		return nil, fmt.Errorf("render email html: %w", err)
	}

	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	to := make([]string, len(rcpts))
	for i, a := range rcpts {
		to[i] = a.String()
	}
	now := e.clock.Now()
	id := "govwatch"
	if len(n.Alerts) > 0 {
		id = n.Alerts[0].Fingerprint
	}
	headers := []struct{ k, v string }{
		{"From", e.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.BEncoding.Encode("UTF-8", subject)},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", fmt.Sprintf("<%s.%d@%s>", id, now.UnixNano(), e.cfg.Host)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=" + mw.Boundary()},
	}
	for _, h := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", h.k, h.v)
	}
	b.WriteString("\r\n")
	for _, part := range []struct{ typ, body string }{
		{"text/plain; charset=UTF-8", text},
		{"text/html; charset=UTF-8", html.String()},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"base64"},
		})
		if err != nil {
			return nil, err
		}
		writeBase64(w, []byte(part.body))
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// writeBase64 writes data in base64 lines of 76 characters (RFC 2045).
func writeBase64(w io.Writer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		io.WriteString(w, enc[:76]+"\r\n")
		enc = enc[76:]
	}
	io.WriteString(w, enc+"\r\n")
}

func (e *Email) send(ctx context.Context, rcpts []*mail.Address, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout.D())
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return fmt.Errorf("dial smtp: %w", err)
	}
	// Closing the connection is what unblocks net/smtp when ctx ends; it
	// runs after ctx is done, so ctxErr then names the context's error.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if e.cfg.TLS == TLS {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return &tlsError{err}
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		conn.Close()
		return ctxErr(ctx, fmt.Errorf("smtp greeting: %w", err))
	}
	defer c.Close()
	if err := c.Hello(e.local); err != nil {
		return ctxErr(ctx, fmt.Errorf("smtp ehlo: %w", err))
	}
	if e.cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return channel.Permanent(errors.New("smtp: the server does not offer STARTTLS (set tls: none only for a local relay)"))
		}
		if err := c.StartTLS(e.tls); err != nil {
			return &tlsError{err}
		}
	}
	if e.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", e.cfg.Username, e.password, e.cfg.Host)); err != nil {
			var pe *textproto.Error
			if !errors.As(err, &pe) {
				// net/smtp refused to send the password (no TLS, wrong host).
				return channel.Permanent(fmt.Errorf("smtp auth: %w", err))
			}
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return ctxErr(ctx, fmt.Errorf("smtp mail from: %w", err))
	}
	for _, a := range rcpts {
		if err := c.Rcpt(a.Address); err != nil {
			return ctxErr(ctx, fmt.Errorf("smtp rcpt %s: %w", a.Address, err))
		}
	}
	w, err := c.Data()
	if err != nil {
		return ctxErr(ctx, fmt.Errorf("smtp data: %w", err))
	}
	if _, err := w.Write(msg); err != nil {
		return ctxErr(ctx, fmt.Errorf("smtp data: %w", err))
	}
	if err := w.Close(); err != nil {
		return ctxErr(ctx, fmt.Errorf("smtp data: %w", err))
	}
	// The message is accepted once DATA is; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// tlsError marks a failed TLS handshake: a certificate or protocol mismatch
// that retrying will not fix.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return "smtp tls: " + e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// ctxErr prefers the context's error when it ended the session.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%w)", err, cerr)
	}
	return err
}

// classify marks SMTP 5xx replies and TLS failures permanent; 4xx replies,
// network errors and timeouts stay retryable.
func classify(err error) error {
	if !channel.Retryable(err) {
		return err
	}
	var te *tlsError
	if errors.As(err, &te) {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return err
		}
		return channel.Permanent(err)
	}
	var pe *textproto.Error
	if errors.As(err, &pe) && pe.Code >= 500 {
		return channel.Permanent(err)
	}
	return err
}

var _ channel.Channel = (*Email)(nil)
