// Package crossplatform raises consistency.cross_platform when one unit
// publishes what is plainly the same text on two platforms within the
// window (48 h by default) — near-duplicates by MinHash over character
// 2–3-gram shingles — yet the versions differ in a number, a date, a phone
// number or a name. The alert shows both versions side by side. An edit
// that makes them agree, or the deletion of either, resolves it.
//
// Each unit's recent posts live in one store record, bounded to MaxPosts
// entries and updated with compare-and-swap.
package crossplatform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config tunes the detector: analyzer.detectors.crossplatform.
type Config struct {
	Window   conf.Duration `yaml:"window" doc:"How far apart two posts may be published to be compared."`
	MaxPosts int           `yaml:"max_posts" doc:"Recent posts kept per unit (2 to 256)."`
	// Similarity is the least estimated Jaccard similarity of character
	// 2–3-gram shingles for two posts to be versions of one text.
	Similarity float64 `yaml:"similarity" doc:"Least estimated similarity (0 to 1) of two posts' character shingles for them to be versions of one text."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{Window: conf.Duration(48 * time.Hour), MaxPosts: 32, Similarity: 0.6}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("window", c.Window, time.Hour)
	ch.Between("max_posts", c.MaxPosts, 2, 256)
	ch.Fraction("similarity", c.Similarity)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "crossplatform",
		Summary:   "Raises consistency.cross_platform when one unit publishes the same text on two platforms with a number, date, phone or name that differs.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryConsistencyCrossPlatform, Name: "信息一致性：不同平台发布信息不一致", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// LabelPeerPostID names the other version's post in an alert's labels: a
// post can disagree with versions on several platforms.
const LabelPeerPostID = "peer_post_id"

// Detector is the cross-platform consistency detector.
type Detector struct {
	window     time.Duration
	maxPosts   int
	similarity float64
	detect.Templated
}

// New returns a detector tuned by c.
func New(c Config) *Detector {
	return &Detector{window: c.Window.D(), maxPosts: c.MaxPosts, similarity: c.Similarity, Templated: detect.DefaultTexts(Templates)}
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Unit}}在{{platform .A.Platform}}与{{platform .B.Platform}}发布的同一信息内容不一致：{{.Kinds}}`,
	"description": `「{{.A.Name}}」（{{platform .A.Platform}}，{{cst .A.At}}）与「{{.B.Name}}」（{{platform .B.Platform}}，{{cst .B.At}}）` +
		`发布的内容高度相似（相似度约 {{.Similarity}}%），但存在以下差异：{{range $i, $d := .Diffs}}{{if $i}}；{{end}}{{$d.Kind}}「{{$d.A}}」与「{{$d.B}}」{{end}}。` +
		`请核实哪一版本准确，并更正另一平台的发布内容。`,
	"resolved": `{{.Unit}}在{{platform .A.Platform}}与{{platform .B.Platform}}发布的信息已一致或已删除`,
}

// Name implements detect.PostDetector.
func (d *Detector) Name() string { return "crossplatform" }

// maxTextRunes bounds the text kept of each post in the unit's record.
const maxTextRunes = 600

// entry is one recent post of a unit.
type entry struct {
	ID        string    `json:"id"`
	Account   string    `json:"account"`
	Platform  string    `json:"platform"`
	At        time.Time `json:"at"` // published_at
	Collected time.Time `json:"collected"`
	Hash      string    `json:"hash"`
	URL       string    `json:"url,omitempty"`
	Title     string    `json:"title,omitempty"`
	Text      string    `json:"text"`
	Sig       Signature `json:"sig"`
	// Firing maps the ids of posts this one disagrees with, where this
	// one is the later of the pair, to the alert's start.
	Firing map[string]time.Time `json:"firing,omitempty"`
}

type record struct {
	Posts []*entry `json:"posts"`
}

func key(unit string) string { return "analyzer/crossplatform/" + unit }

// pair is one alert to publish: later post b disagrees with earlier a.
type pair struct {
	a, b  entry
	diffs []Difference
	sim   float64
	start time.Time
	end   time.Time
}

// Post implements detect.PostDetector.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Kind != model.KindPost || p.PublishedAt.IsZero() {
		return nil
	}
	var out []pair
	_, err := detect.Change(ctx, env.Store, key(a.Unit), 2*d.window, func(r *record) error {
		out = d.apply(r, p, a)
		return nil
	})
	if err != nil {
		return err
	}
	for _, pr := range out {
		if err := env.Publish(ctx, d.alert(env, pr)); err != nil {
			return err
		}
	}
	return nil
}

// apply folds p into the unit's record and returns the alerts to publish:
// every pair p is part of that disagrees (again, on a redelivery: the bus
// drops the repeat), and the resolution of pairs that no longer do.
func (d *Detector) apply(r *record, p *model.Post, a *registry.Account) []pair {
	text := p.Title + "\n" + p.Text
	cur := &entry{ID: p.ID, Account: a.ID, Platform: a.Platform, At: p.PublishedAt, Collected: p.CollectedAt,
		Hash: p.ContentHash, URL: p.URL, Title: p.Title, Text: truncate(text, maxTextRunes)}
	cur.Sig = TextSignature(cur.Text)

	// Drop what fell out of the window, measured from the newest post seen.
	newest := p.PublishedAt
	for _, e := range r.Posts {
		if e.At.After(newest) {
			newest = e.At
		}
	}
	r.Posts = slices.DeleteFunc(r.Posts, func(e *entry) bool { return newest.Sub(e.At) > d.window })

	var out []pair
	var prev *entry
	if i := slices.IndexFunc(r.Posts, func(e *entry) bool { return e.ID == p.ID }); i >= 0 {
		prev = r.Posts[i]
		r.Posts = slices.Delete(r.Posts, i, i+1)
		if prev.Hash == p.ContentHash && !p.Deleted {
			cur.Collected = prev.Collected // a redelivery or an unchanged re-poll
		}
	}
	for _, e := range r.Posts {
		later, earlier := cur, e
		if e.At.After(cur.At) || e.At.Equal(cur.At) && e.ID > cur.ID {
			later, earlier = e, cur
		}
		start, was := time.Time{}, false
		switch {
		case later == cur && prev != nil:
			start, was = prev.Firing[earlier.ID]
		case later == e:
			start, was = e.Firing[p.ID]
		}
		var diffs []Difference
		var sim float64
		if !p.Deleted && e.Platform != cur.Platform && later.At.Sub(earlier.At) <= d.window {
			if sim = cur.Sig.Similarity(&e.Sig); sim >= d.similarity {
				diffs = Differences(earlier.Text, later.Text)
			}
		}
		switch {
		case len(diffs) > 0:
			if !was {
				start = maxTime(earlier.Collected, later.Collected)
			}
			if later.Firing == nil {
				later.Firing = map[string]time.Time{}
			}
			later.Firing[earlier.ID] = start
			out = append(out, pair{a: *earlier, b: *later, diffs: diffs, sim: sim, start: start})
		case was:
			delete(later.Firing, earlier.ID)
			out = append(out, pair{a: *earlier, b: *later, start: start, end: maxTime(p.CollectedAt, start)})
		}
	}
	if !p.Deleted {
		r.Posts = append(r.Posts, cur)
		if len(r.Posts) > d.maxPosts {
			// Keep the newest; the oldest's firing pairs stay open until an
			// edit of the later post, which no longer finds it, or its
			// expiry from the window.
			slices.SortFunc(r.Posts, func(x, y *entry) int { return x.At.Compare(y.At) })
			r.Posts = r.Posts[len(r.Posts)-d.maxPosts:]
		}
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func truncate(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		return string(rs[:n])
	}
	return s
}

// version is one side of the alert, for the templates.
type version struct {
	Name, Platform string
	At             time.Time
}

func (d *Detector) alert(env *detect.Env, pr pair) *model.Alert {
	acct, ok := env.Registry.Account(pr.b.Account)
	if !ok {
		acct = &registry.Account{ID: pr.b.Account, Name: pr.b.Account, Platform: pr.b.Platform}
	}
	labels := alerttext.AccountLabels(env.Registry, acct, model.CategoryConsistencyCrossPlatform)
	labels[model.LabelPostID] = pr.b.ID
	labels[LabelPeerPostID] = pr.a.ID
	name := func(id string) string {
		if a, ok := env.Registry.Account(id); ok {
			return a.Name
		}
		return id
	}
	var kinds []string
	for _, df := range pr.diffs {
		if !slices.Contains(kinds, df.Kind) {
			kinds = append(kinds, df.Kind)
		}
	}
	data := map[string]any{
		"Unit":       alerttext.UnitName(env.Registry, acct.Unit),
		"A":          version{Name: name(pr.a.Account), Platform: pr.a.Platform, At: pr.a.At},
		"B":          version{Name: name(pr.b.Account), Platform: pr.b.Platform, At: pr.b.At},
		"Diffs":      pr.diffs,
		"Kinds":      strings.Join(kinds, "、"),
		"Similarity": int(pr.sim*100 + 0.5),
	}
	ann := map[string]string{model.AnnotationURL: pr.b.URL}
	if d.DescribeUntil(ann, pr.end, data) {
		ann[model.AnnotationEvidence] = sideBySide(pr, name)
		ann[model.AnnotationSuggestion] = "以权威发布为准，更正或删除有误的版本，并在更正处说明"
		ann["version_a"] = pr.a.Text
		ann["version_b"] = pr.b.Text
		ann["url_a"] = pr.a.URL
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: pr.start, EndsAt: pr.end}
}

// sideBySide renders both versions with the differing spans marked 【】.
func sideBySide(pr pair, name func(string) string) string {
	mark := func(text string, side func(Difference) string) string {
		for _, df := range pr.diffs {
			if s := side(df); s != "" {
				text = strings.Replace(text, s, "【"+s+"】", 1)
			}
		}
		return strings.TrimSpace(strings.ReplaceAll(text, "\n", " "))
	}
	line := func(e entry, side func(Difference) string) string {
		return fmt.Sprintf("%s（%s，%s）：%s %s", model.PlatformName(e.Platform), name(e.Account),
			e.At.In(calendar.Shanghai).Format("2006-01-02 15:04"), mark(e.Text, side), e.URL)
	}
	return "版本一 " + line(pr.a, func(d Difference) string { return d.A }) + "\n" +
		"版本二 " + line(pr.b, func(d Difference) string { return d.B })
}
