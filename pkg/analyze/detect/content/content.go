// Package content is the detector that reads what an account published and
// the comments on it: it runs the whole textscan engine (lexicons of every
// content category, personal-data validators, forced engagement) over each
// post's title and text and raises one alert per category found
// (prohibited.gambling, privacy.phone, wording.typo, …), at the highest
// severity among its findings. An edit that removes the problem, or the
// post's deletion, resolves the alert. Findings people marked as not a
// problem (pkg/allow: entries for the post, its account, its unit or
// everywhere) are dropped first; they are read from the store for every
// post that has findings, so an entry counts on every replica at once.
package content

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// Categories are what the content detector raises: every category the
// textscan engine finds. The lexicons (analyzer.lexicons) may set a term's
// severity; these are the defaults.
var Categories = []model.Category{
	{ID: model.CategorySecretMarking, Name: "涉密：涉密标识", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedPolitical, Name: "违禁内容：反动、颠覆、分裂、危害国家安全", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedViolence, Name: "违禁内容：暴力恐怖", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedPorn, Name: "违禁内容：色情", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedGambling, Name: "违禁内容：赌博", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryProhibitedCult, Name: "违禁内容：邪教", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryPrivacyIDNumber, Name: "隐私泄露：公民身份号码", Severity: model.SeverityMajor},
	{ID: model.CategoryPrivacyPhone, Name: "隐私泄露：手机号码", Severity: model.SeverityMajor},
	{ID: model.CategoryPrivacyBankCard, Name: "隐私泄露：银行卡号", Severity: model.SeverityMajor},
	{ID: model.CategoryWordingSerious, Name: "表述错误：严重表述错误", Severity: model.SeverityCritical, Veto: true, Upward: true},
	{ID: model.CategoryWordingTypo, Name: "表述错误：错别字", Severity: model.SeverityMinor},
	{ID: model.CategoryWordingOutdated, Name: "表述错误：过时表述", Severity: model.SeverityMinor},
	{ID: model.CategoryEngagementForced, Name: "违规互动：强制要求点赞、转发、关注", Severity: model.SeverityMajor, Veto: true},
	// A public comment under an account's post is not the account's
	// publication: one category for all it may carry (the class is the
	// content_class label), at most major, never veto.
	{ID: model.CategoryInteractionHarmfulComment, Name: "互动管理：网友评论含有害信息", Severity: model.SeverityMajor},
}

func init() {
	detect.Register(detect.Plugin[struct{}]{
		Name:       "content",
		Summary:    "Scans every post and comment with the lexicons and validators of textscan (analyzer.lexicons) and raises one alert per category found.",
		DefaultOn:  true,
		Categories: Categories,
		Templates:  Templates,
		New: func(_ *struct{}, d detect.Deps) (detect.Detector, error) {
			var scan Scanner
			if d.Lexicons != nil {
				scan = d.Lexicons.Scan
			}
			return New(scan), nil
		},
	})
}

// LabelContentClass carries, on an interaction.harmful_comment alert, the
// content category the comment falls in (prohibited.porn, privacy.phone …).
const LabelContentClass = "content_class"

// Scanner finds problems in a text.
type Scanner func(text string) []textscan.Finding

// Detector is the content detector.
type Detector struct {
	scan Scanner
	detect.Templated
}

// New returns a detector using scan: textscan.Live.Scan for lexicons that
// reload, or the engine of the built-in lexicons when nil.
func New(scan Scanner) *Detector {
	if scan == nil {
		scan = textscan.Default().Scan
	}
	return &Detector{scan: scan, Templated: detect.DefaultTexts(Templates)}
}

// Templates are the default Chinese texts: summary and description of what
// the account published, comment.summary and comment.description of a
// public comment under it.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）发布的内容涉及{{category .Category}}，共 {{len .Findings}} 处`,
	"description": `{{.Unit}}「{{.Account.Name}}」于 {{cst .Post.PublishedAt}} 发布的《{{.Title}}》中发现{{category .Category}}：` +
		`{{range $i, $f := .Findings}}{{if $i}}；{{end}}{{$f.Masked}}（第 {{$f.Line}} 行）{{end}}。请立即核实并处理。`,
	"comment.summary": `{{.Account.Name}}（{{platform .Account.Platform}}）的帖子下有网友评论涉及{{category .Category}}，共 {{len .Findings}} 处`,
	"comment.description": `{{.Unit}}「{{.Account.Name}}」的帖子下，网友于 {{cst .Post.PublishedAt}} 发表的评论“{{.Title}}”中出现{{category .Category}}：` +
		`{{range $i, $f := .Findings}}{{if $i}}；{{end}}{{$f.Masked}}{{end}}。该内容为公众评论，并非本账号发布；请按互动管理规定及时隐藏或删除，必要时向网信部门报告。`,
}

// Name implements detect.PostDetector.
func (d *Detector) Name() string { return "content" }

// record is what the detector remembers of a post: the alerts it raised.
type record struct {
	Firing map[string]time.Time `json:"firing"` // category → startsAt
}

const recordTTL = 180 * 24 * time.Hour

// Post implements detect.PostDetector.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	byCat := map[string][]textscan.Finding{}
	if !p.Deleted {
		fs := d.scan(p.Title + "\n" + p.Text)
		if len(fs) > 0 {
			entries, err := allow.New(env.Store).For(ctx, p.ID, a.ID, a.Unit)
			if err != nil {
				return fmt.Errorf("allow entries of post %s: %w", p.ID, err)
			}
			fs = allow.Filter(fs, entries)
		}
		for _, f := range fs {
			byCat[f.Category] = append(byCat[f.Category], f)
		}
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	key := "analyzer/content/" + p.ID
	existed := false
	rec, err := detect.Update(ctx, env.Store, key, recordTTL, func(rec *record, found bool) (bool, error) {
		existed = found
		if rec.Firing == nil {
			rec.Firing = map[string]time.Time{}
		}
		for _, c := range cats {
			start, firing := rec.Firing[c]
			if !firing {
				// The first sight of the problem starts the alert; collection
				// time is stable across redeliveries of the same post version.
				start = p.CollectedAt
				rec.Firing[c] = start
			}
			if err := env.Publish(ctx, d.alert(env, p, a, c, byCat[c], start, time.Time{})); err != nil {
				return false, err
			}
		}
		for c, start := range rec.Firing {
			if _, still := byCat[c]; still {
				continue
			}
			if err := env.Publish(ctx, d.alert(env, p, a, c, nil, start, p.CollectedAt)); err != nil {
				return false, err
			}
			delete(rec.Firing, c)
		}
		return len(rec.Firing) > 0, nil
	})
	if err != nil {
		return err
	}
	if existed && len(rec.Firing) == 0 {
		return env.Store.Delete(ctx, key)
	}
	return nil
}

type shown struct {
	textscan.Finding
	Masked string
}

func (d *Detector) alert(env *detect.Env, p *model.Post, a *registry.Account, category string, fs []textscan.Finding, start, end time.Time) *model.Alert {
	comment := p.Kind == model.KindComment
	alertname := category
	if comment {
		alertname = model.CategoryInteractionHarmfulComment
	}
	labels := alerttext.AccountLabels(env.Registry, a, alertname)
	labels[model.LabelPostID] = p.ID
	if comment {
		labels[LabelContentClass] = category
		labels[model.LabelSeverity] = model.SeverityMinor
	}
	for _, f := range fs {
		sev := f.Severity
		if comment && model.SeverityRank(sev) > model.SeverityRank(model.SeverityMajor) {
			sev = model.SeverityMajor // a citizen's comment is no veto incident
		}
		if model.SeverityRank(sev) > model.SeverityRank(labels[model.LabelSeverity]) {
			labels[model.LabelSeverity] = sev
		}
	}
	// The title is quoted in the description: mask what it leaks too.
	title := d.redact(p.Title)
	if title == "" {
		title = strings.TrimSpace(firstRunes(d.redact(p.Text), 30))
	}
	if comment {
		// A public comment on the account's post: quoted as such, and its
		// author is never named.
		title = strings.TrimSpace(firstRunes(d.redact(p.Text), 30))
	}
	var shownFs []shown
	var evidence, suggestion []string
	for _, f := range fs {
		m := Mask(f.Match)
		shownFs = append(shownFs, shown{Finding: f, Masked: m})
		evidence = append(evidence, fmt.Sprintf("%s（第 %d 行，第 %d–%d 字）", m, f.Line, f.Start, f.End))
		if f.Suggestion != "" && !slices.Contains(suggestion, f.Suggestion) {
			suggestion = append(suggestion, f.Suggestion)
		}
	}
	data := map[string]any{
		"Account": a, "Post": p, "Title": title, "Category": category,
		"Findings": shownFs, "Unit": alerttext.UnitName(env.Registry, a.Unit),
	}
	ann := map[string]string{
		model.AnnotationURL: p.URL,
	}
	texts := ""
	if comment {
		texts = "comment."
		suggestion = []string{"隐藏或删除该网友评论；涉及违法有害信息的，保存证据并向网信、公安部门报告"}
	}
	switch {
	case len(fs) > 0:
		ann[model.AnnotationSummary] = d.Render(texts+"summary", data)
		ann[model.AnnotationDescription] = d.Render(texts+"description", data)
		ann[model.AnnotationEvidence] = strings.Join(evidence, "；")
		ann[model.AnnotationSuggestion] = strings.Join(suggestion, "；")
	case comment:
		ann[model.AnnotationSummary] = fmt.Sprintf("%s（%s）帖子下网友评论中的%s已不再出现", a.Name, model.PlatformName(a.Platform), model.CategoryName(category))
	default:
		ann[model.AnnotationSummary] = fmt.Sprintf("%s（%s）发布内容中的%s已不再出现", a.Name, model.PlatformName(a.Platform), model.CategoryName(category))
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: start, EndsAt: end}
}

// redact masks every finding in s, in place, so a text quoted in an alert
// does not spread what the alert reports.
func (d *Detector) redact(s string) string {
	fs := d.scan(s)
	if len(fs) == 0 {
		return s
	}
	rs := []rune(s)
	for _, f := range fs {
		m := []rune(Mask(f.Match))
		if f.Start < 0 || f.End > len(rs) || f.End-f.Start != len(m) {
			continue
		}
		copy(rs[f.Start:f.End], m)
	}
	return string(rs)
}

// Mask hides the middle of a number so the alert itself does not spread the
// leak: all digits but the first three and the last four become '*'.
func Mask(s string) string {
	rs := []rune(s)
	var digits []int
	for i, r := range rs {
		if (r >= '0' && r <= '9') || (r >= '０' && r <= '９') || r == 'X' || r == 'x' {
			digits = append(digits, i)
		}
	}
	for k, i := range digits {
		if k >= 3 && k < len(digits)-4 {
			rs[i] = '*'
		}
	}
	return string(rs)
}

func firstRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		return string(rs[:n]) + "…"
	}
	return s
}
