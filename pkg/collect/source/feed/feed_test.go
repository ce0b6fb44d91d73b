package feed

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/fetch"
	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
)

var now = time.Date(2026, 8, 3, 4, 0, 0, 0, time.UTC)

func fetcher() *Fetcher {
	return &Fetcher{Clock: clockwork.NewFakeClockAt(now), UserAgent: "govwatch-test"}
}

func TestFetchFormats(t *testing.T) {
	tests := []struct {
		name, file, contentType string
		wantTitle               string
		wantItems               int
		want                    Item // the first item
	}{
		{
			name: "rss 2.0", file: "rss2.xml", contentType: "application/rss+xml; charset=utf-8",
			wantTitle: "福建发布", wantItems: 2,
			want: Item{
				NativeID:    "https://weibo.com/1234567890/PaBcDeF01",
				URL:         "https://weibo.com/1234567890/PaBcDeF01",
				Title:       "【通知公告】关于2026年中秋节、国庆节放假安排的通知",
				Text:        "根据国务院办公厅通知精神，现将放假安排通知如下： 10月1日至8日放假调休，共8天。 请&广大市民 合理安排出行。",
				Author:      "福建发布",
				PublishedAt: time.Date(2026, 8, 3, 2, 0, 0, 0, time.UTC),
			},
		},
		{
			name: "atom with rsshub metrics", file: "atom.xml", contentType: "application/atom+xml",
			wantTitle: "福州发布 的微信公众号", wantItems: 2,
			want: Item{
				NativeID:    "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=ab12",
				URL:         "https://mp.weixin.qq.com/s?__biz=MzA3&mid=2650&idx=1&sn=ab12",
				Title:       "福州地铁5号线二期开通运营",
				Text:        "今天上午，福州地铁5号线二期正式开通。",
				Author:      "福州发布",
				PublishedAt: time.Date(2026, 8, 3, 1, 15, 0, 0, time.UTC),
				Metrics:     model.Metrics{Likes: 128, Comments: 17},
			},
		},
		{
			name: "json feed", file: "feed.json", contentType: "application/feed+json",
			wantTitle: "厦门发布", wantItems: 1,
			want: Item{
				NativeID:    "7401234567890123456",
				URL:         "https://www.douyin.com/video/7401234567890123456",
				Title:       "鼓浪屿音乐节今晚开幕",
				Text:        "鼓浪屿音乐节今晚开幕，欢迎市民游客前往。",
				Author:      "厦门发布",
				PublishedAt: time.Date(2026, 8, 3, 11, 30, 0, 0, time.UTC),
			},
		},
	}
	gbk := Item{
		NativeID:    "np-1",
		URL:         "https://example.gov.cn/np/1",
		Title:       "武夷山景区暑期开放时间调整的公告",
		Text:        "即日起，武夷山景区开放时间调整为7:00至18:00。",
		PublishedAt: time.Date(2026, 8, 3, 2, 0, 0, 0, time.UTC),
	}
	for _, c := range []struct{ name, file, contentType string }{
		{"gbk charset in header only", "gbk-header.xml", "application/rss+xml; charset=GBK"},
		{"gbk charset in declaration only", "gbk-decl.xml", "text/xml"},
		{"gbk in both, decoded once", "gbk-decl.xml", "application/xml; charset=gb18030"},
	} {
		tests = append(tests, struct {
			name, file, contentType string
			wantTitle               string
			wantItems               int
			want                    Item
		}{c.name, c.file, c.contentType, "南平文旅", 1, gbk})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := sourcetest.ServeFile(t, tt.file, tt.contentType)
			res, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
			if err != nil {
				t.Fatal(err)
			}
			if res.FeedTitle != tt.wantTitle {
				t.Errorf("got feed title %q, want %q", res.FeedTitle, tt.wantTitle)
			}
			if len(res.Items) != tt.wantItems {
				t.Fatalf("got %d items, want %d", len(res.Items), tt.wantItems)
			}
			if got := res.Items[0]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got item\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestFetchAtomFallsBackToUpdated(t *testing.T) {
	ts := sourcetest.ServeFile(t, "atom.xml", "")
	res, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Items[1]
	if want := time.Date(2026, 8, 2, 10, 0, 0, 0, time.UTC); !got.PublishedAt.Equal(want) {
		t.Errorf("got published %v, want %v", got.PublishedAt, want)
	}
	if got.Text != "珍爱生命，预防溺水。" || got.Author != "福州发布" {
		t.Errorf("got text %q author %q, want the summary and the feed author", got.Text, got.Author)
	}
}

func TestDates(t *testing.T) {
	ts := sourcetest.ServeFile(t, "dates.xml", "application/rss+xml")
	res, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	tenBeijing := time.Date(2026, 8, 3, 2, 0, 0, 0, time.UTC)
	want := map[string]time.Time{
		"d1": tenBeijing,                                   // 2026-08-03 10:00:00
		"d2": tenBeijing,                                   // 2026年08月03日 10:00
		"d3": tenBeijing,                                   // GMT+8
		"d4": tenBeijing,                                   // CST read as China Standard Time
		"d5": tenBeijing,                                   // explicit +0000
		"d6": tenBeijing,                                   // 2026-08-03T10:00:00
		"d7": time.Date(2026, 8, 2, 16, 0, 0, 0, time.UTC), // 2026年8月3日
		"d8": now,                                          // no date: fetch time
	}
	if len(res.Items) != len(want) {
		t.Fatalf("got %d items, want %d", len(res.Items), len(want))
	}
	for _, it := range res.Items {
		if !it.PublishedAt.Equal(want[it.NativeID]) {
			t.Errorf("%s (%s): got %v, want %v", it.NativeID, it.Title, it.PublishedAt, want[it.NativeID])
		}
	}
}

func TestNativeIDFallback(t *testing.T) {
	ts := sourcetest.ServeFile(t, "noguid.xml", "application/rss+xml")
	res, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Items[0].NativeID, "https://example.gov.cn/art/2026/8/3/1.html"; got != want {
		t.Errorf("got native id %q, want the link %q", got, want)
	}
	got := res.Items[1].NativeID
	if !strings.HasPrefix(got, "sha256:") {
		t.Errorf("got native id %q, want a content hash", got)
	}
	again, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Items[1].NativeID != got {
		t.Errorf("got native id %q on a re-poll, want the stable %q", again.Items[1].NativeID, got)
	}
}

func TestConditionalGet(t *testing.T) {
	body := sourcetest.Testdata(t, "rss2.xml")
	const etag, lastMod = `"v1"`, "Mon, 03 Aug 2026 02:00:00 GMT"
	var gotINM, gotIMS, gotUA string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotINM, gotIMS, gotUA = r.Header.Get("If-None-Match"), r.Header.Get("If-Modified-Since"), r.UserAgent()
		if gotINM == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", lastMod)
		_, _ = w.Write(body)
	}))
	defer ts.Close()

	f := fetcher()
	first, err := f.Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	want := Validators{ETag: etag, LastModified: lastMod}
	if first.NotModified || first.Validators != want {
		t.Fatalf("got not-modified %v validators %+v, want false %+v", first.NotModified, first.Validators, want)
	}
	second, err := f.Fetch(context.Background(), ts.URL, first.Validators)
	if err != nil {
		t.Fatal(err)
	}
	if !second.NotModified || len(second.Items) != 0 || second.Validators != want {
		t.Errorf("got not-modified %v, %d items, validators %+v; want true, 0, %+v", second.NotModified, len(second.Items), second.Validators, want)
	}
	if gotINM != etag || gotIMS != lastMod || gotUA != "govwatch-test" {
		t.Errorf("got If-None-Match %q If-Modified-Since %q User-Agent %q, want %q %q govwatch-test", gotINM, gotIMS, gotUA, etag, lastMod)
	}
}

func TestFetchErrors(t *testing.T) {
	big := bytes.Repeat([]byte("<item><title>x</title></item>"), 100)
	tests := []struct {
		name      string
		status    int
		body      []byte
		maxBody   int64
		wantErr   string
		retryable bool
	}{
		{"404", http.StatusNotFound, []byte("not found"), 0, "status 404", false},
		{"403", http.StatusForbidden, nil, 0, "status 403", false},
		{"429", http.StatusTooManyRequests, nil, 0, "status 429", true},
		{"503 rsshub page", http.StatusServiceUnavailable, []byte("<html>This path is currently fetching</html>"), 0, "status 503", true},
		{"oversized body", http.StatusOK, big, 1024, "over 1024 bytes", false},
		{"not a feed", http.StatusOK, []byte("<html><body>hello</body></html>"), 0, "parse ", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := sourcetest.Serve(t, tt.status, "", tt.body)
			f := fetcher()
			f.MaxBody = tt.maxBody
			_, err := f.Fetch(context.Background(), ts.URL, Validators{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), ts.URL) {
				t.Fatalf("got error %v, want one naming %s and %q", err, ts.URL, tt.wantErr)
			}
			if got := fetch.IsRetryable(err); got != tt.retryable {
				t.Errorf("got retryable %v, want %v (%v)", got, tt.retryable, err)
			}
		})
	}
}

func TestFetchNetworkErrors(t *testing.T) {
	sourcetest.NetworkFailures(t, func(ctx context.Context, client *http.Client, url string) error {
		f := fetcher()
		f.Client = client
		_, err := f.Fetch(ctx, url, Validators{})
		return err
	}, fetch.IsRetryable)
}

func FuzzParse(f *testing.F) {
	for _, seed := range []struct{ file, contentType string }{
		{"rss2.xml", "application/rss+xml; charset=utf-8"},
		{"atom.xml", "application/atom+xml"},
		{"feed.json", "application/feed+json"},
		{"dates.xml", ""},
		{"noguid.xml", ""},
		{"gbk-header.xml", "text/xml; charset=gbk"},
		{"gbk-decl.xml", "text/xml"},
	} {
		f.Add(sourcetest.Testdata(f, seed.file), seed.contentType)
	}
	f.Add([]byte(`<?xml version="1.0" encoding="x-unknown"?><rss/>`), "text/xml; charset=x-unknown")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		res, err := Parse(body, contentType, now)
		if err != nil {
			return
		}
		for i, it := range res.Items {
			if it.NativeID == "" {
				t.Errorf("item %d: got an empty native id", i)
			}
			if it.PublishedAt.Location() != time.UTC {
				t.Errorf("item %d: got published %v, want UTC", i, it.PublishedAt)
			}
		}
	})
}
