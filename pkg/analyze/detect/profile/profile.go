// Package profile raises account.profile_changed when an account's name,
// avatar or bio differs from the accepted profile: a possible hijack (SEO
// spam in a bio, a gambling site's name), or a change the unit must file with
// the national registry of government new media.
//
// The first snapshot of an account is its accepted profile. A later snapshot
// that differs fires an alert showing old → new for each field; further
// changes while it fires update it. It resolves when
//
//   - a snapshot shows the accepted profile again (the change was undone;
//     endsAt = that snapshot's taken_at);
//   - the registry lists the new name (a name change was filed: the
//     registry is the filed record), and nothing else differs;
//   - accept_after (default 7 days) passes: the change is taken as
//     deliberate and becomes the accepted profile (endsAt = start +
//     accept_after);
//   - the account is suspended or closed.
//
// A snapshot whose name already equals the registry's is not a change to
// report. Follower and post counts are not part of the profile.
package profile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Config tunes the detector: analyzer.detectors.profile.
type Config struct {
	// AcceptAfter is how long a change is reported before it is accepted.
	AcceptAfter conf.Duration `yaml:"accept_after" doc:"How long a changed profile is reported before it becomes the accepted one and the alert resolves."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{AcceptAfter: conf.Duration(7 * 24 * time.Hour)} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.MinDuration("accept_after", c.AcceptAfter, time.Hour)
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "profile",
		Summary:   "Raises account.profile_changed when an account's name, avatar or bio changes.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountProfileChanged, Name: "账号信息：名称、头像、简介变更", Severity: model.SeverityMinor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// Detector is the profile-change detector.
type Detector struct {
	cfg Config
	detect.Templated
}

// New returns a detector.
func New(cfg Config) *Detector { return &Detector{cfg: cfg, Templated: detect.DefaultTexts(Templates)} }

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）账号{{.Fields}}发生变更，请核实是否为本单位操作`,
	"description": `{{.Unit}}「{{.Account.Name}}」于 {{cst .Since}} 检测到账号资料变更：{{.Changes}}。` +
		`如非本单位操作，账号可能被盗用，请立即核查、修改密码并恢复；如属正常变更，名称变更须在全国政务新媒体信息报送系统备案并更新注册信息（更新后告警自动解除），` +
		`其他变更在 {{.AcceptDays}} 天后自动确认。`,
	"reverted": `{{.Account.Name}}（{{platform .Account.Platform}}）账号资料已恢复为变更前的内容`,
	"filed":    `{{.Account.Name}}（{{platform .Account.Platform}}）名称变更已更新到注册信息，告警解除`,
	"accepted": `{{.Account.Name}}（{{platform .Account.Platform}}）账号资料变更已满 {{.AcceptDays}} 天，按正常变更确认`,
	"inactive": `{{.Account.Name}}（{{platform .Account.Platform}}）已不再监测，账号资料变更告警解除`,
}

// Name implements detect.SnapshotDetector and detect.Sweeper.
func (d *Detector) Name() string { return "profile" }

// keyPrefix is the kind of per-account profile state, which every sweep
// lists, sharded by account.
var keyPrefix = store.DeclareKind("analyzer/profile/", detect.Shards)

// fields is the part of a snapshot that is the profile.
type fields struct {
	Name   string `json:"name"`
	Avatar string `json:"avatar"`
	Bio    string `json:"bio"`
}

// record is what is kept per account.
type record struct {
	Accepted fields    `json:"accepted"`
	Current  fields    `json:"current"`
	TakenAt  time.Time `json:"taken_at"` // of Current
	// Since is when Current first differed from Accepted: the alert's
	// start. Zero when nothing is reported.
	Since time.Time `json:"since,omitzero"`
	// Labeled is the registry name the alert was raised under: its
	// account_name label, kept so that the resolution of a name change that
	// was filed (the registry renamed) reaches the same alert.
	Labeled string `json:"labeled,omitempty"`
}

// absorbFiled takes a name that the registry already lists as accepted.
func (r *record) absorbFiled(a *registry.Account) {
	if r.Current.Name != r.Accepted.Name && r.Current.Name == a.Name {
		r.Accepted.Name = r.Current.Name
	}
}

// Snapshot compares a snapshot with the accepted profile.
func (d *Detector) Snapshot(ctx context.Context, env *detect.Env, s *model.AccountSnapshot, a *registry.Account) error {
	cur := fields{Name: s.Name, Avatar: s.AvatarHash, Bio: s.Bio}
	_, err := detect.Update(ctx, env.Store, keyPrefix+a.ID, 0, func(r *record, found bool) (bool, error) {
		if !found {
			*r = record{Accepted: cur, Current: cur, TakenAt: s.TakenAt}
			return true, nil
		}
		if !s.TakenAt.After(r.TakenAt) {
			return false, nil // a repeat, or older than what was judged
		}
		prev, accepted := r.Current, r.Accepted
		r.Current, r.TakenAt = cur, s.TakenAt
		r.absorbFiled(a)
		switch {
		case r.Current == r.Accepted && !r.Since.IsZero():
			how := "reverted"
			if r.Accepted != accepted {
				how = "filed" // the registry already carries the new name
			}
			// Published before the record is written, so a failure leaves
			// the record as it was and the redelivered snapshot tries again.
			if err := env.Publish(ctx, d.alert(env, a, r, s.TakenAt, how)); err != nil {
				return false, err
			}
			r.Since, r.Labeled = time.Time{}, ""
		case r.Current != r.Accepted && r.Since.IsZero():
			r.Since, r.Labeled = s.TakenAt, a.Name
			if err := env.Publish(ctx, d.alert(env, a, r, time.Time{}, "")); err != nil {
				return false, err
			}
		case r.Current != r.Accepted && r.Current != prev:
			if err := env.Publish(ctx, d.alert(env, a, r, time.Time{}, "")); err != nil {
				return false, err
			}
		}
		return true, nil
	})
	return err
}

// Sweep accepts changes whose window has passed or whose name was filed,
// and resolves alerts of accounts no longer watched.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	var reported, gone []string
	err := detect.ScanJSON(ctx, env.Store, keyPrefix, func(key string, r *record) error {
		id := strings.TrimPrefix(key, keyPrefix)
		switch {
		case !env.Known(id):
			gone = append(gone, key)
		case !r.Since.IsZero():
			reported = append(reported, id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := env.Forget(ctx, d.Name(), gone); err != nil {
		return err
	}
	var errs []error
	for _, id := range reported {
		a, ok := env.Registry.Account(id)
		if !ok {
			continue
		}
		_, err := detect.Update(ctx, env.Store, keyPrefix+id, 0, func(r *record, found bool) (bool, error) {
			if !found || r.Since.IsZero() {
				return false, nil
			}
			var end time.Time
			how := ""
			before := r.Accepted
			r.absorbFiled(a)
			switch {
			case !a.Active():
				end, how = now, "inactive"
				r.Accepted = r.Current
			case r.Current == r.Accepted:
				end, how = now, "filed"
			case !now.Before(r.Since.Add(d.cfg.AcceptAfter.D())):
				end, how = r.Since.Add(d.cfg.AcceptAfter.D()), "accepted"
				r.Accepted = r.Current
			case r.Accepted != before:
				// The name was filed but other fields still differ.
				return true, env.Publish(ctx, d.alert(env, a, r, time.Time{}, ""))
			default:
				return false, nil
			}
			if err := env.Publish(ctx, d.alert(env, a, r, end, how)); err != nil {
				return false, err
			}
			r.Since, r.Labeled = time.Time{}, ""
			return true, nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// change is one field that differs, for texts.
type change struct{ field, old, new string }

func changes(old, cur fields) []change {
	var cs []change
	if old.Name != cur.Name {
		cs = append(cs, change{"名称", old.Name, cur.Name})
	}
	if old.Avatar != cur.Avatar {
		cs = append(cs, change{"头像", old.Avatar, cur.Avatar})
	}
	if old.Bio != cur.Bio {
		cs = append(cs, change{"简介", old.Bio, cur.Bio})
	}
	return cs
}

// clip shortens long bios for texts.
func clip(s string) string {
	const max = 80
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "…"
	}
	if s == "" {
		return "（空）"
	}
	return s
}

func (d *Detector) alert(env *detect.Env, a *registry.Account, r *record, end time.Time, how string) *model.Alert {
	cs := changes(r.Accepted, r.Current)
	var names, texts, evidence []string
	for _, c := range cs {
		names = append(names, c.field)
		if c.field == "头像" {
			texts = append(texts, "头像已更换")
		} else {
			texts = append(texts, fmt.Sprintf("%s由「%s」改为「%s」", c.field, clip(c.old), clip(c.new)))
		}
		evidence = append(evidence, fmt.Sprintf("%s：%s → %s", c.field, clip(c.old), clip(c.new)))
	}
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit), "Since": r.Since,
		"Fields": strings.Join(names, "、"), "Changes": strings.Join(texts, "；"),
		"AcceptDays": int(d.cfg.AcceptAfter.D() / (24 * time.Hour)),
	}
	ann := map[string]string{
		model.AnnotationSuggestion: "核实变更是否为本单位操作：如非本单位操作，立即修改密码并恢复资料；如属正常变更，名称变更须报送备案并更新注册信息",
	}
	if d.Describe(ann, how, data) {
		ann[model.AnnotationEvidence] = strings.Join(evidence, "；")
	}
	if end.Before(r.Since) && !end.IsZero() {
		end = r.Since
	}
	labels := alerttext.AccountLabels(env.Registry, a, model.CategoryAccountProfileChanged)
	if r.Labeled != "" {
		labels[model.LabelAccountName] = r.Labeled
	}
	return &model.Alert{
		Labels:      labels,
		Annotations: ann,
		StartsAt:    r.Since,
		EndsAt:      end,
	}
}
