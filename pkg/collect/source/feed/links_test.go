package feed

import (
	"context"
	"reflect"
	"testing"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// TestItemLinks reads a county notice whose page was planted with an
// off-screen casino link: relative links resolve against the item link,
// tel:, mailto: and javascript: are dropped, the planted one is hidden,
// and the post carries them under a content hash that covers them.
func TestItemLinks(t *testing.T) {
	ts := sourcetest.ServeFile(t, "links.xml", "application/rss+xml; charset=utf-8")
	res, err := fetcher().Fetch(context.Background(), ts.URL, Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 {
		t.Fatalf("got %d items, want 1", len(res.Items))
	}
	it := res.Items[0]
	want := []model.Link{
		{URL: "https://www.example-county.gov.cn/zwgk/zcwj/202611/t20261120_88.html", Text: "县政府办文件"},
		{URL: "https://www.gov.cn/zhengce/2026-11/01/content_9001.htm", Text: "国务院通知"},
		{URL: "https://www.bet365-vip.example/", Text: "365官方_手机版官网", Hidden: true},
	}
	if !reflect.DeepEqual(it.Links, want) {
		t.Errorf("links:\ngot  %+v\nwant %+v", it.Links, want)
	}
	p := it.Post(&registry.Account{ID: "county", Platform: "website"}, it.NativeID, now)
	if !reflect.DeepEqual(p.Links, want) {
		t.Errorf("post links: got %+v, want %+v", p.Links, want)
	}
	if p.ContentHash == model.ContentHash(p.Title, p.Text, p.URL) {
		t.Error("the content hash does not cover the links")
	}
}
