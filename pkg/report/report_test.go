package report

import (
	"strings"
	"testing"
	"time"
)

func TestUpstreamContent(t *testing.T) {
	u, err := NewUpstream("")
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC) // 09:00 in Beijing
	inc := &Incident{
		Category: "privacy.id_number", CategoryName: "隐私泄露：公民身份号码", Severity: "major", SeverityName: "重要",
		Summary: "文章公开了公民身份号码", Evidence: "身份证号 350102********1234", URL: "https://mp.weixin.qq.com/s/abc",
		AccountName: "福州发布", PlatformName: "微信", UnitName: "福州市人民政府办公厅", ToUnits: "福建省人民政府办公厅",
		FirstSeen: first,
		Pages: []Page{
			{At: first, Who: "王磊（值班人员）", Why: "首次通报"},
			{At: first.Add(15 * time.Minute), Who: "市政府办公厅主任（第一责任人）", Why: "15 分钟未确认"},
			{At: first.Add(30 * time.Minute), Who: "陈建国（上级值班）", Why: "30 分钟未确认"},
		},
		Acked: true, AckAt: first.Add(40 * time.Minute), AckBy: "王磊", AckNote: "已联系编辑",
		Resolved: true, ResolvedAt: first.Add(time.Hour), ResolvedBy: "王磊", ResolutionNote: "文章已删除并重新发布",
		Reason: "30 分钟内无人确认，升级至上级单位",
	}
	got, err := u.Render(inc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"【告警升级报告】隐私泄露：公民身份号码",
		"报送单位：福建省人民政府办公厅",
		"摘要：文章公开了公民身份号码",
		"账号：福州发布（微信）",
		"责任单位：福州市人民政府办公厅",
		"证据：身份证号 350102********1234",
		"首次发现：2026-11-26 09:00",
		"2026-11-26 09:15 通报 市政府办公厅主任（第一责任人）（15 分钟未确认）",
		"2026-11-26 09:30 通报 陈建国（上级值班）（30 分钟未确认）",
		"确认：2026-11-26 09:40 由 王磊 确认，备注：已联系编辑",
		"2026-11-26 10:00 已处置（王磊）：文章已删除并重新发布",
		"升级原因\n  30 分钟内无人确认，升级至上级单位",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q; got:\n%s", want, got)
		}
	}

	open := &Incident{Veto: true, CategoryName: "涉密：涉密标识", FirstSeen: first}
	got, _ = u.Render(open)
	for _, want := range []string{"【单项否决事项报告】", "确认：尚未确认", "尚未处置完毕", "（尚无通报记录）", "账号：（未知账号）"} {
		if !strings.Contains(got, want) {
			t.Errorf("open veto report lacks %q; got:\n%s", want, got)
		}
	}
}

func TestBrokenTemplate(t *testing.T) {
	for _, text := range []string{"{{.Nope}}", "{{if}}"} {
		if _, err := NewUpstream(text); err == nil {
			t.Errorf("NewUpstream(%q): got nil error, want one", text)
		}
	}
}
