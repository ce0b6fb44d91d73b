package wecomapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/govwatch/govwatch/pkg/accesstoken"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
	"github.com/govwatch/govwatch/pkg/notify/channel/ratelimit"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/store"
)

const (
	corpID  = "ww0123456789abcdef"
	agentID = 1000002
	secret  = "Xq3vB7kN0pLmR2sT9uWyZ4aC6dE8fG1hJ5iK7lMnO0p"
)

// wecomServer behaves as WeCom's API for one application: gettoken checks
// the corp id and secret and issues tokens valid 7200 s; message/send
// checks the token, the agent and the message against WeCom's rules and
// answers with invaliduser for ids that are not members. Like WeCom it
// answers HTTP 200 with an errcode.
type wecomServer struct {
	*httptest.Server
	members map[string]bool

	mu       sync.Mutex
	fetches  int
	issued   map[string]bool // tokens handed out and still valid
	expire   bool            // answer the next send with 42001 and forget its token
	answer   string          // a canned answer for the next send
	messages []map[string]any
}

func newWeCom(t *testing.T, members ...string) *wecomServer {
	t.Helper()
	ws := &wecomServer{members: map[string]bool{}, issued: map[string]bool{}}
	for _, m := range members {
		ws.members[m] = true
	}
	ws.Server = httptest.NewServer(http.HandlerFunc(ws.serve))
	t.Cleanup(ws.Close)
	return ws
}

func (ws *wecomServer) serve(w http.ResponseWriter, r *http.Request) {
	write := func(v map[string]any) { json.NewEncoder(w).Encode(v) }
	fail := func(code int, msg string) {
		write(map[string]any{"errcode": code, "errmsg": msg + ", hint: [1764144300016330106720716], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=" + fmt.Sprint(code)})
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	q := r.URL.Query()
	switch {
	case r.URL.Path == "/cgi-bin/gettoken" && r.Method == http.MethodGet:
		if q.Get("corpid") != corpID {
			fail(40013, "invalid corpid")
			return
		}
		if q.Get("corpsecret") != secret {
			fail(40001, "invalid credential")
			return
		}
		ws.fetches++
		tok := fmt.Sprintf("token-%d", ws.fetches)
		ws.issued[tok] = true
		write(map[string]any{"errcode": 0, "errmsg": "ok", "access_token": tok, "expires_in": 7200})
	case r.URL.Path == "/cgi-bin/message/send" && r.Method == http.MethodPost:
		tok := q.Get("access_token")
		if ws.expire {
			ws.expire = false
			delete(ws.issued, tok)
			fail(42001, "access_token expired")
			return
		}
		if !ws.issued[tok] {
			fail(40014, "invalid access_token")
			return
		}
		if ws.answer != "" {
			w.Write([]byte(ws.answer))
			ws.answer = ""
			return
		}
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			fail(40016, "invalid json")
			return
		}
		if m["agentid"] != float64(agentID) {
			fail(40056, "invalid agentid")
			return
		}
		if problem := checkMessage(m); problem != "" {
			fail(44004, problem)
			return
		}
		var invalid []string
		valid := 0
		for _, u := range strings.Split(m["touser"].(string), "|") {
			if ws.members[u] {
				valid++
			} else {
				invalid = append(invalid, u)
			}
		}
		if valid == 0 {
			fail(81013, "user & party & tag all invalid")
			return
		}
		ws.messages = append(ws.messages, m)
		write(map[string]any{"errcode": 0, "errmsg": "ok", "invaliduser": strings.Join(invalid, "|"), "msgid": "vcT8gGc-7dFb4bnT8Y" + fmt.Sprint(len(ws.messages))})
	default:
		http.NotFound(w, r)
	}
}

// checkMessage applies WeCom's rules for text cards and text messages.
func checkMessage(m map[string]any) string {
	switch m["msgtype"] {
	case "textcard":
		c, _ := m["textcard"].(map[string]any)
		title, _ := c["title"].(string)
		desc, _ := c["description"].(string)
		link, _ := c["url"].(string)
		btn, _ := c["btntxt"].(string)
		switch {
		case title == "" || len(title) > MaxTitle:
			return "title missing or longer than 128 bytes"
		case desc == "" || len(desc) > MaxDescription:
			return "description missing or longer than 512 bytes"
		case !strings.HasPrefix(link, "http"):
			return "url missing"
		case utf8.RuneCountInString(btn) > MaxButton:
			return "btntxt longer than 4 characters"
		}
	case "text":
		t, _ := m["text"].(map[string]any)
		if s, _ := t["content"].(string); s == "" || len(s) > MaxText {
			return "content missing or longer than 2048 bytes"
		}
	default:
		return "unsupported msgtype"
	}
	return ""
}

func (ws *wecomServer) sent() []map[string]any {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]map[string]any(nil), ws.messages...)
}

func (ws *wecomServer) tokenFetches() int {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.fetches
}

type fixture struct {
	ws    *wecomServer
	store store.Store
	clock *clockwork.FakeClock
	dir   string
}

func newFixture(t *testing.T, members ...string) *fixture {
	t.Helper()
	f := &fixture{ws: newWeCom(t, members...), clock: clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)), dir: t.TempDir()}
	f.store = channeltest.Store(t, f.clock)
	if err := os.WriteFile(filepath.Join(f.dir, "secret"), []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) config() *Config {
	c := Defaults()
	c.CorpID, c.AgentID, c.SecretFile, c.URL = corpID, agentID, conf.File(filepath.Join(f.dir, "secret")), f.ws.URL
	return &c
}

func (f *fixture) app(t *testing.T, c *Config, log *zap.Logger) *App {
	t.Helper()
	ch, err := channel.New(Name, c, channel.Deps{Store: f.store, Clock: f.clock, Log: log,
		Limiter: ratelimit.New(f.store, f.clock, nil)})
	if err != nil {
		t.Fatal(err)
	}
	return ch.(*App)
}

// paged is the phone alert paging two duty officers who have WeCom ids
// and one who has none.
func paged() *channel.Notification {
	n := channeltest.Notification(channeltest.Phone(channel.StatusFiring))
	n.Recipients = []channel.Person{
		{Name: "陈建国", Role: "值班人员", IDs: map[string]string{"wecom": "chenjianguo"}},
		{Name: "林晓燕", Role: "第一责任人", IDs: map[string]string{"wecom": "linxiaoyan", "other": "x"}},
		{Name: "黄志强", Role: "上级值班", Mobile: "13800000103"},
	}
	return n
}

func TestPagesPeopleByTheirWeComIDs(t *testing.T) {
	f := newFixture(t, "chenjianguo", "linxiaoyan")
	a := f.app(t, f.config(), nil)
	n := paged()
	if err := a.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	msgs := f.ws.sent()
	if len(msgs) != 1 {
		t.Fatalf("sent %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	card := m["textcard"].(map[string]any)
	ack := n.Alerts[0].Annotations[model.AnnotationAckURL]
	switch {
	case m["touser"] != "chenjianguo|linxiaoyan":
		t.Errorf("touser = %v, want the two WeCom ids", m["touser"])
	case m["msgtype"] != "textcard":
		t.Errorf("msgtype = %v", m["msgtype"])
	case ack == "" || card["url"] != ack:
		t.Errorf("card url = %v, want the acknowledgement link %q", card["url"], ack)
	case card["btntxt"] != "确认告警":
		t.Errorf("btntxt = %v", card["btntxt"])
	case !strings.Contains(card["title"].(string), "【告警】"):
		t.Errorf("title = %v", card["title"])
	case !strings.Contains(card["description"].(string), "呼叫：陈建国（值班人员）、林晓燕（第一责任人）、黄志强（上级值班）"):
		t.Errorf("description does not name the people paged: %v", card["description"])
	case m["enable_duplicate_check"] != float64(1) || m["duplicate_check_interval"] != float64(1800):
		t.Errorf("duplicate check = %v / %v, want on for 1800 s", m["enable_duplicate_check"], m["duplicate_check_interval"])
	}
}

func TestOutsideTextCannotAddMarkup(t *testing.T) {
	f := newFixture(t, "zhiban")
	c := f.config()
	c.ToUser = []string{"zhiban"}
	a := f.app(t, c, nil)
	if err := a.Notify(context.Background(), channeltest.Notification(channeltest.Hostile())); err != nil {
		t.Fatal(err)
	}
	card := f.ws.sent()[0]["textcard"].(map[string]any)
	desc := card["description"].(string)
	if strings.Contains(desc, "<at") || strings.Contains(desc, "<font") {
		t.Errorf("outside markup reached the card: %s", desc)
	}
	if u := card["url"].(string); strings.HasPrefix(u, "javascript:") {
		t.Errorf("card url = %s, want a safe link", u)
	}
}

func TestReportGoesAsText(t *testing.T) {
	f := newFixture(t, "shengwangxin")
	a := f.app(t, f.config(), nil)
	n := channeltest.WithReport()
	n.Recipients[0].IDs = map[string]string{"wecom": "shengwangxin"}
	if err := a.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	m := f.ws.sent()[0]
	content, _ := m["text"].(map[string]any)["content"].(string)
	if m["msgtype"] != "text" || !strings.Contains(content, "一、事件概况") || !strings.Contains(content, "上报材料") {
		t.Fatalf("message = %v, want a text message carrying the report", m)
	}
}

func TestToUserWhenNobodyHasAnID(t *testing.T) {
	f := newFixture(t, "zhiban")
	c := f.config()
	c.ToUser = []string{"zhiban"}
	a := f.app(t, c, nil)
	n := channeltest.Notification(channeltest.Stale())
	if err := a.Notify(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := f.ws.sent()[0]["touser"]; got != "zhiban" {
		t.Errorf("touser = %v, want to_user", got)
	}

	c.ToUser = nil
	err := f.app(t, c, nil).Notify(context.Background(), n)
	if err == nil || channel.Retryable(err) || !strings.Contains(err.Error(), "nobody to page") {
		t.Errorf("nobody to page: got %v, want a permanent error so the fallback takes it", err)
	}
}

// TestTokenSharedAndRenewed: replicas share one token through the store;
// it is fetched again only when less than five minutes of it are left.
func TestTokenSharedAndRenewed(t *testing.T) {
	f := newFixture(t, "chenjianguo", "linxiaoyan")
	r1, r2 := f.app(t, f.config(), nil), f.app(t, f.config(), nil)
	for _, a := range []*App{r1, r2, r1} {
		if err := a.Notify(context.Background(), paged()); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.ws.tokenFetches(); n != 1 {
		t.Fatalf("gettoken called %d times for three sends by two replicas, want 1", n)
	}
	f.clock.Advance(7200*time.Second - accesstoken.RefreshBefore + time.Second)
	if err := r2.Notify(context.Background(), paged()); err != nil {
		t.Fatal(err)
	}
	if n := f.ws.tokenFetches(); n != 2 {
		t.Fatalf("gettoken called %d times after the token neared its end, want 2", n)
	}
	if len(f.ws.sent()) != 4 {
		t.Fatalf("sent %d messages, want 4", len(f.ws.sent()))
	}
}

// TestExpiredTokenRefreshedAndResent: WeCom's 42001 (expired) and 40014
// (invalid) make the channel fetch a new token and send once more.
func TestExpiredTokenRefreshedAndResent(t *testing.T) {
	for _, code := range []int{42001, 40014} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			f := newFixture(t, "chenjianguo", "linxiaoyan")
			a := f.app(t, f.config(), nil)
			if err := a.Notify(context.Background(), paged()); err != nil {
				t.Fatal(err)
			}
			f.ws.mu.Lock()
			if code == 42001 {
				f.ws.expire = true
			} else {
				f.ws.issued = map[string]bool{} // WeCom no longer knows the token
			}
			f.ws.mu.Unlock()
			if err := a.Notify(context.Background(), paged()); err != nil {
				t.Fatalf("send after the token went bad: %v", err)
			}
			if n, sent := f.ws.tokenFetches(), len(f.ws.sent()); n != 2 || sent != 2 {
				t.Fatalf("gettoken %d times, %d messages; want 2 and 2", n, sent)
			}
		})
	}
}

func TestErrorsAreClassified(t *testing.T) {
	f := newFixture(t, "chenjianguo")
	c := f.config()
	if err := os.WriteFile(string(c.SecretFile), []byte("not-the-secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := f.app(t, c, nil).Notify(context.Background(), paged())
	if err == nil || channel.Retryable(err) || !strings.Contains(err.Error(), "40001") || !strings.Contains(err.Error(), "check corp_id") {
		t.Errorf("bad secret: got %v, want a permanent 40001 error with a hint", err)
	}
	if err != nil && (strings.Contains(err.Error(), "not-the-secret") || strings.Contains(err.Error(), "hint:")) {
		t.Errorf("error repeats the secret or WeCom's hint: %v", err)
	}

	f = newFixture(t, "chenjianguo")
	a := f.app(t, f.config(), nil)
	for _, tc := range []struct {
		answer    string
		retryable bool
	}{
		{`{"errcode":45009,"errmsg":"api freq out of limit"}`, true},
		{`{"errcode":-1,"errmsg":"system busy"}`, true},
		{`{"errcode":60020,"errmsg":"not allow to access from your ip"}`, false},
		{`<html>gateway</html>`, true},
	} {
		if err := a.Notify(context.Background(), paged()); err != nil { // holds a token
			t.Fatal(err)
		}
		f.ws.mu.Lock()
		f.ws.answer = tc.answer
		f.ws.mu.Unlock()
		err := a.Notify(context.Background(), paged())
		if err == nil || channel.Retryable(err) != tc.retryable {
			t.Errorf("answer %s: got %v, want retryable=%v", tc.answer, err, tc.retryable)
		}
	}
}

func TestInvalidUsers(t *testing.T) {
	f := newFixture(t, "chenjianguo")
	core, logs := observer.New(zap.WarnLevel)
	a := f.app(t, f.config(), zap.New(core))
	if err := a.Notify(context.Background(), paged()); err != nil {
		t.Fatalf("one of two ids valid: %v", err)
	}
	if logs.Len() != 1 || !strings.Contains(fmt.Sprint(logs.All()[0].ContextMap()["users"]), "linxiaoyan") {
		t.Errorf("want one warning naming linxiaoyan, got %v", logs.All())
	}

	f = newFixture(t) // nobody is a member
	err := f.app(t, f.config(), nil).Notify(context.Background(), paged())
	if err == nil || channel.Retryable(err) || !strings.Contains(err.Error(), "81013") {
		t.Errorf("no valid recipient: got %v, want a permanent 81013 error", err)
	}
}

func TestPerUserLimit(t *testing.T) {
	f := newFixture(t, "chenjianguo", "linxiaoyan")
	a := f.app(t, f.config(), nil)
	var err error
	sent := 0
	for range 31 {
		if err = a.Notify(context.Background(), paged()); err != nil {
			break
		}
		sent++
	}
	if sent != 30 || !errors.Is(err, ratelimit.ErrLimited) || !channel.Retryable(err) {
		t.Fatalf("sent %d then %v; want 30 and a retryable limit error", sent, err)
	}
	f.clock.Advance(2 * time.Minute)
	if err := a.Notify(context.Background(), paged()); err != nil {
		t.Fatalf("after the minute: %v", err)
	}
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secret), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, ok := plugin.Lookup(plugin.Channel, Name)
	if !ok {
		t.Fatalf("%s is not registered", Name)
	}
	check := func(doc string) string {
		d := conf.NewDecoder("govwatch.yaml", dir)
		c := Defaults()
		d.Document([]byte(doc), &c)
		spec.Validate(&c, &plugin.Check{Report: d.Report("notifier.receivers[0].wecom_app")})
		return fmt.Sprint(d.Problems())
	}
	if got := check("corp_id: " + corpID + "\nagent_id: 1000002\nsecret_file: secret\nto_user: [zhiban]\n"); got != "" {
		t.Fatalf("valid section: %s", got)
	}
	got := check("agent_id: 0\nurl: https://qyapi.example/?key=1\nto_user: [\"a|b\"]\ntimeout: 10ms\ntemplate: '{{define \"title\"}}{{.Nope}'\n")
	for _, want := range []string{
		"wecom_app.corp_id: no corp id",
		"wecom_app.agent_id: want the application's AgentId",
		"wecom_app.secret_file: no application secret",
		`wecom_app.to_user[0]: "a|b" is not a WeCom user id`,
		"wecom_app.url: the url must not carry a query",
		"wecom_app.timeout: must be at least 1s",
		"wecom_app.template:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if got := check("corp_id: x\nagent_id: 1\nsecret_file: missing\n"); !strings.Contains(got, "govwatch.yaml:3") {
		t.Errorf("an unreadable secret file is not reported at its line: %s", got)
	}
}
