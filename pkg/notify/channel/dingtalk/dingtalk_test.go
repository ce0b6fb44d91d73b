package dingtalk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
)

const (
	token  = "d1ngt0ken"
	secret = "SECtest-secret"
)

// newRobot starts DingTalk's robot endpoint: it checks the token and, when
// it has a secret, the signature and its one-hour window, and answers 200
// with an errcode as DingTalk does.
func newRobot(t *testing.T, secret string, clock clockwork.Clock) *channeltest.Server {
	return channeltest.NewServer(t, channeltest.Platform{
		Path:  "/robot/send",
		OK:    `{"errcode":0,"errmsg":"ok"}`,
		Reply: func(code int, msg string) any { return map[string]any{"errcode": code, "errmsg": msg} },
		Check: func(r *http.Request, _ []byte, body map[string]any) (int, string) {
			q := r.URL.Query()
			if q.Get("access_token") != token {
				return 300001, "token is not exist"
			}
			if secret != "" {
				ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
				mac := hmac.New(sha256.New, []byte(secret))
				mac.Write([]byte(q.Get("timestamp") + "\n" + secret))
				want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
				age := clock.Now().Sub(time.UnixMilli(ts))
				if err != nil || q.Get("sign") != want || age > time.Hour || age < -time.Hour {
					return 310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"
				}
			}
			if body == nil {
				return 400000, "invalid json"
			}
			return 0, ""
		},
	})
}

func TestSign(t *testing.T) {
	// Known answer from Python's hmac and base64, so the scheme cannot
	// drift with the code.
	if got, want := Sign([]byte(secret), 1795680300000), "vkix0clg5Qls47ategqhsBXCgtShqMlWLEnnNQ5iDZQ="; got != want {
		t.Errorf("Sign: got %q, want %q", got, want)
	}
}

func TestNotifyMessages(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	tests := []struct {
		name   string
		golden string
		cfg    Config
		n      *channel.Notification
		want   map[string]any // JSON paths → values
	}{
		{
			name:   "markdown firing group",
			golden: "markdown.golden",
			n:      channeltest.Notification(channeltest.Phone(channel.StatusFiring), channeltest.Stale()),
			want: map[string]any{
				"msgtype":        "markdown",
				"markdown.title": "【告警】紧急 隐私泄露：手机号码 等2条",
				"at":             nil,
			},
		},
		{
			name:   "action card with buttons",
			golden: "actioncard.golden",
			cfg:    Config{Message: ActionCard},
			n:      channeltest.Notification(channeltest.Phone(channel.StatusFiring)),
			want: map[string]any{
				"msgtype":                   "actionCard",
				"actionCard.title":          "【告警】重要 隐私泄露：手机号码",
				"actionCard.btnOrientation": "1",
				"actionCard.btns": []any{
					map[string]any{"title": "查看原文", "actionURL": "https://www.toutiao.com/article/7301/"},
					map[string]any{"title": "确认告警", "actionURL": "https://govwatch.example.gov.cn/ack/3f2a?sig=abc"},
					map[string]any{"title": "标记已处理", "actionURL": "https://govwatch.example.gov.cn/resolve/3f2a?sig=def"},
				},
			},
		},
		{
			name:   "resolved",
			golden: "resolved.golden",
			n:      channeltest.Notification(channeltest.Phone(channel.StatusResolved)),
			want:   map[string]any{"msgtype": "markdown", "markdown.title": "【恢复】隐私泄露：手机号码"},
		},
		{
			name:   "mentions force markdown",
			golden: "mentions.golden",
			cfg:    Config{Message: ActionCard, AtMobiles: []string{"13900000001"}},
			n: func() *channel.Notification {
				n := channeltest.Notification(channeltest.Phone(channel.StatusFiring))
				n.Recipients = []channel.Person{{Name: "值班员", Mobile: "13800138000"}, {Name: "重复", Mobile: "13900000001"}, {Name: "坏号码", Mobile: "138)[x]"}}
				return n
			}(),
			want: map[string]any{
				"msgtype":      "markdown",
				"at.atMobiles": []any{"13900000001", "13800138000"},
				"at.isAtAll":   false,
			},
		},
		{
			name:   "template override",
			golden: "custom.golden",
			cfg:    Config{Template: `{{define "text"}}政务新媒体监测：{{range .Alerts}}{{.CategoryName}} {{.AccountName}}{{end}}{{end}}`},
			n:      channeltest.Notification(channeltest.Phone(channel.StatusFiring)),
			want:   map[string]any{"markdown.title": "【告警】重要 隐私泄露：手机号码"},
		},
		{
			name:   "report to a superior department",
			golden: "report.golden",
			n:      channeltest.WithReport(),
			want:   map[string]any{"msgtype": "markdown", "at.atMobiles": []any{"13700000000"}},
		},
		{
			name:   "hostile text neutralised",
			golden: "hostile.golden",
			n:      channeltest.Notification(channeltest.Hostile()),
			want:   map[string]any{"at": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRobot(t, secret, clock)
			tt.cfg.URL = rs.URL + "/robot/send"
			d, err := New(tt.cfg, Options{AccessToken: token, Secret: []byte(secret), Clock: clock})
			channeltest.Notify(t, d, err, tt.n)
			last := rs.Last(t)
			body, query := last.Body, last.Query
			if !strings.Contains(query, "timestamp=1795680300000") || !strings.Contains(query, "sign=vkix0clg5Qls47ategqhsBXCgtShqMlWLEnnNQ5iDZQ%3D") {
				t.Errorf("query %q: want the timestamp in ms and the URL-encoded signature", query)
			}
			for path, want := range tt.want {
				if got := channeltest.Field(t, body, path); channeltest.JSON(got) != channeltest.JSON(want) {
					t.Errorf("%s: got %s, want %s", path, channeltest.JSON(got), channeltest.JSON(want))
				}
			}
			path := "markdown.text"
			if body["msgtype"] == "actionCard" {
				path = "actionCard.text"
			}
			text, _ := channeltest.Field(t, body, path).(string)
			channeltest.Golden(t, tt.golden, text)
		})
	}
}

func TestNotifyErrors(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	tests := []struct {
		name      string
		secret    string // the robot's; the channel always signs with secret
		token     string
		skew      time.Duration // the channel's clock minus the robot's
		status    int
		answer    string
		retryable bool
		wantInErr string
	}{
		{name: "bad signature", secret: "SECother", token: token, retryable: false, wantInErr: "310000"},
		{name: "timestamp outside the hour", secret: secret, token: token, skew: -2 * time.Hour, retryable: false, wantInErr: "310000"},
		{name: "unknown token", secret: secret, token: "wrong", retryable: false, wantInErr: "300001"},
		{name: "too fast", secret: secret, token: token, answer: `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, retryable: true, wantInErr: "send too fast"},
		{name: "throttled 10 minutes", secret: secret, token: token, answer: `{"errcode":410100,"errmsg":"发送速度太快而限流"}`, retryable: true, wantInErr: "410100"},
		{name: "system busy", secret: secret, token: token, answer: `{"errcode":-1,"errmsg":"系统繁忙"}`, retryable: true, wantInErr: "-1"},
		{name: "keyword missing", secret: secret, token: token, answer: `{"errcode":310000,"errmsg":"keywords not in content"}`, retryable: false, wantInErr: "keywords not in content"},
		{name: "no errcode", secret: secret, token: token, answer: `<html>gateway</html>`, retryable: true, wantInErr: "without an errcode"},
		{name: "http 502", secret: secret, token: token, status: 502, answer: "bad gateway", retryable: true, wantInErr: "502"},
		{name: "http 404", secret: secret, token: token, status: 404, answer: "not found", retryable: false, wantInErr: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRobot(t, tt.secret, clock)
			rs.Status, rs.Answer = tt.status, tt.answer
			chClock := clockwork.NewFakeClockAt(channeltest.Now.Add(tt.skew))
			d, err := New(Config{URL: rs.URL + "/robot/send"}, Options{AccessToken: tt.token, Secret: []byte(secret), Clock: chClock})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			err = d.Notify(context.Background(), channeltest.Notification(channeltest.Phone(channel.StatusFiring)))
			channeltest.Failure(t, err, tt.retryable, tt.wantInErr, token, "wrong", secret, "access_token")
		})
	}
}

func TestNotifyNetworkErrorHidesToken(t *testing.T) {
	d, err := New(Config{URL: channeltest.ClosedURL(t) + "/robot/send"}, Options{AccessToken: token})
	if err != nil {
		t.Fatal(err)
	}
	err = d.Notify(context.Background(), channeltest.Notification(channeltest.Phone(channel.StatusFiring)))
	channeltest.Failure(t, err, true, "", token)
}

func TestRateLimitSharedByTwoChannels(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	st := channeltest.Store(t, clock)
	rs := newRobot(t, "", clock)
	// Two replicas' channels for the same robot, each with its own limiter
	// over the shared store.
	chans := channeltest.Replicas(t, 2, st, clock, func(l *ratelimit.Limiter) (*DingTalk, error) {
		return New(Config{URL: rs.URL + "/robot/send"}, Options{AccessToken: token, Limiter: l, Clock: clock})
	})
	n := channeltest.Notification(channeltest.Phone(channel.StatusFiring))
	limited := channeltest.SendInTurn(t, chans, n, 30)
	if got := rs.Count(); got != 20 {
		t.Errorf("robot received %d messages in a minute, want 20", got)
	}
	if limited != 10 {
		t.Errorf("got %d rate-limited sends, want 10", limited)
	}
	clock.Advance(2 * time.Minute)
	if err := chans[0].Notify(context.Background(), n); err != nil {
		t.Errorf("after two minutes: got %v, want nil", err)
	}
}

func TestNotifyTruncatesLongText(t *testing.T) {
	rs := newRobot(t, "", nil)
	a := channeltest.Phone(channel.StatusFiring)
	a.Annotations["evidence"] = strings.Repeat("超长证据", 3000)
	n := channeltest.Notification(a)
	n.Recipients = []channel.Person{{Mobile: "13800138000"}}
	d, err := New(Config{URL: rs.URL + "/robot/send"}, Options{AccessToken: token})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	body := rs.Last(t).Body
	text := channeltest.Field(t, body, "markdown.text").(string)
	if len(text) > MaxText {
		t.Errorf("text is %d bytes, want at most %d", len(text), MaxText)
	}
	if !strings.HasSuffix(text, "（内容过长，已截断）\n\n@13800138000") {
		t.Errorf("text ends %q, want the cut note then the mention", text[len(text)-60:])
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		{Name: "no token"},
		{Name: "bad url", Config: Config{URL: "ftp://x"}, Options: Options{AccessToken: token}},
		{Name: "bad message", Config: Config{Message: "text"}, Options: Options{AccessToken: token}},
		{Name: "broken template", Config: Config{Template: `{{define "text"}}{{.Nope}}{{end}}`}, Options: Options{AccessToken: token}},
	})
}
