package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// robots serves a WeCom robot that accepts and a DingTalk robot whose
// signature check fails, with their real answers.
func robots(t *testing.T) (url string, wecomBodies func() []string) {
	t.Helper()
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/cgi-bin/webhook/send":
			if r.URL.Query().Get("key") != "wecom-key" {
				io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
				return
			}
			mu.Lock()
			bodies = append(bodies, string(raw))
			mu.Unlock()
			io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		case "/robot/send":
			io.WriteString(w, `{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), bodies...)
	}
}

func writeNotifyConfig(t *testing.T, url, store string) string {
	t.Helper()
	t.Setenv("GW_TEST_WECOM_KEY", "wecom-key")
	t.Setenv("GW_TEST_DINGTALK_TOKEN", "dingtalk-token")
	t.Setenv("GW_TEST_DINGTALK_SECRET", "SECwrong")
	return writeFile(t, t.TempDir(), "govwatch.yaml", store+`
notifier:
  receivers:
    - name: duty
      console: {}
      wecom: {url: "`+url+`/cgi-bin/webhook/send", key_env: GW_TEST_WECOM_KEY}
      dingtalk: {url: "`+url+`/robot/send", access_token_env: GW_TEST_DINGTALK_TOKEN, secret_env: GW_TEST_DINGTALK_SECRET}
    - name: ops
      wecom: {url: "`+url+`/cgi-bin/webhook/send", key_env: GW_TEST_WECOM_KEY}
  route: {receiver: duty}
`)
}

func TestNotifyTestReportsEachChannel(t *testing.T) {
	url, wecom := robots(t)
	cfg := writeNotifyConfig(t, url, "")
	code, out, errOut := run("notify", "test", "--receiver", "duty", "-config", cfg)
	if code != ExitProblem {
		t.Errorf("exit %d, want %d (one channel failed); stderr: %s", code, ExitProblem, errOut)
	}
	for _, want := range []string{
		"receiver duty: sending a test message through 3 channel(s)\n",
		"【告警】提示 · notify.test\n  摘要：告警通道测试消息：收到即表示该通道可用，无需处理。\n",
		"  console   ok\n",
		"  wecom     ok\n",
		"  dingtalk  error: dingtalk error 310000: sign not match",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"wecom-key", "dingtalk-token", "SECwrong"} {
		if strings.Contains(out+errOut, secret) {
			t.Errorf("output leaks %q", secret)
		}
	}
	bodies := wecom()
	if len(bodies) != 1 {
		t.Fatalf("wecom robot got %d messages, want 1", len(bodies))
	}
	var msg struct {
		MsgType  string `json:"msgtype"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &msg); err != nil || msg.MsgType != "markdown" || !strings.Contains(msg.Markdown.Content, "告警通道测试消息") {
		t.Errorf("wecom message: got %s, want markdown with the test text", bodies[0])
	}

	if code, out, _ := run("notify", "test", "-receiver", "ops", "-config", cfg); code != ExitOK || !strings.Contains(out, "  wecom     ok\n") {
		t.Errorf("receiver ops: exit %d, output %q; want 0 and wecom ok", code, out)
	}
}

func TestNotifyTestUsage(t *testing.T) {
	url, _ := robots(t)
	cfg := writeNotifyConfig(t, url, "")
	testRefusals(t, []refusal{
		{"no subcommand", []string{"notify"}, ExitUsage, "usage: govwatch notify test"},
		{"no receiver", []string{"notify", "test", "-config", cfg}, ExitUsage, "usage: govwatch notify test"},
		{"unknown receiver", []string{"notify", "test", "-receiver", "nobody", "-config", cfg}, ExitProblem, `no receiver "nobody"`},
		{"bad config", []string{"notify", "test", "-receiver", "duty", "-config", filepath.Join(t.TempDir(), "missing.yaml")}, ExitProblem, "missing.yaml"},
	})
}

// With the Redis backend, the test message counts against the robot's
// limit that the notifiers share.
func TestNotifyTestCountsInSharedLimit(t *testing.T) {
	addr := redistest.Start(t)
	url, _ := robots(t)
	cfg := writeNotifyConfig(t, url, "store: {backend: redis, redis: {addrs: [\""+addr+"\"]}}")
	if code, out, errOut := run("notify", "test", "-receiver", "ops", "-config", cfg); code != ExitOK {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: "govwatch:"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var keys []string
	err = st.Scan(context.Background(), "notifier/ratelimit/wecom/", func(k string, v []byte) error {
		if string(v) == "1" {
			keys = append(keys, k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 {
		t.Errorf("got rate-limit keys %v counting 1, want one for the robot's minute", keys)
	}
}
