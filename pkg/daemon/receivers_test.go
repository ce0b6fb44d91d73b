package daemon

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/govwatch/govwatch/pkg/notify/channel"
)

func TestReceiverChannels(t *testing.T) {
	t.Setenv("GW_TEST_WECOM_KEY", "key")
	t.Setenv("GW_TEST_FEISHU_TOKEN", "feishu-token")
	t.Setenv("GW_TEST_SMTP_PASSWORD", "pw")
	cfg := loadConfig(t, t.TempDir(), map[string]string{"dingtalk-token": "tok\n", "govwatch.yaml": `notifier:
  receivers:
    - name: all
      console: {}
      webhook: {url: "https://ops.example.gov.cn/hook"}
      dingtalk: {access_token_file: dingtalk-token, message: action_card}
      wecom: {key_env: GW_TEST_WECOM_KEY}
      feishu: {token_env: GW_TEST_FEISHU_TOKEN, at_all: true}
      email: {host: smtp.example.gov.cn, from: govwatch@example.gov.cn, to: [ops@example.gov.cn], username: u, password_env: GW_TEST_SMTP_PASSWORD}
      sms: {url: "https://sms.example.gov.cn/send", phones: ["13800138000"]}
  route: {receiver: all}
`})
	var out bytes.Buffer
	chans, err := ReceiverChannels(cfg.Notifier.Receivers[0], channel.Deps{Stdout: &out})
	if err != nil {
		t.Fatalf("ReceiverChannels: %v", err)
	}
	var names []string
	for _, ch := range chans {
		names = append(names, ch.Name())
	}
	// The channels of a receiver are built in the order of their names.
	if got, want := strings.Join(names, ","), "console,dingtalk,email,feishu,sms,webhook,wecom"; got != want {
		t.Errorf("channels: got %s, want %s", got, want)
	}

	// A secret variable unset after the config was checked.
	os.Unsetenv("GW_TEST_FEISHU_TOKEN")
	_, err = ReceiverChannels(cfg.Notifier.Receivers[0], channel.Deps{Stdout: &out})
	if err == nil || !strings.Contains(err.Error(), "receiver all: feishu: ") || !strings.Contains(err.Error(), "GW_TEST_FEISHU_TOKEN") {
		t.Errorf("missing secret: got %v, want an error naming the receiver, channel and variable", err)
	}
}
