package daemon

import (
	"fmt"
	"io"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/console"
	"github.com/govwatch/govwatch/pkg/notify/channel/dingtalk"
	"github.com/govwatch/govwatch/pkg/notify/channel/email"
	"github.com/govwatch/govwatch/pkg/notify/channel/feishu"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/notify/channel/sms"
	"github.com/govwatch/govwatch/pkg/notify/channel/webhook"
	"github.com/govwatch/govwatch/pkg/notify/channel/wecom"
)

// ChannelDeps is what building a receiver's channels needs besides its
// configuration.
type ChannelDeps struct {
	// Limiter keeps the chat robots' rate limits, shared through the
	// store; nil keeps none.
	Limiter *ratelimit.Limiter
	// Clock signs DingTalk and Feishu requests and dates mail; nil is the
	// real clock.
	Clock clockwork.Clock
	// Stdout is where the console channel writes.
	Stdout io.Writer
}

// ReceiverChannels builds every channel of receiver rc, reading its secrets
// from their files or environment variables. The notifier and
// `govwatch notify test` build receivers with it.
func ReceiverChannels(cfg *config.Loaded, rc config.ReceiverConfig, deps ChannelDeps) ([]channel.Channel, error) {
	if deps.Clock == nil {
		deps.Clock = clockwork.NewRealClock()
	}
	secret := cfg.Secret
	var b builder
	if c := rc.Console; c != nil {
		b.add("console", func() (channel.Channel, error) {
			return console.New(console.Config{Template: c.Template}, deps.Stdout)
		})
	}
	if c := rc.Webhook; c != nil {
		b.add("webhook", func() (channel.Channel, error) {
			s, err := secret(c.SecretFile, c.SecretEnv)
			if err != nil {
				return nil, err
			}
			return webhook.New(webhook.Config{URL: c.URL, MaxAlerts: c.MaxAlerts, Timeout: c.Timeout.D()},
				webhook.Options{Secret: s, Now: deps.Clock.Now})
		})
	}
	if c := rc.DingTalk; c != nil {
		b.add("dingtalk", func() (channel.Channel, error) {
			token, err := secret(c.AccessTokenFile, c.AccessTokenEnv)
			if err != nil {
				return nil, err
			}
			s, err := secret(c.SecretFile, c.SecretEnv)
			if err != nil {
				return nil, err
			}
			return dingtalk.New(dingtalk.Config{
				URL: c.URL, Message: c.Message, AtMobiles: c.AtMobiles, AtAll: c.AtAll,
				Template: c.Template, Timeout: c.Timeout.D(),
			}, dingtalk.Options{AccessToken: string(token), Secret: s, Limiter: deps.Limiter, Clock: deps.Clock})
		})
	}
	if c := rc.WeCom; c != nil {
		b.add("wecom", func() (channel.Channel, error) {
			key, err := secret(c.KeyFile, c.KeyEnv)
			if err != nil {
				return nil, err
			}
			return wecom.New(wecom.Config{
				URL: c.URL, MentionMobiles: c.MentionMobiles, MentionAll: c.MentionAll,
				Template: c.Template, Timeout: c.Timeout.D(),
			}, wecom.Options{Key: string(key), Limiter: deps.Limiter})
		})
	}
	if c := rc.Feishu; c != nil {
		b.add("feishu", func() (channel.Channel, error) {
			token, err := secret(c.TokenFile, c.TokenEnv)
			if err != nil {
				return nil, err
			}
			s, err := secret(c.SecretFile, c.SecretEnv)
			if err != nil {
				return nil, err
			}
			return feishu.New(feishu.Config{
				URL: c.URL, AtAll: c.AtAll, AtUserIDs: c.AtUserIDs, Template: c.Template, Timeout: c.Timeout.D(),
			}, feishu.Options{Token: string(token), Secret: s, Limiter: deps.Limiter, Clock: deps.Clock})
		})
	}
	if c := rc.Email; c != nil {
		b.add("email", func() (channel.Channel, error) {
			pw, err := secret(c.PasswordFile, c.PasswordEnv)
			if err != nil {
				return nil, err
			}
			return email.New(email.Config{
				Host: c.Host, Port: c.Port, TLS: c.TLS, From: c.From, To: c.To, Username: c.Username,
				Template: c.Template, HTMLTemplate: c.HTMLTemplate, Timeout: c.Timeout.D(),
			}, email.Options{Password: pw, Clock: deps.Clock})
		})
	}
	if c := rc.SMS; c != nil {
		b.add("sms", func() (channel.Channel, error) {
			s, err := secret(c.SecretFile, c.SecretEnv)
			if err != nil {
				return nil, err
			}
			return sms.New(sms.Config{
				URL: c.URL, Method: c.Method, Headers: c.Headers, Body: c.Body, ContentType: c.ContentType,
				Phones: c.Phones, Template: c.Template, SuccessField: c.SuccessField, SuccessValue: c.SuccessValue,
				RetryValues: c.RetryValues, MaxSegments: c.MaxSegments, Timeout: c.Timeout.D(),
			}, sms.Options{Secret: s})
		})
	}
	if b.err != nil {
		return nil, fmt.Errorf("receiver %s: %w", rc.Name, b.err)
	}
	return b.chans, nil
}

// builder collects channels until the first one that fails to build.
type builder struct {
	chans []channel.Channel
	err   error
}

func (b *builder) add(kind string, build func() (channel.Channel, error)) {
	if b.err != nil {
		return
	}
	ch, err := build()
	if err != nil {
		b.err = fmt.Errorf("%s: %w", kind, err)
		return
	}
	b.chans = append(b.chans, ch)
}
