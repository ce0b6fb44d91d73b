package text

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
)

func TestExtractLinks(t *testing.T) {
	const base = "https://www.fujian.gov.cn/zwgk/tzgg/202611/t20261126_1.htm"
	tests := []struct {
		name string
		in   string
		want []model.Link
	}{
		{"plain text has no links", "没有链接的通知", nil},
		{"absolute and relative, resolved against the item link",
			`<p>详见<a href="https://www.gov.cn/zhengce/content/2026-11/01/content_1.htm">国务院通知</a>，附件<a href="../202610/P020261020.pdf">下载</a>。</p>`,
			[]model.Link{
				{URL: "https://www.gov.cn/zhengce/content/2026-11/01/content_1.htm", Text: "国务院通知"},
				{URL: "https://www.fujian.gov.cn/zwgk/tzgg/202610/P020261020.pdf", Text: "下载"},
			}},
		{"javascript, mailto, tel, data and fragments are dropped",
			`<a href="javascript:void(0)">打印</a><a href="mailto:xxgk@fujian.gov.cn">邮箱</a><a href="tel:12345">电话</a><a href="data:text/html,x">x</a><a href="#top">顶部</a><a href=" JavaScript:alert(1)">y</a>`,
			nil},
		{"duplicates kept once, fragment stripped, host lower-cased",
			`<a href="https://WWW.GOV.CN/a#p1">一</a><a href="https://www.gov.cn/a#p2">二</a>`,
			[]model.Link{{URL: "https://www.gov.cn/a", Text: "一"}}},
		{"entities and nested tags in the text and the href",
			`<a href="/search?q=%E6%94%BF%E5%8A%A1&amp;page=2"><span><b>政务&nbsp;公开</b> &amp; 服务</span></a>`,
			[]model.Link{{URL: "https://www.fujian.gov.cn/search?q=%E6%94%BF%E5%8A%A1&page=2", Text: "政务 公开 & 服务"}}},
		{"image links take the alt text",
			`<a href="https://www.12345.gov.cn/"><img src="/logo.png" alt="12345 热线"></a>`,
			[]model.Link{{URL: "https://www.12345.gov.cn/", Text: "12345 热线"}}},
		{"display none on a wrapping div (SEO spam planted in a page)",
			`<p>正文</p><div style="display: none"><a href="https://www.bet365-vip.com/">365官方</a><a href="http://av.example.xxx/">成人</a></div>`,
			[]model.Link{
				{URL: "https://www.bet365-vip.com/", Text: "365官方", Hidden: true},
				{URL: "http://av.example.xxx/", Text: "成人", Hidden: true},
			}},
		{"visibility hidden, font-size 0, opacity 0, hidden attribute",
			`<a style="VISIBILITY:hidden !important" href="https://a.example/">a</a><span style="font-size:0px"><a href="https://b.example/">b</a></span><a style="opacity:0" href="https://c.example/">c</a><a hidden href="https://d.example/">d</a>`,
			[]model.Link{
				{URL: "https://a.example/", Text: "a", Hidden: true},
				{URL: "https://b.example/", Text: "b", Hidden: true},
				{URL: "https://c.example/", Text: "c", Hidden: true},
				{URL: "https://d.example/", Text: "d", Hidden: true},
			}},
		{"off-screen positioning and text-indent",
			`<div style="position:absolute;left:-9999px;top:0"><a href="https://e.example/">e</a></div><a style="text-indent:-5000px" href="https://f.example/">f</a><div style="position:relative;left:-20px"><a href="https://g.example/">g</a></div>`,
			[]model.Link{
				{URL: "https://e.example/", Text: "e", Hidden: true},
				{URL: "https://f.example/", Text: "f", Hidden: true},
				{URL: "https://g.example/", Text: "g"},
			}},
		{"text naming another host than the target",
			`<a href="https://casino.example/">www.fujian.gov.cn</a><a href="https://www.gov.cn/x">http://gov.cn/</a><a href="https://zwfw.fujian.gov.cn/">www.fujian.gov.cn</a>`,
			[]model.Link{
				{URL: "https://casino.example/", Text: "www.fujian.gov.cn", Hidden: true},
				{URL: "https://www.gov.cn/x", Text: "http://gov.cn/"},
				{URL: "https://zwfw.fujian.gov.cn/", Text: "www.fujian.gov.cn"},
			}},
		{"a hidden duplicate marks the visible one hidden",
			`<a href="https://h.example/">h</a><a style="display:none" href="https://h.example/">h</a>`,
			[]model.Link{{URL: "https://h.example/", Text: "h", Hidden: true}}},
		{"malformed HTML: unclosed tags and quotes",
			`<p>通知<a href="https://www.gov.cn/1">一<a href='https://www.gov.cn/2'>二</p><div style="display:none"><a href=https://spam.example/x>三`,
			[]model.Link{
				{URL: "https://www.gov.cn/1", Text: "一"},
				{URL: "https://www.gov.cn/2", Text: "二"},
				{URL: "https://spam.example/x", Text: "三", Hidden: true},
			}},
		{"script and style contents are not links",
			`<script>document.write('<a href="https://x.example/">x</a>')</script><style>a{}</style><a href="https://y.example/">y</a>`,
			[]model.Link{{URL: "https://y.example/", Text: "y"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExtractLinks(tt.in, base)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestExtractLinksWithoutBase(t *testing.T) {
	got := ExtractLinks(`<a href="/rel">相对</a><a href="https://www.gov.cn/">绝对</a>`, "")
	want := []model.Link{{URL: "https://www.gov.cn/", Text: "绝对"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestExtractLinksCap(t *testing.T) {
	var b strings.Builder
	for i := range MaxLinks + 50 {
		b.WriteString(`<a href="https://spam.example/p` + strings.Repeat("x", i%7) + "/" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `">x</a>`)
	}
	got := ExtractLinks(b.String(), "")
	if len(got) != MaxLinks {
		t.Fatalf("got %d links, want the cap %d", len(got), MaxLinks)
	}
}

// FuzzExtractLinks holds the extractor's promises on any input: no panic,
// absolute http(s) URLs only, each once, at most MaxLinks, valid UTF-8.
func FuzzExtractLinks(f *testing.F) {
	for _, s := range []string{
		`<a href="https://www.gov.cn/">中国政府网</a>`,
		`<div style="display:none"><a href="/x">x</a></div>`,
		`<a href="javascript:alert(1)">x</a><a href=mailto:a@b>y</a>`,
		`<a href="https://a.example/">b.example</a><area href="http://c.example/" alt="c">`,
		`<a href="%zz">bad</a><a href="http://[::1]:80/">v6</a><a href="//cdn.example/x">p</a>`,
		"<a href=\"https://x.example/\xff\">\xfe</a>",
	} {
		f.Add(s, "https://www.fujian.gov.cn/a/b.htm")
	}
	f.Fuzz(func(t *testing.T, in, base string) {
		links := ExtractLinks(in, base)
		if len(links) > MaxLinks {
			t.Fatalf("%d links, more than %d", len(links), MaxLinks)
		}
		seen := map[string]bool{}
		for _, l := range links {
			u, err := url.Parse(l.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
				t.Fatalf("link %q is not an absolute http(s) URL", l.URL)
			}
			if seen[l.URL] {
				t.Fatalf("link %q twice", l.URL)
			}
			seen[l.URL] = true
			if !utf8.ValidString(l.Text) && utf8.ValidString(in) {
				t.Fatalf("text %q is not UTF-8", l.Text)
			}
		}
	})
}

func TestCleanLinks(t *testing.T) {
	got := CleanLinks([]model.Link{
		{URL: "/zwgk/1.htm", Text: " 政务\n公开 "},
		{URL: "javascript:void(0)", Text: "x"},
		{URL: "https://www.fujian.gov.cn/zwgk/1.htm#a", Text: "again"},
		{URL: "https://bet.example/", Text: "www.fujian.gov.cn"},
		{URL: "https://ad.example/", Hidden: true},
	}, "https://www.fujian.gov.cn/")
	want := []model.Link{
		{URL: "https://www.fujian.gov.cn/zwgk/1.htm", Text: "政务 公开"},
		{URL: "https://bet.example/", Text: "www.fujian.gov.cn", Hidden: true},
		{URL: "https://ad.example/", Hidden: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
