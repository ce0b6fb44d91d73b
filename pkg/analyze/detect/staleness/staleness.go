// Package staleness judges how long an active account has been silent,
// on published_at, not on collection time, at three levels:
//
//   - account.stale_warning (minor) from warning_after (default 10 days): a
//     reminder before the veto, as monitoring platforms send 更新提醒;
//   - account.stale (critical) from stale_after (default 14 days): the
//     national checklist's veto, no update in the two weeks before a check;
//   - account.zombie (major) from zombie_after (default 90 days): a
//     long-silent account, a candidate for closure or merger.
//
// An account may set its own thresholds. A scheduled sweep notices silence
// without any incoming message; the account's next post resolves every level.
// When stale fires, the warning resolves (endsAt = the moment it became
// stale): a reminder about a deadline that has passed is no longer true, and
// the critical alert replaces it. Stale and zombie fire together: the veto
// still holds, and the zombie alert asks a different question (close it?) of
// a different person (the unit's head). Suspended and closed accounts never
// alert; a firing alert of an account that becomes inactive resolves.
package staleness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Config sets the default thresholds: analyzer.detectors.staleness. An
// account's stale_after, stale_warning_after and zombie_after override
// them. 0 turns the reminder or the zombie level off, and so does a
// reminder not before the veto or a zombie threshold not after it.
type Config struct {
	// StaleAfter raises account.stale, the checklist's two weeks.
	StaleAfter conf.Duration `yaml:"stale_after" doc:"Silence after which an account is stale (account.stale, the checklist's veto); an account's stale_after overrides it."`
	// WarningAfter raises account.stale_warning, the reminder before the veto.
	WarningAfter conf.Duration `yaml:"warning_after" doc:"Silence after which a reminder (account.stale_warning) goes out before the veto; 0: none."`
	// ZombieAfter raises account.zombie, a candidate for closure or merger.
	ZombieAfter conf.Duration `yaml:"zombie_after" doc:"Silence after which the account is a zombie (account.zombie), a candidate for closure; 0: never."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config {
	return Config{StaleAfter: conf.Duration(14 * day), WarningAfter: conf.Duration(10 * day), ZombieAfter: conf.Duration(90 * day)}
}

// Validate implements plugin.Validator. Levels that do not fit around
// stale_after (or an account's own) are off rather than wrong.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("stale_after", c.StaleAfter, time.Second)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "staleness",
		Summary:   "Raises account.stale_warning, account.stale and account.zombie as an active account stays silent.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountStaleWarning, Name: "账号更新：即将超期未更新", Severity: model.SeverityMinor},
			{ID: model.CategoryAccountStale, Name: "账号更新：2 周内无更新", Severity: model.SeverityCritical, Veto: true},
			{ID: model.CategoryAccountZombie, Name: "账号更新：长期不更新", Severity: model.SeverityMajor},
		},
		Templates: Templates,
		New: func(c *Config, _ detect.Deps) (detect.Detector, error) {
			return NewLevels(c.WarningAfter.D(), c.StaleAfter.D(), c.ZombieAfter.D()), nil
		},
	})
}

const day = 24 * time.Hour

// Detector is the staleness detector.
type Detector struct {
	// StaleAfter is the default veto threshold, used when an account sets none.
	StaleAfter time.Duration
	// WarningAfter and ZombieAfter are the default reminder and
	// closure-candidate thresholds; 0 turns a level off.
	WarningAfter time.Duration
	ZombieAfter  time.Duration
	detect.Templated
}

// New returns a detector with the given default veto threshold and the
// reminder and closure-candidate levels off; set WarningAfter and
// ZombieAfter, or use NewLevels.
func New(staleAfter time.Duration) *Detector {
	return &Detector{StaleAfter: staleAfter, Templated: detect.DefaultTexts(Templates)}
}

// NewLevels returns a detector with all three default thresholds.
func NewLevels(warningAfter, staleAfter, zombieAfter time.Duration) *Detector {
	d := New(staleAfter)
	d.WarningAfter, d.ZombieAfter = warningAfter, zombieAfter
	return d
}

// Templates are the default Chinese texts. For each level: <level>summary and
// <level>description while firing, <level>resolved when the next post ends
// it; warning_superseded when account.stale replaces the reminder. The stale
// level's prefix is empty.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）已 {{.Days}} 天未更新，超过 {{.Limit}} 天未更新属单项否决`,
	"description": `{{.Unit}}「{{.Account.Name}}」最近一次发布于 {{template "last" .}}，` +
		`截至 {{cst .Now}} 已 {{.Days}} 天未更新。依据政务新媒体检查指标，监测时间点前 2 周内无更新即单项否决，请督促尽快更新。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）已于 {{cst .Last.At}} 恢复更新`,

	"warning_summary": `{{.Account.Name}}（{{platform .Account.Platform}}）已 {{.Days}} 天未更新，{{cst .Deadline}} 前不更新将超过 {{.Limit}} 天（单项否决）`,
	"warning_description": `{{.Unit}}「{{.Account.Name}}」最近一次发布于 {{template "last" .}}，截至 {{cst .Now}} 已 {{.Days}} 天未更新。` +
		`如在 {{cst .Deadline}} 前仍无更新，将超过 {{.Limit}} 天未更新，构成“监测时间点前 2 周内无更新”单项否决。请提醒运营人员及时更新。`,
	"warning_resolved":   `{{.Account.Name}}（{{platform .Account.Platform}}）已于 {{cst .Last.At}} 恢复更新，更新提醒解除`,
	"warning_superseded": `{{.Account.Name}}（{{platform .Account.Platform}}）已超过 {{.Limit}} 天未更新，更新提醒转为单项否决告警`,

	"zombie_summary": `{{.Account.Name}}（{{platform .Account.Platform}}）已 {{.Days}} 天未更新（{{.ZombieLimit}} 天以上），属长期不更新账号，建议整改或关停注销`,
	"zombie_description": `{{.Unit}}「{{.Account.Name}}」最近一次发布于 {{template "last" .}}，截至 {{cst .Now}} 已 {{.Days}} 天未更新，` +
		`达到 {{.ZombieLimit}} 天。长期不更新的账号应由主办单位决定整改、恢复更新，或按规定关停注销并在全国政务新媒体信息报送系统备案。`,
	"zombie_resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）已于 {{cst .Last.At}} 恢复更新，不再属于长期不更新账号`,

	"inactive": `{{.Account.Name}}（{{platform .Account.Platform}}）已{{if eq .Account.Status "closed"}}关停{{else}}暂停监测{{end}}，{{category .Category}}告警解除`,
	"cleared":  `{{.Account.Name}}（{{platform .Account.Platform}}）的告警阈值已调整，当前未达到{{category .Category}}条件，告警解除`,

	"last": `{{if .Last.At.IsZero}}（未采集到任何发布）{{else}}{{cst .Last.At}}{{end}}`,
}

// Name implements detect.PostDetector and detect.Sweeper.
func (d *Detector) Name() string { return "staleness" }

// level is one of the three alerts.
type level struct {
	category string
	prefix   string // template name prefix
	key      func(id string) string
}

var (
	warning = level{model.CategoryAccountStaleWarning, "warning_", func(id string) string { return keyPrefix + "warning/" + id }}
	stale   = level{model.CategoryAccountStale, "", func(id string) string { return keyPrefix + "firing/" + id }}
	zombie  = level{model.CategoryAccountZombie, "zombie_", func(id string) string { return keyPrefix + "zombie/" + id }}
	levels  = []level{warning, stale, zombie}
)

// last is the newest post seen of an account.
type last struct {
	At    time.Time `json:"at"`
	URL   string    `json:"url,omitempty"`
	Title string    `json:"title,omitempty"`
}

// keyPrefix is the kind of all staleness state, which every sweep lists;
// the account id is its second segment, so it is not sharded.
var keyPrefix = store.DeclareKind("analyzer/stale/", 1)

func lastKey(id string) string  { return keyPrefix + "last/" + id }
func sinceKey(id string) string { return keyPrefix + "since/" + id }

// thresholds are an account's effective limits; a level that does not fit
// between its neighbours (a reminder not before the veto, a zombie limit not
// after it) is off (0).
type thresholds struct{ warn, stale, zombie time.Duration }

func (d *Detector) thresholds(a *registry.Account) thresholds {
	t := thresholds{d.WarningAfter, d.StaleAfter, d.ZombieAfter}
	if a.StaleAfter > 0 {
		t.stale = a.StaleAfter
	}
	if a.StaleWarningAfter > 0 {
		t.warn = a.StaleWarningAfter
	}
	if a.ZombieAfter > 0 {
		t.zombie = a.ZombieAfter
	}
	if t.warn >= t.stale {
		t.warn = 0
	}
	if t.zombie <= t.stale {
		t.zombie = 0
	}
	return t
}

func (t thresholds) of(l level) time.Duration {
	switch l.category {
	case model.CategoryAccountStaleWarning:
		return t.warn
	case model.CategoryAccountZombie:
		return t.zombie
	}
	return t.stale
}

// state is what the detector knows of one account.
type state struct {
	last   last
	since  time.Time          // first watched, when no post was seen
	firing map[string]*firing // by category
	raw    map[string][]byte  // firing records as stored, for compare-and-swap
	keys   []string           // the keys the sweep's listing found
}

// firing is what is remembered of a firing alert: its start and the day count
// last published, so the alert's text is refreshed once a day, not every sweep.
type firing struct {
	Start time.Time `json:"start"`
	Days  int       `json:"days"`
}

// Post records the newest publication time and resolves firing alerts when
// the account is fresh again.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Kind != model.KindPost || p.Deleted || p.PublishedAt.IsZero() {
		return nil
	}
	cur, err := d.advance(ctx, env, a.ID, last{At: p.PublishedAt, URL: p.URL, Title: p.Title})
	if err != nil {
		return err
	}
	// With a post seen, silence counts from it, never from when the
	// account was first watched: only the firing levels are needed.
	st := &state{last: cur}
	if err := d.loadFiring(ctx, env, a.ID, st); err != nil {
		return err
	}
	return d.judge(ctx, env, a, st, env.Now(), false)
}

// advance raises the account's last-post time to l when l is newer,
// atomically, so replicas handling posts of one account concurrently keep
// the newest.
func (d *Detector) advance(ctx context.Context, env *detect.Env, id string, l last) (last, error) {
	return detect.Update(ctx, env.Store, lastKey(id), 0, func(cur *last, _ bool) (bool, error) {
		if !l.At.After(cur.At) {
			return false, nil
		}
		*cur = l
		return true, nil
	})
}

// loadFiring reads an account's firing levels into st, one Get per level.
func (d *Detector) loadFiring(ctx context.Context, env *detect.Env, id string, st *state) error {
	for _, l := range levels {
		b, err := env.Store.Get(ctx, l.key(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := st.addFiring(l.category, b); err != nil {
			return fmt.Errorf("%s of %s: %w", l.category, id, err)
		}
	}
	return nil
}

// setFiring records a firing level; the maps are made on first use, as most
// accounts have none.
func (st *state) setFiring(category string, f *firing, raw []byte) {
	if st.firing == nil {
		st.firing, st.raw = map[string]*firing{}, map[string][]byte{}
	}
	st.firing[category], st.raw[category] = f, raw
}

func (st *state) addFiring(category string, b []byte) error {
	var f firing
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	st.setFiring(category, &f, b)
	return nil
}

// Sweep judges every account against its thresholds. It reads all state with
// one prefix scan rather than several reads per account.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	states, err := d.scan(ctx, env)
	if err != nil {
		return err
	}
	var gone []string
	for id, st := range states {
		if !env.Known(id) {
			gone = append(gone, st.keys...)
		}
	}
	if err := env.Forget(ctx, d.Name(), gone); err != nil {
		return err
	}
	return detect.EachAccount(ctx, env, func(a *registry.Account) error {
		st := states[a.ID]
		if st == nil {
			st = &state{}
		}
		return d.sweepAccount(ctx, env, a, st, now)
	})
}

// scan loads the state of every account that has any.
func (d *Detector) scan(ctx context.Context, env *detect.Env) (map[string]*state, error) {
	states := map[string]*state{}
	get := func(id string) *state {
		st := states[id]
		if st == nil {
			st = &state{}
			states[id] = st
		}
		return st
	}
	err := env.Store.List(ctx, keyPrefix, func(key string, val []byte) error {
		kind, id, ok := strings.Cut(strings.TrimPrefix(key, keyPrefix), "/")
		if !ok {
			return nil
		}
		get(id).keys = append(get(id).keys, key)
		var err error
		switch kind {
		case "last":
			err = json.Unmarshal(val, &get(id).last)
		case "since":
			err = json.Unmarshal(val, &get(id).since)
		case "warning":
			err = get(id).addFiring(warning.category, val)
		case "firing":
			err = get(id).addFiring(stale.category, val)
		case "zombie":
			err = get(id).addFiring(zombie.category, val)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	})
	return states, err
}

func (d *Detector) sweepAccount(ctx context.Context, env *detect.Env, a *registry.Account, st *state, now time.Time) error {
	if !a.Active() {
		// An account suspended or closed while silent stops alerting.
		for _, l := range levels {
			if err := d.resolve(ctx, env, a, st, l, now, "inactive"); err != nil {
				return err
			}
		}
		return nil
	}
	return d.judge(ctx, env, a, st, now, true)
}

// judge fires or resolves each level. Without any post seen, silence is
// counted from when govwatch started watching the account, so a fresh
// install does not page about every account at once. Only a sweep fires: a
// post never does, as feeds arrive oldest and newest mixed and the newest
// may be next.
func (d *Detector) judge(ctx context.Context, env *detect.Env, a *registry.Account, st *state, now time.Time, mayFire bool) error {
	t := d.thresholds(a)
	from := st.last.At
	if from.IsZero() {
		if st.since.IsZero() && mayFire {
			since, err := d.watchedSince(ctx, env, a.ID, now)
			if err != nil {
				return err
			}
			st.since = since
		}
		from = st.since
	}
	silent := now.Sub(from)
	if from.IsZero() {
		silent = 0
	}
	for _, l := range levels {
		limit := t.of(l)
		switch {
		case limit == 0 || silent < limit:
			end := st.last.At
			if end.IsZero() {
				end = now
			}
			if err := d.resolve(ctx, env, a, st, l, end, "resolved"); err != nil {
				return err
			}
		case l.category == warning.category && silent >= t.stale:
			// Superseded by account.stale, from the moment it began.
			if err := d.resolve(ctx, env, a, st, l, from.Add(t.stale), "superseded"); err != nil {
				return err
			}
		case mayFire:
			if err := d.fire(ctx, env, a, st, l, from, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// fire publishes a level's alert when it is new or its day count moved.
func (d *Detector) fire(ctx context.Context, env *detect.Env, a *registry.Account, st *state, l level, from, now time.Time) error {
	limit := d.thresholds(a).of(l)
	f := firing{Start: from.Add(limit), Days: int(now.Sub(from) / day)} // the same on every replica
	if old := st.firing[l.category]; old != nil && old.Start.Equal(f.Start) && old.Days == f.Days {
		return nil // already told, and the day count has not moved
	}
	if err := env.Publish(ctx, d.alert(env, a, st, l, now, f.Start, time.Time{}, "")); err != nil {
		return err
	}
	b, _ := json.Marshal(f)
	// Compare-and-swap against what this sweep read: when another replica
	// recorded the same firing first, its record stands.
	if _, err := env.Store.CompareAndSwap(ctx, l.key(a.ID), st.raw[l.category], b, 0); err != nil {
		return err
	}
	st.setFiring(l.category, &f, b)
	return nil
}

func (d *Detector) watchedSince(ctx context.Context, env *detect.Env, id string, now time.Time) (time.Time, error) {
	b, _ := json.Marshal(now)
	if _, err := env.Store.SetNX(ctx, sinceKey(id), b, 0); err != nil {
		return time.Time{}, err
	}
	var t time.Time
	_, err := detect.Load(ctx, env.Store, sinceKey(id), &t)
	return t, err
}

// resolve ends a firing level at end (not before its start); how is
// "resolved" or "superseded", choosing the text.
func (d *Detector) resolve(ctx context.Context, env *detect.Env, a *registry.Account, st *state, l level, end time.Time, how string) error {
	f := st.firing[l.category]
	if f == nil {
		return nil
	}
	if how == "resolved" && st.last.At.Before(f.Start) {
		// No post ended it: the thresholds changed under it.
		how = "cleared"
	}
	if end.Before(f.Start) {
		end = f.Start
	}
	if err := env.Publish(ctx, d.alert(env, a, st, l, env.Now(), f.Start, end, how)); err != nil {
		return err
	}
	if err := env.Store.Delete(ctx, l.key(a.ID)); err != nil {
		return err
	}
	delete(st.firing, l.category)
	delete(st.raw, l.category)
	return nil
}

func (d *Detector) alert(env *detect.Env, a *registry.Account, st *state, l level, now, start, end time.Time, how string) *model.Alert {
	t := d.thresholds(a)
	limit := t.of(l)
	from := st.last.At
	if from.IsZero() {
		from = start.Add(-limit)
	}
	data := map[string]any{
		"Account": a, "Last": st.last, "Now": now, "Unit": alerttext.UnitName(env.Registry, a.Unit),
		"Days": int(now.Sub(from) / day), "Limit": int(t.stale / day), "ZombieLimit": int(t.zombie / day),
		"Deadline": from.Add(t.stale), "Category": l.category,
	}
	evidence := fmt.Sprintf("最近发布：%s《%s》", formatTime(st.last.At), st.last.Title)
	if st.last.At.IsZero() {
		evidence = "最近发布：无（未采集到任何发布）"
	}
	suggestion := "尽快发布更新；如账号已停止运营，请按规定办理关停注销并在注册系统备案"
	switch l.category {
	case warning.category:
		suggestion = fmt.Sprintf("请在 %s 前发布更新，避免单项否决", formatTime(from.Add(t.stale)))
	case zombie.category:
		suggestion = "由主办单位决定整改恢复更新，或关停注销、整合账号，并在全国政务新媒体信息报送系统备案"
	}
	ann := map[string]string{
		model.AnnotationURL:        st.last.URL,
		model.AnnotationEvidence:   evidence,
		model.AnnotationSuggestion: suggestion,
	}
	switch how {
	case "":
		ann[model.AnnotationSummary] = d.Render(l.prefix+"summary", data)
		ann[model.AnnotationDescription] = d.Render(l.prefix+"description", data)
	case "superseded":
		ann[model.AnnotationSummary] = d.Render(l.prefix+"superseded", data)
	case "resolved":
		ann[model.AnnotationSummary] = d.Render(l.prefix+"resolved", data)
	default: // inactive, cleared
		ann[model.AnnotationSummary] = d.Render(how, data)
	}
	return &model.Alert{
		Labels:      alerttext.AccountLabels(env.Registry, a, l.category),
		Annotations: ann,
		StartsAt:    start,
		EndsAt:      end,
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "无"
	}
	return t.In(calendar.Shanghai).Format("2006-01-02 15:04")
}
