package jsonapi

import (
	"reflect"
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
)

func TestMapLinks(t *testing.T) {
	const item = `"url":"https://www.fuzhou.gov.cn/zwgk/tzgg/1.htm"`
	tests := []struct {
		name, links, body string
		want              []model.Link
	}{
		{"html in the links field", "body_html",
			`{"items":[{"id":"1",` + item + `,"body_html":"<p>见<a href=\"../zcjd/2.htm\">解读</a></p><div style=\"display:none\"><a href=\"https://bet.example/\">365</a></div>"}]}`,
			[]model.Link{
				{URL: "https://www.fuzhou.gov.cn/zwgk/zcjd/2.htm", Text: "解读"},
				{URL: "https://bet.example/", Text: "365", Hidden: true},
			}},
		{"an array of urls and objects", "links",
			`{"items":[{"id":"1",` + item + `,"links":["https://www.gov.cn/",{"href":"/a.htm","title":"附件"},{"url":"https://ad.example/","text":"广告","hidden":true},{"url":"mailto:x@y"},42]}]}`,
			[]model.Link{
				{URL: "https://www.gov.cn/"},
				{URL: "https://www.fuzhou.gov.cn/a.htm", Text: "附件"},
				{URL: "https://ad.example/", Text: "广告", Hidden: true},
			}},
		{"no links field: the anchors of the text", "",
			`{"items":[{"id":"1",` + item + `,"content":"正文<a href=\"https://www.gov.cn/x\">国务院</a>"}]}`,
			[]model.Link{{URL: "https://www.gov.cn/x", Text: "国务院"}}},
		{"a links field that is neither", "links",
			`{"items":[{"id":"1",` + item + `,"links":{"a":1}}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Mapping{Items: "items", Fields: Fields{ID: "id", URL: "url", Text: "content", Links: tt.links}}
			posts, _, skipped, err := m.Map([]byte(tt.body), acc, now)
			if err != nil || len(skipped) > 0 || len(posts) != 1 {
				t.Fatalf("got %d posts, skipped %v, err %v; want one post", len(posts), skipped, err)
			}
			p := posts[0]
			if !reflect.DeepEqual(p.Links, tt.want) {
				t.Errorf("links: got %+v, want %+v", p.Links, tt.want)
			}
			if want := model.ContentHashLinks(p.Title, p.Text, p.URL, tt.want); p.ContentHash != want {
				t.Errorf("content hash: got %s, want %s (over the links)", p.ContentHash, want)
			}
		})
	}
}
