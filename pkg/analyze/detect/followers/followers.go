// Package followers raises engagement.bought_followers when an account gains
// followers far faster than usual and its engagement does not explain it.
//
// From account snapshots it keeps the followers of the last day and a
// bounded history of daily growth (one sample per Beijing calendar day). At
// every snapshot it takes the growth over the trailing 24 hours — a full
// daily cycle whatever the hour, so the time of day does not bias it —
// scales the expected growth by the weekday's usual share (weekends grow
// differently from workdays: the hour-of-week pattern at day resolution)
// and computes a robust z-score against the median and MAD of the history.
// A one-off jump scores high, and so does each step of a staircase: the
// median ignores the steps while they are fewer than half the days. A day
// whose engagement (likes, comments, shares on the account's posts) is
// several times its usual explains its growth: a post that went viral for
// good reasons brings followers honestly. The alert resolves when the
// trailing day is back within the baseline.
package followers

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/baseline"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Config tunes the detector: analyzer.detectors.followers.
type Config struct {
	History    int     `yaml:"history" doc:"Days of follower growth kept as the account's baseline."`
	MinHistory int     `yaml:"min_history" doc:"Days needed before anything is judged."`
	Z          float64 `yaml:"z" doc:"Robust z-score of a day's growth at or above which it is a jump."`
	// MinJump is the least daily growth, in followers, ever judged a jump.
	MinJump int64 `yaml:"min_jump" doc:"Least daily growth, in followers, ever judged a jump."`
	// MinScale floors the MAD scale as a share of the median daily growth,
	// so a perfectly steady grower does not alert on small wobbles.
	MinScale float64 `yaml:"min_scale" doc:"Floor of the MAD scale as a share of the median daily growth."`
	// ExplainRatio: a day whose engagement is at least this many times its
	// usual explains its growth.
	ExplainRatio float64 `yaml:"explain_ratio" doc:"A day whose engagement is at least this many times its usual explains its growth."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{History: 28, MinHistory: 7, Z: 4, MinJump: 500, MinScale: 0.2, ExplainRatio: 3}
}

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("min_history", c.MinHistory, 3)
	ch.AtLeast("history", c.History, c.MinHistory)
	ch.Positive("z", c.Z)
	ch.Positive("explain_ratio", c.ExplainRatio)
	if c.MinJump < 1 {
		ch.Errorf("min_jump", "must be at least 1, not %d", c.MinJump)
	}
	ch.NotNegative("min_scale", c.MinScale)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "followers",
		Summary:   "Raises engagement.bought_followers when an account's daily follower growth jumps without engagement to explain it.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryEngagementBoughtFollowers, Name: "违规互动：购买粉丝", Severity: model.SeverityMajor, Veto: true},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// Detector is the bought-followers detector.
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
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）粉丝异常增长：24 小时内增加 {{.Delta}} 人，平时每天约 {{.Expected}} 人，互动量未见相应增长，疑似购买粉丝`,
	"description": `{{.Unit}}「{{.Account.Name}}」截至 {{cst .At}} 的 24 小时内粉丝由 {{.From}} 增至 {{.To}}，增加 {{.Delta}} 人，` +
		`约为平时（每天约 {{.Expected}} 人）的 {{.Ratio}} 倍（稳健 z 值 {{.Z}}）；昨今两天点赞、评论、转发共 {{.Engage}} 次，平时每天约 {{.UsualEngage}} 次，不足以解释该增长。` +
		`{{if gt .Jumps 1}}近 {{.Days}} 天内已是第 {{.Jumps}} 次异常增长，呈阶梯式上升。{{end}}依据检查指标，购买粉丝属单项否决，请核实。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）粉丝增长已恢复正常：24 小时内增加 {{.Delta}} 人`,
}

// Name implements detect.SnapshotDetector and detect.PostDetector.
func (d *Detector) Name() string { return "followers" }

type point struct {
	At        time.Time `json:"at"`
	Followers int64     `json:"f"`
}

type day struct {
	Weekday time.Weekday `json:"wd"`
	Delta   float64      `json:"d"`
	Engage  float64      `json:"e"`
	Jump    bool         `json:"j,omitempty"`
}

type acctState struct {
	// Recent holds at most one snapshot an hour over the last day and a bit.
	Recent []point `json:"recent"`
	// Day is the Beijing date being counted; DayStart the last snapshot
	// before it; DayEngage and DayJump what it has had so far.
	Day       string  `json:"day"`
	DayStart  point   `json:"day_start"`
	DayEngage float64 `json:"day_engage"`
	DayJump   bool    `json:"day_jump,omitempty"`
	PrevEng   float64 `json:"prev_engage"` // the day before's engagement
	History   []day   `json:"history"`
	Firing    *shown  `json:"firing,omitempty"`
}

// shown are an alert's figures.
type shown struct {
	Start       time.Time `json:"start"`
	At          time.Time `json:"at"`
	From, To    int64
	Delta       float64
	Expected    float64
	Z           float64
	Engage      float64
	UsualEngage float64
	Jumps       int
}

const (
	maxRecent  = 30
	acctTTL    = 120 * 24 * time.Hour
	postTTL    = 14 * 24 * time.Hour
	minEngage  = 10 // the least usual daily engagement a ratio is taken against
	minElapsed = 12 * time.Hour
)

func acctKey(id string) string { return "analyzer/followers/account/" + id }
func postKey(id string) string { return "analyzer/followers/post/" + id }

// Post implements detect.PostDetector: it adds a post's new engagement to
// its account's day.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Kind != model.KindPost || p.Deleted {
		return nil
	}
	total := p.Metrics.Likes + p.Metrics.Comments + p.Metrics.Shares
	var delta int64
	_, err := detect.Change(ctx, env.Store, postKey(p.ID), postTTL, func(last *int64) error {
		delta = max(total-*last, 0)
		if delta == 0 {
			return detect.ErrUnchanged
		}
		*last = total
		return nil
	})
	if err != nil || delta == 0 {
		return err
	}
	_, err = detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		s.DayEngage += float64(delta)
		return nil
	})
	return err
}

// Snapshot implements detect.SnapshotDetector.
func (d *Detector) Snapshot(ctx context.Context, env *detect.Env, snap *model.AccountSnapshot, a *registry.Account) error {
	if snap.TakenAt.IsZero() {
		return nil
	}
	var publish *model.Alert
	_, err := detect.Change(ctx, env.Store, acctKey(a.ID), acctTTL, func(s *acctState) error {
		publish = nil
		if n := len(s.Recent); n > 0 && !snap.TakenAt.After(s.Recent[n-1].At) {
			if s.Firing != nil {
				publish = d.alert(env, a, *s.Firing, time.Time{}) // a redelivery: say it again
			}
			return detect.ErrUnchanged
		}
		cur := point{At: snap.TakenAt, Followers: snap.Followers}
		d.rollDay(s, cur)
		d.remember(s, cur)
		sh, jump, judged := d.judge(s, cur)
		switch {
		case !judged:
		case jump && s.Firing == nil:
			s.DayJump = true
			sh.Start = cur.At
			sh.Jumps++ // this one
			s.Firing = &sh
			publish = d.alert(env, a, sh, time.Time{})
		case jump:
			sh.Start, sh.Jumps = s.Firing.Start, s.Firing.Jumps
			s.Firing = &sh
		case s.Firing != nil && sh.Delta-sh.Expected < float64(d.c.MinJump)/2:
			sh.Start, sh.Jumps = s.Firing.Start, s.Firing.Jumps
			publish = d.alert(env, a, sh, cur.At)
			s.Firing = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	return env.Publish(ctx, publish)
}

// rollDay closes the day being counted when cur falls on a later Beijing
// date, adding its growth (normalised to 24 h) to the history.
func (d *Detector) rollDay(s *acctState, cur point) {
	date := cur.At.In(calendar.Shanghai).Format("2006-01-02")
	if s.Day == date {
		return
	}
	if s.Day != "" && len(s.Recent) > 0 {
		last := s.Recent[len(s.Recent)-1]
		if el := last.At.Sub(s.DayStart.At); !s.DayStart.At.IsZero() && el >= minElapsed {
			delta := float64(last.Followers-s.DayStart.Followers) * float64(24*time.Hour) / float64(el)
			wd := s.DayStart.At.Add(el / 2).In(calendar.Shanghai).Weekday()
			s.History = append(s.History, day{Weekday: wd, Delta: delta, Engage: s.DayEngage, Jump: s.DayJump})
			if len(s.History) > d.c.History {
				s.History = s.History[len(s.History)-d.c.History:]
			}
		}
		s.DayStart = last
	} else {
		s.DayStart = cur
	}
	s.PrevEng, s.DayEngage, s.DayJump = s.DayEngage, 0, false
	s.Day = date
}

// remember keeps cur among the recent snapshots, one an hour, a day and a
// bit back.
func (d *Detector) remember(s *acctState, cur point) {
	if n := len(s.Recent); n > 0 && s.Recent[n-1].At.Truncate(time.Hour).Equal(cur.At.Truncate(time.Hour)) && n > 1 {
		s.Recent[n-1] = cur
	} else {
		s.Recent = append(s.Recent, cur)
	}
	cut := 0
	for cut < len(s.Recent)-1 && cur.At.Sub(s.Recent[cut+1].At) >= 24*time.Hour {
		cut++ // keep the newest point at least 24 h old
	}
	s.Recent = s.Recent[cut:]
	if len(s.Recent) > maxRecent {
		s.Recent = s.Recent[len(s.Recent)-maxRecent:]
	}
}

// judge measures the trailing day at cur against the history.
func (d *Detector) judge(s *acctState, cur point) (sh shown, jump, judged bool) {
	if len(s.History) < d.c.MinHistory || len(s.Recent) < 2 {
		return sh, false, false
	}
	from := s.Recent[0]
	el := cur.At.Sub(from.At)
	if el < minElapsed {
		return sh, false, false
	}
	delta := float64(cur.Followers-from.Followers) * float64(24*time.Hour) / float64(max(el, 24*time.Hour))
	deltas := make([]float64, len(s.History))
	engages := make([]float64, len(s.History))
	for i, h := range s.History {
		deltas[i], engages[i] = h.Delta, h.Engage
	}
	med, mad := baseline.MAD(deltas)
	expected := med * d.weekdayFactor(s.History, med, cur.At.Add(-el/2).In(calendar.Shanghai).Weekday())
	scale := max(baseline.MADScale*mad, d.c.MinScale*math.Abs(med), 1)
	z := (delta - expected) / scale
	// The trailing day reaches into yesterday: weigh today's and
	// yesterday's engagement against two usual days.
	usual := baseline.Median(engages)
	engage := s.DayEngage + s.PrevEng
	explained := engage >= d.c.ExplainRatio*2*max(usual, minEngage)
	jumps := 0
	for _, h := range s.History {
		if h.Jump {
			jumps++
		}
	}
	sh = shown{At: cur.At, From: from.Followers, To: cur.Followers, Delta: delta, Expected: expected, Z: z,
		Engage: engage, UsualEngage: usual, Jumps: jumps}
	jump = z >= d.c.Z && delta-expected >= float64(d.c.MinJump) && !explained
	return sh, jump, true
}

// weekdayFactor is how the weekday's days usually compare with the median,
// once the history holds two of them; 1 before.
func (d *Detector) weekdayFactor(hist []day, med float64, wd time.Weekday) float64 {
	var same []float64
	for _, h := range hist {
		if h.Weekday == wd && !h.Jump {
			same = append(same, h.Delta)
		}
	}
	if len(same) < 2 || med <= 0 {
		return 1
	}
	return max(baseline.Median(same)/med, 0)
}

func (d *Detector) alert(env *detect.Env, a *registry.Account, sh shown, end time.Time) *model.Alert {
	ratio := "∞"
	if sh.Expected > 0 {
		ratio = fmt.Sprintf("%.1f", sh.Delta/sh.Expected)
	}
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit), "At": sh.At,
		"From": sh.From, "To": sh.To, "Delta": fmt.Sprintf("%.0f", sh.Delta), "Expected": fmt.Sprintf("%.0f", sh.Expected),
		"Ratio": ratio, "Z": fmt.Sprintf("%.1f", sh.Z), "Engage": fmt.Sprintf("%.0f", sh.Engage),
		"UsualEngage": fmt.Sprintf("%.0f", sh.UsualEngage), "Jumps": sh.Jumps, "Days": d.c.History,
	}
	ann := map[string]string{}
	if d.DescribeUntil(ann, end, data) {
		ann[model.AnnotationEvidence] = fmt.Sprintf("粉丝数 %d → %d（截至 %s 的 24 小时，+%.0f）；日增长基线 %.0f，稳健 z 值 %.1f；昨今两天互动 %.0f 次，平时每天 %.0f 次；近 %d 天异常增长 %d 次",
			sh.From, sh.To, sh.At.In(calendar.Shanghai).Format("01-02 15:04"), sh.Delta, sh.Expected, sh.Z, sh.Engage, sh.UsualEngage, d.c.History, sh.Jumps)
		ann[model.AnnotationSuggestion] = "核实近期是否开展推广活动或购买粉丝、刷量服务；如属违规，立即停止并清理异常粉丝"
	}
	return &model.Alert{Labels: alerttext.AccountLabels(env.Registry, a, model.CategoryEngagementBoughtFollowers), Annotations: ann, StartsAt: sh.Start, EndsAt: end}
}
