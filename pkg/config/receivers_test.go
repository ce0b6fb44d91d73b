package config

import (
	"strings"
	"testing"
)

func TestChannelProblems(t *testing.T) {
	p := write(t, t.TempDir(), "c.yaml", `notifier:
  receivers:
    - name: duty
      dingtalk:
        url: "https://oapi.dingtalk.com/robot/send?access_token=abc"
        message: text
        at_mobiles: ["138-0013-8000"]
      wecom:
        key_env: GOVWATCH_SURELY_UNSET_KEY
      feishu:
        token_file: missing-token
        at_user_ids: ['ou_1" x="']
        timeout: -1s
      email:
        host: "smtp.example.gov.cn:587"
        tls: ssl
        from: nobody
        to: ["ops@example.gov.cn", "not an address"]
        username: govwatch
      sms:
        method: PUT
        success_value: "0"
        max_segments: -1
  route: {receiver: duty}
`)
	out := loadProblems(t, p,
		"c.yaml:5: notifier.receivers[0].dingtalk.url: the url must not carry a query: put the token in access_token_file or access_token_env",
		"notifier.receivers[0].dingtalk.access_token_file: no access_token: set access_token_file or access_token_env",
		"c.yaml:6: notifier.receivers[0].dingtalk.message: unknown value \"text\" (markdown or action_card)",
		"c.yaml:7: notifier.receivers[0].dingtalk.at_mobiles[0]: \"138-0013-8000\" is not a phone number",
		"c.yaml:9: notifier.receivers[0].wecom.key_env: environment variable GOVWATCH_SURELY_UNSET_KEY is not set",
		"c.yaml:11: notifier.receivers[0].feishu.token_file: cannot read \"missing-token\"",
		"c.yaml:12: notifier.receivers[0].feishu.at_user_ids[0]:",
		"c.yaml:13: notifier.receivers[0].feishu.timeout: negative duration",
		"c.yaml:15: notifier.receivers[0].email.host: \"smtp.example.gov.cn:587\" is not a host name",
		"c.yaml:16: notifier.receivers[0].email.tls: unknown value \"ssl\" (starttls, tls or none)",
		"c.yaml:17: notifier.receivers[0].email.from: bad address \"nobody\"",
		"notifier.receivers[0].email.to[1]: bad address \"not an address\"",
		"c.yaml:19: notifier.receivers[0].email.username: a username needs password_file or password_env",
		"notifier.receivers[0].sms.url: missing url",
		"c.yaml:21: notifier.receivers[0].sms.method: unknown value \"PUT\" (POST or GET)",
		"notifier.receivers[0].sms.success_field: success_value and retry_values need a success_field",
		"c.yaml:23: notifier.receivers[0].sms.max_segments: must be at least 1, not -1",
	)
	if strings.Contains(out, "has no channel") {
		t.Errorf("a receiver with chat channels was reported as having none:\n%s", out)
	}
}

func TestChannelUnknownKeyIsAProblem(t *testing.T) {
	// A token written into the file instead of a file or variable is an
	// unknown key, not a silently accepted secret.
	p := write(t, t.TempDir(), "c.yaml", "notifier:\n  receivers:\n    - name: duty\n      wecom: {key: 693axxx6}\n  route: {receiver: duty}\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), `c.yaml:4: notifier.receivers[0].wecom.key: unknown key "key"`) {
		t.Fatalf("got %v, want the unknown key named with file:line", err)
	}
}

func TestReceiverAndRouteProblems(t *testing.T) {
	p := write(t, t.TempDir(), "c.yaml", `notifier:
  receivers:
    - name: duty
      console: {}
    - name: duty
      webhook: {url: "ftp://x"}
    - name: empty
    - console: {}
    - {name: flaky, console: {}, breaker_after: -2}
  route:
    routes:
      - receiver: duty
        routes:
          - {receiver: nobody, matchers: ["severity=~["]}
  owed_for: 10s
  breaker_probe: 500ms
`)
	out := loadProblems(t, p,
		`c.yaml:5: notifier.receivers[1].name: duplicate receiver "duty"`,
		`c.yaml:6: notifier.receivers[1].webhook.url: bad url "ftp://x"`,
		`c.yaml:7: notifier.receivers[2]: receiver "empty" has no channel`,
		`c.yaml:8: notifier.receivers[3].name: receiver has no name`,
		`c.yaml:9: notifier.receivers[4].breaker_after: must be -1 (never), 0 (5) or positive, not -2`,
		`c.yaml:10: notifier.route.receiver: the root route needs a receiver`,
		`c.yaml:14: notifier.route.routes[0].routes[0].receiver: unknown receiver "nobody"`,
		`c.yaml:14: notifier.route.routes[0].routes[0].matchers[0]:`,
		`c.yaml:15: notifier.owed_for: must be at least the tick (15s), not 10s`,
		`c.yaml:16: notifier.breaker_probe: must be at least 1s, not 500ms`,
	)
	if n := strings.Count(out, `unknown receiver "nobody"`); n != 1 {
		t.Errorf("the unknown receiver was reported %d times, want once:\n%s", n, out)
	}
	if strings.Contains(out, `unknown receiver "duty"`) {
		t.Errorf("a known receiver was reported unknown:\n%s", out)
	}
}
