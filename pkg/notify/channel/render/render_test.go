package render

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

func TestMarkdown(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain chinese", "文章正文出现未打码的手机号码", "文章正文出现未打码的手机号码"},
		{"link", "[点我](https://evil.example)", "［点我］（https://evil.example）"},
		{"image", "![x](https://evil.example/a.png)", "！［x］（https://evil.example/a.png）"},
		{"heading after newline", "正文\n# 已处理", "正文 ＃ 已处理"},
		{"feishu mention", `<at user_id="all">所有人</at>`, `＜at user＿id="all"＞所有人＜/at＞`},
		{"wecom colour", `<font color="info">已恢复</font>`, `＜font color="info"＞已恢复＜/font＞`},
		{"dingtalk mention", "@13800138000 请处理", "＠13800138000 请处理"},
		{"emphasis and code", "*a* _b_ `c` ~~d~~", "＊a＊ ＿b＿ ｀c｀ ～～d～～"},
		{"html entity", "&lt;b&gt;", "＆lt;b＆gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Markdown(tt.in); got != tt.want {
				t.Errorf("Markdown(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https", "https://govwatch.example.gov.cn/ack/3f2a?sig=abc&exp=1", "https://govwatch.example.gov.cn/ack/3f2a?sig=abc&exp=1"},
		{"http", "http://10.0.0.1:8080/a", "http://10.0.0.1:8080/a"},
		{"breaks out of link", "https://a.example/x) [钓鱼](https://evil.example", "https://a.example/x%29%20%5B钓鱼%5D%28https://evil.example"},
		{"javascript", "javascript:alert(1)", ""},
		{"relative", "/ack/1", ""},
		{"empty", "", ""},
		{"no host", "https:///x", ""},
		{"spaces around", "  https://a.example/  ", "https://a.example/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SafeURL(tt.in); got != tt.want {
				t.Errorf("SafeURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	long := strings.Repeat("告警", 3000) // 18000 bytes
	tests := []struct {
		name    string
		in      string
		max     int
		wantCut bool
	}{
		{"fits", "短消息", 4096, false},
		{"exactly", strings.Repeat("a", 4096), 4096, false},
		{"chinese over wecom limit", long, 4096, true},
		{"ascii over", strings.Repeat("a", 5000), 4096, true},
		{"tiny max", long, 10, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.in, tt.max)
			if len(got) > tt.max {
				t.Errorf("got %d bytes, want at most %d", len(got), tt.max)
			}
			if !utf8.ValidString(got) {
				t.Errorf("got invalid UTF-8 ending %q", got[max(0, len(got)-8):])
			}
			if cut := got != tt.in; cut != tt.wantCut {
				t.Errorf("cut = %v, want %v", cut, tt.wantCut)
			}
			if tt.wantCut && tt.max > len(Note) && !strings.HasSuffix(got, Note) {
				t.Errorf("cut text does not end with the note: %q", got[len(got)-20:])
			}
			if tt.wantCut && tt.max > len(Note) && len(got) < tt.max-3 {
				t.Errorf("got %d bytes, want within 3 bytes of %d", len(got), tt.max)
			}
		})
	}
}

func TestReport(t *testing.T) {
	n := &channel.Notification{Status: channel.StatusFiring, Report: "一、概况：[链接](https://evil.example)\r\n二、处置：已删除\n"}
	if got, want := NewMessage(n, Markdown).Report, "一、概况：［链接］（https://evil.example）\n\n二、处置：已删除"; got != want {
		t.Errorf("markdown report: got %q, want %q", got, want)
	}
	if got, want := NewMessage(n, Plain).Report, "一、概况：[链接](https://evil.example)\n二、处置：已删除"; got != want {
		t.Errorf("plain report: got %q, want %q", got, want)
	}
	if got := NewMessage(&channel.Notification{Report: " \n"}, Markdown).Report; got != "" {
		t.Errorf("blank report: got %q, want empty", got)
	}
}

func hostile() *channel.Notification {
	a := channel.AlertState{
		Status: channel.StatusFiring,
		Alert: model.Alert{
			Labels: model.LabelSet{
				model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelSeverity: model.SeverityMinor,
				model.LabelAccountName: "[福州卫健](https://evil.example)", model.LabelPlatform: "toutiao",
			},
			Annotations: map[string]string{
				model.AnnotationSummary:      "摘要\n# 标题",
				model.AnnotationEvidence:     `<at user_id="all">所有人</at>`,
				model.AnnotationAckURL:       "https://govwatch.example.gov.cn/ack/1",
				channel.AnnotationResolveURL: "javascript:alert(1)",
				model.AnnotationUnitName:     "福州市卫生健康委",
			},
			StartsAt: time.Date(2026, 11, 26, 8, 3, 11, 0, time.UTC),
		},
	}
	b := a
	b.Labels = model.LabelSet{model.LabelAlertname: model.CategoryAccountStale, model.LabelSeverity: model.SeverityCritical}
	return &channel.Notification{Receiver: "ops", Status: channel.StatusFiring, Alerts: []channel.AlertState{a, b}}
}

func TestNewMessage(t *testing.T) {
	m := NewMessage(hostile(), Markdown)
	checks := []struct {
		name, got, want string
	}{
		{"severity is the highest", m.Severity, model.SeverityCritical},
		{"severity name", m.SeverityName, "紧急"},
		{"account name neutralised", m.Alerts[0].AccountName, "［福州卫健］（https://evil.example）"},
		{"label map neutralised", m.Alerts[0].Labels[model.LabelAccountName], "［福州卫健］（https://evil.example）"},
		{"summary on one line", m.Alerts[0].Summary, "摘要 ＃ 标题"},
		{"evidence", m.Alerts[0].Evidence, `＜at user＿id="all"＞所有人＜/at＞`},
		{"unit name wins", m.Alerts[0].Unit, "福州市卫生健康委"},
		{"category name", m.Alerts[0].CategoryName, "隐私泄露：手机号码"},
		{"platform name", m.Alerts[0].PlatformName, "头条"},
		{"ack url kept", m.Alerts[0].AckURL, "https://govwatch.example.gov.cn/ack/1"},
		{"unsafe resolve url dropped", m.Alerts[0].ResolveURL, ""},
		{"beijing time", m.Alerts[0].StartsAt.Format("2006-01-02 15:04"), "2026-11-26 16:03"},
		{"fingerprint filled", m.Alerts[0].Fingerprint, hostile().Alerts[0].Labels.Fingerprint()},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	// The caller's notification is not modified.
	if n := hostile(); n.Alerts[0].Labels[model.LabelAccountName] != "[福州卫健](https://evil.example)" {
		t.Errorf("labels changed in place")
	}
}

func TestParse(t *testing.T) {
	def := `{{define "title"}}默认标题{{end}}{{define "text"}}默认正文 {{.SeverityName}}{{end}}`
	tests := []struct {
		name      string
		override  string
		wantTitle string
		wantText  string
		wantErr   bool
	}{
		{"default", "", "默认标题", "默认正文 一般", false},
		{"redefine text only", `{{define "text"}}自定义 {{range .Alerts}}{{.CategoryName}}{{end}}{{end}}`, "默认标题", "自定义 隐私泄露：手机号码", false},
		{"syntax error", `{{define "text"}}{{if}}{{end}}`, "", "", true},
		{"unknown field", `{{define "text"}}{{.Nope}}{{end}}`, "", "", true},
	}
	n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{{Alert: model.Alert{Labels: model.LabelSet{
		model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelSeverity: model.SeverityMinor}}}}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmpl, err := Parse("test", def, tt.override, "title", "text")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse: got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			m := NewMessage(n, Markdown)
			if got, _ := tmpl.Execute("title", m); got != tt.wantTitle {
				t.Errorf("title: got %q, want %q", got, tt.wantTitle)
			}
			if got, _ := tmpl.Execute("text", m); got != tt.wantText {
				t.Errorf("text: got %q, want %q", got, tt.wantText)
			}
		})
	}
	if _, err := Parse("test", def, "", "title", "missing"); err == nil {
		t.Errorf("Parse with a missing name: got nil error, want one")
	}
}

// FuzzMarkdownInjection renders hostile annotation text through a template
// shaped like the channels' and checks that only the template's own link
// syntax survives.
func FuzzMarkdownInjection(f *testing.F) {
	for _, s := range []string{
		"[x](https://evil.example)", "<at user_id=\"all\"></at>", "\n# h\n> q", "@13800138000",
		"https://a.example/x) [y](z", "<font color=\"warning\">", "javascript:alert(1)", "\\[x\\]",
	} {
		f.Add(s, s)
	}
	tmpl, err := Parse("fuzz", `{{define "text"}}{{range .Alerts}}{{.AccountName}}：{{.Summary}} {{.Evidence}} {{.Labels.x}}{{with .AckURL}}[确认]({{.}}){{end}}{{end}}{{end}}`, "", "text")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text, link string) {
		n := &channel.Notification{Status: channel.StatusFiring, Alerts: []channel.AlertState{{Alert: model.Alert{
			Labels:      model.LabelSet{model.LabelAccountName: text, "x": text},
			Annotations: map[string]string{model.AnnotationSummary: text, model.AnnotationEvidence: text, model.AnnotationAckURL: link},
		}}}}
		out, err := tmpl.Execute("text", NewMessage(n, Markdown))
		if err != nil {
			t.Fatal(err)
		}
		ack := SafeURL(link)
		rest := out
		if ack != "" {
			suffix := "[确认](" + ack + ")"
			if !strings.HasSuffix(out, suffix) {
				t.Fatalf("output %q does not end with the ack link %q", out, suffix)
			}
			rest = strings.TrimSuffix(out, suffix)
			if strings.ContainsAny(ack, "()<> \n\"'[]`") {
				t.Fatalf("SafeURL(%q) = %q keeps a character that breaks a link", link, ack)
			}
		}
		if strings.ContainsAny(rest, "[]()<>*_`#~|!\\@\n\r") {
			t.Fatalf("hostile text %q left markup in %q", text, rest)
		}
	})
}
