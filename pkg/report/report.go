// Package report writes the reports people outside the duty room read. The
// upstream report goes to a superior department when an incident is
// escalated to it: what happened, on which account of which unit, the
// evidence, when it was first seen, who was paged when, when it was
// acknowledged and what was done — in Chinese, from a template a deployment
// can replace. The 通报 (notice.go) publishes an inspection check: overview,
// problems by class, rectification requirements and the annex table, as
// HTML from a replaceable template and as an XLSX workbook.
package report

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

// DefaultUpstream is the built-in upstream report template.
//
//go:embed upstream.tmpl
var DefaultUpstream string

// Incident is what the upstream template sees.
type Incident struct {
	Veto         bool
	Category     string
	CategoryName string
	Severity     string
	SeverityName string
	Summary      string
	Description  string
	Evidence     string
	URL          string
	AccountName  string
	PlatformName string
	UnitName     string
	ToUnits      string // the superior units it is reported to, joined
	FirstSeen    time.Time
	Pages        []Page

	Acked   bool
	AckAt   time.Time
	AckBy   string
	AckNote string

	Resolved       bool
	ResolvedAt     time.Time
	ResolvedBy     string // empty when the analyzer saw the problem gone
	ResolutionNote string

	Reason string // why it reached the superior department
}

// Page is one "who was paged when".
type Page struct {
	At  time.Time
	Who string // 王磊（值班人员，福州市政府办公厅）
	Why string // 首次通报, 30 分钟未确认
}

// Upstream renders upstream reports.
type Upstream struct{ t *template.Template }

// NewUpstream parses text (DefaultUpstream when empty) and tries it on an
// empty incident, so a broken template fails at start-up.
func NewUpstream(text string) (*Upstream, error) {
	if text == "" {
		text = DefaultUpstream
	}
	t, err := template.New("upstream").Funcs(template.FuncMap{
		"cst": func(t time.Time) string {
			if t.IsZero() {
				return "（未知时间）"
			}
			return t.In(calendar.Shanghai).Format("2006-01-02 15:04")
		},
	}).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, fmt.Errorf("parse upstream report template: %w", err)
	}
	u := &Upstream{t: t}
	if _, err := u.Render(&Incident{}); err != nil {
		return nil, err
	}
	return u, nil
}

// Render writes the report of inc.
func (u *Upstream) Render(inc *Incident) (string, error) {
	var b strings.Builder
	if err := u.t.Execute(&b, inc); err != nil {
		return "", fmt.Errorf("render upstream report: %w", err)
	}
	return b.String(), nil
}
