// Package staleness raises account.stale when an active account has published
// nothing for its stale_after (the national checklist's veto: no update in
// the two weeks before a check), judged on published_at, not on collection
// time. A scheduled sweep notices silence without any incoming message; the
// account's next post resolves the alert. Suspended and closed accounts never
// alert.
package staleness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Detector is the staleness detector.
type Detector struct {
	// StaleAfter is the default threshold, used when an account sets none.
	StaleAfter time.Duration
	texts      *detect.Texts
}

// New returns a detector with the given default threshold.
func New(staleAfter time.Duration) *Detector {
	return &Detector{StaleAfter: staleAfter, texts: detect.MustTexts(Templates)}
}

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）已 {{.Days}} 天未更新，超过 {{.Limit}} 天未更新属单项否决`,
	"description": `{{.Unit}}「{{.Account.Name}}」最近一次发布于 {{if .Last.At.IsZero}}（未采集到任何发布）{{else}}{{cst .Last.At}}{{end}}，` +
		`截至 {{cst .Now}} 已 {{.Days}} 天未更新。依据政务新媒体检查指标，监测时间点前 2 周内无更新即单项否决，请督促尽快更新。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）已于 {{cst .Last.At}} 恢复更新`,
}

// Name implements detect.PostDetector and detect.Sweeper.
func (d *Detector) Name() string { return "staleness" }

// last is the newest post seen of an account.
type last struct {
	At    time.Time `json:"at"`
	URL   string    `json:"url,omitempty"`
	Title string    `json:"title,omitempty"`
}

func lastKey(id string) string   { return "analyzer/stale/last/" + id }
func sinceKey(id string) string  { return "analyzer/stale/since/" + id }
func firingKey(id string) string { return "analyzer/stale/firing/" + id }

func (d *Detector) threshold(a *registry.Account) time.Duration {
	if a.StaleAfter > 0 {
		return a.StaleAfter
	}
	return d.StaleAfter
}

// Post records the newest publication time and resolves a firing alert when
// the account is fresh again.
func (d *Detector) Post(ctx context.Context, env *detect.Env, p *model.Post, a *registry.Account) error {
	if p.Kind != model.KindPost || p.Deleted || p.PublishedAt.IsZero() {
		return nil
	}
	cur, err := d.advance(ctx, env, a.ID, last{At: p.PublishedAt, URL: p.URL, Title: p.Title})
	if err != nil {
		return err
	}
	return d.judge(ctx, env, a, cur, env.Now(), false)
}

// advance raises the account's last-post time to l when l is newer,
// atomically, so replicas handling posts of one account concurrently keep
// the newest.
func (d *Detector) advance(ctx context.Context, env *detect.Env, id string, l last) (last, error) {
	for {
		old, err := env.Store.Get(ctx, lastKey(id))
		var cur last
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return last{}, err
		default:
			if err := json.Unmarshal(old, &cur); err != nil {
				return last{}, fmt.Errorf("last post of %s: %w", id, err)
			}
			if !l.At.After(cur.At) {
				return cur, nil
			}
		}
		b, _ := json.Marshal(l)
		ok, err := env.Store.CompareAndSwap(ctx, lastKey(id), old, b, 0)
		if err != nil {
			return last{}, err
		}
		if ok {
			return l, nil
		}
	}
}

// Sweep judges every active account against its threshold.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	var errs []error
	for _, a := range env.Registry.Accounts() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := d.sweepAccount(ctx, env, a, now); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a.ID, err))
		}
	}
	return errors.Join(errs...)
}

func (d *Detector) sweepAccount(ctx context.Context, env *detect.Env, a *registry.Account, now time.Time) error {
	if !a.Active() {
		// An account suspended or closed while stale stops alerting.
		return d.resolveIfFiring(ctx, env, a, last{}, now)
	}
	var l last
	b, err := env.Store.Get(ctx, lastKey(a.ID))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	return d.judge(ctx, env, a, l, now, true)
}

// judge fires or resolves. Without any post seen, silence is counted from
// when govwatch started watching the account, so a fresh install does not
// page about every account at once. Only a sweep fires: a post never does,
// as feeds arrive oldest and newest mixed and the newest may be next.
func (d *Detector) judge(ctx context.Context, env *detect.Env, a *registry.Account, l last, now time.Time, mayFire bool) error {
	limit := d.threshold(a)
	from := l.At
	if from.IsZero() {
		since, err := d.watchedSince(ctx, env, a.ID, now)
		if err != nil {
			return err
		}
		from = since
	}
	if now.Sub(from) < limit {
		return d.resolveIfFiring(ctx, env, a, l, now)
	}
	if !mayFire {
		return nil
	}
	start := from.Add(limit) // the moment it became stale: the same on every replica
	days := int(now.Sub(from) / (24 * time.Hour))
	f := firing{Start: start, Days: days}
	if b, err := env.Store.Get(ctx, firingKey(a.ID)); err == nil {
		var old firing
		if json.Unmarshal(b, &old) == nil && old.Start.Equal(f.Start) && old.Days == f.Days {
			return nil // already told, and the day count has not moved
		}
	}
	if err := env.Publish(ctx, d.alert(env, a, l, now, start, time.Time{})); err != nil {
		return err
	}
	b, _ := json.Marshal(f)
	return env.Store.Set(ctx, firingKey(a.ID), b, 0)
}

// firing is what is remembered of a firing alert: its start and the day count
// last published, so the alert's text is refreshed once a day, not every sweep.
type firing struct {
	Start time.Time `json:"start"`
	Days  int       `json:"days"`
}

func (d *Detector) watchedSince(ctx context.Context, env *detect.Env, id string, now time.Time) (time.Time, error) {
	b, _ := json.Marshal(now)
	if _, err := env.Store.SetNX(ctx, sinceKey(id), b, 0); err != nil {
		return time.Time{}, err
	}
	got, err := env.Store.Get(ctx, sinceKey(id))
	if err != nil {
		return time.Time{}, err
	}
	var t time.Time
	return t, json.Unmarshal(got, &t)
}

func (d *Detector) resolveIfFiring(ctx context.Context, env *detect.Env, a *registry.Account, l last, now time.Time) error {
	b, err := env.Store.Get(ctx, firingKey(a.ID))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var f firing
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	start := f.Start
	end := l.At
	if end.IsZero() || end.Before(start) {
		end = now
	}
	if err := env.Publish(ctx, d.alert(env, a, l, now, start, end)); err != nil {
		return err
	}
	return env.Store.Delete(ctx, firingKey(a.ID))
}

func (d *Detector) alert(env *detect.Env, a *registry.Account, l last, now, start, end time.Time) *model.Alert {
	limit := d.threshold(a)
	silent := now.Sub(l.At)
	if l.At.IsZero() {
		silent = now.Sub(start.Add(-limit))
	}
	data := map[string]any{
		"Account": a, "Last": l, "Now": now, "Unit": detect.UnitName(env.Registry, a.Unit),
		"Days": int(silent / (24 * time.Hour)), "Limit": int(limit / (24 * time.Hour)),
	}
	evidence := fmt.Sprintf("最近发布：%s《%s》", formatTime(l.At), l.Title)
	if l.At.IsZero() {
		evidence = "最近发布：无（未采集到任何发布）"
	}
	ann := map[string]string{
		model.AnnotationURL:        l.URL,
		model.AnnotationEvidence:   evidence,
		model.AnnotationSuggestion: "尽快发布更新；如账号已停止运营，请按规定办理关停注销并在注册系统备案",
	}
	if end.IsZero() {
		ann[model.AnnotationSummary] = d.texts.Render("summary", data)
		ann[model.AnnotationDescription] = d.texts.Render("description", data)
	} else {
		ann[model.AnnotationSummary] = d.texts.Render("resolved", data)
	}
	return &model.Alert{
		Labels:      detect.AccountLabels(env.Registry, a, model.CategoryAccountStale),
		Annotations: ann,
		StartsAt:    start,
		EndsAt:      end,
	}
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "无"
	}
	return t.In(detect.Shanghai).Format("2006-01-02 15:04")
}
