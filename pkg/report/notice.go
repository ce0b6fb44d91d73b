package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/inspect"
	"github.com/govwatch/govwatch/pkg/model"
)

// DefaultNotice is the built-in HTML template of the 通报.
//
//go:embed notice.html.tmpl
var DefaultNotice string

// NoticeOptions say who publishes a check's 通报 and what it asks.
type NoticeOptions struct {
	Title     string // e.g. 关于2026年第四季度政务新媒体检查情况的通报
	Issuer    string // e.g. 福州市人民政府办公厅
	ScopeName string // e.g. 福州市
	Issued    time.Time
	// FixWithin is the rectification deadline in working days after
	// Issued, counted on Calendar (nil: weekdays only).
	FixWithin int
	Calendar  *calendar.Calendar
	// Names give the registry's names: accounts' by id, units' by id.
	AccountName func(id string) string
	UnitName    func(id string) string
}

// Notice is what the 通报 template sees, and what the XLSX holds.
type Notice struct {
	Title, Issuer, ScopeName string
	Issued, Deadline         time.Time
	FixWithin                int
	RulesVersion             string
	From, At                 time.Time
	Ratio                    float64

	Filed, Checked, Passed, Failed int
	PassRate                       float64
	ByPlatform                     []PlatformRow
	Problems                       []ProblemGroup // veto classes first
	Annex                          []AnnexRow     // one row per account and class
	Recurring                      int            // findings marked 整改不到位
}

// PlatformRow is one line of 总体情况 by platform.
type PlatformRow struct {
	Platform                string
	Checked, Failed, Passed int
	PassRate                float64
}

// ProblemGroup is one 问题类别 of 存在问题, naming each account.
type ProblemGroup struct {
	Class    string
	Veto     bool
	Accounts []ProblemAccount
}

// ProblemAccount is an account named under a problem, with its evidence.
type ProblemAccount struct {
	Account, Platform, Unit string
	Items                   []string // the items' names
	Evidence                []string // what decided them
	Recurring               bool
}

// AnnexRow is one row of the 附件: 新媒体类型 | 账号名称 | 责任单位 | 问题类别 |
// 问题描述 | 检查时最近更新日期.
type AnnexRow struct {
	Platform, Account, Unit, Class, Description, LastUpdate string
}

// NewNotice gathers the 通报 of c.
func NewNotice(c *inspect.Check, o NoticeOptions) *Notice {
	name := func(f func(string) string, id string) string {
		if f != nil {
			if n := f(id); n != "" {
				return n
			}
		}
		return id
	}
	s := c.Summarize()
	n := &Notice{Title: o.Title, Issuer: o.Issuer, ScopeName: o.ScopeName, Issued: o.Issued, FixWithin: o.FixWithin,
		RulesVersion: c.RulesVersion, From: c.From, At: c.At, Ratio: c.Ratio,
		Filed: c.Filed, Checked: s.All.Checked, Failed: s.All.Failed, Passed: s.All.Checked - s.All.Failed, PassRate: s.All.PassRate()}
	n.Deadline = deadline(o)
	for p, t := range s.ByPlatform {
		n.ByPlatform = append(n.ByPlatform, PlatformRow{Platform: model.PlatformName(p), Checked: t.Checked, Failed: t.Failed, Passed: t.Checked - t.Failed, PassRate: t.PassRate()})
	}
	sort.Slice(n.ByPlatform, func(i, j int) bool { return n.ByPlatform[i].Platform < n.ByPlatform[j].Platform })

	groups := map[string]*ProblemGroup{}
	var order []string
	for _, r := range c.Results {
		acct, unit, platform := name(o.AccountName, r.Account.ID), name(o.UnitName, r.Account.Unit), model.PlatformName(r.Account.Platform)
		last := "无"
		if r.LastPost != nil {
			last = r.LastPost.PublishedAt.In(calendar.Shanghai).Format("2006-01-02")
		}
		byClass := map[string]*ProblemAccount{}
		var classes []string
		for _, f := range r.Findings {
			g := groups[f.Class]
			if g == nil {
				g = &ProblemGroup{Class: f.Class}
				groups[f.Class] = g
				order = append(order, f.Class)
			}
			g.Veto = g.Veto || f.Veto
			pa := byClass[f.Class]
			if pa == nil {
				pa = &ProblemAccount{Account: acct, Platform: platform, Unit: unit}
				byClass[f.Class] = pa
				classes = append(classes, f.Class)
			}
			pa.Items = append(pa.Items, f.Name)
			for _, e := range f.Evidence {
				pa.Evidence = append(pa.Evidence, evidenceText(e))
			}
			if f.Recurring {
				pa.Recurring = true
				n.Recurring++
			}
		}
		for _, cl := range classes {
			pa := byClass[cl]
			groups[cl].Accounts = append(groups[cl].Accounts, *pa)
			desc := strings.Join(pa.Items, "；")
			if len(pa.Evidence) > 0 {
				desc += "：" + strings.Join(pa.Evidence, "；")
			}
			if pa.Recurring {
				desc += "（整改不到位）"
			}
			n.Annex = append(n.Annex, AnnexRow{Platform: platform, Account: acct, Unit: unit, Class: cl, Description: desc, LastUpdate: last})
		}
	}
	for _, cl := range order {
		n.Problems = append(n.Problems, *groups[cl])
	}
	sort.SliceStable(n.Problems, func(i, j int) bool { return n.Problems[i].Veto && !n.Problems[j].Veto })
	return n
}

// deadline is FixWithin working days after Issued.
func deadline(o NoticeOptions) time.Time {
	if o.FixWithin <= 0 {
		return time.Time{}
	}
	if o.Calendar != nil {
		// AddWorkdays is the moment the last working day ends: the date
		// written is that day's.
		return o.Calendar.AddWorkdays(o.Issued, o.FixWithin).Add(-time.Second)
	}
	d := o.Issued
	for left := o.FixWithin; left > 0; {
		d = d.AddDate(0, 0, 1)
		if wd := d.In(calendar.Shanghai).Weekday(); wd != time.Saturday && wd != time.Sunday {
			left--
		}
	}
	return d
}

func evidenceText(e inspect.Evidence) string {
	if e.Kind == "incident" && !e.At.IsZero() {
		return fmt.Sprintf("%s（%s）", e.Text, e.At.In(calendar.Shanghai).Format("2006-01-02"))
	}
	return e.Text
}

// NoticeHTML renders 通报 as HTML.
type NoticeHTML struct{ t *template.Template }

// NewNoticeHTML parses text (DefaultNotice when empty) and tries it on an
// empty notice, so a broken template fails when it is loaded.
func NewNoticeHTML(text string) (*NoticeHTML, error) {
	if text == "" {
		text = DefaultNotice
	}
	t, err := template.New("notice").Funcs(template.FuncMap{
		"date":    func(t time.Time) string { return cnDate(t) },
		"percent": func(f float64) string { return fmt.Sprintf("%.1f%%", f*100) },
		"add":     func(a, b int) int { return a + b },
		"cnum":    cnOrdinal,
	}).Parse(text)
	if err != nil {
		return nil, fmt.Errorf("notice template: %w", err)
	}
	h := &NoticeHTML{t: t}
	if err := h.Render(io.Discard, &Notice{}); err != nil {
		return nil, fmt.Errorf("notice template: %w", err)
	}
	return h, nil
}

// Render writes n as HTML to w.
func (h *NoticeHTML) Render(w io.Writer, n *Notice) error { return h.t.Execute(w, n) }

// cnDate writes t as 2026年12月31日 in Beijing time; zero: 未定.
func cnDate(t time.Time) string {
	if t.IsZero() {
		return "未定"
	}
	t = t.In(calendar.Shanghai)
	return fmt.Sprintf("%d年%d月%d日", t.Year(), t.Month(), t.Day())
}

// cnOrdinal is （一）, （二）… for the i-th (0-based) group.
func cnOrdinal(i int) string {
	digits := []string{"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"}
	switch {
	case i < 10:
		return digits[i]
	case i < 20:
		return "十" + []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}[i-10]
	}
	return fmt.Sprint(i + 1)
}
