package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
)

const (
	token  = "2b6c3a9e-0f1d-4c7b-9a55-fe1b5c0d7e21"
	secret = "feishu-secret"
)

// newBot starts a Feishu custom bot hook: token in the path, signature and
// timestamp in the body (one-hour window), 20 KB body limit, 5 messages a
// second, and 200 answers with a code.
func newBot(t *testing.T, secret string, clock clockwork.Clock) *channeltest.Server {
	var mu sync.Mutex
	perSec := map[int64]int{}
	return channeltest.NewServer(t, channeltest.Platform{
		// Feishu's success answer still carries the old StatusCode fields.
		OK: `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`,
		Reply: func(code int, msg string) any {
			return map[string]any{"code": code, "msg": msg, "data": map[string]any{}}
		},
		Check: func(r *http.Request, raw []byte, body map[string]any) (int, string) {
			if r.Method != http.MethodPost || r.URL.Path != "/open-apis/bot/v2/hook/"+token {
				return 19001, "param invalid: incoming webhook access token invalid"
			}
			if len(raw) > MaxBody || body == nil {
				return 9499, "Bad Request"
			}
			if secret != "" {
				tsText, _ := body["timestamp"].(string)
				sign, _ := body["sign"].(string)
				ts, err := strconv.ParseInt(tsText, 10, 64)
				mac := hmac.New(sha256.New, []byte(tsText+"\n"+secret))
				want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
				age := clock.Now().Sub(time.Unix(ts, 0))
				if err != nil || sign != want || age > time.Hour || age < -time.Hour {
					return 19021, "sign match fail or timestamp is not within one hour from current time"
				}
			}
			mu.Lock()
			defer mu.Unlock()
			sec := clock.Now().Unix()
			if perSec[sec] >= 5 {
				return 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"
			}
			perSec[sec]++
			return 0, ""
		},
	})
}

func TestSign(t *testing.T) {
	// Known answer from Python's hmac and base64.
	if got, want := Sign([]byte(secret), 1795680300), "lYI6W1SgRdzEVY44xvmqtUSIL6fRCq1ES9xA0w9Ce7Y="; got != want {
		t.Errorf("Sign: got %q, want %q", got, want)
	}
}

func TestNotifyCards(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	tests := []struct {
		name   string
		golden string
		cfg    Config
		n      *channel.Notification
		want   map[string]string // top-level field or card path → JSON
	}{
		{
			name: "firing group", golden: "firing.golden",
			n: channeltest.Notification(channeltest.Phone(channel.StatusFiring), channeltest.Stale()),
			want: map[string]string{
				"timestamp": `"1795680300"`,
				"sign":      `"lYI6W1SgRdzEVY44xvmqtUSIL6fRCq1ES9xA0w9Ce7Y="`,
				"msg_type":  `"interactive"`,
				"header":    `{"template":"red","title":{"content":"【告警】紧急 隐私泄露：手机号码 等2条","tag":"plain_text"}}`,
				"config":    `{"wide_screen_mode":true}`,
				"tags":      `["div","action","hr","div"]`,
				"actions":   `[{"tag":"button","text":{"content":"确认告警","tag":"plain_text"},"type":"primary","url":"https://govwatch.example.gov.cn/ack/3f2a?sig=abc"},{"tag":"button","text":{"content":"标记已处理","tag":"plain_text"},"type":"default","url":"https://govwatch.example.gov.cn/resolve/3f2a?sig=def"},{"tag":"button","text":{"content":"查看原文","tag":"plain_text"},"type":"default","url":"https://www.toutiao.com/article/7301/"}]`,
			},
		},
		{
			name: "resolved", golden: "resolved.golden",
			n: channeltest.Notification(channeltest.Phone(channel.StatusResolved)),
			want: map[string]string{
				"header":  `{"template":"green","title":{"content":"【恢复】隐私泄露：手机号码","tag":"plain_text"}}`,
				"tags":    `["div","action"]`,
				"actions": `[{"tag":"button","text":{"content":"查看原文","tag":"plain_text"},"type":"default","url":"https://www.toutiao.com/article/7301/"}]`,
			},
		},
		{
			name: "mention all", golden: "mention.golden",
			cfg: Config{AtAll: true, AtUserIDs: []string{"ou_7d8a6e6df7621556ce0d21922b676706"}},
			n:   channeltest.Notification(channeltest.Stale()),
			want: map[string]string{
				"header": `{"template":"red","title":{"content":"【告警】紧急 账号更新：2 周内无更新","tag":"plain_text"}}`,
				"tags":   `["div","hr","div"]`,
			},
		},
		{
			name: "template override", golden: "custom.golden",
			cfg:  Config{Template: `{{define "title"}}政务新媒体监测{{end}}{{define "text"}}{{range .Alerts}}{{.CategoryName}}：{{.Summary}}{{end}}{{end}}`},
			n:    channeltest.Notification(channeltest.Phone(channel.StatusFiring)),
			want: map[string]string{"header": `{"template":"orange","title":{"content":"政务新媒体监测","tag":"plain_text"}}`},
		},
		{
			name: "report first", golden: "report.golden",
			n:    channeltest.WithReport(),
			want: map[string]string{"tags": `["div","hr","div","action"]`},
		},
		{
			name: "hostile text neutralised", golden: "hostile.golden",
			n:    channeltest.Notification(channeltest.Hostile()),
			want: map[string]string{"tags": `["div"]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := newBot(t, secret, clock)
			tt.cfg.URL = bs.URL + "/open-apis/bot/v2/hook/"
			f, err := New(tt.cfg, Options{Token: token, Secret: []byte(secret), Clock: clock})
			channeltest.Notify(t, f, err, tt.n)
			body := bs.Last(t).Body
			cardMap, _ := body["card"].(map[string]any)
			elements, _ := cardMap["elements"].([]any)
			var tags []string
			var texts []string
			var actions any
			for _, e := range elements {
				em := e.(map[string]any)
				tags = append(tags, em["tag"].(string))
				if txt, ok := em["text"].(map[string]any); ok {
					if txt["tag"] != "lark_md" {
						t.Errorf("div text tag: got %v, want lark_md", txt["tag"])
					}
					texts = append(texts, txt["content"].(string))
				}
				if a, ok := em["actions"]; ok && actions == nil {
					actions = a
				}
			}
			got := map[string]any{
				"timestamp": body["timestamp"], "sign": body["sign"], "msg_type": body["msg_type"],
				"header": cardMap["header"], "config": cardMap["config"], "tags": tags, "actions": actions,
			}
			for k, want := range tt.want {
				if g := channeltest.JSON(got[k]); g != want {
					t.Errorf("%s: got %s, want %s", k, g, want)
				}
			}
			channeltest.Golden(t, tt.golden, strings.Join(texts, "\n----\n"))
		})
	}
}

func TestNotifyKeepsUnder20KB(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	bs := newBot(t, secret, clock)
	var alerts []channel.AlertState
	for i := range 30 {
		a := channeltest.Phone(channel.StatusFiring)
		a.Labels["post_id"] = fmt.Sprint(i)
		a.Annotations["evidence"] = strings.Repeat("证据", 200)
		alerts = append(alerts, a)
	}
	f, err := New(Config{URL: bs.URL + "/open-apis/bot/v2/hook"}, Options{Token: token, Secret: []byte(secret), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Notify(context.Background(), channeltest.Notification(alerts...)); err != nil {
		t.Fatalf("Notify: %v (the bot refuses bodies over 20 KB)", err)
	}
	elements := bs.Last(t).Body["card"].(map[string]any)["elements"].([]any)
	note := elements[len(elements)-1].(map[string]any)["text"].(map[string]any)["content"].(string)
	if !strings.HasPrefix(note, "…另有 ") || !strings.HasSuffix(note, " 条告警未显示") {
		t.Errorf("last element %q, want the note of alerts left out", note)
	}
	if size := bs.Requests()[0].Size; size > MaxBody || size < MaxBody/2 {
		t.Errorf("body is %d bytes, want close to but under %d", size, MaxBody)
	}
}

func TestNotifyErrors(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	tests := []struct {
		name      string
		botSecret string
		tok       string
		skew      time.Duration
		answer    string
		retryable bool
		wantInErr string
	}{
		{name: "bad signature", botSecret: "other", tok: token, wantInErr: "feishu error 19021: sign match fail"},
		{name: "stale timestamp", botSecret: secret, tok: token, skew: -61 * time.Minute, wantInErr: "19021"},
		{name: "bad token", botSecret: secret, tok: "wrong-token", wantInErr: "19001"},
		{name: "bad request", botSecret: secret, tok: token, answer: `{"code":9499,"msg":"Bad Request","data":{}}`, wantInErr: "9499"},
		{name: "keyword", botSecret: secret, tok: token, answer: `{"code":19024,"msg":"Key Words Not Found"}`, wantInErr: "Key Words Not Found"},
		{name: "frequency limited", botSecret: secret, tok: token, answer: `{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]"}`, retryable: true, wantInErr: "11232"},
		{name: "no code", botSecret: secret, tok: token, answer: `{}`, retryable: true, wantInErr: "without a code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := newBot(t, tt.botSecret, clock)
			bs.Answer = tt.answer
			f, err := New(Config{URL: bs.URL + "/open-apis/bot/v2/hook/"}, Options{Token: tt.tok, Secret: []byte(secret), Clock: clockwork.NewFakeClockAt(channeltest.Now.Add(tt.skew))})
			if err != nil {
				t.Fatal(err)
			}
			err = f.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
			channeltest.Failure(t, err, tt.retryable, tt.wantInErr, tt.tok, secret)
		})
	}
}

func TestRateLimitPerSecondSharedByTwoChannels(t *testing.T) {
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	st := channeltest.Store(t, clock)
	bs := newBot(t, "", clock)
	chans := channeltest.Replicas(t, 2, st, clock, func(l *ratelimit.Limiter) (*Feishu, error) {
		return New(Config{URL: bs.URL + "/open-apis/bot/v2/hook/"}, Options{Token: token, Limiter: l, Clock: clock})
	})
	n := channeltest.Notification(channeltest.Stale())
	limited := channeltest.SendInTurn(t, chans, n, 8)
	if got := bs.Count(); got != 5 || limited != 3 {
		t.Errorf("got %d delivered and %d limited in one second, want 5 and 3", got, limited)
	}

	// Without the limiter the bot's own limit answers 11232, retryably.
	unlimited, err := New(Config{URL: bs.URL + "/open-apis/bot/v2/hook/"}, Options{Token: token, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	if err := unlimited.Notify(context.Background(), n); err == nil || !channel.Retryable(err) || !strings.Contains(err.Error(), "11232") {
		t.Errorf("6th message in a second without a limiter: got %v, want Feishu's retryable 11232", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		{Name: "no token"},
		{Name: "token with a path", Options: Options{Token: "a/b"}},
		{Name: "bad url", Config: Config{URL: "open.feishu.cn"}, Options: Options{Token: token}},
		{Name: "bad user id", Config: Config{AtUserIDs: []string{`x" onclick="`}}, Options: Options{Token: token}},
		{Name: "broken template", Config: Config{Template: `{{define "title"}}{{.Nope}}{{end}}`}, Options: Options{Token: token}},
	})
}
