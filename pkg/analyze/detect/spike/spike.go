// Package spike raises opinion.spike when engagement (likes, comments and
// shares per hour) grows far faster than usual: for one post, between two
// observations of it (re-polls bring updated metrics for the same post id),
// and for a whole account, hour by hour. "Usual" is the account's own
// baseline: a robust z-score of the log velocity against the median and
// MAD of a bounded history, with an EWMA of the log velocity tracking drift
// as the reference of ElastAlert's spike-rule guard (cur ≥ ref ×
// spike_height, after a minimum count cur ≥ threshold_cur and with ref
// never below threshold_ref, so ref = 0 is no spike on its own). Nothing is
// judged before min_history samples exist.
//
// A post's spike resolves at the first observation whose velocity is back
// within the baseline; an account's at the end of the first hour that is.
package spike

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/baseline"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Config tunes the detector: analyzer.detectors.spike.
type Config struct {
	History    int     `yaml:"history" doc:"Velocity samples of an account kept as its baseline."`
	MinHistory int     `yaml:"min_history" doc:"Samples needed before anything is judged."`
	Z          float64 `yaml:"z" doc:"Robust z-score (log velocity against the median, MAD scale) at or above which a post spikes."`
	MinScale   float64 `yaml:"min_scale" doc:"Floor of the MAD scale, so a very steady account does not spike on small wobbles."`
	// SpikeHeight is ElastAlert's ratio guard: the velocity must be at
	// least this many times the reference (the EWMA of the velocities).
	SpikeHeight float64 `yaml:"spike_height" doc:"The velocity must be at least this many times the account's usual (its EWMA)."`
	// ThresholdCur and ThresholdRef keep a quiet account (reference 0)
	// from spiking on its first few likes.
	ThresholdCur float64       `yaml:"threshold_cur" doc:"Least number of new interactions between two observations of a post."`
	ThresholdRef float64       `yaml:"threshold_ref" doc:"Least reference velocity (per hour) the ratio is taken against."`
	Alpha        float64       `yaml:"alpha" doc:"EWMA weight of a new velocity sample."`
	MinInterval  conf.Duration `yaml:"min_interval" doc:"Re-polls of a post closer together than this are ignored: their velocities are noise."`
	QuietAfter   conf.Duration `yaml:"quiet_after" doc:"A post's spike ends once no observation of it came for this long."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{History: 64, MinHistory: 8, Z: 3.5, MinScale: 0.25, SpikeHeight: 3, ThresholdCur: 50, ThresholdRef: 5,
		Alpha: 0.1, MinInterval: conf.Duration(10 * time.Minute), QuietAfter: conf.Duration(6 * time.Hour)}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_history", c.MinHistory, 3)
	ch.AtLeast("history", c.History, c.MinHistory)
	ch.Positive("z", c.Z)
	ch.Positive("spike_height", c.SpikeHeight)
	ch.Fraction("alpha", c.Alpha)
	if c.QuietAfter < c.MinInterval || c.QuietAfter < conf.Duration(time.Minute) {
		ch.Errorf("quiet_after", "must be at least min_interval and 1m, not %s", c.QuietAfter)
	}
	ch.NotNegative("min_scale", c.MinScale)
	ch.NotNegative("threshold_cur", c.ThresholdCur)
	ch.NotNegative("threshold_ref", c.ThresholdRef)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "spike",
		Summary:   "Raises opinion.spike when a post's or an account's engagement grows far faster than the account's own baseline.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryOpinionSpike, Name: "舆情：互动量异常激增", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// Detector is the engagement-spike detector.
type Detector struct {
	c Config
	detect.Templated
}

// New returns a detector tuned by c.
func New(c Config) *Detector {
	return &Detector{c: c, Templated: detect.DefaultTexts(Templates)}
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"post.summary": `{{.Account.Name}}（{{platform .Account.Platform}}）的《{{.Title}}》互动量异常激增：每小时 {{.Rate}} 次，约为平时的 {{.Ratio}} 倍`,
	"post.description": `{{.Unit}}「{{.Account.Name}}」于 {{cst .Published}} 发布的《{{.Title}}》在 {{cst .From}} 至 {{cst .To}} 间新增点赞 {{.Likes}}、评论 {{.Comments}}、转发 {{.Shares}}，` +
		`合计每小时 {{.Rate}} 次；该账号平时每小时约 {{.Ref}} 次（稳健 z 值 {{.Z}}）。请关注评论动向，研判是否引发舆情。`,
	"post.resolved":   `{{.Account.Name}}（{{platform .Account.Platform}}）的《{{.Title}}》互动量已回落至每小时 {{.Rate}} 次`,
	"post.quiet":      `{{.Account.Name}}（{{platform .Account.Platform}}）的《{{.Title}}》已 {{.Quiet}} 未再采集到新的互动数据，告警结束`,
	"account.summary": `{{.Account.Name}}（{{platform .Account.Platform}}）整体互动量异常激增：本小时已有 {{.Sum}} 次，约为平时的 {{.Ratio}} 倍`,
	"account.description": `{{.Unit}}「{{.Account.Name}}」在 {{cst .From}} 起的一小时内全部内容新增互动 {{.Sum}} 次（截至 {{cst .To}}），` +
		`平时每小时约 {{.Ref}} 次（稳健 z 值 {{.Z}}）。请查看近期发布内容的评论，研判是否引发舆情。`,
	"account.resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）整体互动量已回落`,
}

// Name implements detect.PostDetector and detect.Sweeper.
func (d *Detector) Name() string { return "spike" }

// postState is what is remembered of one post.
type postState struct {
	At       time.Time `json:"at"` // collected_at of the last observation used
	Likes    int64     `json:"l"`
	Comments int64     `json:"c"`
	Shares   int64     `json:"s"`
	// Firing is the open alert, if any, and Last the figures it showed, so
	// a redelivered observation republishes the same alert.
	Firing *postAlert `json:"firing,omitempty"`
}

type postAlert struct {
	Start time.Time `json:"start"`
	Shown shown     `json:"shown"`
	// What the texts quote, for a sweep that resolves without the post.
	Title     string    `json:"title,omitempty"`
	URL       string    `json:"url,omitempty"`
	Published time.Time `json:"published"`
}

// shown are the figures an alert's texts give.
type shown struct {
	From, To                time.Time
	Likes, Comments, Shares int64
	Rate, Ref, Sum          float64
	Z                       float64
}

// acctState is an account's baseline: the log velocities of its posts and
// of its hours, and the hour being counted.
type acctState struct {
	Posts     []float64       `json:"posts"`
	PostsEWMA baseline.EWMA   `json:"posts_ewma"`
	Hours     []float64       `json:"hours"`
	HoursEWMA baseline.EWMA   `json:"hours_ewma"`
	Hour      int64           `json:"hour"` // unix hour being counted
	Sum       float64         `json:"sum"`  // interactions counted in it
	Firing    *acctAlertState `json:"firing,omitempty"`
	// Open lists the account's posts with an open alert, for the sweep.
	Open []string `json:"open,omitempty"`
}

// maxOpen bounds the posts with open alerts an account remembers.
const maxOpen = 32

type acctAlertState struct {
	Start time.Time `json:"start"`
	Shown shown     `json:"shown"`
}

const (
	postTTL = 30 * 24 * time.Hour
	acctTTL = 180 * 24 * time.Hour
)

func postKey(id string) string { return "analyzer/spike/post/" + id }

// acctPrefix is the kind of per-account state, listed by every sweep and
// sharded by account.
var acctPrefix = store.DeclareKind("analyzer/spike/account/", detect.Shards)

func acctKey(id string) string { return acctPrefix + id }

// Post implements detect.PostDetector.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Kind != model.KindPost || p.Deleted || p.CollectedAt.IsZero() {
		return nil
	}
	// The account baseline as it stands; the post is judged against it.
	var base acctState
	if _, err := detect.Load(ctx, env.Store, acctKey(a.ID), &base); err != nil {
		return err
	}
	var (
		sample    = math.NaN() // log velocity to fold into the baseline
		delta     float64
		publish   *model.Alert
		republish bool
		opened    bool
	)
	_, err := detect.Change(ctx, env.Store, postKey(p.ID), postTTL, func(s *postState) error {
		sample, delta, publish, republish, opened = math.NaN(), 0, nil, false, false
		from, prev := s.At, *s
		if from.IsZero() {
			// First sight: count from publication, when the post had nothing.
			from, prev = p.PublishedAt, postState{}
		}
		if !p.CollectedAt.After(from) {
			// A redelivery or an older observation: say again what was said.
			if s.Firing != nil && !p.CollectedAt.Before(s.At) {
				publish, republish = d.postAlert(env, p, a, s.Firing.Start, time.Time{}, s.Firing.Shown), true
			}
			return detect.ErrUnchanged
		}
		dt := p.CollectedAt.Sub(from)
		if !s.At.IsZero() && dt < d.c.MinInterval.D() {
			return detect.ErrUnchanged // too close to the last one to mean anything
		}
		m := p.Metrics
		dl, dc, ds := max(m.Likes-prev.Likes, 0), max(m.Comments-prev.Comments, 0), max(m.Shares-prev.Shares, 0)
		delta = float64(dl + dc + ds)
		rate := delta / dt.Hours()
		sample = math.Log1p(rate)
		sh := shown{From: from, To: p.CollectedAt, Likes: dl, Comments: dc, Shares: ds, Rate: rate}
		spiking := d.judge(base.Posts, base.PostsEWMA, sample, rate, delta, &sh)
		switch {
		case spiking && s.Firing == nil:
			s.Firing = &postAlert{Start: p.CollectedAt, Shown: sh, Title: p.Title, URL: p.URL, Published: p.PublishedAt}
			publish, opened = d.postAlert(env, p, a, p.CollectedAt, time.Time{}, sh), true
		case spiking:
			s.Firing.Shown = sh // still up: keep the latest figures
		case s.Firing != nil && !d.stillUp(sh):
			publish = d.postAlert(env, p, a, s.Firing.Start, p.CollectedAt, sh)
			s.Firing = nil
		}
		s.At, s.Likes, s.Comments, s.Shares = p.CollectedAt, m.Likes, m.Comments, m.Shares
		return nil
	})
	if err != nil {
		return err
	}
	if err := env.Publish(ctx, publish); err != nil {
		return err
	}
	if math.IsNaN(sample) || republish {
		return nil
	}
	return d.account(ctx, env, a, p.ID, opened, p.CollectedAt, sample, delta)
}

// closeHours closes the counted hour, and the silent hours after it, when
// hour is later, and resolves an account spike whose closed hour was back
// within the baseline; endsAt is that hour's end.
func (d *Detector) closeHours(env *detect.Env, a *registry.Account, s *acctState, hour int64) []*model.Alert {
	if hour <= s.Hour {
		return nil
	}
	var out []*model.Alert
	done := math.Log1p(s.Sum)
	if s.Firing != nil {
		sh := shown{From: time.Unix(s.Hour*3600, 0).UTC(), To: time.Unix((s.Hour+1)*3600, 0).UTC(), Sum: s.Sum, Rate: s.Sum}
		if !d.judge(s.Hours, s.HoursEWMA, done, s.Sum, s.Sum, &sh) && !d.stillUp(sh) {
			out = append(out, d.acctAlert(env, a, s.Firing.Start, sh.To, sh))
			s.Firing = nil
		}
	}
	s.Hours = baseline.Push(s.Hours, done, d.c.History)
	s.HoursEWMA.AddWarm(done, d.c.Alpha)
	for i := int64(1); i < hour-s.Hour && i <= int64(d.c.History); i++ {
		if s.Firing != nil {
			// A silent hour ends the spike.
			end := time.Unix((s.Hour+i+1)*3600, 0).UTC()
			out = append(out, d.acctAlert(env, a, s.Firing.Start, end, shown{From: end.Add(-time.Hour), To: end}))
			s.Firing = nil
		}
		s.Hours = baseline.Push(s.Hours, 0, d.c.History)
		s.HoursEWMA.AddWarm(0, d.c.Alpha)
	}
	s.Hour, s.Sum = hour, 0
	return out
}

// Sweep closes the hours of accounts that stopped receiving observations,
// and resolves post spikes not observed for quiet_after: the re-polls of a
// post end after a while, and an alert must not stay open for ever. endsAt
// is the last observation plus quiet_after, the same on every replica.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	due, err := d.due(ctx, env, now.Unix()/3600)
	if err != nil {
		return err
	}
	return detect.EachAccount(ctx, env, func(a *registry.Account) error {
		if !due[a.ID] {
			return nil
		}
		return d.sweepAccount(ctx, env, a, now)
	})
}

// due finds, with one prefix scan rather than a read per account, the
// accounts a sweep has work for: an hour before hour still counted, or a
// post alert open.
func (d *Detector) due(ctx context.Context, env *detect.Env, hour int64) (map[string]bool, error) {
	due := map[string]bool{}
	var gone []string
	err := env.Store.List(ctx, acctPrefix, func(key string, val []byte) error {
		if !env.Known(strings.TrimPrefix(key, acctPrefix)) {
			gone = append(gone, key)
			return nil
		}
		var s struct {
			Hour int64    `json:"hour"`
			Open []string `json:"open"`
		}
		if err := json.Unmarshal(val, &s); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		if s.Hour != 0 && hour > s.Hour || len(s.Open) > 0 {
			due[strings.TrimPrefix(key, acctPrefix)] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return due, env.Forget(ctx, d.Name(), gone)
}

func (d *Detector) sweepAccount(ctx context.Context, env *detect.Env, a *registry.Account, now time.Time) error {
	var publish []*model.Alert
	var open []string
	hour := now.Unix() / 3600
	_, err := detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		publish, open = nil, s.Open
		if s.Hour == 0 || hour <= s.Hour {
			return detect.ErrUnchanged
		}
		publish = d.closeHours(env, a, s, hour)
		return nil
	})
	if err != nil {
		return err
	}
	var closed []string
	for _, id := range open {
		st, err := detect.Change(ctx, env.Store, postKey(id), postTTL, func(s *postState) error {
			if s.Firing == nil {
				return nil // resolved by an observation: forget it below
			}
			if now.Sub(s.At) < d.c.QuietAfter.D() {
				return detect.ErrUnchanged
			}
			f := s.Firing
			p := &model.Post{ID: id, Title: f.Title, URL: f.URL, PublishedAt: f.Published}
			publish = append(publish, d.postAlert(env, p, a, f.Start, s.At.Add(d.c.QuietAfter.D()), shown{}))
			s.Firing = nil
			return nil
		})
		if err != nil {
			return err
		}
		if st.Firing == nil {
			closed = append(closed, id)
		}
	}
	for _, al := range publish {
		if err := env.Publish(ctx, al); err != nil {
			return err
		}
	}
	if len(closed) == 0 {
		return nil
	}
	_, err = detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		s.Open = slices.DeleteFunc(s.Open, func(id string) bool { return slices.Contains(closed, id) })
		return nil
	})
	return err
}

// judge fills sh's baseline figures and reports whether the sample spikes.
func (d *Detector) judge(hist []float64, ewma baseline.EWMA, sample, rate, count float64, sh *shown) bool {
	if len(hist) < d.c.MinHistory {
		return false
	}
	z, _, _ := baseline.RobustZ(sample, hist, d.c.MinScale)
	sh.Z = z
	sh.Ref = math.Expm1(ewma.Mean)
	ref := max(sh.Ref, d.c.ThresholdRef)
	return z >= d.c.Z && count >= d.c.ThresholdCur && rate >= ref*d.c.SpikeHeight
}

// stillUp is the hysteresis of a firing spike: it holds while the velocity
// stays above half the spike's bar.
func (d *Detector) stillUp(sh shown) bool {
	ref := max(sh.Ref, d.c.ThresholdRef)
	return sh.Z >= d.c.Z/2 && sh.Rate >= ref*d.c.SpikeHeight/2
}

// account folds a post's velocity sample and its new interactions into the
// account's baseline and hour, and judges the hour.
func (d *Detector) account(ctx context.Context, env *detect.Env, a *registry.Account, postID string, opened bool, at time.Time, sample, delta float64) error {
	var publish []*model.Alert
	hour := at.Unix() / 3600
	_, err := detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		publish = nil
		if opened && !slices.Contains(s.Open, postID) {
			s.Open = append(s.Open, postID)
			if len(s.Open) > maxOpen {
				s.Open = s.Open[1:]
			}
		}
		s.Posts = baseline.Push(s.Posts, sample, d.c.History)
		s.PostsEWMA.AddWarm(sample, d.c.Alpha)
		if s.Hour == 0 {
			s.Hour = hour
		}
		publish = d.closeHours(env, a, s, hour)
		if hour == s.Hour {
			s.Sum += delta
		}
		sh := shown{From: time.Unix(s.Hour*3600, 0).UTC(), To: at, Sum: s.Sum, Rate: s.Sum}
		if s.Firing == nil && d.judge(s.Hours, s.HoursEWMA, math.Log1p(s.Sum), s.Sum, s.Sum, &sh) {
			// The hour's start: every replica derives the same.
			s.Firing = &acctAlertState{Start: sh.From, Shown: sh}
			publish = append(publish, d.acctAlert(env, a, sh.From, time.Time{}, sh))
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, al := range publish {
		if err := env.Publish(ctx, al); err != nil {
			return err
		}
	}
	return nil
}

func (d *Detector) postAlert(env *detect.Env, p *model.Post, a *registry.Account, start, end time.Time, sh shown) *model.Alert {
	labels := alerttext.AccountLabels(env.Registry, a, model.CategoryOpinionSpike)
	labels[model.LabelPostID] = p.ID
	title := p.Title
	if title == "" {
		title = firstRunes(p.Text, 30)
	}
	data := d.data(env, a, sh)
	data["Title"], data["Published"] = title, p.PublishedAt
	ann := map[string]string{model.AnnotationURL: p.URL}
	switch {
	case end.IsZero():
		ann[model.AnnotationSummary] = d.Render("post.summary", data)
		ann[model.AnnotationDescription] = d.Render("post.description", data)
		ann[model.AnnotationEvidence] = fmt.Sprintf("点赞 %d、评论 %d、转发 %d（%s 至 %s）；当前累计点赞 %d、评论 %d、转发 %d、阅读 %d；账号基线每小时 %s 次，稳健 z 值 %s",
			sh.Likes, sh.Comments, sh.Shares, cst(sh.From), cst(sh.To), p.Metrics.Likes, p.Metrics.Comments, p.Metrics.Shares, p.Metrics.Views, num(sh.Ref), num(sh.Z))
		ann[model.AnnotationSuggestion] = "查看评论区，研判是否为负面舆情；必要时及时回应、澄清或上报"
	case sh.To.IsZero():
		data["Quiet"] = fmt.Sprintf("%g 小时", d.c.QuietAfter.D().Hours())
		ann[model.AnnotationSummary] = d.Render("post.quiet", data)
	default:
		ann[model.AnnotationSummary] = d.Render("post.resolved", data)
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: start, EndsAt: end}
}

func (d *Detector) acctAlert(env *detect.Env, a *registry.Account, start, end time.Time, sh shown) *model.Alert {
	data := d.data(env, a, sh)
	ann := map[string]string{}
	if end.IsZero() {
		ann[model.AnnotationSummary] = d.Render("account.summary", data)
		ann[model.AnnotationDescription] = d.Render("account.description", data)
		ann[model.AnnotationEvidence] = fmt.Sprintf("%s 起一小时内互动 %s 次；账号基线每小时 %s 次，稳健 z 值 %s", cst(sh.From), num(sh.Sum), num(sh.Ref), num(sh.Z))
		ann[model.AnnotationSuggestion] = "查看该账号近期发布内容的评论区，研判是否为负面舆情；必要时及时回应"
	} else {
		ann[model.AnnotationSummary] = d.Render("account.resolved", data)
	}
	return &model.Alert{Labels: alerttext.AccountLabels(env.Registry, a, model.CategoryOpinionSpike), Annotations: ann, StartsAt: start, EndsAt: end}
}

func (d *Detector) data(env *detect.Env, a *registry.Account, sh shown) map[string]any {
	ratio := sh.Rate / max(sh.Ref, d.c.ThresholdRef)
	return map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit),
		"From": sh.From, "To": sh.To, "Likes": sh.Likes, "Comments": sh.Comments, "Shares": sh.Shares,
		"Rate": num(sh.Rate), "Ref": num(sh.Ref), "Sum": num(sh.Sum), "Z": num(sh.Z), "Ratio": num(ratio),
	}
}

// num prints a figure for people: whole numbers above 10, one decimal below.
func num(x float64) string {
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return "∞"
	}
	if math.Abs(x) >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}

func cst(t time.Time) string { return t.In(calendar.Shanghai).Format("01-02 15:04") }

func firstRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) > n {
		return string(rs[:n]) + "…"
	}
	return s
}
