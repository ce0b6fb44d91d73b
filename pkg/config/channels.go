package config

import (
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"net/mail"
	"net/url"
	"slices"
	"strings"
)

// DingTalkConfig is a DingTalk custom robot (pkg/notify/channel/dingtalk).
// The access token and the signing secret come from files or the
// environment, never from this file.
type DingTalkConfig struct {
	URL             string        `yaml:"url"` // endpoint without the token; default https://oapi.dingtalk.com/robot/send
	AccessTokenFile string        `yaml:"access_token_file"`
	AccessTokenEnv  string        `yaml:"access_token_env"`
	SecretFile      string        `yaml:"secret_file"` // the robot's SEC… signing secret; optional
	SecretEnv       string        `yaml:"secret_env"`
	Message         string        `yaml:"message"` // markdown (default) or action_card
	AtMobiles       []string      `yaml:"at_mobiles"`
	AtAll           bool          `yaml:"at_all"`
	Template        string        `yaml:"template"` // redefines "title" and/or "text"
	Timeout         conf.Duration `yaml:"timeout"`
}

// WeComConfig is a WeCom group robot (pkg/notify/channel/wecom).
type WeComConfig struct {
	URL            string        `yaml:"url"` // endpoint without the key; default https://qyapi.weixin.qq.com/cgi-bin/webhook/send
	KeyFile        string        `yaml:"key_file"`
	KeyEnv         string        `yaml:"key_env"`
	MentionMobiles []string      `yaml:"mention_mobiles"`
	MentionAll     bool          `yaml:"mention_all"`
	Template       string        `yaml:"template"` // redefines "title", "text" and/or "mention"
	Timeout        conf.Duration `yaml:"timeout"`
}

// FeishuConfig is a Feishu (Lark) custom bot (pkg/notify/channel/feishu).
type FeishuConfig struct {
	URL        string        `yaml:"url"` // hook prefix without the token; default https://open.feishu.cn/open-apis/bot/v2/hook/
	TokenFile  string        `yaml:"token_file"`
	TokenEnv   string        `yaml:"token_env"`
	SecretFile string        `yaml:"secret_file"` // signing secret; optional
	SecretEnv  string        `yaml:"secret_env"`
	AtAll      bool          `yaml:"at_all"`
	AtUserIDs  []string      `yaml:"at_user_ids"`
	Template   string        `yaml:"template"` // redefines "title" and/or "text"
	Timeout    conf.Duration `yaml:"timeout"`
}

// EmailConfig is an SMTP server (pkg/notify/channel/email).
type EmailConfig struct {
	Host         string        `yaml:"host"`
	Port         int           `yaml:"port"` // 0: 587 (starttls), 465 (tls), 25 (none)
	TLS          string        `yaml:"tls"`  // starttls (default), tls or none
	From         string        `yaml:"from"`
	To           []string      `yaml:"to"`
	Username     string        `yaml:"username"`
	PasswordFile string        `yaml:"password_file"`
	PasswordEnv  string        `yaml:"password_env"`
	Template     string        `yaml:"template"`      // redefines "subject" and/or "text"
	HTMLTemplate string        `yaml:"html_template"` // replaces the HTML part
	Timeout      conf.Duration `yaml:"timeout"`
}

// SMSConfig is an HTTP SMS gateway (pkg/notify/channel/sms).
type SMSConfig struct {
	URL          string            `yaml:"url"` // text/template; may use {{.Secret}}
	Method       string            `yaml:"method"`
	Headers      map[string]string `yaml:"headers"` // values are text/templates
	Body         string            `yaml:"body"`    // text/template
	ContentType  string            `yaml:"content_type"`
	SecretFile   string            `yaml:"secret_file"`
	SecretEnv    string            `yaml:"secret_env"`
	Phones       []string          `yaml:"phones"`
	Template     string            `yaml:"template"` // redefines "text"
	SuccessField string            `yaml:"success_field"`
	SuccessValue string            `yaml:"success_value"`
	RetryValues  []string          `yaml:"retry_values"`
	MaxSegments  int               `yaml:"max_segments"`
	Timeout      conf.Duration     `yaml:"timeout"`
}

// validateChannels checks the channels of receiver r (at path p) and
// returns how many it has. Templates are checked when the channels are
// built (start-up and `govwatch notify test`).
func (c *Config) validateChannels(bad func(string, string, ...any), p string, r ReceiverConfig) int {
	n := 0
	if r.Console != nil {
		n++
	}
	if w := r.Webhook; w != nil {
		n++
		if err := conf.HTTPURL(w.URL); err != nil {
			bad(p+".webhook.url", "%v", err)
		}
		c.checkFile(bad, p+".webhook.secret_file", w.SecretFile)
		checkEnv(bad, p+".webhook.secret_env", w.SecretEnv)
	}
	credential := func(path, what, file, env string) {
		if file == "" && env == "" {
			bad(path, "no %s: set %s_file or %s_env", what, what, what)
		}
		c.checkFile(bad, path+"_file", file)
		checkEnv(bad, path+"_env", env)
	}
	endpoint := func(path, u, hint string) {
		if u == "" {
			return
		}
		if err := conf.HTTPURL(u); err != nil {
			bad(path, "%v", err)
			return
		}
		if parsed, _ := url.Parse(u); parsed.RawQuery != "" {
			bad(path, "the url must not carry a query: %s", hint)
		}
	}
	if d := r.DingTalk; d != nil {
		n++
		q := p + ".dingtalk"
		endpoint(q+".url", d.URL, "put the token in access_token_file or access_token_env")
		credential(q+".access_token", "access_token", d.AccessTokenFile, d.AccessTokenEnv)
		c.checkFile(bad, q+".secret_file", d.SecretFile)
		checkEnv(bad, q+".secret_env", d.SecretEnv)
		if d.Message != "" && !slices.Contains([]string{"markdown", "action_card"}, d.Message) {
			bad(q+".message", "unknown message type %q (markdown or action_card)", d.Message)
		}
		checkMobiles(bad, q+".at_mobiles", d.AtMobiles)
	}
	if w := r.WeCom; w != nil {
		n++
		q := p + ".wecom"
		endpoint(q+".url", w.URL, "put the key in key_file or key_env")
		credential(q+".key", "key", w.KeyFile, w.KeyEnv)
		checkMobiles(bad, q+".mention_mobiles", w.MentionMobiles)
	}
	if f := r.Feishu; f != nil {
		n++
		q := p + ".feishu"
		endpoint(q+".url", f.URL, "the bot token goes in token_file or token_env")
		credential(q+".token", "token", f.TokenFile, f.TokenEnv)
		c.checkFile(bad, q+".secret_file", f.SecretFile)
		checkEnv(bad, q+".secret_env", f.SecretEnv)
		for i, id := range f.AtUserIDs {
			if id == "" || strings.ContainsAny(id, "<>\"' ") {
				bad(fmt.Sprintf("%s.at_user_ids[%d]", q, i), "%q is not a user id", id)
			}
		}
	}
	if e := r.Email; e != nil {
		n++
		q := p + ".email"
		if e.Host == "" || strings.ContainsAny(e.Host, "/: ") {
			bad(q+".host", "%q is not a host name (the port goes in port)", e.Host)
		}
		if e.Port < 0 || e.Port > 65535 {
			bad(q+".port", "%d is not a port", e.Port)
		}
		if e.TLS != "" && !slices.Contains([]string{"starttls", "tls", "none"}, e.TLS) {
			bad(q+".tls", "unknown mode %q (starttls, tls or none)", e.TLS)
		}
		if _, err := mail.ParseAddress(e.From); err != nil {
			bad(q+".from", "bad address %q: %v", e.From, err)
		}
		for i, to := range e.To {
			if _, err := mail.ParseAddress(to); err != nil {
				bad(fmt.Sprintf("%s.to[%d]", q, i), "bad address %q: %v", to, err)
			}
		}
		if e.Username != "" && e.PasswordFile == "" && e.PasswordEnv == "" {
			bad(q+".username", "a username needs password_file or password_env")
		}
		c.checkFile(bad, q+".password_file", e.PasswordFile)
		checkEnv(bad, q+".password_env", e.PasswordEnv)
	}
	if s := r.SMS; s != nil {
		n++
		q := p + ".sms"
		if s.URL == "" {
			bad(q+".url", "missing url")
		}
		if s.Method != "" && s.Method != "POST" && s.Method != "GET" {
			bad(q+".method", "unknown method %q (POST or GET)", s.Method)
		}
		if s.SuccessField == "" && (s.SuccessValue != "" || len(s.RetryValues) > 0) {
			bad(q+".success_field", "success_value and retry_values need a success_field to read")
		}
		if s.MaxSegments < 0 {
			bad(q+".max_segments", "must not be negative, not %d", s.MaxSegments)
		}
		c.checkFile(bad, q+".secret_file", s.SecretFile)
		checkEnv(bad, q+".secret_env", s.SecretEnv)
		checkMobiles(bad, q+".phones", s.Phones)
	}
	return n
}

func checkMobiles(bad func(string, string, ...any), path string, mobiles []string) {
	for i, m := range mobiles {
		digits := strings.TrimPrefix(m, "+")
		ok := len(digits) >= 5 && len(digits) <= 20
		for _, r := range digits {
			ok = ok && r >= '0' && r <= '9'
		}
		if !ok {
			bad(fmt.Sprintf("%s[%d]", path, i), "%q is not a phone number (digits, optional leading +)", m)
		}
	}
}
