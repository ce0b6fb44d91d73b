// Package negative raises opinion.negative when the share of negative
// comments on a post (comments containing a term of the negative lexicon:
// 投诉, 不作为, 欺骗, 曝光 …) rises above its account's baseline share, with
// minimum counts so a handful of comments never alerts. The baseline is an
// EWMA over the account's comments, frozen for each post at its first
// comment so the post's own comments do not raise the bar they are judged
// against. The alert resolves once later comments bring the share back.
//
// Each post's counts live in one store record with a fixed-size Bloom
// filter of the comments counted, so a redelivered comment is not counted
// twice and the record stays small however many comments arrive.
package negative

import (
	"context"
	_ "embed"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/baseline"
	"github.com/govwatch/govwatch/pkg/analyze/detect/terms"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config tunes the detector: analyzer.detectors.negative.
type Config struct {
	Lexicon     conf.File `yaml:"lexicon" doc:"A file of negative terms, one a line; empty: the built-in list." example:"lexicons/negative.txt"`
	MinComments int       `yaml:"min_comments" doc:"Comments a post needs before its share is judged."`
	MinNegative int       `yaml:"min_negative" doc:"Negative comments a post needs before it alerts."`
	MinShare    float64   `yaml:"min_share" doc:"Least share of negative comments (0 to 1) that alerts."`
	// SpikeHeight: the post's share must be at least this many times the
	// account's baseline share.
	SpikeHeight float64 `yaml:"spike_height" doc:"The post's share must be at least this many times the account's usual share."`
	Alpha       float64 `yaml:"alpha" doc:"EWMA weight of one comment in the account's usual share."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{MinComments: 10, MinNegative: 5, MinShare: 0.3, SpikeHeight: 2, Alpha: 0.02}
}

// Validate implements plugin.Validator. The lexicon's readability is
// checked when decoding.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_comments", c.MinComments, 1)
	ch.AtLeast("min_negative", c.MinNegative, 1)
	ch.Fraction("min_share", c.MinShare)
	ch.Positive("spike_height", c.SpikeHeight)
	ch.Fraction("alpha", c.Alpha)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "negative",
		Summary:   "Raises opinion.negative when the share of negative comments on a post rises well above its account's usual share.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionNegative, Name: "舆情：负面评论集中", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.OrError(New),
	})
}

//go:embed negative.txt
var builtin string

// Detector is the negative-comment detector.
type Detector struct {
	c       Config
	lexicon *terms.List
	detect.Templated
}

// New returns a detector tuned by c, with the lexicon c names or the
// built-in one.
func New(c Config) (*Detector, error) {
	l, err := terms.Load(string(c.Lexicon), "negative.txt", builtin)
	if err != nil {
		return nil, err
	}
	return &Detector{c: c, lexicon: l, Templated: detect.DefaultTexts(Templates)}, nil
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）的《{{.Title}}》负面评论集中：{{.Negative}}/{{.Total}} 条（{{.Share}}%），平时约 {{.Ref}}%`,
	"description": `{{.Unit}}「{{.Account.Name}}」发布的《{{.Title}}》已收到评论 {{.Total}} 条，其中 {{.Negative}} 条含投诉、举报、不作为等负面表述，` +
		`占 {{.Share}}%，明显高于该账号平时的 {{.Ref}}%。请及时研判、回应关切，必要时报告上级。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）的《{{.Title}}》负面评论占比已回落至 {{.Share}}%`,
}

// Name implements detect.PostDetector.
func (d *Detector) Name() string { return "negative" }

// bloomBits sizes the per-post filter of counted comments: 16 Kibit (2 KiB)
// keeps false positives (comments wrongly taken as already counted) near
// 3% at 2,000 comments with 3 hashes.
const (
	bloomBits   = 1 << 14
	bloomHashes = 3
	maxSamples  = 3
	sampleRunes = 40
)

type postState struct {
	Title    string         `json:"title,omitempty"`
	URL      string         `json:"url,omitempty"`
	Total    int            `json:"total"`
	Negative int            `json:"negative"`
	Terms    map[string]int `json:"terms,omitempty"`
	Samples  []string       `json:"samples,omitempty"`
	Ref      float64        `json:"ref"`
	RefSet   bool           `json:"ref_set"`
	Seen     []byte         `json:"seen,omitempty"`
	Firing   *time.Time     `json:"firing,omitempty"`
}

type acctState struct {
	Share baseline.EWMA `json:"share"`
}

const (
	postTTL = 60 * 24 * time.Hour
	acctTTL = 365 * 24 * time.Hour
	// minBaseline is how many comments an account needs before its
	// share is a baseline; until then only min_share applies.
	minBaseline = 30
)

func postKey(id string) string { return "analyzer/negative/post/" + id }
func acctKey(id string) string { return "analyzer/negative/account/" + id }

// Post implements detect.PostDetector: posts give the title for texts,
// comments are counted.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	switch {
	case p.Kind == model.KindPost && !p.Deleted:
		_, err := detect.Change(ctx, env.Store, postKey(p.ID), postTTL, func(s *postState) error {
			if s.Title == p.Title && s.URL == p.URL {
				return detect.ErrUnchanged
			}
			s.Title, s.URL = p.Title, p.URL
			return nil
		})
		return err
	case p.Kind != model.KindComment || p.ParentID == "" || p.Deleted:
		return nil
	}
	matched := d.lexicon.Match(p.Title + p.Text)
	var publish *model.Alert
	counted := false
	_, err := detect.Change(ctx, env.Store, postKey(p.ParentID), postTTL, func(s *postState) error {
		publish, counted = nil, false
		if s.Seen == nil {
			s.Seen = make([]byte, bloomBits/8)
		}
		if !bloomAdd(s.Seen, p.ID) {
			if s.Firing != nil {
				publish = d.alert(env, p.ParentID, a, s, *s.Firing, time.Time{}) // a redelivery: say it again
			}
			return detect.ErrUnchanged
		}
		counted = true
		if !s.RefSet {
			// The post's first comment freezes the account's baseline; later
			// comments need not read it.
			var acct acctState
			if _, err := detect.Load(ctx, env.Store, acctKey(a.ID), &acct); err != nil {
				return err
			}
			s.RefSet = true
			if acct.Share.N >= minBaseline {
				s.Ref = acct.Share.Mean
			}
		}
		s.Total++
		if len(matched) > 0 {
			s.Negative++
			if s.Terms == nil {
				s.Terms = map[string]int{}
			}
			for _, t := range matched {
				s.Terms[t]++
			}
			if len(s.Samples) < maxSamples {
				s.Samples = append(s.Samples, snippet(p.Text))
			}
		}
		up := d.up(s)
		switch {
		case up && s.Firing == nil:
			start := p.CollectedAt
			s.Firing = &start
			publish = d.alert(env, p.ParentID, a, s, start, time.Time{})
		case !up && s.Firing != nil:
			publish = d.alert(env, p.ParentID, a, s, *s.Firing, p.CollectedAt)
			s.Firing = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := env.Publish(ctx, publish); err != nil {
		return err
	}
	if !counted {
		return nil
	}
	x := 0.0
	if len(matched) > 0 {
		x = 1
	}
	_, err = detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		s.Share.AddWarm(x, d.c.Alpha)
		return nil
	})
	return err
}

// up reports whether a post's comments are negative enough to alert.
func (d *Detector) up(s *postState) bool {
	if s.Total < d.c.MinComments || s.Negative < d.c.MinNegative {
		return false
	}
	share := float64(s.Negative) / float64(s.Total)
	return share >= d.c.MinShare && share >= s.Ref*d.c.SpikeHeight
}

// bloomAdd adds id to the filter and reports whether it was absent.
func bloomAdd(bits []byte, id string) bool {
	h := fnv.New64a()
	h.Write([]byte(id))
	x := h.Sum64()
	h1, h2 := uint32(x), uint32(x>>32)|1
	n := uint32(len(bits) * 8)
	added := false
	for i := range uint32(bloomHashes) {
		b := (h1 + i*h2) % n
		if bits[b/8]&(1<<(b%8)) == 0 {
			bits[b/8] |= 1 << (b % 8)
			added = true
		}
	}
	return added
}

func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	rs := []rune(s)
	if len(rs) > sampleRunes {
		return string(rs[:sampleRunes]) + "…"
	}
	return s
}

func pct(x float64) string {
	if x < 0.1 && x > 0 {
		return fmt.Sprintf("%.1f", x*100)
	}
	return fmt.Sprintf("%.0f", x*100)
}

func (d *Detector) alert(env *detect.Env, postID string, a *registry.Account, s *postState, start, end time.Time) *model.Alert {
	labels := alerttext.AccountLabels(env.Registry, a, model.CategoryOpinionNegative)
	labels[model.LabelPostID] = postID
	title := s.Title
	if title == "" {
		title = postID
	}
	share := float64(s.Negative) / float64(max(s.Total, 1))
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit), "Title": title,
		"Total": s.Total, "Negative": s.Negative, "Share": pct(share), "Ref": pct(s.Ref),
	}
	ann := map[string]string{model.AnnotationURL: s.URL}
	if d.DescribeUntil(ann, end, data) {
		var ts []string
		for t, n := range s.Terms {
			ts = append(ts, fmt.Sprintf("%s×%d", t, n))
		}
		slices.Sort(ts)
		ann[model.AnnotationEvidence] = fmt.Sprintf("评论 %d 条，负面 %d 条（%s%%），账号基线 %s%%；负面词：%s；评论摘录：「%s」",
			s.Total, s.Negative, pct(share), pct(s.Ref), strings.Join(ts, "、"), strings.Join(s.Samples, "」「"))
		ann[model.AnnotationSuggestion] = "及时回复评论、回应诉求，核实所涉问题并转有关部门办理；情况严重的报告上级"
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: start, EndsAt: end}
}
