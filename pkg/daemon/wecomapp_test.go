package daemon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
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
	api := &wecomAPI{corp: "ww0123456789abcdef", secret: "app-secret-for-the-test-0123456789"}
	wecom := httptest.NewServer(api)
	defer wecom.Close()
	t.Setenv("GOVWATCH_TEST_WECOM_APP_SECRET", api.secret)
	d := newDemo(t, demoSetup{heads: true, notifier: `notifier:
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
`})
	addr, stop := startAll(t, d.cfg)

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
