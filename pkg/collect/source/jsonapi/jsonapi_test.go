package jsonapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

var now = time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)

func mapping() *Mapping {
	return &Mapping{
		Items: "data.list",
		Fields: Fields{ID: "mid", URL: "url", Title: "title", Text: "content", Author: "user.screen_name",
			PublishedAt: "created_at", Kind: "type", ParentID: "parent_mid",
			Likes: "stats.like", Comments: "stats.comment", Shares: "stats.repost", Views: "stats.read"},
		NextCursor: "data.next_cursor", CursorParam: "cursor",
		AuthHeader: "Authorization", AuthValue: "Bearer t0ken",
	}
}

var acc = &registry.Account{ID: "fj-gov-weibo", Platform: "weibo", Source: registry.Source{Type: "jsonapi", Options: &Account{Mapping: "vendor"}}}

// vendor serves page1 and page2 by cursor and records the requests.
func vendor(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	p1, p2 := sourcetest.Testdata(t, "page1.json"), sourcetest.Testdata(t, "page2.json")
	var reqs []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs = append(reqs, r.URL.RawQuery+" auth="+r.Header.Get("Authorization"))
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"code":401,"msg":"invalid token"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		switch r.URL.Query().Get("cursor") {
		case "":
			w.Header().Set("ETag", `"p1-v1"`)
			if r.Header.Get("If-None-Match") == `"p1-v1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			_, _ = w.Write(p1)
		case "MTczMjY2NDAwMDAwMA==":
			_, _ = w.Write(p2)
		default:
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(ts.Close)
	return ts, &reqs
}

func newSource(m *Mapping) *Source {
	return &Source{Mappings: map[string]*Mapping{"vendor": m}, Clock: clockwork.NewFakeClockAt(now)}
}

func TestPollPages(t *testing.T) {
	ts, reqs := vendor(t)
	a := *acc
	a.Source.Options = &Account{Mapping: "vendor", URL: ts.URL + "/v2/accounts/3197355467/posts?size=20"}
	s := newSource(mapping())
	b, err := s.Poll(context.Background(), &a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !b.Complete || len(b.Posts) != 3 {
		t.Fatalf("got %d posts complete %v, want 3 (the item without id skipped) and complete", len(b.Posts), b.Complete)
	}
	if got, want := strings.Join(*reqs, " | "), "size=20 auth=Bearer t0ken | cursor=MTczMjY2NDAwMDAwMA%3D%3D&size=20 auth=Bearer t0ken"; got != want {
		t.Errorf("got requests %q, want %q", got, want)
	}
	want := []model.Post{
		{Schema: 1, ID: "weibo/fj-gov-weibo/5109872234456790", AccountID: "fj-gov-weibo", Platform: "weibo",
			NativeID: "5109872234456790", Kind: "comment", ParentID: "weibo/fj-gov-weibo/5109872234456789",
			URL: "https://weibo.com/3197355467/Pc8xk2AbC#5109872234456790", Text: "请问5号线首末班车时间是多少？",
			Author: "福州市民小林", PublishedAt: time.UnixMilli(1795741380000).UTC(), CollectedAt: now,
			Metrics: model.Metrics{Likes: 4, Comments: 1}},
		{Schema: 1, ID: "weibo/fj-gov-weibo/5109872234456789", AccountID: "fj-gov-weibo", Platform: "weibo",
			NativeID: "5109872234456789", Kind: "post", URL: "https://weibo.com/3197355467/Pc8xk2AbC",
			Text: "【#福州地铁5号线二期开通#】今天上午9时，福州地铁5号线二期正式开通运营。", Author: "中国福建",
			PublishedAt: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), CollectedAt: now,
			Metrics: model.Metrics{Likes: 1264, Comments: 87, Shares: 45}},
		{Schema: 1, ID: "weibo/fj-gov-weibo/5109731122334455", AccountID: "fj-gov-weibo", Platform: "weibo",
			NativeID: "5109731122334455", Kind: "post", URL: "https://weibo.com/3197355467/Pc7aB1cDe",
			Title: "冬季森林防火提示", Text: "冬季天干物燥，进山入林请勿携带火种。", Author: "中国福建",
			PublishedAt: time.Date(2026, 11, 26, 10, 30, 0, 0, time.UTC), CollectedAt: now,
			Metrics: model.Metrics{Likes: 310, Comments: 12, Shares: 9}},
	}
	for i := range want {
		want[i].ContentHash = model.ContentHash(want[i].Title, want[i].Text, want[i].URL)
		if !reflect.DeepEqual(b.Posts[i], want[i]) {
			t.Errorf("post %d: got\n%+v\nwant\n%+v", i, b.Posts[i], want[i])
		}
	}
	again, err := s.Poll(context.Background(), &a, b.State)
	if err != nil || !again.NotModified {
		t.Errorf("got not-modified %v (%v) on the re-poll, want true", again != nil && again.NotModified, err)
	}
}

func TestPollMaxPages(t *testing.T) {
	ts, reqs := vendor(t)
	a := *acc
	a.Source.Options = &Account{Mapping: "vendor", URL: ts.URL}
	m := mapping()
	m.MaxPages = 1
	b, err := newSource(m).Poll(context.Background(), &a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b.Complete || len(b.Posts) != 2 || len(*reqs) != 1 {
		t.Errorf("got complete %v, %d posts, %d requests; want false, 2, 1", b.Complete, len(b.Posts), len(*reqs))
	}
}

func TestPollErrors(t *testing.T) {
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(`{"data":{"list":[{"mid":"1","content":"福建"}]}}`))
	tests := []struct {
		name        string
		contentType string
		status      int
		body        []byte
		m           func(*Mapping)
		wantErr     string
		retryable   bool
		wantText    string
	}{
		{"bad JSON", "application/json", 200, []byte(`{"data":{"list":[`), nil, "not valid JSON", false, ""},
		{"items not an array", "application/json", 200, []byte(`{"data":{"list":{"mid":"1"}}}`), nil, `items path "data.list" is a JSON, not an array`, false, ""},
		{"items missing", "application/json", 200, []byte(`{"code":40001,"msg":"quota exceeded"}`), nil, `items path "data.list" is missing`, false, ""},
		{"unauthorised", "application/json", 401, []byte(`{"code":401}`), nil, "status 401", false, ""},
		{"rate limited", "application/json", 429, nil, nil, "status 429", true, ""},
		{"server error", "application/json", 502, nil, nil, "status 502", true, ""},
		{"oversized", "application/json", 200, bytes.Repeat([]byte(" "), 4096), nil, "over 2048 bytes", false, ""},
		{"GBK without a charset", "application/json", 200, gbk, nil, "not UTF-8", false, ""},
		{"GBK with its charset", "application/json; charset=GBK", 200, gbk, nil, "", false, "福建"},
		{"unknown charset", "application/json; charset=x-klingon", 200, []byte(`{}`), nil, `unknown charset "x-klingon"`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := sourcetest.Serve(t, tt.status, tt.contentType, tt.body)
			a := *acc
			a.Source.Options = &Account{Mapping: "vendor", URL: ts.URL}
			s := newSource(mapping())
			s.Client.MaxBody = 2048
			b, err := s.Poll(context.Background(), &a, nil)
			if tt.wantErr == "" {
				if err != nil || len(b.Posts) != 1 || b.Posts[0].Text != tt.wantText {
					t.Fatalf("got %v, %+v; want one post with text %q", err, b, tt.wantText)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), ts.URL) {
				t.Fatalf("got %v, want an error naming %s and %q", err, ts.URL, tt.wantErr)
			}
			if got := fetch.IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v", got, tt.retryable)
			}
			var pe *fetch.ParseError
			if strings.Contains(tt.wantErr, "JSON") && !errors.As(err, &pe) {
				t.Errorf("got %T, want a *fetch.ParseError", err)
			}
		})
	}
}

func TestMapTimes(t *testing.T) {
	tests := []struct {
		layout, value string
		want          time.Time
	}{
		{"", `"2026-11-27T09:00:00+08:00"`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"", `"2026-11-27 09:00:00"`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"", `"2026年11月27日 09:00"`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"", `1795741200`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"", `"1795741200000"`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"02/01/2006 15:04", `"27/11/2026 09:00"`, time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)},
		{"", `"soon"`, now},
		{"", `null`, now},
	}
	for _, tt := range tests {
		m := &Mapping{Items: "items", Fields: Fields{ID: "id", PublishedAt: "t"}, TimeLayout: tt.layout}
		posts, _, _, err := m.Map([]byte(`{"items":[{"id":"1","t":`+tt.value+`}]}`), acc, now)
		if err != nil || len(posts) != 1 || !posts[0].PublishedAt.Equal(tt.want) {
			t.Errorf("%s (layout %q): got %v %v, want %v", tt.value, tt.layout, posts, err, tt.want)
		}
	}
}

func FuzzMap(f *testing.F) {
	for _, name := range []string{"page1.json", "page2.json"} {
		f.Add(sourcetest.Testdata(f, name))
	}
	f.Add([]byte(`{"data":{"list":[{"mid":1e400,"created_at":-1,"type":"reply","stats":{"like":-5}}]}}`))
	f.Add([]byte(`{"data":{"list":"x"}}`))
	m := mapping()
	f.Fuzz(func(t *testing.T, body []byte) {
		posts, _, skipped, err := m.Map(body, acc, now)
		if err != nil {
			return
		}
		for _, p := range posts {
			if p.NativeID == "" || p.ID != model.PostID("weibo", "fj-gov-weibo", p.NativeID) || p.ContentHash == "" {
				t.Errorf("got an incomplete post %+v", p)
			}
			if p.Kind != model.KindPost && p.Kind != model.KindComment && p.Kind != model.KindReply {
				t.Errorf("got kind %q", p.Kind)
			}
			if p.Metrics.Likes < 0 || p.Metrics.Comments < 0 || p.Metrics.Shares < 0 || p.Metrics.Views < 0 {
				t.Errorf("got negative counts %+v", p.Metrics)
			}
			if p.PublishedAt.Location() != time.UTC {
				t.Errorf("got published %v, want UTC", p.PublishedAt)
			}
		}
		for _, e := range skipped {
			if e.Error() == "" {
				t.Error("got an empty skip reason")
			}
		}
	})
}

func TestSampleConfig(t *testing.T) {
	var cfg map[string]any
	sourcetest.Sample(t, &cfg)
}

// BenchmarkMap maps a recorded vendor page.
func BenchmarkMap(b *testing.B) {
	body := sourcetest.Testdata(b, "page1.json")
	m := mapping()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for range b.N {
		posts, _, _, err := m.Map(body, acc, now)
		if err != nil || len(posts) != 2 {
			b.Fatalf("got %d posts, %v", len(posts), err)
		}
	}
}
