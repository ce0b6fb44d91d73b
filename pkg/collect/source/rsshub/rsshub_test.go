package rsshub

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/collect/source/feed"
	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

var now = time.Date(2026, 8, 3, 4, 0, 0, 0, time.UTC)

func newSource(base string) *Source {
	return &Source{BaseURL: base, Fetcher: &feed.Fetcher{Clock: clockwork.NewFakeClockAt(now)}}
}

func account(platform string, o *Account) *registry.Account {
	return &registry.Account{ID: "acc", Platform: platform, Status: registry.StatusActive,
		Source: registry.Source{Type: "rsshub", Options: o}}
}

func TestFeedURL(t *testing.T) {
	tests := []struct {
		platform string
		o        *Account
		want     string
		wantErr  string
	}{
		{"weibo", &Account{UserID: "3197355467"}, "http://hub:1200/weibo/user/3197355467?format=atom", ""},
		{"douyin", &Account{UserID: "MS4wLjABAAAA_x"}, "http://hub:1200/douyin/user/MS4wLjABAAAA_x?format=atom", ""},
		{"bilibili", &Account{UserID: "2267573"}, "http://hub:1200/bilibili/user/dynamic/2267573?format=atom", ""},
		{"toutiao", &Account{UserID: "MS4wLjAB"}, "http://hub:1200/toutiao/user/token/MS4wLjAB?format=atom", ""},
		{"xiaohongshu", &Account{UserID: "5a1b2c"}, "http://hub:1200/xiaohongshu/user/5a1b2c/notes?format=atom", ""},
		{"kuaishou", &Account{UserID: "3xabc"}, "http://hub:1200/kuaishou/profile/3xabc?format=atom", ""},
		{"zhihu", &Account{UserID: "fj-gov"}, "http://hub:1200/zhihu/people/activities/fj-gov?format=atom", ""},
		{"weibo", &Account{UserID: "a/b"}, "http://hub:1200/weibo/user/a%2Fb?format=atom", ""},
		{"wechat", &Account{Route: "/wechat/ce/595a5b14d7164e53"}, "http://hub:1200/wechat/ce/595a5b14d7164e53?format=atom", ""},
		{"weibo", &Account{Route: "/weibo/user/1?format=json"}, "http://hub:1200/weibo/user/1?format=json", ""},
		{"wechat", &Account{UserID: "x"}, "", `no rsshub route for platform "wechat"`},
		{"weibo", &Account{}, "", "no user_id"},
	}
	s := newSource("http://hub:1200/")
	for _, tt := range tests {
		got, err := s.FeedURL(account(tt.platform, tt.o))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s %+v: got %q, %v; want error %q", tt.platform, tt.o, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s %+v: got %q, %v; want %q", tt.platform, tt.o, got, err, tt.want)
		}
	}
}

// hub serves a testdata file on any path, honouring If-None-Match.
func hub(t *testing.T, file string) (*httptest.Server, *[]string) {
	t.Helper()
	body := sourcetest.Testdata(t, file)
	var reqs []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqs = append(reqs, r.URL.RequestURI()+" inm="+r.Header.Get("If-None-Match")+" ims="+r.Header.Get("If-Modified-Since"))
		w.Header().Set("ETag", `W/"2a-abc"`)
		w.Header().Set("Last-Modified", "Mon, 03 Aug 2026 02:31:07 GMT")
		if r.Header.Get("If-None-Match") == `W/"2a-abc"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts, &reqs
}

func TestPollWeibo(t *testing.T) {
	ts, reqs := hub(t, "weibo-user.atom")
	s := newSource(ts.URL)
	a := account("weibo", &Account{UserID: "3197355467"})
	b, err := s.Poll(context.Background(), a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Posts) != 2 || !b.Complete || b.NotModified {
		t.Fatalf("got %d posts complete %v not-modified %v, want 2 true false", len(b.Posts), b.Complete, b.NotModified)
	}
	p := b.Posts[0]
	want := model.Post{
		Schema: 1, ID: "weibo/acc/https://weibo.com/3197355467/Pb2xYz9Kq", AccountID: "acc", Platform: "weibo",
		NativeID: "https://weibo.com/3197355467/Pb2xYz9Kq", Kind: "post", URL: "https://weibo.com/3197355467/Pb2xYz9Kq",
		Title: "【#福建发布台风橙色预警#】今年第9号台风预计3日夜间登陆", Text: "【#福建发布台风橙色预警#】今年第9号台风预计3日夜间登陆，请沿海群众注意防范。",
		Author: "中国福建", PublishedAt: time.Date(2026, 8, 3, 2, 10, 0, 0, time.UTC), CollectedAt: now,
		Metrics: model.Metrics{Likes: 2391, Comments: 118},
		Links:   []model.Link{{URL: "https://m.weibo.cn/search?containerid=231522type%3D1", Text: "#福建发布台风橙色预警#"}},
	}
	want.ContentHash = model.ContentHashLinks(want.Title, want.Text, want.URL, want.Links)
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got\n%+v\nwant\n%+v", p, want)
	}
	again, err := s.Poll(context.Background(), a, b.State)
	if err != nil || !again.NotModified {
		t.Fatalf("got not-modified %v (%v) on the re-poll, want true", again != nil && again.NotModified, err)
	}
	if got, want := (*reqs)[1], `/weibo/user/3197355467?format=atom inm=W/"2a-abc" ims=`; got != want {
		t.Errorf("got re-poll request %q, want %q (If-None-Match only)", got, want)
	}
}

func TestPollWeChatDeduplicates(t *testing.T) {
	ts, _ := hub(t, "wechat-mp.atom")
	s := newSource(ts.URL)
	b, err := s.Poll(context.Background(), account("wechat", &Account{Route: "/wechat/ce/fz"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range b.Posts {
		ids = append(ids, p.NativeID)
	}
	want := []string{"MzA3NjE4MDY0Mg==_2651093410_1", "MzA3NjE4MDY0Mg==_2651093410_2"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("got native ids %v, want %v (one per __biz/mid/idx)", ids, want)
	}
}

func TestPollErrors(t *testing.T) {
	fetching := sourcetest.Testdata(t, "fetching-503.html")
	broken := sourcetest.Testdata(t, "error-503.html")
	tests := []struct {
		name       string
		status     int
		body       []byte
		retryLater bool
		retryable  bool
	}{
		{"currently fetching", 503, fetching, true, true},
		{"route error", 503, broken, false, true},
		{"not found", 404, []byte("<html>Not Found</html>"), false, false},
		{"not a feed", 200, []byte("<html><body>登录</body></html>"), false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := sourcetest.Serve(t, tt.status, "text/html; charset=utf-8", tt.body)
			_, err := newSource(ts.URL).Poll(context.Background(), account("weibo", &Account{UserID: "1"}), nil)
			if err == nil || !strings.Contains(err.Error(), ts.URL) {
				t.Fatalf("got %v, want an error naming %s", err, ts.URL)
			}
			if got := errors.Is(err, source.ErrRetryLater); got != tt.retryLater {
				t.Errorf("got retry-later %v, want %v (%v)", got, tt.retryLater, err)
			}
			if got := fetch.IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v (%v)", got, tt.retryable, err)
			}
		})
	}
}

func TestSampleConfig(t *testing.T) {
	var cfg struct {
		Collector struct {
			Sources struct {
				RSSHub struct {
					BaseURL string `yaml:"base_url"`
				} `yaml:"rsshub"`
			} `yaml:"sources"`
		} `yaml:"collector"`
		Registry struct {
			Units    []map[string]string
			Accounts []struct {
				ID, Name, Platform, Unit string
				Source                   struct {
					Type, Route, Interval string
					UserID                string `yaml:"user_id"`
				}
			}
		}
	}
	sourcetest.Sample(t, &cfg)
	s := newSource(cfg.Collector.Sources.RSSHub.BaseURL)
	for _, a := range cfg.Registry.Accounts {
		acc := account(a.Platform, &Account{UserID: a.Source.UserID, Route: a.Source.Route})
		if _, err := s.FeedURL(acc); err != nil || a.Source.Type != "rsshub" {
			t.Errorf("account %s: got type %q, %v; want rsshub and a feed url", a.ID, a.Source.Type, err)
		}
	}
}

// TestPollWeiboRecorded reads an RSSHub instance's real /weibo/user answer
// (July 2025): RSS 2.0 rather than the Atom asked for, hashtag links,
// emoji-sized icons and [图片] markers in the title.
func TestPollWeiboRecorded(t *testing.T) {
	ts, _ := hub(t, "weibo-user-2025.rss")
	s := newSource(ts.URL)
	b, err := s.Poll(context.Background(), account("weibo", &Account{UserID: "1935396210"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Posts) != 2 {
		t.Fatalf("got %d posts, want 2", len(b.Posts))
	}
	p := b.Posts[0]
	want := model.Post{
		Schema: 1, ID: "weibo/acc/https://weibo.com/1935396210/PzxMFDdIO", AccountID: "acc", Platform: "weibo",
		NativeID: "https://weibo.com/1935396210/PzxMFDdIO", Kind: "post", URL: "https://weibo.com/1935396210/PzxMFDdIO",
		Title:  "『致不灭的你』动画第三季「现世篇」视觉图公开！2025年10月开播！#致不灭的你#致不灭的你 [图片]",
		Text:   "『致不灭的你』动画第三季「现世篇」视觉图公开！2025年10月开播！ #致不灭的你#致不灭的你",
		Author: "少年JUMP吧", PublishedAt: time.Date(2025, 7, 4, 7, 51, 28, 0, time.UTC), CollectedAt: now,
		Links: []model.Link{ // the hashtag links of a real answer
			{URL: "https://m.weibo.cn/search?containerid=231522type%3D1%26t%3D10%26q%3D%23%E8%87%B4%E4%B8%8D%E7%81%AD%E7%9A%84%E4%BD%A0%23&isnewpage=1", Text: "#致不灭的你#"},
			{URL: "https://m.weibo.cn/p/index?extparam=%E8%87%B4%E4%B8%8D%E7%81%AD%E7%9A%84%E4%BD%A0&containerid=100808eabefa96b785163efc88d03e1ed298e8", Text: "致不灭的你"},
		},
	}
	want.ContentHash = model.ContentHashLinks(want.Title, want.Text, want.URL, want.Links)
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got\n%+v\nwant\n%+v", p, want)
	}
	if second := b.Posts[1]; second.Text != "小畑健新绘 『棋魂』展纪念插画合集 棋魂" || second.PublishedAt.Format(time.RFC3339) != "2025-07-04T07:39:56Z" {
		t.Errorf("second post read as %q at %s", second.Text, second.PublishedAt)
	}
}

// TestURLNamesTheFeed: messages about an account (system.source_down) ask
// the source where it is read from.
func TestURLNamesTheFeed(t *testing.T) {
	a := account("weibo", &Account{UserID: "3197355467"})
	if got, want := source.URL(newSource("http://hub:1200"), a), "http://hub:1200/weibo/user/3197355467?format=atom"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := source.URL(nil, a); got != "" {
		t.Errorf("got %q for a source that is pushed to, want none", got)
	}
}
