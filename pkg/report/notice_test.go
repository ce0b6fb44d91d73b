package report

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/net/html"

	"github.com/govwatch/govwatch/pkg/inspect"
)

var (
	noticeFrom = time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC)
	noticeAt   = time.Date(2026, 12, 31, 15, 59, 0, 0, time.UTC)
)

// quarterFacts scripts a quarter: every 10th account silent 20 days, every
// 25th leaking a secret, every 40th with typos.
type quarterFacts struct{}

func (quarterFacts) Facts(_ context.Context, a inspect.Account, p inspect.Period) (*inspect.Facts, error) {
	var i int
	fmt.Sscanf(a.ID, "acct-%d", &i)
	f := &inspect.Facts{LastPost: &inspect.PostRef{ID: a.ID + "-p", PublishedAt: p.At.Add(-24 * time.Hour)}}
	if i%10 == 0 {
		f.LastPost.PublishedAt = p.At.Add(-20 * 24 * time.Hour)
	}
	if i%25 == 0 {
		f.Incidents = append(f.Incidents, inspect.Incident{Fingerprint: a.ID + "-s", Category: "secret.marking", FiredAt: p.From.Add(48 * time.Hour), Summary: "发布内容含“机密”标识"})
	}
	if i%40 == 0 {
		f.Incidents = append(f.Incidents, inspect.Incident{Fingerprint: a.ID + "-t", Category: "wording.typo", FiredAt: p.From.Add(72 * time.Hour), ResolvedAt: p.From.Add(96 * time.Hour), Summary: "“警钟常鸣”应为“警钟长鸣”"})
	}
	return f, nil
}

func testCheck(t *testing.T, n int) *inspect.Check {
	t.Helper()
	var accts []inspect.Account
	for i := range n {
		accts = append(accts, inspect.Account{ID: fmt.Sprintf("acct-%04d", i), Platform: []string{"weibo", "wechat", "douyin", "app"}[i%4], Unit: fmt.Sprintf("unit-%d", i%7)})
	}
	c, err := inspect.Run(context.Background(), inspect.National(), quarterFacts{}, inspect.Spec{Scope: "350100", Accounts: accts, Period: inspect.Period{From: noticeFrom, At: noticeAt}, Ratio: 1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testNotice(t *testing.T) *Notice {
	c := testCheck(t, 1000)
	return NewNotice(c, NoticeOptions{Title: "关于2026年第四季度政务新媒体检查情况的通报", Issuer: "福州市人民政府办公厅", ScopeName: "福州市",
		Issued: time.Date(2027, 1, 8, 2, 0, 0, 0, time.UTC), FixWithin: 10,
		AccountName: func(id string) string { return "账号" + strings.TrimPrefix(id, "acct-") },
		UnitName:    func(id string) string { return "单位" + strings.TrimPrefix(id, "unit-") }})
}

// TestNoticeCounts renders the 通报 of a scripted quarter over 1,000
// accounts and reads its numbers back from the HTML's text and tables and
// from the workbook.
func TestNoticeCounts(t *testing.T) {
	n := testNotice(t)
	// 100 silent + 40 leaking − 20 both = 120 failing; the annex has a row
	// per account and class: 更新不及时 100, 安全保密 40, 错别字 25.
	if n.Filed != 1000 || n.Checked != 1000 || n.Failed != 120 || n.Passed != 880 || len(n.Annex) != 165 {
		t.Fatalf("notice: filed %d checked %d failed %d passed %d annex %d", n.Filed, n.Checked, n.Failed, n.Passed, len(n.Annex))
	}
	if got := n.Deadline.Format("2006-01-02"); got != "2027-01-22" {
		t.Errorf("10 working days after 2027-01-08: %s, want 2027-01-22", got)
	}
	h, err := NewNoticeHTML("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := h.Render(&buf, n); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	spans := map[string]string{}
	tables := map[string][][]string{}
	var problems []string
	walk(doc, func(nd *html.Node) {
		switch {
		case nd.Data == "span" && attr(nd, "id") != "":
			spans[attr(nd, "id")] = text(nd)
		case nd.Data == "table":
			tables[attr(nd, "id")] = rows(nd)
		case nd.Data == "ul" && attr(nd, "class") == "problem":
			problems = append(problems, fmt.Sprintf("%s %d", attr(nd, "data-class"), countChildren(nd, "li")))
		}
	})
	for id, want := range map[string]string{"filed": "1000", "checked": "1000", "passed": "880", "failed": "120", "pass-rate": "88.0%"} {
		if spans[id] != want {
			t.Errorf("总体情况 %s: %q, want %q", id, spans[id], want)
		}
	}
	checked, failed := 0, 0
	for _, r := range tables["by-platform"][1:] {
		checked += atoi(t, r[1])
		failed += atoi(t, r[3])
	}
	if checked != 1000 || failed != 120 || len(tables["by-platform"]) != 5 {
		t.Errorf("by platform: %d rows, %d checked, %d failed", len(tables["by-platform"])-1, checked, failed)
	}
	if got := strings.Join(problems, ", "); got != "安全保密 40, 更新不及时 100, 错别字 25" {
		t.Errorf("存在问题: %s, want the veto classes first with their accounts", got)
	}
	annex := tables["annex"]
	if len(annex) != 166 || strings.Join(annex[0], "|") != strings.Join(AnnexHeader, "|") {
		t.Fatalf("附件: %d rows, header %v", len(annex), annex[0])
	}
	first := strings.Join(annex[1], "|")
	if !strings.Contains(first, "账号0000") || !strings.Contains(first, "单位0") || !strings.Contains(first, "2026-12-11") {
		t.Errorf("first annex row %q: want the account's and unit's names and its last update", first)
	}

	var xb bytes.Buffer
	if err := WriteXLSX(&xb, n); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&xb)
	if err != nil {
		t.Fatal(err)
	}
	xrows, err := f.GetRows(SheetAnnex)
	if err != nil {
		t.Fatal(err)
	}
	if len(xrows) != 166 {
		t.Errorf("附件 sheet: %d rows, want 166", len(xrows))
	}
	byClass := map[string]int{}
	for _, r := range xrows[1:] {
		byClass[r[4]]++
	}
	if byClass["更新不及时"] != 100 || byClass["安全保密"] != 40 || byClass["错别字"] != 25 {
		t.Errorf("附件 sheet by class: %v", byClass)
	}
	for cell, want := range map[string]string{"B4": "1000", "B5": "1000", "B6": "880", "B7": "120"} {
		if v, _ := f.GetCellValue(SheetSummary, cell); v != want {
			t.Errorf("总体情况 %s = %q, want %q", cell, v, want)
		}
	}
	if rate, _ := f.GetCellValue(SheetSummary, "B8"); rate != "88.00%" {
		t.Errorf("合格率 cell: %q, want 88.00%%", rate)
	}
	prows, _ := f.GetRows(SheetProblems)
	if len(prows) != 166 {
		t.Errorf("存在问题 sheet: %d rows, want 166", len(prows))
	}
}

func TestNoticeTemplateBroken(t *testing.T) {
	if _, err := NewNoticeHTML("{{.Nope}}"); err == nil || !strings.Contains(err.Error(), "Nope") {
		t.Errorf("a template naming an unknown field: %v", err)
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	if n.Type == html.ElementNode {
		fn(n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var f func(*html.Node)
	f = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			f(c)
		}
	}
	f(n)
	return strings.TrimSpace(b.String())
}

func rows(table *html.Node) [][]string {
	var out [][]string
	walk(table, func(n *html.Node) {
		if n.Data != "tr" {
			return
		}
		var row []string
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
				row = append(row, text(c))
			}
		}
		out = append(out, row)
	})
	return out
}

func countChildren(n *html.Node, tag string) int {
	k := 0
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == tag {
			k++
		}
	}
	return k
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	v, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return v
}

// TestNoticePDF prints the 通报 with headless Chromium and reads its text
// back with pdftotext: the Chinese headings and an account's name are
// text in the PDF, in a font that has them. GOVWATCH_NOTICE_PNG=/tmp/x
// keeps its first page as an image (pdftoppm) to look at. Skipped without
// Chromium or poppler-utils unless GOVWATCH_REQUIRE_CHROMIUM=1.
func TestNoticePDF(t *testing.T) {
	browser, err := Chromium()
	_, perr := exec.LookPath("pdftotext")
	if err != nil || perr != nil {
		if os.Getenv("GOVWATCH_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("GOVWATCH_REQUIRE_CHROMIUM=1 but: %v %v", err, perr)
		}
		t.Skipf("no Chromium or pdftotext (apt-get install chromium fonts-noto-cjk poppler-utils): %v %v", err, perr)
	}
	h, err := NewNoticeHTML("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := h.Render(&buf, testNotice(t)); err != nil {
		t.Fatal(err)
	}
	pdf, err := PDF(context.Background(), browser, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "notice.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v\n%s", err, out)
	}
	for _, want := range []string{"关于2026年第四季度政务新媒体检查情况的通报", "一、总体情况", "二、存在问题", "三、整改要求", "附件", "账号0000", "合格率"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if png := os.Getenv("GOVWATCH_NOTICE_PNG"); png != "" {
		if out, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", path, png).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, out)
		}
	}
}
