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

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/render"
	"github.com/govwatch/govwatch/pkg/plugin"
)

func init() {
	channel.Register(channel.Plugin[Config]{
		Name:    "console",
		Summary: "Writes a Chinese summary of each alert on the daemon's standard output.",
		New: func(c *Config, d channel.Deps) (channel.Channel, error) {
			w := d.Stdout
			if w == nil {
				w = io.Discard
			}
			return New(*c, w)
		},
	})
}

// DefaultTemplate renders one alert as a title line and indented details.
//
//go:embed default.tmpl
var DefaultTemplate string

// Config is a receiver's console section.
type Config struct {
	// Template is a text/template executed once per alert with an Alert;
	// empty means DefaultTemplate.
	Template string `yaml:"template" doc:"A text/template run once per alert, replacing the default summary (Chinese)."`
}

// Validate reports a template that does not parse or fails on a sample
// alert.
func (c *Config) Validate(ch *plugin.Check) {
	if _, err := parse(c.Template); err != nil {
		ch.Errorf("template", "%v", err)
	}
}

// Alert is what the template sees for one alert: render's view of it
// (labels and annotations, the ones people read pulled out, display names
// resolved, times in Beijing time, only http and https links) with the
// notification's receiver and external URL.
type Alert struct {
	render.Alert
	Receiver    string
	ExternalURL string
}

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
	tmpl, err := parse(cfg.Template)
	if err != nil {
		return nil, err
	}
	return &Console{tmpl: tmpl, w: w}, nil
}

// parse parses the template (DefaultTemplate when text is empty) and tries
// it on a sample alert.
func parse(text string) (*template.Template, error) {
	if text == "" {
		text = DefaultTemplate
	}
	tmpl, err := template.New("console").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse console template: %w", err)
	}
	sample := views(&channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{{Status: channel.StatusFiring}}})
	if err := tmpl.Execute(io.Discard, sample[0]); err != nil {
		return nil, fmt.Errorf("try console template: %w", err)
	}
	return tmpl, nil
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
	for _, a := range views(n) {
		if err := c.tmpl.Execute(&buf, a); err != nil {
			return channel.Permanent(fmt.Errorf("render alert %s: %w", a.Fingerprint, err))
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write console: %w", err)
	}
	return nil
}

// views prepares the alerts of n for the template, as plain text.
func views(n *channel.Notification) []Alert {
	m := render.NewMessage(n, render.Plain)
	out := make([]Alert, len(m.Alerts))
	for i, a := range m.Alerts {
		out[i] = Alert{Alert: a, Receiver: n.Receiver, ExternalURL: n.ExternalURL}
	}
	return out
}

var _ channel.Channel = (*Console)(nil)
