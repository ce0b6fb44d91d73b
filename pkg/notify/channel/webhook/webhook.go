// Package webhook is the generic webhook channel: it POSTs Alertmanager's
// webhook payload (version 4), so receivers written for Alertmanager work
// unchanged, optionally signed with HMAC-SHA256.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/robot"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// Headers set on every signed request.
const (
	// HeaderSignature is SignatureVersion, "=" and the hex HMAC-SHA256 of
	// the timestamp header's value, ".", and the request body, keyed with
	// the receiver's secret.
	HeaderSignature = "X-Govwatch-Signature"
	// HeaderTimestamp is the Unix time in seconds at which the request was
	// signed; the signature covers it, so a receiver can refuse old ones.
	HeaderTimestamp = "X-Govwatch-Timestamp"
)

// SignatureVersion names the signing scheme in the signature header. "v1"
// signs timestamp "." body; earlier releases sent "sha256=" over the body
// alone, which a receiver can tell apart and should refuse.
const SignatureVersion = "v1"

// Errors from Verify.
var (
	ErrBadSignature = errors.New("webhook signature does not match")
	ErrStale        = errors.New("webhook timestamp outside the accepted skew")
)

// HeaderNotificationID carries the notification's idempotency key on every
// request: the same for every copy of one notification, so a receiver that
// keeps the keys it has seen drops a second copy.
const HeaderNotificationID = "X-Govwatch-Notification-Id"

// DefaultTimeout bounds one delivery attempt when the configuration sets none.
const DefaultTimeout = 10 * time.Second

// maxErrorBody is how much of a refusing receiver's answer goes into the error.
const maxErrorBody = 200

// Config is a receiver's webhook section.
type Config struct {
	URL string `yaml:"url" doc:"Where the payload is POSTed (http or https)." example:"https://ops.example.gov.cn/govwatch/hook"`
	// SecretFile and SecretEnv name where the signing secret is; the
	// channel's constructor reads it, so it never sits in the YAML.
	SecretFile conf.File `yaml:"secret_file" doc:"File holding the HMAC-SHA256 signing secret; none: requests are not signed." example:"/run/secrets/ops-webhook"`
	SecretEnv  conf.Env  `yaml:"secret_env" doc:"Environment variable holding the signing secret." example:"GOVWATCH_WEBHOOK_SECRET"`
	// MaxAlerts caps the alerts in one payload; 0 means no limit. Dropped
	// alerts are counted in truncatedAlerts.
	MaxAlerts int `yaml:"max_alerts" doc:"Caps the alerts of one payload (the rest are counted in truncatedAlerts); 0: no limit."`
	// Timeout bounds one attempt; 0 means DefaultTimeout.
	Timeout conf.Duration `yaml:"timeout" doc:"Bounds one delivery attempt."`
}

// Defaults is the configuration a section leaves out.
func Defaults() Config { return Config{Timeout: conf.Duration(DefaultTimeout)} }

// Validate reports what is wrong with c, each at its key.
func (c *Config) Validate(ch *plugin.Check) {
	ch.URL("url", c.URL, true)
	if c.MaxAlerts < 0 {
		ch.Errorf("max_alerts", "must not be negative (0: no limit), not %d", c.MaxAlerts)
	}
}

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:     "webhook",
		Summary:  "POSTs Alertmanager's webhook payload (version 4), optionally signed with HMAC-SHA256.",
		Defaults: Defaults,
		Secrets: func(c *Config) []channel.Secret {
			return []channel.Secret{{Key: "secret", File: c.SecretFile, Env: c.SecretEnv}}
		},
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			return New(*c, Options{Secret: d.Secret("secret"), Now: d.Clock.Now})
		},
	})
}

// Options are the runtime parts of a webhook channel.
type Options struct {
	// Secret keys the HMAC-SHA256 signature; empty sends unsigned requests.
	Secret []byte
	// Client sends the requests; nil means a client that does not follow
	// redirects (a redirected POST would turn into a GET and carry the
	// signature to another host).
	Client *http.Client
	// Now is the clock for the timestamp header; nil means time.Now.
	Now func() time.Time
}

// Message is Alertmanager's webhook payload, version 4.
type Message struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// Alert is one alert in a Message.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Webhook delivers notifications to one URL. It is safe for concurrent use.
type Webhook struct {
	url       string
	maxAlerts int
	timeout   time.Duration
	secret    []byte
	client    *http.Client
	now       func() time.Time
}

// New checks cfg and builds the channel.
func New(cfg Config, opts Options) (*Webhook, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url.Parse quotes the URL, which may carry a token: say less.
		return nil, errors.New("webhook url: not a valid URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("webhook url: want an absolute http or https URL")
	}
	if cfg.MaxAlerts < 0 {
		return nil, fmt.Errorf("webhook max_alerts: got %d, want 0 (no limit) or more", cfg.MaxAlerts)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("webhook timeout: got %s, want 0 (default) or more", cfg.Timeout)
	}
	w := &Webhook{
		url:       cfg.URL,
		maxAlerts: cfg.MaxAlerts,
		timeout:   cfg.Timeout.D(),
		secret:    bytes.Clone(opts.Secret),
		client:    opts.Client,
		now:       opts.Now,
	}
	if w.timeout == 0 {
		w.timeout = DefaultTimeout
	}
	if w.client == nil {
		w.client = robot.NewClient()
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// Name implements channel.Channel.
func (w *Webhook) Name() string { return "webhook" }

// Notify POSTs n once. A 2xx answer is success; 429, 5xx, timeouts and
// network failures are retryable; any other answer is permanent. Errors carry
// the status and the start of the answer, never the URL or the secret.
func (w *Webhook) Notify(ctx context.Context, n *channel.Notification) error {
	body, err := json.Marshal(NewMessage(n, w.maxAlerts))
	if err != nil {
		return channel.Permanent(fmt.Errorf("encode webhook payload: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return channel.Permanent(errors.New("build webhook request: bad url"))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "govwatch-notifier")
	if n.ID != "" {
		req.Header.Set(HeaderNotificationID, n.ID)
	}
	if len(w.secret) > 0 {
		ts := strconv.FormatInt(w.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(w.secret, ts, body))
	}

	resp, err := w.client.Do(req)
	if err != nil {
		return fmt.Errorf("post webhook: %w", robot.StripURL(err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // let the connection be reused
	return robot.CheckStatus("webhook", resp.StatusCode, string(head))
}

// NewMessage builds the version 4 payload for n, keeping at most maxAlerts
// alerts (0: all) and counting the rest in TruncatedAlerts. Nil label and
// annotation maps are sent as {} as Alertmanager does.
func NewMessage(n *channel.Notification, maxAlerts int) *Message {
	alerts := n.Alerts
	truncated := 0
	if maxAlerts > 0 && len(alerts) > maxAlerts {
		truncated = len(alerts) - maxAlerts
		alerts = alerts[:maxAlerts]
	}
	m := &Message{
		Version:           "4",
		GroupKey:          n.GroupKey,
		TruncatedAlerts:   truncated,
		Status:            n.Status,
		Receiver:          n.Receiver,
		GroupLabels:       orEmpty(n.GroupLabels),
		CommonLabels:      orEmpty(n.CommonLabels),
		CommonAnnotations: orEmpty(n.CommonAnnotations),
		ExternalURL:       n.ExternalURL,
		Alerts:            make([]Alert, 0, len(alerts)),
	}
	for _, a := range alerts {
		fp := a.Fingerprint
		if fp == "" {
			fp = a.Labels.Fingerprint()
		}
		m.Alerts = append(m.Alerts, Alert{
			Status:       a.Status,
			Labels:       orEmpty(a.Labels),
			Annotations:  orEmpty(a.Annotations),
			StartsAt:     a.StartsAt,
			EndsAt:       a.EndsAt,
			GeneratorURL: a.GeneratorURL,
			Fingerprint:  fp,
		})
	}
	return m
}

// Sign returns the X-Govwatch-Signature value for body sent with timestamp
// (the X-Govwatch-Timestamp value): "v1=" and the hex HMAC-SHA256 of
// timestamp "." body keyed with secret.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return SignatureVersion + "=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify is what a receiver written in Go does with a request: it checks
// the signature over timestamp and the raw body in constant time, then that
// the timestamp is within maxSkew of now, so a captured request cannot be
// replayed after that. (Within the window, the alerts' fingerprints and
// startsAt identify a repeat.)
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) error {
	if !hmac.Equal([]byte(signature), []byte(Sign(secret, timestamp, body))) {
		return ErrBadSignature
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrStale, timestamp)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > maxSkew || skew < -maxSkew {
		return fmt.Errorf("%w: %s away from now, over %s", ErrStale, skew, maxSkew)
	}
	return nil
}

func orEmpty[M ~map[string]string](m M) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

var _ channel.Channel = (*Webhook)(nil)
