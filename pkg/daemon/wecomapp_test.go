package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/config"
)

// wecomAPI answers gettoken and message/send as WeCom does (HTTP 200 with
// an errcode), for one application, and keeps the messages sent.
type wecomAPI struct {
	corp, secret string

	mu       sync.Mutex
	tokens   int
	messages []map[string]any
}

func (w *wecomAPI) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	defer w.mu.Unlock()
	answer := func(v map[string]any) { json.NewEncoder(rw).Encode(v) }
	q := r.URL.Query()
	switch r.URL.Path {
	case "/cgi-bin/gettoken":
		if q.Get("corpid") != w.corp || q.Get("corpsecret") != w.secret {
			answer(map[string]any{"errcode": 40001, "errmsg": "invalid credential"})
			return
		}
		w.tokens++
		answer(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": fmt.Sprintf("tok-%d", w.tokens), "expires_in": 7200})
	case "/cgi-bin/message/send":
		if !strings.HasPrefix(q.Get("access_token"), "tok-") {
			answer(map[string]any{"errcode": 40014, "errmsg": "invalid access_token"})
			return
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			answer(map[string]any{"errcode": 40016, "errmsg": "invalid json"})
			return
		}
		w.messages = append(w.messages, m)
		answer(map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": ""})
	default:
		http.NotFound(rw, r)
	}
}

func (w *wecomAPI) sent() []map[string]any {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]map[string]any(nil), w.messages...)
}

// TestWeComAppPagesTheHeadInPerson runs the demo through a wecom_app
// receiver: the escalation pages each unit's head, and the message reaches
// the head's own WeCom user id (ids.wecom in the registry) as a text card
// whose button is the signed acknowledgement link of this process.
func TestWeComAppPagesTheHeadInPerson(t *testing.T) {
	sim, _ := demoSimulator(t, clockwork.NewRealClock())
	api := &wecomAPI{corp: "ww0123456789abcdef", secret: "app-secret-for-the-test-0123456789"}
	wecom := httptest.NewServer(api)
	defer wecom.Close()
	t.Setenv("GOVWATCH_TEST_WECOM_APP_SECRET", api.secret)

	dir := t.TempDir()
	reg := `units:
  - {id: fz-gov, name: 福州市人民政府办公厅, region: "350100", head: {name: 王建华, ids: {wecom: wangjianhua}}}
  - {id: fz-edu, name: 福州市教育局, region: "350100", parent: fz-gov, head: {name: 李明, ids: {wecom: liming}}}
  - {id: np-culture, name: 南平市文化和旅游局, region: "350700", parent: fz-gov, head: {name: 张华, ids: {wecom: zhanghua}}}
accounts:
  - {id: fz-wechat, name: 福州发布, platform: wechat, unit: fz-gov, source: {type: rss, url: "` + sim.URL + `/feeds/fz-wechat.atom"}}
  - {id: fz-edu-weibo, name: 福州教育, platform: weibo, unit: fz-edu, source: {type: rss, url: "` + sim.URL + `/feeds/fz-edu-weibo.atom"}}
  - {id: np-culture-wechat, name: 南平文旅, platform: wechat, unit: np-culture, source: {type: rss, url: "` + sim.URL + `/feeds/np-culture-wechat.rss"}}
`
	cfgText := `data_dir: ` + filepath.Join(dir, "data") + `
registry: {file: registry.yaml}
collector: {interval: 1s, workers: 4}
analyzer: {sweep: "@every 1s"}
notifier:
  receivers:
    - name: heads
      wecom_app:
        corp_id: ww0123456789abcdef
        agent_id: 1000002
        secret_env: GOVWATCH_TEST_WECOM_APP_SECRET
        url: "` + wecom.URL + `"
  route: {receiver: heads}
  escalation:
    - name: heads
      steps: [{after: 0s, notify: [head]}]
`
	for name, text := range map[string]string{"registry.yaml": reg, "govwatch.yaml": cfgText} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(dir, "govwatch.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startAll(t, cfg)

	heads := map[string]bool{"wangjianhua": true, "liming": true, "zhanghua": true}
	var card map[string]any
	waitFor(t, 30*time.Second, "a text card to a unit head", func() bool {
		for _, m := range api.sent() {
			if m["msgtype"] == "textcard" && heads[m["touser"].(string)] {
				card = m
				return true
			}
		}
		return false
	})
	for _, m := range api.sent() {
		if u, _ := m["touser"].(string); !heads[u] {
			t.Errorf("a message went to %q, not to a head's WeCom id", u)
		}
	}
	tc := card["textcard"].(map[string]any)
	link, _ := tc["url"].(string)
	if !strings.Contains(link, "/ack/") || !strings.Contains(link, strings.TrimPrefix(addr, "http://")) {
		t.Errorf("text card button = %q, want this process's acknowledgement link (%s/ack/…)", link, addr)
	}
	t.Logf("paged %s: %v", card["touser"], tc["url"])
	if title, _ := tc["title"].(string); title == "" {
		t.Error("text card without a title")
	}

	// The link opens the confirmation page.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %s, want 200", link, resp.Status)
	}
	stop()
}
