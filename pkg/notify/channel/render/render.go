// Package render turns a notification into what the chat, mail and SMS
// channels' templates see: one Message per notification with its alerts,
// display names resolved, times in Beijing time, and text that came from
// outside (post excerpts, account names) neutralised for the markup the
// platform renders, so a hostile post cannot inject links or mentions into a
// duty officer's message.
package render

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
)

// Message is what a channel template sees for one notification.
type Message struct {
	Receiver    string
	ExternalURL string
	Status      string // firing or resolved
	Firing      bool
	// Severity is the highest severity among the alerts, SeverityName its
	// Chinese word (紧急, 重要, 一般, 提示).
	Severity     string
	SeverityName string
	// Color is the channel's colour word for Severity and Status (WeCom
	// font colours, Feishu header templates); empty where none applies.
	Color  string
	Alerts []Alert
	// Buttons is true when the channel shows the first alert's links as
	// buttons, so a template may leave them out of the text.
	Buttons bool
	// Recipients are the people the notification pages (the
	// notification's Recipients).
	Recipients []channel.Person
	// Report is the incident report for a superior department, its lines
	// neutralised one by one (and, for markup, separated by blank lines);
	// empty for ordinary notifications.
	Report string
}

// Alert is one alert of a Message.
type Alert struct {
	Status      string
	Firing      bool
	Fingerprint string
	Labels      map[string]string // values neutralised
	Annotations map[string]string // values neutralised
	StartsAt    time.Time
	EndsAt      time.Time // zero while firing

	Category     string
	CategoryName string
	Severity     string
	SeverityName string
	Unit         string
	AccountName  string
	Platform     string
	PlatformName string

	Summary     string
	Description string
	Evidence    string
	Suggestion  string
	// Links: http or https only, safe inside Markdown link syntax; empty
	// when absent or unsafe.
	URL        string
	AckURL     string
	ResolveURL string
}

// Escaper neutralises text from outside for a channel's markup.
type Escaper func(string) string

// Plain leaves text unchanged (mail's plain-text part, SMS).
func Plain(s string) string { return s }

// markdown maps the characters that start Markdown (and the HTML-like tags
// lark_md and WeCom accept: <at>, <font>) to their full-width forms, which
// read naturally in Chinese text and render as themselves. Line breaks
// become spaces so a value cannot start a heading, list or quote.
var markdown = strings.NewReplacer(
	"[", "［", "]", "］", "(", "（", ")", "）",
	"<", "＜", ">", "＞", "*", "＊", "_", "＿",
	"`", "｀", "#", "＃", "~", "～", "|", "｜",
	"!", "！", "\\", "＼", "&", "＆", "@", "＠",
	"\r\n", " ", "\n", " ", "\r", " ",
)

// Markdown neutralises s for DingTalk markdown, WeCom markdown and Feishu
// lark_md. Bare URLs in the text may still be linked by the client; hidden
// link targets, images, mentions and colour tags cannot be injected.
func Markdown(s string) string { return markdown.Replace(s) }

// linkUnsafe are the characters that would end or break a Markdown link
// target, or a tag attribute, percent-encoded in links.
var linkUnsafe = strings.NewReplacer(
	"(", "%28", ")", "%29", " ", "%20", "<", "%3C", ">", "%3E",
	"\"", "%22", "'", "%27", "[", "%5B", "]", "%5D", "`", "%60",
	"\\", "%5C", "\n", "", "\r", "", "\t", "",
)

// SafeURL returns s when it is an absolute http or https URL, with the
// characters that could break out of a Markdown link target encoded, and ""
// otherwise (javascript:, relative, unparsable).
func SafeURL(s string) string {
	s = strings.TrimSpace(s)
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return linkUnsafe.Replace(s)
}

// NewMessage prepares n for a template, passing every value that came from
// outside through esc.
func NewMessage(n *channel.Notification, esc Escaper) *Message {
	if esc == nil {
		esc = Plain
	}
	m := &Message{
		Receiver:    n.Receiver,
		ExternalURL: SafeURL(n.ExternalURL),
		Status:      n.Status,
		Firing:      n.Status != channel.StatusResolved,
		Recipients:  n.Recipients,
		Report:      report(n.Report, esc),
	}
	for i := range n.Alerts {
		a := newAlert(n, &n.Alerts[i], esc)
		if model.SeverityRank(a.Severity) > model.SeverityRank(m.Severity) {
			m.Severity = a.Severity
		}
		m.Alerts = append(m.Alerts, a)
	}
	m.SeverityName = esc(model.SeverityName(m.Severity))
	return m
}

// report neutralises each line of a report; when esc folds line breaks
// (markup), lines are joined by blank lines so they stay lines.
func report(s string, esc Escaper) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	sep := "\n"
	if esc("\n") != "\n" {
		sep = "\n\n"
	}
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
	for i, l := range lines {
		lines[i] = esc(l)
	}
	return strings.Join(lines, sep)
}

func newAlert(n *channel.Notification, a *channel.AlertState, esc Escaper) Alert {
	status := a.Status
	if status == "" {
		status = n.Status
	}
	labels := make(map[string]string, len(a.Labels))
	for k, v := range a.Labels {
		labels[k] = esc(v)
	}
	ann := make(map[string]string, len(a.Annotations))
	for k, v := range a.Annotations {
		ann[k] = esc(v)
	}
	raw := func(k string) string { return a.Annotations[k] }
	v := Alert{
		Status:      status,
		Firing:      status != channel.StatusResolved,
		Fingerprint: a.Fingerprint,
		Labels:      labels,
		Annotations: ann,
		StartsAt:    inBeijing(a.StartsAt),
		Category:    esc(a.Labels[model.LabelAlertname]),
		Severity:    a.Labels[model.LabelSeverity],
		Unit:        esc(a.Labels[model.LabelUnit]),
		AccountName: esc(a.Labels[model.LabelAccountName]),
		Platform:    esc(a.Labels[model.LabelPlatform]),
		Summary:     ann[model.AnnotationSummary],
		Description: ann[model.AnnotationDescription],
		Evidence:    ann[model.AnnotationEvidence],
		Suggestion:  ann[model.AnnotationSuggestion],
		URL:         SafeURL(raw(model.AnnotationURL)),
		AckURL:      SafeURL(raw(model.AnnotationAckURL)),
		ResolveURL:  SafeURL(raw(channel.AnnotationResolveURL)),
	}
	if v.Fingerprint == "" {
		v.Fingerprint = a.Labels.Fingerprint()
	}
	if name := a.Annotations[model.AnnotationUnitName]; name != "" {
		v.Unit = esc(name)
	}
	if !v.Firing {
		v.EndsAt = inBeijing(a.EndsAt)
	}
	v.CategoryName = esc(model.CategoryName(a.Labels[model.LabelAlertname]))
	v.SeverityName = esc(model.SeverityName(v.Severity))
	v.PlatformName = esc(model.PlatformName(a.Labels[model.LabelPlatform]))
	return v
}

func inBeijing(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.In(calendar.Shanghai)
}

// Template is a channel's set of named templates ("title", "text", …): the
// channel's embedded default, with any templates a deployment redefines.
type Template struct {
	t *template.Template
}

// funcs are available to every channel template.
var funcs = template.FuncMap{
	"join": strings.Join,
}

// Parse parses def, then override on top of it, so a deployment may redefine
// only some of the named templates. Every name in names must exist and
// execute on a sample message, so a broken template fails at start-up.
func Parse(channelName, def, override string, names ...string) (*Template, error) {
	t, err := template.New(channelName).Funcs(funcs).Option("missingkey=zero").Parse(def)
	if err != nil {
		return nil, fmt.Errorf("parse %s default template: %w", channelName, err)
	}
	if override != "" {
		if t, err = t.Parse(override); err != nil {
			return nil, fmt.Errorf("parse %s template: %w", channelName, err)
		}
	}
	tt := &Template{t: t}
	sample := Sample()
	for _, name := range names {
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("%s template: no template named %q", channelName, name)
		}
		if _, err := tt.Execute(name, sample); err != nil {
			return nil, fmt.Errorf("try %s template: %w", channelName, err)
		}
	}
	return tt, nil
}

// Execute runs the named template on m.
func (t *Template) Execute(name string, m *Message) (string, error) {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, m); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Sample is a message with every field set, to try templates on.
func Sample() *Message {
	n := &channel.Notification{
		Receiver: "sample", Status: channel.StatusFiring, ExternalURL: "https://govwatch.example.gov.cn",
		Recipients: []channel.Person{{Name: "值班员", Mobile: "13800000000", Email: "duty@example.gov.cn", Role: "值班人员"}},
		Report:     "示例报告",
		Alerts: []channel.AlertState{{
			Status: channel.StatusFiring,
			Alert: model.Alert{
				Labels: model.LabelSet{
					model.LabelAlertname: model.CategoryPrivacyPhone, model.LabelSeverity: model.SeverityMajor,
					model.LabelAccountName: "示例账号", model.LabelPlatform: "wechat", model.LabelUnit: "示例单位",
				},
				Annotations: map[string]string{
					model.AnnotationSummary: "示例", model.AnnotationDescription: "示例", model.AnnotationEvidence: "示例",
					model.AnnotationSuggestion: "示例", model.AnnotationURL: "https://example.gov.cn/a",
					model.AnnotationAckURL: "https://example.gov.cn/ack", channel.AnnotationResolveURL: "https://example.gov.cn/resolve",
				},
				StartsAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
			},
		}},
	}
	return NewMessage(n, Plain)
}

// Note is appended to text cut to fit a platform's size limit.
const Note = "\n\n…（内容过长，已截断）"

// Truncate returns s when it fits in max bytes; otherwise the longest prefix
// that ends on a UTF-8 character boundary and leaves room for Note, followed
// by Note. A max too small for Note cuts without it.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	note := Note
	if max < len(note) {
		note = ""
	}
	cut := max - len(note)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

// Mobiles returns the configured mobiles followed by the mobiles of the
// notification's recipients, without duplicates, keeping only numbers made of
// digits (with an optional leading +), so a mention cannot carry markup.
func Mobiles(configured []string, recipients []channel.Person) []string {
	var out []string
	seen := map[string]bool{}
	add := func(m string) {
		m = strings.TrimSpace(m)
		if !conf.IsPhone(m) || seen[m] {
			return
		}
		seen[m] = true
		out = append(out, m)
	}
	for _, m := range configured {
		add(m)
	}
	for _, c := range recipients {
		add(c.Mobile)
	}
	return out
}
