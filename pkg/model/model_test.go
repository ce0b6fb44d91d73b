package model

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// The examples of docs/DESIGN.md with the "…" filled in. The JSON is a
// contract read by tools outside the project: field names must not drift.
const designPost = `{"schema": 1, "id": "weibo/fj-gov-weibo/4890001", "account_id": "fj-gov-weibo",
 "platform": "weibo", "native_id": "4890001", "kind": "post", "parent_id": "",
 "url": "https://weibo.com/fjgov/4890001", "title": "关于开展冬季安全检查的通知", "text": "plain text, HTML stripped", "author": "中国福建",
 "published_at": "2026-11-26T08:00:00Z", "collected_at": "2026-11-26T08:03:11Z",
 "content_hash": "sha256:6f1ed002ab5595859014ebf0951522d9", "metrics": {"likes": 1, "comments": 2, "shares": 3, "views": 4}}`

const designAlert = `{"labels": {"alertname": "privacy.id_number", "severity": "major", "account_id": "fz-gov-wechat",
            "account_name": "福州发布", "platform": "wechat", "unit": "fz-gov", "region": "350100"},
 "annotations": {"summary": "中文一句话", "description": "正文第 3 段公开了一个公民身份号码", "evidence": "3501**********1234",
                 "url": "https://mp.weixin.qq.com/s/abc", "suggestion": "删除或打码后重新发布"},
 "startsAt": "2026-11-26T08:05:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://govwatch.example/alerts/x"}`

// sameJSON reports whether a and b are the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("unmarshal %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}

func TestDesignExamplesRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		into  any
		check func(t *testing.T, v any)
	}{
		{"post", designPost, &Post{}, func(t *testing.T, v any) {
			p := v.(*Post)
			checks := []struct{ what, got, want string }{
				{"id", p.ID, "weibo/fj-gov-weibo/4890001"},
				{"account_id", p.AccountID, "fj-gov-weibo"},
				{"platform", p.Platform, "weibo"},
				{"native_id", p.NativeID, "4890001"},
				{"kind", p.Kind, KindPost},
				{"author", p.Author, "中国福建"},
				{"published_at", p.PublishedAt.Format(time.RFC3339), "2026-11-26T08:00:00Z"},
				{"collected_at", p.CollectedAt.Format(time.RFC3339), "2026-11-26T08:03:11Z"},
				{"content_hash", p.ContentHash, "sha256:6f1ed002ab5595859014ebf0951522d9"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			if p.Schema != SchemaVersion {
				t.Errorf("schema: got %d, want %d", p.Schema, SchemaVersion)
			}
			if want := (Metrics{Likes: 1, Comments: 2, Shares: 3, Views: 4}); p.Metrics != want {
				t.Errorf("metrics: got %+v, want %+v", p.Metrics, want)
			}
		}},
		{"alert", designAlert, &Alert{}, func(t *testing.T, v any) {
			a := v.(*Alert)
			checks := []struct{ what, got, want string }{
				{"alertname", a.Name(), CategoryPrivacyIDNumber},
				{"severity", a.Labels[LabelSeverity], SeverityMajor},
				{"account_id", a.Labels[LabelAccountID], "fz-gov-wechat"},
				{"account_name", a.Labels[LabelAccountName], "福州发布"},
				{"platform", a.Labels[LabelPlatform], "wechat"},
				{"unit", a.Labels[LabelUnit], "fz-gov"},
				{"region", a.Labels[LabelRegion], "350100"},
				{"summary", a.Annotations[AnnotationSummary], "中文一句话"},
				{"description", a.Annotations[AnnotationDescription], "正文第 3 段公开了一个公民身份号码"},
				{"evidence", a.Annotations[AnnotationEvidence], "3501**********1234"},
				{"url", a.Annotations[AnnotationURL], "https://mp.weixin.qq.com/s/abc"},
				{"suggestion", a.Annotations[AnnotationSuggestion], "删除或打码后重新发布"},
				{"startsAt", a.StartsAt.Format(time.RFC3339), "2026-11-26T08:05:00Z"},
				{"generatorURL", a.GeneratorURL, "http://govwatch.example/alerts/x"},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
				}
			}
			if !a.EndsAt.IsZero() || a.Resolved(a.StartsAt.Add(time.Hour)) {
				t.Errorf("endsAt: got %s, want zero (firing)", a.EndsAt)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(tc.doc))
			dec.DisallowUnknownFields() // every field of the example is known
			if err := dec.Decode(tc.into); err != nil {
				t.Fatalf("decode the DESIGN.md example: %v", err)
			}
			tc.check(t, tc.into)
			out, err := json.Marshal(tc.into)
			if err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, out, []byte(tc.doc)) {
				t.Errorf("round trip:\ngot  %s\nwant %s", out, tc.doc)
			}
		})
	}
}

func TestFingerprint(t *testing.T) {
	base := LabelSet{"alertname": "privacy.phone", "severity": "major", "account_id": "fz-gov-wechat", "unit": "fz-gov"}
	fp := base.Fingerprint()
	if len(fp) != 16 || strings.Trim(fp, "0123456789abcdef") != "" {
		t.Fatalf("fingerprint %q: want 16 lowercase hex digits", fp)
	}
	// Same labels built in another order: the same fingerprint.
	reordered := LabelSet{}
	for _, k := range []string{"unit", "account_id", "severity", "alertname"} {
		reordered[k] = base[k]
	}
	if got := reordered.Fingerprint(); got != fp {
		t.Errorf("fingerprint of the same labels inserted in another order: got %s, want %s", got, fp)
	}
	for range 20 { // map iteration order varies between calls
		if got := base.Fingerprint(); got != fp {
			t.Fatalf("fingerprint not stable: got %s, then %s", fp, got)
		}
	}
	a := Alert{Labels: base, Annotations: map[string]string{"summary": "x"}}
	b := Alert{Labels: base, Annotations: map[string]string{"summary": "y"}, StartsAt: time.Now()}
	if a.Fingerprint() != b.Fingerprint() {
		t.Errorf("annotations and times changed the fingerprint: %s vs %s", a.Fingerprint(), b.Fingerprint())
	}

	tests := []struct {
		name   string
		change func(LabelSet)
	}{
		{"alertname differs", func(ls LabelSet) { ls["alertname"] = "privacy.id_number" }},
		{"severity differs", func(ls LabelSet) { ls["severity"] = "critical" }},
		{"account differs", func(ls LabelSet) { ls["account_id"] = "xm-gov-wechat" }},
		{"label added", func(ls LabelSet) { ls["post_id"] = "wechat/fz-gov-wechat/1" }},
		{"label removed", func(ls LabelSet) { delete(ls, "unit") }},
		{"label renamed, same value", func(ls LabelSet) { ls["unit2"] = ls["unit"]; delete(ls, "unit") }},
		{"boundary between name and value moved", func(ls LabelSet) { delete(ls, "unit"); ls["unitf"] = "z-gov" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ls := LabelSet{}
			for k, v := range base {
				ls[k] = v
			}
			tc.change(ls)
			if got := ls.Fingerprint(); got == fp {
				t.Errorf("fingerprint of %v: got %s, the same as of %v", ls, got, base)
			}
		})
	}
}

func TestPostMsgIDAndContentHash(t *testing.T) {
	p := Post{ID: PostID("weibo", "fj-gov-weibo", "4890001"), Title: "通知", Text: "正文", URL: "https://weibo.com/x"}
	p.ContentHash = ContentHash(p.Title, p.Text, p.URL)
	if got, want := p.ID, "weibo/fj-gov-weibo/4890001"; got != want {
		t.Errorf("PostID: got %q, want %q", got, want)
	}
	if !strings.HasPrefix(p.ContentHash, "sha256:") || len(p.ContentHash) != len("sha256:")+64 {
		t.Errorf("content hash %q: want sha256:<64 hex digits>", p.ContentHash)
	}
	if got, want := p.MsgID(), "weibo/fj-gov-weibo/4890001@"+p.ContentHash; got != want {
		t.Errorf("MsgID: got %q, want %q", got, want)
	}

	// Engagement metrics are not content: a re-poll with new counts keeps
	// the hash and so the message id.
	again := p
	again.Metrics = Metrics{Likes: 100, Comments: 20, Shares: 3, Views: 40000}
	again.CollectedAt = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	again.ContentHash = ContentHash(again.Title, again.Text, again.URL)
	if again.MsgID() != p.MsgID() {
		t.Errorf("MsgID after a metrics change: got %q, want %q", again.MsgID(), p.MsgID())
	}

	tests := []struct {
		name             string
		title, text, url string
	}{
		{"title edited", "通知（更正）", "正文", "https://weibo.com/x"},
		{"text edited", "通知", "正文。", "https://weibo.com/x"},
		{"url changed", "通知", "正文", "https://weibo.com/y"},
		{"text moved into the title", "通知正文", "", "https://weibo.com/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ContentHash(tc.title, tc.text, tc.url); got == p.ContentHash {
				t.Errorf("ContentHash: got %s, the same as the unedited post", got)
			}
		})
	}

	deleted := p
	deleted.Deleted = true
	if got, want := deleted.MsgID(), "weibo/fj-gov-weibo/4890001@deleted"; got != want {
		t.Errorf("MsgID of a deleted post: got %q, want %q", got, want)
	}
}

// TestCategories lists DESIGN.md's category table: every category, a phrase
// of its Chinese description and its default severity.
func TestCategories(t *testing.T) {
	tests := []struct {
		category, phrase, severity string
	}{
		{"secret.marking", "涉密标识", SeverityCritical},
		{"prohibited.political", "反动、颠覆、分裂、危害国家安全", SeverityCritical},
		{"prohibited.violence", "暴力恐怖", SeverityCritical},
		{"prohibited.porn", "色情", SeverityCritical},
		{"prohibited.gambling", "赌博", SeverityCritical},
		{"prohibited.cult", "邪教", SeverityCritical},
		{"privacy.id_number", "公民身份号码", SeverityMajor},
		{"privacy.phone", "手机号码", SeverityMajor},
		{"privacy.bank_card", "银行卡号", SeverityMajor},
		{"wording.serious", "严重表述错误", SeverityCritical},
		{"wording.typo", "错别字", SeverityMinor},
		{"wording.outdated", "过时表述", SeverityMinor},
		{"engagement.forced", "强制要求点赞、转发、关注", SeverityMajor},
		{"engagement.bought_followers", "购买粉丝", SeverityMajor},
		{"account.stale_warning", "即将超期未更新", SeverityMinor},
		{"account.stale", "2 周内无更新", SeverityCritical},
		{"account.zombie", "长期不更新", SeverityMajor},
		{"account.unavailable", "无法访问、无法下载使用", SeverityMajor},
		{"account.profile_changed", "名称、头像、简介变更", SeverityMinor},
		{"account.duplicate", "同一单位同类平台多个账号", SeverityMinor},
		{"interaction.unanswered", "公众留言超期未回复", SeverityMajor},
		{"interaction.harmful_comment", "网友评论含有害信息", SeverityMajor},
		{"opinion.spike", "互动量异常激增", SeverityMajor},
		{"opinion.negative", "负面评论集中", SeverityMajor},
		{"opinion.emergency", "突发公共事件信号", SeverityCritical},
		{"consistency.cross_platform", "不同平台发布信息不一致", SeverityMajor},
		{"content.illegal_link", "非法外链、暗链", SeverityCritical},
		{"content.dead_link", "链接失效", SeverityMinor},
		{"system.source_down", "采集源持续失败", SeverityMinor},
		{"system.unrouted", "无人接收告警", SeverityMajor},
	}
	if got, want := len(categories), len(tests); got != want {
		t.Errorf("categories in the table: got %d, want %d as in DESIGN.md", got, want)
	}
	for _, tc := range tests {
		t.Run(tc.category, func(t *testing.T) {
			if !KnownCategory(tc.category) {
				t.Fatalf("KnownCategory(%q): got false, want true", tc.category)
			}
			if got := CategoryName(tc.category); !strings.Contains(got, tc.phrase) || !strings.Contains(got, "：") {
				t.Errorf("CategoryName(%q): got %q, want \"family：…%s…\"", tc.category, got, tc.phrase)
			}
			if got := DefaultSeverity(tc.category); got != tc.severity {
				t.Errorf("DefaultSeverity(%q): got %q, want %q", tc.category, got, tc.severity)
			}
		})
	}

	t.Run("unknown category", func(t *testing.T) {
		if KnownCategory("no.such") {
			t.Errorf("KnownCategory(no.such): got true, want false")
		}
		if got, want := CategoryName("no.such"), "no.such"; got != want {
			t.Errorf("CategoryName: got %q, want %q", got, want)
		}
		if got, want := DefaultSeverity("no.such"), SeverityMinor; got != want {
			t.Errorf("DefaultSeverity: got %q, want %q", got, want)
		}
	})
}

func TestMinSeverityRank(t *testing.T) {
	for in, want := range map[string]int{"": 2, "minor": 2, "major": 3, "critical": 4} {
		if got, err := MinSeverityRank(in); err != nil || got != want {
			t.Errorf("MinSeverityRank(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"info", "MAJOR", "severe"} {
		if _, err := MinSeverityRank(bad); err == nil || !strings.Contains(err.Error(), "want minor, major or critical") {
			t.Errorf("MinSeverityRank(%q) = %v; want an error naming the choices", bad, err)
		}
	}
}

func TestPostLinks(t *testing.T) {
	t.Run("a post without links decodes and encodes without the field", func(t *testing.T) {
		var p Post
		if err := json.Unmarshal([]byte(designPost), &p); err != nil {
			t.Fatal(err)
		}
		if p.Links != nil {
			t.Errorf("links: got %+v, want none", p.Links)
		}
		out, err := json.Marshal(&p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(out, []byte(`"links"`)) {
			t.Errorf("encoded a post without links with a links field: %s", out)
		}
	})
	t.Run("links round trip", func(t *testing.T) {
		doc := `{"schema":1,"id":"rss/a/1","links":[{"url":"https://www.gov.cn/","text":"中国政府网"},{"url":"https://bet.example/","text":"","hidden":true}]}`
		dec := json.NewDecoder(strings.NewReader(doc))
		var p Post
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		want := []Link{{URL: "https://www.gov.cn/", Text: "中国政府网"}, {URL: "https://bet.example/", Hidden: true}}
		if len(p.Links) != len(want) || p.Links[0] != want[0] || p.Links[1] != want[1] {
			t.Fatalf("links: got %+v, want %+v", p.Links, want)
		}
	})
	t.Run("hash", func(t *testing.T) {
		base := ContentHash("t", "x", "https://a/")
		if got := ContentHashLinks("t", "x", "https://a/", nil); got != base {
			t.Errorf("no links: got %s, want the plain content hash %s", got, base)
		}
		one := ContentHashLinks("t", "x", "https://a/", []Link{{URL: "https://b/"}})
		if one == base {
			t.Error("a link did not change the hash")
		}
		if hid := ContentHashLinks("t", "x", "https://a/", []Link{{URL: "https://b/", Hidden: true}}); hid == one {
			t.Error("hiding a link did not change the hash")
		}
	})
}
