// Package emergency raises opinion.emergency when the emergency terms of its
// list (爆炸, 火灾, 塌方, 停水, 中毒 …) burst across the accounts of one
// region (the registry unit's Region): within one window (1 h by default)
// a term appears in at least min_count posts or comments from at least
// min_accounts accounts, and far above its usual count for that region.
//
// The baseline is SigniTrend's: per term and region, an EWMA of the count
// per window and of its variance, kept in a hashed table of table_size
// buckets per region (a fixed memory bound whatever the vocabulary), and
// the score (count − max(mean, β)) / (std + β). Sentences that only warn
// or teach (防范, 预防, 演练, 科普 …), as every account posts before a
// holiday, are not counted. The alert resolves at the end of the first
// window that is quiet again; a sweep closes windows when no post arrives.
package emergency

import (
	"context"
	_ "embed"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/baseline"
	"github.com/govwatch/govwatch/pkg/analyze/detect/terms"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config tunes the detector: analyzer.detectors.emergency.
type Config struct {
	Lexicon conf.File `yaml:"lexicon" doc:"A file of emergency terms, one a line; empty: the built-in list." example:"lexicons/emergency.txt"`
	// Window is the counting period; each closed window updates the
	// per-term, per-region EWMA.
	Window conf.Duration `yaml:"window" doc:"The counting period; each closed window updates the usual count of each term in each region."`
	// TableSize is the number of hashed buckets per region (fixed memory).
	TableSize   int     `yaml:"table_size" doc:"Hashed buckets per region (16 to 4096): the memory bound whatever the vocabulary."`
	Alpha       float64 `yaml:"alpha" doc:"EWMA weight of a closed window."`
	Beta        float64 `yaml:"beta" doc:"SigniTrend's bias term, so a rare term is not significant on a count of one."`
	Z           float64 `yaml:"z" doc:"Score at or above which a term bursts."`
	MinCount    int     `yaml:"min_count" doc:"Posts or comments with the term in one window before it may alert."`
	MinAccounts int     `yaml:"min_accounts" doc:"Accounts of the region with the term in one window before it may alert."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{Window: conf.Duration(time.Hour), TableSize: 256, Alpha: 0.1, Beta: 1, Z: 3, MinCount: 3, MinAccounts: 2}
}

// Validate implements plugin.Validator. The lexicon's readability is
// checked when decoding.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("window", c.Window, time.Minute)
	ch.Between("table_size", c.TableSize, 16, 4096)
	ch.Fraction("alpha", c.Alpha)
	ch.Positive("beta", c.Beta)
	ch.Positive("z", c.Z)
	ch.AtLeast("min_count", c.MinCount, 1)
	ch.AtLeast("min_accounts", c.MinAccounts, 1)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "emergency",
		Summary:   "Raises opinion.emergency when emergency terms burst across the accounts of one region.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionEmergency, Name: "舆情：突发公共事件信号", Severity: model.SeverityCritical, Veto: true, Upward: true},
		},
		Templates: Templates,
		New:       detect.OrError(New),
	})
}

//go:embed emergency.txt
var builtin string

// LabelTerm names the emergency term in an alert's labels.
const LabelTerm = "term"

// Warnings are words that make a sentence a warning or a lesson rather than
// a report: a sentence with one of them does not count.
var Warnings = []string{"防范", "预防", "防止", "谨防", "警惕", "演练", "科普", "知识", "安全提示", "温馨提示", "注意安全", "应急预案"}

// Detector is the emergency-burst detector.
type Detector struct {
	c    Config
	list *terms.List
	detect.Templated
}

// New returns a detector tuned by c, with the term list c names or the
// built-in one.
func New(c Config) (*Detector, error) {
	l, err := terms.Load(string(c.Lexicon), "emergency.txt", builtin)
	if err != nil {
		return nil, err
	}
	return &Detector{c: c, list: l, Templated: detect.DefaultTexts(Templates)}, nil
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `突发事件信号：{{.Region}} 地区 {{.Accounts}} 个账号集中出现“{{.Term}}”，{{cst .From}} 起 {{.Count}} 条（平时约 {{.Mean}} 条）`,
	"description": `行政区划 {{.Region}}（{{.Units}}）的政务账号自 {{cst .From}} 起一小时内共有 {{.Count}} 条发布或留言提到“{{.Term}}”，` +
		`来自 {{.Accounts}} 个账号，远高于平时每小时约 {{.Mean}} 条（显著性 {{.Score}}）。可能发生突发公共事件，请立即核实并按应急预案报告。`,
	"resolved": `{{.Region}} 地区“{{.Term}}”相关信息已回落`,
}

// Name implements detect.PostDetector and detect.Sweeper.
func (d *Detector) Name() string { return "emergency" }

const (
	maxAccounts = 8   // distinct accounts remembered per bucket and window
	maxSeen     = 256 // items remembered per bucket and window, against recounting
	maxSamples  = 3
	maxDecay    = 64 // silent windows folded into an EWMA at once; beyond, it is ~0
	// maxUnitsShown bounds the units a description names.
	maxUnitsShown = 5
	regionTTL     = 90 * 24 * time.Hour
)

type sample struct {
	Account string `json:"account"`
	Text    string `json:"text"`
	URL     string `json:"url,omitempty"`
}

// bucket is one slot of a region's hashed table.
type bucket struct {
	Term     string        `json:"term"`
	EWMA     baseline.EWMA `json:"ewma"`
	Count    int           `json:"count"`
	Accounts []string      `json:"accounts,omitempty"`
	Seen     []uint32      `json:"seen,omitempty"`
	Samples  []sample      `json:"samples,omitempty"`
	Firing   *firing       `json:"firing,omitempty"`
}

type firing struct {
	Start time.Time `json:"start"`
	Term  string    `json:"term"`
	Count int       `json:"count"`
	Mean  float64   `json:"mean"`
	Score float64   `json:"score"`
	Accts int       `json:"accounts"`
}

type regionState struct {
	Window  int64           `json:"window"` // index of the window being counted
	Buckets map[int]*bucket `json:"buckets,omitempty"`
}

func regionKey(r string) string { return "analyzer/emergency/region/" + r }

func (d *Detector) window(t time.Time) int64 { return t.Unix() / int64(d.c.Window.D()/time.Second) }

func (d *Detector) windowStart(w int64) time.Time {
	return time.Unix(w*int64(d.c.Window.D()/time.Second), 0).UTC()
}

func (d *Detector) slot(term string) int {
	h := fnv.New32a()
	h.Write([]byte(term))
	return int(h.Sum32() % uint32(d.c.TableSize))
}

// Post implements detect.PostDetector.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Deleted || p.Kind == model.KindReply {
		return nil
	}
	u, ok := env.Registry.Unit(a.Unit)
	if !ok || u.Region == "" {
		return nil
	}
	// A first poll brings old posts: they are history, not a burst.
	if !p.PublishedAt.IsZero() && p.CollectedAt.Sub(p.PublishedAt) > 2*d.c.Window.D() {
		return nil
	}
	found := d.Terms(p.Title + "。" + p.Text)
	if len(found) == 0 {
		return nil
	}
	var out []*model.Alert
	_, err := detect.Change(ctx, env.Store, regionKey(u.Region), regionTTL, func(s *regionState) error {
		out = d.roll(env, s, u.Region, d.window(p.CollectedAt))
		id := itemHash(p.ID)
		for _, term := range found {
			b := s.bucket(d.slot(term))
			if slices.Contains(b.Seen, id) {
				if b.Firing != nil {
					out = append(out, d.alert(env, u.Region, b, b.Firing.Start, time.Time{}))
				}
				continue
			}
			if len(b.Seen) < maxSeen {
				b.Seen = append(b.Seen, id)
			}
			b.Term = term
			b.Count++
			if !slices.Contains(b.Accounts, a.ID) && len(b.Accounts) < maxAccounts {
				b.Accounts = append(b.Accounts, a.ID)
			}
			if len(b.Samples) < maxSamples && !slices.ContainsFunc(b.Samples, func(x sample) bool { return x.Account == a.ID }) {
				b.Samples = append(b.Samples, sample{Account: a.ID, Text: snippet(p.Title, p.Text), URL: p.URL})
			}
			score := b.EWMA.Significance(float64(b.Count), d.c.Beta)
			if b.Firing == nil && score >= d.c.Z && b.Count >= d.c.MinCount && len(b.Accounts) >= d.c.MinAccounts {
				b.Firing = &firing{Start: d.windowStart(s.Window), Term: term, Count: b.Count, Mean: b.EWMA.Mean, Score: score, Accts: len(b.Accounts)}
				out = append(out, d.alert(env, u.Region, b, b.Firing.Start, time.Time{}))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return d.publish(ctx, env, out)
}

func (d *Detector) publish(ctx context.Context, env *detect.Env, out []*model.Alert) error {
	for _, al := range out {
		if err := env.Publish(ctx, al); err != nil {
			return err
		}
	}
	return nil
}

// Sweep closes the windows that ended without a post, in every region, so
// bursts resolve when the region falls silent.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := d.window(env.Now())
	regions := map[string]bool{}
	for _, a := range env.Registry.Accounts() {
		if u, ok := env.Registry.Unit(a.Unit); ok && u.Region != "" {
			regions[u.Region] = true
		}
	}
	names := make([]string, 0, len(regions))
	for r := range regions {
		names = append(names, r)
	}
	slices.Sort(names)
	for _, r := range names {
		var out []*model.Alert
		_, err := detect.Change(ctx, env.Store, regionKey(r), regionTTL, func(s *regionState) error {
			if s.Window == 0 || s.Window >= now {
				return detect.ErrUnchanged
			}
			out = d.roll(env, s, r, now)
			return nil
		})
		if err != nil {
			return err
		}
		if err := d.publish(ctx, env, out); err != nil {
			return err
		}
	}
	return nil
}

func (s *regionState) bucket(i int) *bucket {
	if s.Buckets == nil {
		s.Buckets = map[int]*bucket{}
	}
	b, ok := s.Buckets[i]
	if !ok {
		b = &bucket{}
		s.Buckets[i] = b
	}
	return b
}

// roll closes the windows before w: each bucket's count goes into its
// EWMA, silent windows as zeros; a firing bucket whose closed window was
// not significant resolves at that window's end. Buckets that decayed to
// nothing are dropped.
func (d *Detector) roll(env *detect.Env, s *regionState, region string, w int64) []*model.Alert {
	if s.Window == 0 {
		s.Window = w
	}
	if w <= s.Window {
		return nil
	}
	var out []*model.Alert
	keys := make([]int, 0, len(s.Buckets))
	for k := range s.Buckets {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b := s.Buckets[k]
		if b.Firing != nil {
			score := b.EWMA.Significance(float64(b.Count), d.c.Beta)
			if score < d.c.Z || b.Count < d.c.MinCount {
				out = append(out, d.alert(env, region, b, b.Firing.Start, d.windowStart(s.Window+1)))
				b.Firing = nil
			}
		}
		b.EWMA.AddWarm(float64(b.Count), d.c.Alpha)
		for range min(w-s.Window-1, maxDecay) {
			if b.Firing != nil {
				// A silent window ends the burst too.
				out = append(out, d.alert(env, region, b, b.Firing.Start, d.windowStart(s.Window+2)))
				b.Firing = nil
			}
			b.EWMA.AddWarm(0, d.c.Alpha)
		}
		b.Count, b.Accounts, b.Seen, b.Samples = 0, nil, nil, nil
		if b.Firing == nil && b.EWMA.Mean < 1e-3 && b.EWMA.N > 1 {
			delete(s.Buckets, k)
		}
	}
	s.Window = w
	return out
}

// Terms returns the listed terms a text reports: those appearing in at
// least one sentence that is not a warning or a lesson.
func (d *Detector) Terms(text string) []string {
	var out []string
	for _, sent := range strings.FieldsFunc(text, func(r rune) bool {
		return r == '。' || r == '！' || r == '？' || r == '\n' || r == '!' || r == '?' || r == '；'
	}) {
		found := d.list.Match(sent)
		if len(found) == 0 || slices.ContainsFunc(Warnings, func(w string) bool { return strings.Contains(sent, w) }) {
			continue
		}
		for _, t := range found {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

func itemHash(id string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()
}

func snippet(title, text string) string {
	s := strings.TrimSpace(title + " " + text)
	s = strings.Join(strings.Fields(s), " ")
	rs := []rune(s)
	if len(rs) > 50 {
		return string(rs[:50]) + "…"
	}
	return s
}

func (d *Detector) alert(env *detect.Env, region string, b *bucket, start, end time.Time) *model.Alert {
	f := b.Firing
	labels := model.LabelSet{
		model.LabelAlertname: model.CategoryOpinionEmergency,
		model.LabelSeverity:  model.DefaultSeverity(model.CategoryOpinionEmergency),
		model.LabelRegion:    region,
		LabelTerm:            f.Term,
	}
	var units []string
	for _, a := range env.Registry.Accounts() {
		if u, ok := env.Registry.Unit(a.Unit); ok && u.Region == region && !slices.Contains(units, u.Name) {
			units = append(units, u.Name)
		}
	}
	unitText := strings.Join(units, "、")
	if len(units) > maxUnitsShown {
		unitText = fmt.Sprintf("%s等 %d 个单位", strings.Join(units[:maxUnitsShown], "、"), len(units))
	}
	data := map[string]any{
		"Region": region, "Units": unitText, "Term": f.Term, "From": start,
		"Count": f.Count, "Accounts": f.Accts, "Mean": fmt.Sprintf("%.1f", f.Mean), "Score": fmt.Sprintf("%.1f", f.Score),
	}
	ann := map[string]string{}
	if d.DescribeUntil(ann, end, data) {
		var ev []string
		for _, s := range b.Samples {
			name := s.Account
			if a, ok := env.Registry.Account(s.Account); ok {
				name = a.Name
			}
			ev = append(ev, strings.TrimSpace(fmt.Sprintf("「%s」%s %s", name, s.Text, s.URL)))
		}
		ann[model.AnnotationEvidence] = strings.Join(ev, "\n")
		ann[model.AnnotationSuggestion] = "立即与属地应急管理部门核实情况；属实的按突发事件信息报送规定上报，并统一发布权威信息"
		if len(b.Samples) > 0 {
			ann[model.AnnotationURL] = b.Samples[0].URL
		}
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: start, EndsAt: end}
}
