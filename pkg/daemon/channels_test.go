package daemon

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/config"
)

func TestReceiverChannels(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dingtalk-token"), []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GW_TEST_WECOM_KEY", "key")
	t.Setenv("GW_TEST_FEISHU_TOKEN", "feishu-token")
	t.Setenv("GW_TEST_SMTP_PASSWORD", "pw")
	p := filepath.Join(dir, "govwatch.yaml")
	err := os.WriteFile(p, []byte(`notifier:
  receivers:
    - name: all
      console: {}
      webhook: {url: "https://ops.example.gov.cn/hook"}
      dingtalk: {access_token_file: dingtalk-token, message: action_card}
      wecom: {key_env: GW_TEST_WECOM_KEY}
      feishu: {token_env: GW_TEST_FEISHU_TOKEN, at_all: true}
      email: {host: smtp.example.gov.cn, from: govwatch@example.gov.cn, to: [ops@example.gov.cn], username: u, password_env: GW_TEST_SMTP_PASSWORD}
      sms: {url: "https://sms.example.gov.cn/send", phones: ["13800138000"]}
    - name: broken
      wecom: {key_env: GW_TEST_WECOM_KEY, template: '{{define "text"}}{{.Nope}}{{end}}'}
  route: {receiver: all}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	chans, err := ReceiverChannels(cfg, cfg.Notifier.Receivers[0], ChannelDeps{Stdout: &bytes.Buffer{}})
	if err != nil {
		t.Fatalf("ReceiverChannels: %v", err)
	}
	var names []string
	for _, ch := range chans {
		names = append(names, ch.Name())
	}
	if got, want := strings.Join(names, ","), "console,webhook,dingtalk,wecom,feishu,email,sms"; got != want {
		t.Errorf("channels: got %s, want %s", got, want)
	}

	_, err = ReceiverChannels(cfg, cfg.Notifier.Receivers[1], ChannelDeps{})
	if err == nil || !strings.HasPrefix(err.Error(), "receiver broken: wecom: ") {
		t.Errorf("broken template: got %v, want an error naming the receiver and channel", err)
	}

	// A secret variable unset after the config was checked.
	os.Unsetenv("GW_TEST_FEISHU_TOKEN")
	_, err = ReceiverChannels(cfg, cfg.Notifier.Receivers[0], ChannelDeps{Stdout: &bytes.Buffer{}})
	if err == nil || !strings.Contains(err.Error(), "receiver all: feishu: ") || !strings.Contains(err.Error(), "GW_TEST_FEISHU_TOKEN") {
		t.Errorf("missing secret: got %v, want an error naming the receiver, channel and variable", err)
	}
}
