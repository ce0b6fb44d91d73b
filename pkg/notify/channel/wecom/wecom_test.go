package wecom

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

const key = "693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"

// newRobot starts WeCom's group robot: it checks the key and the message
// against WeCom's rules, counts its own 20 a minute, and answers 200 with an
// errcode. Its minute never ends: tests of the limit stay within one.
func newRobot(t *testing.T) *channeltest.Server {
	var rs *channeltest.Server
	rs = channeltest.NewServer(t, channeltest.Platform{
		Path:  "/cgi-bin/webhook/send",
		OK:    `{"errcode":0,"errmsg":"ok"}`,
		Reply: func(code int, msg string) any { return map[string]any{"errcode": code, "errmsg": msg} },
		Check: func(r *http.Request, _ []byte, body map[string]any) (int, string) {
			if r.URL.Query().Get("key") != key {
				return 93000, "invalid webhook url, hint: [1764144300016330106720716], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"
			}
			if body == nil {
				return 40035, "invalid parameter"
			}
			switch body["msgtype"] {
			case "markdown":
				content, _ := body["markdown"].(map[string]any)["content"].(string)
				if len(content) > MaxMarkdown {
					return 40058, fmt.Sprintf("markdown.content exceed max length %d", MaxMarkdown)
				}
			case "text":
			default:
				return 40008, "invalid message type"
			}
			if rs.Count() >= 20 {
				return 45009, "api freq out of limit"
			}
			return 0, ""
		},
	})
	return rs
}

// received are the bodies of the messages the robot accepted.
func received(rs *channeltest.Server) []map[string]any {
	var bodies []map[string]any
	for _, r := range rs.Requests() {
		bodies = append(bodies, r.Body)
	}
	return bodies
}

func TestNotifyMessages(t *testing.T) {
	withMentions := channeltest.Notification(channeltest.Phone(channel.StatusFiring))
	withMentions.Recipients = []channel.Person{{Name: "值班员", Mobile: "13800138000"}}
	tests := []struct {
		name   string
		golden string
		cfg    Config
		n      *channel.Notification
		want   []string // the messages' JSON, except markdown content (golden)
	}{
		{
			name: "firing group", golden: "firing.golden",
			n:    channeltest.Notification(channeltest.Phone(channel.StatusFiring), channeltest.Stale()),
			want: []string{`{"markdown":{},"msgtype":"markdown"}`},
		},
		{
			name: "resolved", golden: "resolved.golden",
			n:    channeltest.Notification(channeltest.Phone(channel.StatusResolved)),
			want: []string{`{"markdown":{},"msgtype":"markdown"}`},
		},
		{
			name: "mentions go first as text", golden: "mentions.golden",
			cfg: Config{MentionMobiles: []string{"13900000001"}, MentionAll: true},
			n:   withMentions,
			want: []string{
				`{"msgtype":"text","text":{"content":"【告警】重要 隐私泄露：手机号码，请及时处理。","mentioned_mobile_list":["13900000001","13800138000","@all"]}}`,
				`{"markdown":{},"msgtype":"markdown"}`,
			},
		},
		{
			name: "template override", golden: "custom.golden",
			cfg:  Config{Template: `{{define "text"}}<font color="{{.Color}}">{{range .Alerts}}{{.CategoryName}}{{end}}</font>{{end}}`},
			n:    channeltest.Notification(channeltest.Stale()),
			want: []string{`{"markdown":{},"msgtype":"markdown"}`},
		},
		{
			name: "report", golden: "report.golden",
			n: channeltest.WithReport(),
			want: []string{
				`{"msgtype":"text","text":{"content":"【告警】重要 隐私泄露：手机号码，请及时处理。","mentioned_mobile_list":["13700000000"]}}`,
				`{"markdown":{},"msgtype":"markdown"}`,
			},
		},
		{
			name: "hostile text neutralised", golden: "hostile.golden",
			n:    channeltest.Notification(channeltest.Hostile()),
			want: []string{`{"markdown":{},"msgtype":"markdown"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRobot(t)
			tt.cfg.URL = rs.URL + "/cgi-bin/webhook/send"
			w, err := New(tt.cfg, Options{Key: key})
			channeltest.Notify(t, w, err, tt.n)
			got := received(rs)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(got), len(tt.want))
			}
			var content string
			for i, body := range got {
				if md, ok := body["markdown"].(map[string]any); ok {
					content, _ = md["content"].(string)
					delete(md, "content")
				}
				if g := channeltest.JSON(body); g != tt.want[i] {
					t.Errorf("message %d: got %s, want %s", i, g, tt.want[i])
				}
			}
			channeltest.Golden(t, tt.golden, content)
		})
	}
}

func TestNotifyTruncatesAt4096Bytes(t *testing.T) {
	rs := newRobot(t)
	var alerts []channel.AlertState
	for i := range 40 {
		a := channeltest.Phone(channel.StatusFiring)
		a.Labels["post_id"] = fmt.Sprint(i)
		alerts = append(alerts, a)
	}
	w, err := New(Config{URL: rs.URL + "/cgi-bin/webhook/send"}, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Notify(context.Background(), channeltest.Notification(alerts...)); err != nil {
		t.Fatalf("Notify: %v (the robot refuses content over 4096 bytes)", err)
	}
	content := received(rs)[0]["markdown"].(map[string]any)["content"].(string)
	if len(content) > MaxMarkdown || len(content) < MaxMarkdown-3 {
		t.Errorf("content is %d bytes, want 4093 to 4096", len(content))
	}
	if !utf8.ValidString(content) || !strings.HasSuffix(content, "（内容过长，已截断）") {
		t.Errorf("content ends %q, want valid UTF-8 ending with the cut note", content[len(content)-40:])
	}
}

func TestNotifyErrors(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		status    int
		answer    string
		retryable bool
		wantInErr string
	}{
		{name: "invalid key", key: "wrong-key", retryable: false, wantInErr: "wecom error 93000: invalid webhook url"},
		{name: "frequency limit", key: key, answer: `{"errcode":45009,"errmsg":"api freq out of limit"}`, retryable: true, wantInErr: "45009"},
		{name: "system busy", key: key, answer: `{"errcode":-1,"errmsg":"system busy"}`, retryable: true, wantInErr: "system busy"},
		{name: "bad content", key: key, answer: `{"errcode":44004,"errmsg":"empty content"}`, retryable: false, wantInErr: "44004"},
		{name: "no errcode", key: key, answer: `ok`, retryable: true, wantInErr: "without an errcode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := newRobot(t)
			rs.Answer = tt.answer
			w, err := New(Config{URL: rs.URL + "/cgi-bin/webhook/send"}, Options{Key: tt.key})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
			channeltest.Failure(t, err, tt.retryable, tt.wantInErr, tt.key, "hint")
		})
	}
}

// TestRateLimitSharedOverRedis: two replicas' channels for one robot share
// its 20 a minute through Redis, so the robot never answers 45009; without
// the limiter the 21st message is refused by the robot, retryably.
func TestRateLimitSharedOverRedis(t *testing.T) {
	addr := redistest.Start(t)
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := clockwork.NewFakeClockAt(channeltest.Now)
	rs := newRobot(t)
	chans := channeltest.Replicas(t, 2, st, clock, func(l *ratelimit.Limiter) (*WeCom, error) {
		return New(Config{URL: rs.URL + "/cgi-bin/webhook/send"}, Options{Key: key, Limiter: l})
	})
	n := channeltest.Notification(channeltest.Stale())
	limited := channeltest.SendInTurn(t, chans, n, 24)
	if got := len(received(rs)); got != 20 || limited != 4 {
		t.Errorf("got %d delivered and %d limited, want 20 and 4", got, limited)
	}

	unlimited, err := New(Config{URL: rs.URL + "/cgi-bin/webhook/send"}, Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	err = unlimited.Notify(context.Background(), n)
	if err == nil || !channel.Retryable(err) || !strings.Contains(err.Error(), "45009") {
		t.Errorf("21st message without a limiter: got %v, want WeCom's retryable 45009", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		{Name: "no key"},
		{Name: "relative url", Config: Config{URL: "qyapi.weixin.qq.com"}, Options: Options{Key: key}},
		{Name: "broken mention template", Config: Config{Template: `{{define "mention"}}{{.Nope}}{{end}}`}, Options: Options{Key: key}},
	})
}
