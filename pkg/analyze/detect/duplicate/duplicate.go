// Package duplicate raises account.duplicate when a unit runs two or more
// active accounts on the same platform: government new media should be one
// account per unit and platform, and extra accounts are to be merged or
// closed (and the closure filed). It judges the registry, so it runs as a
// sweeper: the first sweep after the analyzer starts (which is when the
// registry loads) and every sweep after. The alert resolves when the group
// is down to one active account (others closed or suspended).
package duplicate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Config tunes the detector: analyzer.detectors.duplicate.
type Config struct {
	// IgnorePlatforms are platforms where a unit may run several accounts.
	IgnorePlatforms []string `yaml:"ignore_platforms" doc:"Platforms where a unit may run several accounts." example:"[other, website]"`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{IgnorePlatforms: []string{"other"}} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	for i, p := range c.IgnorePlatforms {
		if !slices.Contains(registry.Platforms, p) {
			ch.Errorf(fmt.Sprintf("ignore_platforms[%d]", i), "unknown platform %q (one of %v)", p, registry.Platforms)
		}
	}
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "duplicate",
		Summary:   "Raises account.duplicate when a unit runs more than one active account on one platform.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountDuplicate, Name: "账号信息：同一单位同类平台多个账号", Severity: model.SeverityMinor},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// Detector is the duplicate-account detector.
type Detector struct {
	cfg Config
	detect.Templated
}

// New returns a detector.
func New(cfg Config) *Detector { return &Detector{cfg: cfg, Templated: detect.DefaultTexts(Templates)} }

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Unit}}在{{platform .Platform}}平台有 {{len .Accounts}} 个在用账号（{{.Names}}），同一单位同类平台原则上只保留一个账号`,
	"description": `注册信息显示，{{.Unit}}在{{platform .Platform}}平台同时运营 {{len .Accounts}} 个账号：{{.Names}}。` +
		`按政务新媒体管理要求，同一单位在同一平台原则上只开设一个账号，功能相近的账号应整合，停用的账号应关停注销并备案。`,
	"resolved": `{{.Unit}}在{{platform .Platform}}平台已只有一个在用账号，重复账号告警解除`,
}

// Name implements detect.Sweeper.
func (d *Detector) Name() string { return "duplicate" }

// keyPrefix is the kind of the firing groups, which every sweep lists.
var keyPrefix = store.DeclareKind("analyzer/duplicate/", 1)

// group is a unit's accounts on one platform.
type group struct{ unit, platform string }

func (g group) key() string { return keyPrefix + g.unit + "/" + g.platform }

// record is a firing alert: when it began and the accounts it named.
type record struct {
	Since    time.Time `json:"since"`
	Accounts []string  `json:"accounts"`
}

// Sweep judges the registry.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	now := env.Now()
	groups := map[group][]*registry.Account{}
	for _, a := range env.Registry.Accounts() {
		if a.Active() && !slices.Contains(d.cfg.IgnorePlatforms, a.Platform) {
			g := group{a.Unit, a.Platform}
			groups[g] = append(groups[g], a)
		}
	}
	firing := map[group][]byte{}
	err := env.Store.List(ctx, keyPrefix, func(k string, val []byte) error {
		unit, platform, ok := strings.Cut(strings.TrimPrefix(k, keyPrefix), "/")
		if ok {
			firing[group{unit, platform}] = val
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for g, accounts := range groups {
		if len(accounts) < 2 {
			continue
		}
		if err := d.fire(ctx, env, g, accounts, firing[g], now); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", g.unit, g.platform, err))
		}
	}
	for g, raw := range firing {
		if len(groups[g]) >= 2 {
			continue
		}
		if err := d.resolve(ctx, env, g, raw, now); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", g.unit, g.platform, err))
		}
	}
	return errors.Join(errs...)
}

func ids(accounts []*registry.Account) []string {
	out := make([]string, len(accounts))
	for i, a := range accounts {
		out[i] = a.ID
	}
	slices.Sort(out)
	return out
}

// fire publishes the alert when the group is new or its accounts changed.
// The first replica to record the group sets its start; the others read it,
// so all publish the same alert.
func (d *Detector) fire(ctx context.Context, env *detect.Env, g group, accounts []*registry.Account, raw []byte, now time.Time) error {
	next := record{Since: now, Accounts: ids(accounts)}
	if raw != nil {
		var cur record
		if err := json.Unmarshal(raw, &cur); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		if slices.Equal(cur.Accounts, next.Accounts) {
			return nil
		}
		next.Since = cur.Since
	}
	b, _ := json.Marshal(next)
	ok, err := env.Store.CompareAndSwap(ctx, g.key(), raw, b, 0)
	if err != nil {
		return err
	}
	if !ok {
		// Another replica recorded it first: publish what it recorded.
		var cur record
		if _, err := detect.Load(ctx, env.Store, g.key(), &cur); err != nil {
			return err
		}
		next = cur
	}
	// Published after the record: a failed publish is retried at the next
	// sweep only if the accounts change, so fall back to removing the record.
	if err := env.Publish(ctx, d.alert(env, g, accounts, next.Since, time.Time{})); err != nil {
		if derr := env.Store.Delete(ctx, g.key()); derr != nil {
			return errors.Join(err, derr)
		}
		return err
	}
	return nil
}

func (d *Detector) resolve(ctx context.Context, env *detect.Env, g group, raw []byte, now time.Time) error {
	var cur record
	if err := json.Unmarshal(raw, &cur); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	var accounts []*registry.Account
	for _, id := range cur.Accounts {
		if a, ok := env.Registry.Account(id); ok {
			accounts = append(accounts, a)
		}
	}
	if err := env.Publish(ctx, d.alert(env, g, accounts, cur.Since, now)); err != nil {
		return err
	}
	return env.Store.Delete(ctx, g.key())
}

func (d *Detector) alert(env *detect.Env, g group, accounts []*registry.Account, start, end time.Time) *model.Alert {
	var names, evidence []string
	for _, a := range accounts {
		names = append(names, "「"+a.Name+"」")
		status := "在用"
		if !a.Active() {
			status = map[string]string{registry.StatusSuspended: "已暂停", registry.StatusClosed: "已关停"}[a.Status]
		}
		evidence = append(evidence, fmt.Sprintf("%s「%s」（%s）", a.ID, a.Name, status))
	}
	data := map[string]any{
		"Unit": alerttext.UnitName(env.Registry, g.unit), "Platform": g.platform,
		"Accounts": accounts, "Names": strings.Join(names, "、"),
	}
	labels := model.LabelSet{
		model.LabelAlertname: model.CategoryAccountDuplicate,
		model.LabelSeverity:  model.DefaultSeverity(model.CategoryAccountDuplicate),
		model.LabelUnit:      g.unit,
		model.LabelPlatform:  g.platform,
	}
	if u, ok := env.Registry.Unit(g.unit); ok && u.Region != "" {
		labels[model.LabelRegion] = u.Region
	}
	ann := map[string]string{
		model.AnnotationEvidence:   "账号：" + strings.Join(evidence, "；"),
		model.AnnotationSuggestion: "整合为一个主账号，其余账号按规定关停注销，并在全国政务新媒体信息报送系统备案；确需保留的，请在注册信息中说明",
	}
	d.DescribeUntil(ann, end, data)
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: start, EndsAt: end}
}
