package sms

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/channel/channeltest"
)

const apiKey = "sms-api-k3y"

// TestDefaultText pins the default SMS text of each kind of notification,
// one per line, in testdata/texts.golden.
func TestDefaultText(t *testing.T) {
	g := newGateway(t, ok)
	s, err := New(Config{URL: g.URL, Body: `{{json .Text}}`, Phones: []string{"13900000001"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	long := channeltest.Phone(channel.StatusFiring)
	long.Annotations["summary"] = strings.Repeat("很长的摘要", 60)
	for _, n := range []*channel.Notification{
		channeltest.Notification(channeltest.Phone(channel.StatusFiring)),
		channeltest.Notification(channeltest.Phone(channel.StatusResolved)),
		channeltest.Notification(channeltest.Stale(), channeltest.Phone(channel.StatusFiring)),
		channeltest.Notification(long),
	} {
		if err := s.Notify(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	var got strings.Builder
	for _, r := range g.requests() {
		got.WriteString(r.text + "\n")
	}
	channeltest.Golden(t, "texts.golden", got.String())
}

// gateway is an HTTP SMS gateway of the common shape: a key in a header or
// the query, numbers and text in a JSON body or the query, and a JSON
// answer with a code.
type gateway struct {
	*httptest.Server
	answer func(r *http.Request) (int, string)

	mu   sync.Mutex
	reqs []gwRequest
}

type gwRequest struct {
	method, auth, contentType string
	text                      string // a body that is a JSON string
	query                     map[string][]string
	body                      map[string]any
}

func newGateway(t *testing.T, answer func(r *http.Request) (int, string)) *gateway {
	t.Helper()
	g := &gateway{answer: answer}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		var text string
		if json.Unmarshal(raw, &text) == nil {
			raw = nil
		}
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &body); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				io.WriteString(w, `{"code":"InvalidJSON"}`)
				return
			}
		}
		g.mu.Lock()
		g.reqs = append(g.reqs, gwRequest{r.Method, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), text, r.URL.Query(), body})
		g.mu.Unlock()
		status, text := g.answer(r)
		w.WriteHeader(status)
		io.WriteString(w, text)
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *gateway) requests() []gwRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gwRequest(nil), g.reqs...)
}

func ok(*http.Request) (int, string) {
	return 200, `{"code":"OK","message":"OK","requestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}`
}

func jsonConfig(url string) Config {
	return Config{
		URL:          url + "/v1/sms/send",
		Headers:      map[string]string{"Authorization": "Bearer {{.Secret}}"},
		Body:         `{"phones": {{json .Phones}}, "content": {{json .Text}}, "segments": {{.Segments}}}`,
		Phones:       []string{"13900000001"},
		SuccessField: "code",
		SuccessValue: "OK",
		RetryValues:  []string{"isv.BUSINESS_LIMIT_CONTROL"},
	}
}

func TestNotifyJSONGateway(t *testing.T) {
	g := newGateway(t, ok)
	s, err := New(jsonConfig(g.URL), Options{Secret: []byte(apiKey)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	n := channeltest.Notification(channeltest.Phone(channel.StatusFiring), channeltest.Stale())
	n.Recipients = []channel.Person{{Name: "值班员", Mobile: "13800138000"}, {Name: "无手机"}}
	if err := s.Notify(context.Background(), n); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("gateway got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	wantText := "【重要告警】隐私泄露：手机号码，福州市卫生健康委「福州卫健」（共2条） 确认：https://govwatch.example.gov.cn/ack/3f2a?sig=abc 摘要：文章正文出现未打码的手机号码"
	checks := []struct{ name, got, want string }{
		{"method", r.method, "POST"},
		{"authorization", r.auth, "Bearer " + apiKey},
		{"content type", r.contentType, "application/json; charset=utf-8"},
		{"phones", channeltest.JSON(r.body["phones"]), `["13900000001","13800138000"]`},
		{"content", channeltest.JSON(r.body["content"]), channeltest.JSON(wantText)},
		{"segments", channeltest.JSON(r.body["segments"]), "2"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, c.got, c.want)
		}
	}
}

func TestNotifyQueryGateway(t *testing.T) {
	g := newGateway(t, func(*http.Request) (int, string) { return 200, `{"result":{"code":0,"sid":123}}` })
	s, err := New(Config{
		Method:       http.MethodGet,
		URL:          g.URL + `/send?apikey={{.Secret}}&mobile={{urlquery (join .Phones ",")}}&text={{urlquery .Text}}`,
		Phones:       []string{"13900000001", "+8613900000002"},
		Template:     `{{define "text"}}【政务监测】{{range .Alerts}}{{.CategoryName}}{{end}}{{end}}`,
		SuccessField: "result.code", SuccessValue: "0",
	}, Options{Secret: []byte(apiKey)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Notify(context.Background(), channeltest.Notification(channeltest.Stale())); err != nil {
		t.Fatalf("Notify: %v", err)
	}
	q := g.requests()[0].query
	if got, want := channeltest.JSON(q), `{"apikey":["sms-api-k3y"],"mobile":["13900000001,+8613900000002"],"text":["【政务监测】账号更新：2 周内无更新"]}`; got != want {
		t.Errorf("query: got %s, want %s", got, want)
	}
	if g.requests()[0].method != http.MethodGet || g.requests()[0].contentType != "" {
		t.Errorf("got %s with Content-Type %q, want GET without a body", g.requests()[0].method, g.requests()[0].contentType)
	}
}

func TestNotifyOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		answer    string
		wantErr   bool
		retryable bool
		wantInErr string
	}{
		{"ok", 200, `{"code":"OK"}`, false, false, ""},
		{"throttled code", 200, `{"code":"isv.BUSINESS_LIMIT_CONTROL","message":"触发小时级流控Permits:5"}`, true, true, "isv.BUSINESS_LIMIT_CONTROL"},
		{"bad number", 200, `{"code":"isv.MOBILE_NUMBER_ILLEGAL","message":"非法手机号"}`, true, false, "MOBILE_NUMBER_ILLEGAL"},
		{"no code", 200, `{"message":"ok"}`, true, false, "has no code"},
		{"not json", 200, `<html>ok</html>`, true, true, "not JSON"},
		{"echoes the key", 200, `{"code":"isv.INVALID_KEY","key":"` + apiKey + `"}`, true, false, "***"},
		{"429", 429, `{"code":"Throttling"}`, true, true, "429"},
		{"503", 503, `busy`, true, true, "503"},
		{"401", 401, `{"code":"Unauthorized"}`, true, false, "401"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGateway(t, func(*http.Request) (int, string) { return tt.status, tt.answer })
			cfg := jsonConfig(g.URL)
			cfg.URL = g.URL + "/v1/sms/send?key={{.Secret}}"
			s, err := New(cfg, Options{Secret: []byte(apiKey)})
			if err != nil {
				t.Fatal(err)
			}
			err = s.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
			channeltest.Outcome(t, err, tt.wantErr, tt.retryable, tt.wantInErr, apiKey)
		})
	}
}

func TestNotifyNetworkErrorHidesURL(t *testing.T) {
	s, err := New(Config{URL: channeltest.ClosedURL(t) + "/send?key={{.Secret}}", Phones: []string{"13900000001"}}, Options{Secret: []byte(apiKey)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
	channeltest.Failure(t, err, true, "", apiKey)
}

func TestNoPhones(t *testing.T) {
	s, err := New(Config{URL: "https://sms.example.gov.cn/send"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Notify(context.Background(), channeltest.Notification(channeltest.Stale()))
	if err == nil || channel.Retryable(err) {
		t.Errorf("got %v, want a permanent error", err)
	}
}

func TestSegmentsAndCut(t *testing.T) {
	tests := []struct {
		name         string
		text         string
		max          int
		wantSegments int // of the input
		wantRunes    int // after Cut
	}{
		{"70 chinese is one", strings.Repeat("告", 70), 3, 1, 70},
		{"71 chinese is two", strings.Repeat("告", 71), 3, 2, 71},
		{"134 chinese is two", strings.Repeat("告", 134), 3, 2, 134},
		{"135 chinese is three", strings.Repeat("告", 135), 3, 3, 135},
		{"cut to three", strings.Repeat("告", 300), 3, 5, 201},
		{"cut to one", strings.Repeat("告", 100), 1, 2, 70},
		{"160 ascii is one", strings.Repeat("a", 160), 1, 1, 160},
		{"ascii cut to two", strings.Repeat("a", 400), 2, 3, 306},
		{"one chinese char makes it unicode", strings.Repeat("a", 100) + "告", 3, 2, 101},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Segments(tt.text); got != tt.wantSegments {
				t.Errorf("Segments: got %d, want %d", got, tt.wantSegments)
			}
			cut := Cut(tt.text, tt.max)
			if got := utf8.RuneCountInString(cut); got != tt.wantRunes {
				t.Errorf("Cut: got %d characters, want %d", got, tt.wantRunes)
			}
			if got := Segments(cut); got > tt.max {
				t.Errorf("Cut text takes %d segments, want at most %d", got, tt.max)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	var v any
	dec := json.NewDecoder(strings.NewReader(`{"code":"OK","result":{"code":0,"ok":true,"none":null},"SendStatusSet":[{"Code":"Ok"},{"Code":"LimitExceeded"}],"big":12345678901234567890}`))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path   string
		want   string
		wantOK bool
	}{
		{"code", "OK", true},
		{"result.code", "0", true},
		{"result.ok", "true", true},
		{"result.none", "null", true},
		{"SendStatusSet.1.Code", "LimitExceeded", true},
		{"big", "12345678901234567890", true},
		{"result", "", false},
		{"SendStatusSet.2.Code", "", false},
		{"SendStatusSet.x", "", false},
		{"missing", "", false},
		{"code.deeper", "", false},
	}
	for _, tt := range tests {
		got, ok := Lookup(v, tt.path)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	channeltest.NewRejects(t, New, []channeltest.Rejected[Config, Options]{
		{Name: "no url"},
		{Name: "relative url", Config: Config{URL: "/send"}},
		{Name: "bad method", Config: Config{URL: "https://a.example/", Method: "PUT"}},
		{Name: "bad url template", Config: Config{URL: "https://a.example/{{.Nope}}"}},
		{Name: "bad body template", Config: Config{URL: "https://a.example/", Body: "{{json}}"}},
		{Name: "bad header template", Config: Config{URL: "https://a.example/", Headers: map[string]string{"X-Key": "{{.Secret"}}},
		{Name: "header line break", Config: Config{URL: "https://a.example/", Headers: map[string]string{"X-Key": "a\r\nX-Evil: 1"}}},
		{Name: "retry values without field", Config: Config{URL: "https://a.example/", RetryValues: []string{"x"}}},
		{Name: "negative segments", Config: Config{URL: "https://a.example/", MaxSegments: -1}},
		{Name: "broken text template", Config: Config{URL: "https://a.example/", Template: `{{define "text"}}{{.Nope}}{{end}}`}},
	})
}
