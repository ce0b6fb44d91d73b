package robot

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
)

func TestPost(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		answer    string
		location  string
		wantErr   bool
		retryable bool
	}{
		{"200", 200, `{"errcode":0}`, "", false, false},
		{"302 is not followed", 302, "moved", "https://elsewhere.example/", true, false},
		{"400", 400, "bad", "", true, false},
		{"429", 429, "slow down", "", true, true},
		{"500", 500, strings.Repeat("x", 500), "", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotType string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotType = r.Header.Get("Content-Type")
				if tt.location != "" {
					w.Header().Set("Location", tt.location)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			body, err := Post(context.Background(), NewClient(), "test", srv.URL+"/send?access_token=t0ken", []byte(`{}`), 0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if gotType != "application/json; charset=utf-8" {
				t.Errorf("Content-Type: got %q", gotType)
			}
			if err == nil {
				if string(body) != tt.answer {
					t.Errorf("body: got %q, want %q", body, tt.answer)
				}
				return
			}
			if got := channel.Retryable(err); got != tt.retryable {
				t.Errorf("Retryable(%v) = %v, want %v", err, got, tt.retryable)
			}
			if strings.Contains(err.Error(), "t0ken") {
				t.Errorf("error %q leaks the token", err)
			}
			if len(err.Error()) > 260 {
				t.Errorf("error is %d bytes, want the answer cut to 200", len(err.Error()))
			}
		})
	}
}

func TestPostTimeoutHidesURL(t *testing.T) {
	_, err := Post(context.Background(), NewClient(), "test", channeltest.StalledURL(t)+"/?key=t0ken", []byte(`{}`), 50*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || !channel.Retryable(err) || strings.Contains(err.Error(), "t0ken") {
		t.Errorf("got %v, want a retryable deadline error without the token", err)
	}
}

func TestEncodeKeepsMarkup(t *testing.T) {
	b, err := Encode(map[string]string{"content": `<font color="info">a & b</font>`})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"content":"<font color=\"info\">a & b</font>"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestClassify(t *testing.T) {
	retry := map[int64]bool{45009: true}
	if err := Classify(&Error{Platform: "wecom", Code: 45009, Msg: "api freq out of limit"}, retry); !channel.Retryable(err) {
		t.Errorf("45009: got permanent, want retryable")
	}
	err := Classify(&Error{Platform: "wecom", Code: 93000, Msg: "invalid webhook url"}, retry)
	if channel.Retryable(err) || err.Error() != "wecom error 93000: invalid webhook url" {
		t.Errorf("93000: got %q (retryable %v), want a permanent error naming the code", err, channel.Retryable(err))
	}
}

func TestJudge(t *testing.T) {
	dingtalk := &Platform{Name: "dingtalk", Answer: ErrCode, Retryable: map[int64]bool{130101: true}}
	feishu := &Platform{Name: "feishu", Answer: Code}
	trimmed := &Platform{Name: "wecom", Answer: ErrCode, Msg: func(m string) string { return strings.TrimSuffix(m, ", hint: x") }}
	tests := []struct {
		name      string
		p         *Platform
		answer    string
		wantErr   string // empty: accepted
		retryable bool
	}{
		{"accepted", dingtalk, `{"errcode":0,"errmsg":"ok"}`, "", false},
		{"accepted by code", feishu, `{"StatusCode":0,"code":0,"msg":"success"}`, "", false},
		{"retryable code", dingtalk, `{"errcode":130101,"errmsg":"send too fast"}`, "dingtalk error 130101: send too fast", true},
		{"permanent code", dingtalk, `{"errcode":310000,"errmsg":"keywords not in content"}`, "dingtalk error 310000: keywords not in content", false},
		{"message rewritten", trimmed, `{"errcode":93000,"errmsg":"invalid webhook url, hint: x"}`, "wecom error 93000: invalid webhook url", false},
		{"no errcode", dingtalk, `<html>gateway</html>`, `dingtalk answered without an errcode: "<html>gateway</html>"`, true},
		{"null errcode", dingtalk, `{"errcode":null}`, "without an errcode", true},
		{"other platform's field", feishu, `{"errcode":0}`, "feishu answered without a code", true},
		{"message not text", dingtalk, `{"errcode":1,"errmsg":{}}`, "without an errcode", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Judge([]byte(tt.answer))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || channel.Retryable(err) != tt.retryable {
				t.Errorf("got %v (retryable %v), want %q (retryable %v)", err, channel.Retryable(err), tt.wantErr, tt.retryable)
			}
		})
	}
}

func TestEndpoint(t *testing.T) {
	p := &Platform{Name: "wecom", URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"}
	if got, err := p.Endpoint(""); err != nil || got != p.URL {
		t.Errorf("Endpoint(\"\") = %q, %v; want the platform's URL", got, err)
	}
	if got, err := p.Endpoint("https://robot.example.gov.cn/send"); err != nil || got != "https://robot.example.gov.cn/send" {
		t.Errorf("Endpoint(own) = %q, %v; want it unchanged", got, err)
	}
	if _, err := p.Endpoint("qyapi.weixin.qq.com"); err == nil || err.Error() != "wecom url: want an absolute http or https URL" {
		t.Errorf("Endpoint(relative) = %v, want the url error", err)
	}
}
