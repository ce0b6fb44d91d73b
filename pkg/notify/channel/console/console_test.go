package console

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func phoneAlert(status string) channel.AlertState {
	a := channel.AlertState{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname:   model.CategoryPrivacyPhone,
				model.LabelSeverity:    model.SeverityMajor,
				model.LabelAccountID:   "fz-wjw-toutiao",
				model.LabelAccountName: "福州卫健",
				model.LabelPlatform:    "toutiao",
				model.LabelUnit:        "福州市卫生健康委",
				model.LabelRegion:      "350100",
			},
			Annotations: map[string]string{
				model.AnnotationSummary:    "文章正文出现未打码的手机号码",
				model.AnnotationEvidence:   "…联系人：王老师，联系电话13800138000，地址…",
				model.AnnotationSuggestion: "删除或打码处理该手机号码，如 138****8000",
				model.AnnotationURL:        "https://www.toutiao.com/article/7301/",
				model.AnnotationAckURL:     "https://govwatch.example.gov.cn/ack/3f2a?sig=abc",
			},
			StartsAt: time.Date(2026, 11, 26, 8, 3, 11, 0, time.UTC),
		},
		Status: status,
	}
	if status == channel.StatusResolved {
		a.EndsAt = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return a
}

func staleAlert() channel.AlertState {
	a := channel.AlertState{
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname: model.CategoryAccountStale,
				model.LabelSeverity:  model.SeverityCritical,
				model.LabelUnit:      "连江县人民政府办公室",
			},
			Annotations: map[string]string{model.AnnotationSummary: "账号已 15 天未更新"},
			StartsAt:    time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC),
		},
		Status: channel.StatusFiring,
	}
	a.Fingerprint = a.Labels.Fingerprint()
	return a
}

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
				Alerts: []channel.AlertState{phoneAlert(channel.StatusFiring), staleAlert()}},
		},
		{
			name:   "resolved",
			golden: "resolved.golden",
			n: channel.Notification{Receiver: "console", Status: channel.StatusResolved,
				Alerts: []channel.AlertState{phoneAlert(channel.StatusResolved)}},
		},
		{
			name:   "custom template",
			golden: "custom.golden",
			cfg:    Config{Template: "{{.Status}} {{.Category}} {{.Labels.account_id}} {{.StartsAt.Format \"15:04\"}}\n"},
			n: channel.Notification{Status: channel.StatusFiring,
				Alerts: []channel.AlertState{phoneAlert(channel.StatusFiring)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			c, err := New(tt.cfg, &out)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := c.Notify(context.Background(), &tt.n); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := out.String(); got != string(want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
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
	n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{phoneAlert(channel.StatusFiring)}}

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
	n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{phoneAlert(channel.StatusFiring)}}
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
