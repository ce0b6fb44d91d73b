package console

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
)

func TestNotifyGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		cfg    Config
		n      channel.Notification
	}{
		{
			name:   "firing",
			golden: "firing.golden",
			n: channel.Notification{Receiver: "console", Status: channel.StatusFiring,
				Alerts: []channel.AlertState{channeltest.Phone(channel.StatusFiring), channeltest.Stale()}},
		},
		{
			name:   "resolved",
			golden: "resolved.golden",
			n: channel.Notification{Receiver: "console", Status: channel.StatusResolved,
				Alerts: []channel.AlertState{channeltest.Phone(channel.StatusResolved)}},
		},
		{
			name:   "custom template",
			golden: "custom.golden",
			cfg:    Config{Template: "{{.Status}} {{.Category}} {{.Labels.account_id}} {{.StartsAt.Format \"15:04\"}}\n"},
			n: channel.Notification{Status: channel.StatusFiring,
				Alerts: []channel.AlertState{channeltest.Phone(channel.StatusFiring)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := New(tt.cfg, &out)
			channeltest.Notify(t, c, err, &tt.n)
			channeltest.Golden(t, tt.golden, out.String())
		})
	}
}

func TestNewRejectsBrokenTemplates(t *testing.T) {
	tests := []struct {
		name     string
		template string
	}{
		{"syntax", "{{if .Firing}}"},
		{"unknown field", "{{.Nope}}"},
		{"unknown template", `{{template "nope"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(Config{Template: tt.template}, &bytes.Buffer{}); err == nil {
				t.Errorf("New(%q): got nil error, want one", tt.template)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestNotifyErrors(t *testing.T) {
	n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{channeltest.Phone(channel.StatusFiring)}}

	// A template that only fails on some alerts cannot succeed on retry.
	c, err := New(Config{Template: `{{if .Labels.region}}{{.Nope}}{{end}}`}, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = c.Notify(context.Background(), n)
	if err == nil || channel.Retryable(err) {
		t.Errorf("render failure: got %v (retryable %v), want a permanent error", err, channel.Retryable(err))
	}

	c, err = New(Config{}, failingWriter{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	err = c.Notify(context.Background(), n)
	if err == nil || !channel.Retryable(err) {
		t.Errorf("write failure: got %v (retryable %v), want a retryable error", err, channel.Retryable(err))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Notify(ctx, n); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}

func TestNotifyConcurrentWritesStayWhole(t *testing.T) {
	var out bytes.Buffer
	c, err := New(Config{}, &out)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{channeltest.Phone(channel.StatusFiring)}}
	var one bytes.Buffer
	c1, _ := New(Config{}, &one)
	if err := c1.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := c.Notify(context.Background(), n); err != nil {
				t.Errorf("Notify: %v", err)
			}
		})
	}
	wg.Wait()
	if got, want := out.String(), strings.Repeat(one.String(), 8); got != want {
		t.Errorf("got interleaved output:\n%s", got)
	}
}
