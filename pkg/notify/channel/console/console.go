// Package console is the channel that writes a readable Chinese summary of
// each alert to a writer: stdout for a single-machine install, the duty
// officer's terminal during a demo, a log file if nothing else is set up.
package console

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"sync"
	"text/template"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// DefaultTemplate renders one alert as a title line and indented details.
//
//go:embed default.tmpl
var DefaultTemplate string

// Config is the console receiver's configuration.
type Config struct {
	// Template is a text/template executed once per alert with an Alert;
	// empty means DefaultTemplate.
	Template string `yaml:"template"`
}

// Alert is what the template sees for one alert: its labels and
// annotations, the ones people read pulled out, display names resolved and
// times in Beijing time.
type Alert struct {
	Receiver    string
	ExternalURL string

	Status      string // firing or resolved
	Firing      bool
	Fingerprint string
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing

	Category     string // the alertname label
	CategoryName string // 隐私泄露：手机号码
	Severity     string
	SeverityName string // 紧急, 重要, 一般, 提示
	Unit         string
	AccountName  string
	Platform     string
	PlatformName string // 微信, 微博, 头条 …

	Summary     string
	Description string
	Evidence    string
	Suggestion  string
	URL         string
	AckURL      string
}

// beijing is China Standard Time; no daylight saving since 1991, so no tzdata.
var beijing = time.FixedZone("CST", 8*3600)

// Console writes alerts to a writer. It is safe for concurrent use; each
// notification's text is written in one piece.
type Console struct {
	tmpl *template.Template

	mu sync.Mutex // serialises writes to w
	w  io.Writer
}

// New builds a console channel writing to w. The template is parsed and tried
// on a sample alert, so a broken deployment template fails at start-up.
func New(cfg Config, w io.Writer) (*Console, error) {
	text := cfg.Template
	if text == "" {
		text = DefaultTemplate
	}
	tmpl, err := template.New("console").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse console template: %w", err)
	}
	sample := view(&channel.Notification{Status: channel.StatusFiring}, &channel.AlertState{Status: channel.StatusFiring})
	if err := tmpl.Execute(io.Discard, sample); err != nil {
		return nil, fmt.Errorf("try console template: %w", err)
	}
	return &Console{tmpl: tmpl, w: w}, nil
}

// Name implements channel.Channel.
func (c *Console) Name() string { return "console" }

// Notify renders every alert of n and writes them at once. A template that
// fails on an alert is a permanent error; a failed write may be retried.
func (c *Console) Notify(ctx context.Context, n *channel.Notification) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var buf bytes.Buffer
	for i := range n.Alerts {
		if err := c.tmpl.Execute(&buf, view(n, &n.Alerts[i])); err != nil {
			return channel.Permanent(fmt.Errorf("render alert %s: %w", n.Alerts[i].Fingerprint, err))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write console: %w", err)
	}
	return nil
}

// view prepares one alert for the template.
func view(n *channel.Notification, a *channel.AlertState) Alert {
	status := a.Status
	if status == "" {
		status = n.Status
	}
	labels, ann := a.Labels, a.Annotations
	if labels == nil {
		labels = model.LabelSet{}
	}
	if ann == nil {
		ann = map[string]string{}
	}
	v := Alert{
		Receiver:    n.Receiver,
		ExternalURL: n.ExternalURL,
		Status:      status,
		Firing:      status != channel.StatusResolved,
		Fingerprint: a.Fingerprint,
		Labels:      labels,
		Annotations: ann,
		StartsAt:    inBeijing(a.StartsAt),
		Category:    labels[model.LabelAlertname],
		Severity:    labels[model.LabelSeverity],
		Unit:        labels[model.LabelUnit],
		AccountName: labels[model.LabelAccountName],
		Platform:    labels[model.LabelPlatform],
		Summary:     ann[model.AnnotationSummary],
		Description: ann[model.AnnotationDescription],
		Evidence:    ann[model.AnnotationEvidence],
		Suggestion:  ann[model.AnnotationSuggestion],
		URL:         ann[model.AnnotationURL],
		AckURL:      ann[model.AnnotationAckURL],
	}
	if name := ann[model.AnnotationUnitName]; name != "" {
		v.Unit = name
	}
	if !v.Firing {
		v.EndsAt = inBeijing(a.EndsAt)
	}
	v.CategoryName = model.CategoryName(v.Category)
	v.SeverityName = model.SeverityName(v.Severity)
	v.PlatformName = model.PlatformName(v.Platform)
	return v
}

func inBeijing(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(beijing)
}

var _ channel.Channel = (*Console)(nil)
