// Package unanswered raises interaction.unanswered when public comments or
// messages on an account's posts get no reply from the account within an
// SLA counted in working days: China's statutory holidays do not count and
// make-up working days (调休上班) do (pkg/calendar). One alert per account
// lists its overdue comments; the reply to the last of them resolves it.
//
// Members of the public are not profiled: the detector keeps a comment's id,
// its post's id and its time, never its author or text, and only for the
// analysis window, after which the store expires them.
package unanswered

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// DefaultHolidaysDir is where holiday calendars are looked for, beside the
// config file; unlike a folder named explicitly, it may be missing.
const DefaultHolidaysDir = "holidays"

// Config sets the SLA: analyzer.detectors.unanswered.
type Config struct {
	// SLAWorkdays is how many working days after the day a comment arrived
	// the account has to answer it.
	SLAWorkdays int `yaml:"sla_workdays" doc:"Working days an account has to answer a public comment or message, not counting the day it arrived (1 to 60)."`
	// Window is how long a comment's id and time are kept; commenters are
	// never stored.
	Window conf.Duration `yaml:"window" doc:"How long a comment's id and time are kept; one still unanswered after it leaves the analysis."`
	// HolidaysDir holds <year>.yaml calendars; relative to the config file.
	HolidaysDir string `yaml:"holidays_dir" doc:"Folder of <year>.yaml holiday calendars, relative to the config file; without one for a year only weekends are days off. The default folder may be missing." example:"holidays"`

	// cal is the calendar Validate loaded from HolidaysDir.
	cal *calendar.Calendar
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{SLAWorkdays: 5, Window: conf.Duration(30 * 24 * time.Hour), HolidaysDir: DefaultHolidaysDir}
}

// Validate implements plugin.Validator; it loads the holiday calendars.
func (c *Config) Validate(ch *plugin.Check) {
	if c.SLAWorkdays < 1 || c.SLAWorkdays > 60 {
		ch.Errorf("sla_workdays", "must be 1 to 60 working days, not %d", c.SLAWorkdays)
	}
	// The longest run of days off (春节 with its weekends) is under two weeks.
	if min := conf.Duration(time.Duration(c.SLAWorkdays+14) * 24 * time.Hour); c.Window < min {
		ch.Errorf("window", "must be at least %s to outlast an SLA of %d working days over 春节, not %s", min, c.SLAWorkdays, c.Window)
	}
	if c.HolidaysDir == "" {
		ch.Errorf("holidays_dir", "must name the folder of <year>.yaml holiday calendars")
		return
	}
	cal, err := holidays(c.HolidaysDir, ch.Dir)
	if err != nil {
		ch.Errorf("holidays_dir", "%v", err)
		return
	}
	c.cal = cal
}

// holidays loads the calendars of dir, relative to base. A missing
// default folder is no error: the calendar then counts Monday to Friday
// only, and Years tells which years it knows.
func holidays(dir, base string) (*calendar.Calendar, error) {
	path := dir
	if !filepath.IsAbs(path) && base != "" {
		path = filepath.Join(base, path)
	}
	if _, err := os.Stat(path); os.IsNotExist(err) && dir == DefaultHolidaysDir {
		return calendar.New()
	}
	return calendar.LoadDir(path)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "unanswered",
		Summary:   "Raises interaction.unanswered when public comments or messages stay unanswered beyond the SLA in working days.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryInteractionUnanswered, Name: "互动回应：公众留言超期未回复", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New: func(c *Config, d detect.Deps) (detect.Detector, error) {
			cal := c.cal
			if cal == nil {
				var err error
				if cal, err = holidays(c.HolidaysDir, ""); err != nil {
					return nil, err
				}
			}
			if year := d.Clock.Now().In(calendar.Shanghai).Year(); !cal.Covers(year) {
				d.Log.Warn("no holiday calendar for this year: unanswered comments are counted Monday to Friday only",
					zap.Int("year", year), zap.String("holidays_dir", c.HolidaysDir), zap.Ints("years", cal.Years()))
			}
			return New(*c, cal), nil
		},
	})
}

// Detector is the unanswered-comments detector.
type Detector struct {
	cfg Config
	cal *calendar.Calendar
	detect.Templated
}

// New returns a detector tuned by cfg, counting working days with cal
// (nil: Monday to Friday).
func New(cfg Config, cal *calendar.Calendar) *Detector {
	return &Detector{cfg: cfg, cal: cal, Templated: detect.DefaultTexts(Templates)}
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）有 {{.Count}} 条公众留言超过 {{.SLA}} 个工作日未回复，最早一条留言于 {{cst .Oldest.At}}`,
	"description": `{{.Unit}}「{{.Account.Name}}」收到的公众留言中，有 {{.Count}} 条未在 {{.SLA}} 个工作日内回复` +
		`（法定节假日不计，调休上班日计入）。最早一条留言于 {{cst .Oldest.At}}，回复期限为 {{.Oldest.DueDay}}（含当日），截至 {{cst .Now}} {{if .Oldest.Late}}已超期 {{.Oldest.Late}} 个工作日{{else}}已超期{{end}}。` +
		`留言办理不及时属检查扣分项，长期无有效互动属单项否决，请尽快核实并回复。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）超期未回复的公众留言已全部回复`,
	"cleared":  `{{.Account.Name}}（{{platform .Account.Platform}}）已无超期未回复的公众留言（已回复、已删除或超出 {{.WindowDays}} 天分析窗口）`,
	"inactive": `{{.Account.Name}}（{{platform .Account.Platform}}）已不再监测，公众留言超期未回复告警解除`,
}

// Name implements detect.PostDetector and detect.Sweeper.
func (d *Detector) Name() string { return "unanswered" }

const keyPrefix = "analyzer/unanswered/"

// The kinds every sweep lists, sharded by account: comments waiting for
// an answer and firing alerts.
var (
	pendingKind = store.DeclareKind(keyPrefix+"pending/", detect.Shards)
	firingKind  = store.DeclareKind(keyPrefix+"firing/", detect.Shards)
)

func pendingPrefix(account string) string { return keyPrefix + "pending/" + account + "/" }
func answeredKey(account, comment string) string {
	return keyPrefix + "answered/" + account + "/" + comment
}
func firingKey(account string) string { return keyPrefix + "firing/" + account }

// comment is all that is kept of a public comment.
type comment struct {
	ID   string    `json:"id"`
	Post string    `json:"post"`
	At   time.Time `json:"at"`
}

// firing is the record of a firing alert: its start, the overdue comments
// it was published with and the day count of the oldest, so it is
// republished when either changes, not on every sweep.
type firing struct {
	Start   time.Time `json:"start"`
	Overdue []comment `json:"overdue"`
	Late    int       `json:"late"`
}

func (f *firing) has(id string) bool {
	return slices.ContainsFunc(f.Overdue, func(c comment) bool { return c.ID == id })
}

func at(p *model.Post) time.Time {
	if p.PublishedAt.IsZero() {
		return p.CollectedAt
	}
	return p.PublishedAt
}

// Post records a comment, or a reply that answers one.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	switch p.Kind {
	case model.KindComment:
		return d.comment(ctx, env, p, a)
	case model.KindReply:
		return d.reply(ctx, env, p, a)
	}
	return nil
}

func (d *Detector) comment(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	key := pendingPrefix(a.ID) + p.ID
	if p.Deleted {
		// A deleted comment needs no answer; the sweep re-judges the account.
		return env.Store.Delete(ctx, key)
	}
	ttl := at(p).Add(d.cfg.Window.D()).Sub(env.Now())
	if ttl <= 0 {
		return nil // older than the analysis window
	}
	if _, err := env.Store.Get(ctx, answeredKey(a.ID, p.ID)); err == nil {
		return nil // the reply came first
	}
	b, _ := json.Marshal(comment{ID: p.ID, Post: p.ParentID, At: at(p)})
	_, err := env.Store.SetNX(ctx, key, b, ttl)
	return err
}

func (d *Detector) reply(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.ParentID == "" || p.Deleted {
		return nil
	}
	b, _ := json.Marshal(at(p))
	if err := env.Store.Set(ctx, answeredKey(a.ID, p.ParentID), b, d.cfg.Window.D()); err != nil {
		return err
	}
	if err := env.Store.Delete(ctx, pendingPrefix(a.ID)+p.ParentID); err != nil {
		return err
	}
	var found bool
	f, err := detect.Update(ctx, env.Store, firingKey(a.ID), 0, func(f *firing, ok bool) (bool, error) {
		found = ok
		if !ok || !f.has(p.ParentID) {
			return false, nil
		}
		f.Overdue = slices.DeleteFunc(f.Overdue, func(c comment) bool { return c.ID == p.ParentID })
		return true, nil
	})
	if err != nil || !found || len(f.Overdue) > 0 {
		return err
	}
	// The last overdue comment is answered. Checked on every delivery, so a
	// redelivered reply publishes the resolution a failed attempt did not.
	return d.resolve(ctx, env, a, &f, at(p), "resolved")
}

// Sweep judges every account with pending comments or a firing alert.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	pending := map[string][]comment{}
	var gone []string
	err := detect.ScanJSON(ctx, env.Store, pendingKind, func(key string, c *comment) error {
		if account, _, ok := strings.Cut(strings.TrimPrefix(key, keyPrefix+"pending/"), "/"); ok {
			if !env.Known(account) {
				gone = append(gone, key)
				return nil
			}
			pending[account] = append(pending[account], *c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	firings := map[string][]byte{}
	err = env.Store.List(ctx, firingKind, func(key string, val []byte) error {
		account := strings.TrimPrefix(key, keyPrefix+"firing/")
		if !env.Known(account) {
			gone = append(gone, key)
			return nil
		}
		firings[account] = val
		return nil
	})
	if err != nil {
		return err
	}
	if err := env.Forget(ctx, d.Name(), gone); err != nil {
		return err
	}
	ids := make([]string, 0, len(pending)+len(firings))
	for id := range pending {
		ids = append(ids, id)
	}
	for id := range firings {
		if _, dup := pending[id]; !dup {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var errs []error
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.judge(ctx, env, id, pending[id], firings[id], now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Detector) deadline(c comment) time.Time {
	return d.cal.AddWorkdays(c.At, d.cfg.SLAWorkdays)
}

// judge fires, refreshes or resolves one account's alert.
func (d *Detector) judge(ctx context.Context, env *detect.Env, id string, pending []comment, raw []byte, now time.Time) error {
	var cur *firing
	if raw != nil {
		cur = &firing{}
		if err := json.Unmarshal(raw, cur); err != nil {
			return fmt.Errorf("firing record: %w", err)
		}
	}
	a, ok := env.Registry.Account(id)
	if !ok || !a.Active() {
		if cur == nil || !ok {
			return nil // an unknown account's record waits for it to return
		}
		return d.resolve(ctx, env, a, cur, now, "inactive")
	}
	var overdue []comment
	for _, c := range pending {
		if !d.deadline(c).After(now) {
			overdue = append(overdue, c)
		}
	}
	if len(overdue) == 0 {
		if cur == nil {
			return nil
		}
		return d.resolve(ctx, env, a, cur, now, "cleared")
	}
	slices.SortFunc(overdue, func(x, y comment) int {
		if c := x.At.Compare(y.At); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	next := firing{Overdue: overdue, Late: d.cal.WorkdaysBetween(d.deadline(overdue[0]).Add(-time.Nanosecond), now)}
	if cur != nil && len(cur.Overdue) > 0 {
		next.Start = cur.Start
		if cur.Late == next.Late && slices.Equal(cur.Overdue, next.Overdue) {
			return nil // nothing new to tell
		}
	} else {
		next.Start = d.deadline(overdue[0]) // when the oldest became overdue: the same on every replica
	}
	if err := env.Publish(ctx, d.alert(env, a, &next, now, time.Time{}, "")); err != nil {
		return err
	}
	b, _ := json.Marshal(next)
	_, err := env.Store.CompareAndSwap(ctx, firingKey(id), raw, b, 0)
	return err
}

// resolve publishes the end of f and forgets it.
func (d *Detector) resolve(ctx context.Context, env *detect.Env, a *registry.Account, f *firing, end time.Time, how string) error {
	if end.Before(f.Start) {
		end = f.Start
	}
	if err := env.Publish(ctx, d.alert(env, a, f, env.Now(), end, how)); err != nil {
		return err
	}
	return env.Store.Delete(ctx, firingKey(a.ID))
}

// maxEvidence bounds the comments listed in an alert.
const maxEvidence = 10

// item is an overdue comment as texts show it.
type item struct {
	comment
	DueDay string // the last day to answer, Beijing time
	Late   int    // working days past it
}

func (d *Detector) alert(env *detect.Env, a *registry.Account, f *firing, now, end time.Time, how string) *model.Alert {
	items := make([]item, len(f.Overdue))
	for i, c := range f.Overdue {
		due := d.deadline(c)
		items[i] = item{
			comment: c,
			DueDay:  calendar.DateOf(due.Add(-time.Nanosecond)).String(),
			Late:    d.cal.WorkdaysBetween(due.Add(-time.Nanosecond), now),
		}
	}
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit), "Now": now,
		"Count": len(items), "SLA": d.cfg.SLAWorkdays, "WindowDays": int(d.cfg.Window.D() / (24 * time.Hour)),
	}
	if len(items) > 0 {
		data["Oldest"] = items[0]
	}
	ann := map[string]string{
		model.AnnotationSuggestion: "登录平台后台逐条回复公众留言；不属于本单位职责或无法答复的，应说明理由或告知办理渠道",
	}
	if d.Describe(ann, how, data) {
		var ev []string
		for i, it := range items {
			if i == maxEvidence {
				ev = append(ev, fmt.Sprintf("等共 %d 条", len(items)))
				break
			}
			ev = append(ev, fmt.Sprintf("留言 %s（所在发布 %s，%s 留言，回复期限 %s）", it.ID, it.Post,
				it.At.In(calendar.Shanghai).Format("2006-01-02 15:04"), it.DueDay))
		}
		ann[model.AnnotationEvidence] = strings.Join(ev, "；")
	}
	return &model.Alert{
		Labels:      alerttext.AccountLabels(env.Registry, a, model.CategoryInteractionUnanswered),
		Annotations: ann,
		StartsAt:    f.Start,
		EndsAt:      end,
	}
}
