// Package unavailable raises account.unavailable when availability probes of
// an account's app, mini-program or page fail: Consecutive times in a row
// (default 3), or WindowFailures of the last Window probes (default 5 of 10,
// which catches a target that flaps without ever failing three times in a
// row). RecoverAfter successful probes in a row (default 2) resolve it,
// endsAt = the first of them. One alert per account and probe target.
// Probes are ordered by checked_at, whatever order they arrive in, and the
// newest decides.
package unavailable

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// Config sets when probes count as an outage: analyzer.detectors.unavailable.
type Config struct {
	Consecutive    int `yaml:"consecutive" doc:"Failed probes in a row that fire."`
	Window         int `yaml:"window" doc:"Probes remembered per target (1 to 100)."`
	WindowFailures int `yaml:"window_failures" doc:"Failed probes among the last window that fire."`
	RecoverAfter   int `yaml:"recover_after" doc:"Successful probes in a row that resolve."`
}

// Defaults are the detector's settings when its section leaves them out.
func Defaults() Config { return Config{Consecutive: 3, Window: 10, WindowFailures: 5, RecoverAfter: 2} }

// Validate implements plugin.Validator.
func (c *Config) Validate(ch *plugin.Check) {
	ch.AtLeast("consecutive", c.Consecutive, 1)
	if c.Window < 1 || c.Window > 100 {
		ch.Errorf("window", "must be 1 to 100 probes, not %d", c.Window)
	}
	if c.WindowFailures < 1 || c.WindowFailures > c.Window {
		ch.Errorf("window_failures", "must be 1 to window (%d), not %d", c.Window, c.WindowFailures)
	}
	if c.RecoverAfter < 1 || c.RecoverAfter > c.Window {
		ch.Errorf("recover_after", "must be 1 to window (%d), not %d", c.Window, c.RecoverAfter)
	}
}

func init() {
	detect.Register(detect.Plugin[Config]{
		Name:      "unavailable",
		Summary:   "Raises account.unavailable when an app or page fails its probes, in a row or often within a window.",
		Defaults:  Defaults,
		DefaultOn: true,
		Categories: []model.Category{
			{ID: model.CategoryAccountUnavailable, Name: "账号可用性：无法访问、无法下载使用", Severity: model.SeverityMajor, Veto: true},
		},
		Templates: Templates,
		New:       detect.Of(New),
	})
}

// LabelTarget is the label naming the probed target.
const LabelTarget = "target"

// Detector is the availability detector.
type Detector struct {
	cfg Config
	detect.Templated
}

// New returns a detector.
func New(cfg Config) *Detector { return &Detector{cfg: cfg, Templated: detect.DefaultTexts(Templates)} }

// Templates are the default Chinese texts.
var Templates = map[string]string{
	"summary": `{{.Account.Name}}（{{platform .Account.Platform}}）无法访问：{{.Reason}}`,
	"description": `{{.Unit}}「{{.Account.Name}}」的 {{.Target}} 自 {{cst .Since}} 起探测失败（{{.Reason}}），最近一次失败于 {{cst .Last.At}}：{{.Last.Text}}。` +
		`依据政务新媒体检查指标，应用无法下载或使用属单项否决，功能不可用属扣分项，请尽快排查修复。`,
	"resolved": `{{.Account.Name}}（{{platform .Account.Platform}}）已恢复访问：{{cst .RecoveredAt}} 起连续 {{.OKs}} 次探测成功`,
	"inactive": `{{.Account.Name}}（{{platform .Account.Platform}}）已不再监测，无法访问告警解除`,
}

// Name implements detect.ProbeDetector and detect.Sweeper.
func (d *Detector) Name() string { return "unavailable" }

// keyPrefix is the kind of per-account availability state, which every
// sweep lists, sharded by account.
var keyPrefix = store.DeclareKind("analyzer/unavailable/", detect.Shards)

func key(account, target string) string {
	h := fnv.New64a()
	h.Write([]byte(target))
	return keyPrefix + account + "/" + strconv.FormatUint(h.Sum64(), 16)
}

// result is one probe as remembered.
type result struct {
	At    time.Time `json:"at"`
	OK    bool      `json:"ok"`
	Code  int       `json:"code,omitempty"`
	Error string    `json:"error,omitempty"`
}

// Text describes a result for people.
func (r result) Text() string {
	var parts []string
	if r.Code != 0 {
		parts = append(parts, "HTTP "+strconv.Itoa(r.Code))
	}
	if r.Error != "" {
		parts = append(parts, r.Error)
	}
	if len(parts) == 0 {
		if r.OK {
			return "正常"
		}
		return "失败"
	}
	return strings.Join(parts, " ")
}

// record is what is kept per account and target.
type record struct {
	Target string    `json:"target"`
	Recent []result  `json:"recent"` // the last Window results, oldest first
	Since  time.Time `json:"since,omitzero"`
}

// trailing counts the results at the end of Recent with ok == want.
func (r *record) trailing(want bool) int {
	n := 0
	for i := len(r.Recent) - 1; i >= 0 && r.Recent[i].OK == want; i-- {
		n++
	}
	return n
}

func (r *record) failures() int {
	n := 0
	for _, x := range r.Recent {
		if !x.OK {
			n++
		}
	}
	return n
}

// maxError bounds the error text kept per probe.
const maxError = 160

// Probe records a probe result and fires or resolves.
func (d *Detector) Probe(ctx context.Context, env *detect.Env, p *model.ProbeResult, a *registry.Account) error {
	errText := p.Error
	if r := []rune(errText); len(r) > maxError {
		errText = string(r[:maxError]) + "…"
	}
	res := result{At: p.CheckedAt, OK: p.OK, Code: p.StatusCode, Error: errText}
	_, err := detect.Update(ctx, env.Store, key(a.ID, p.Target), 0, func(r *record, _ bool) (bool, error) {
		// Replicas and workers handle probes in any order: each takes its
		// place by checked_at. A repeat, or one older than the window, is
		// dropped.
		i, dup := slices.BinarySearchFunc(r.Recent, p.CheckedAt, func(x result, t time.Time) int { return x.At.Compare(t) })
		if dup || (i == 0 && len(r.Recent) >= d.cfg.Window) {
			return false, nil
		}
		r.Target = p.Target
		r.Recent = slices.Insert(r.Recent, i, res)
		if over := len(r.Recent) - d.cfg.Window; over > 0 {
			r.Recent = r.Recent[over:]
		}
		newest := r.Recent[len(r.Recent)-1]
		// Judged on the newest state; published before the record is
		// written, so a failed publish is retried when the probe is
		// redelivered.
		switch {
		case r.Since.IsZero() && !newest.OK:
			if start, ok := d.outage(r); ok {
				r.Since = start
				return true, env.Publish(ctx, d.alert(env, a, r, time.Time{}, ""))
			}
		case !r.Since.IsZero() && newest.OK:
			if oks := r.trailing(true); oks >= d.cfg.RecoverAfter {
				end := r.Recent[len(r.Recent)-oks].At
				if err := env.Publish(ctx, d.alert(env, a, r, end, "resolved")); err != nil {
					return false, err
				}
				r.Since = time.Time{}
			}
		}
		return true, nil
	})
	return err
}

// outage reports whether r's recent results are an outage and since when:
// the first failure of the streak, or of the window.
func (d *Detector) outage(r *record) (time.Time, bool) {
	if n := r.trailing(false); n >= d.cfg.Consecutive {
		return r.Recent[len(r.Recent)-n].At, true
	}
	if r.failures() >= d.cfg.WindowFailures {
		for _, x := range r.Recent {
			if !x.OK {
				return x.At, true
			}
		}
	}
	return time.Time{}, false
}

// Sweep resolves the alerts of accounts that are no longer watched.
func (d *Detector) Sweep(ctx context.Context, env *detect.Env) error {
	var firing, gone []string
	err := detect.ScanJSON(ctx, env.Store, keyPrefix, func(k string, r *record) error {
		id, _, _ := strings.Cut(strings.TrimPrefix(k, keyPrefix), "/")
		switch {
		case !env.Known(id):
			gone = append(gone, k)
		case !r.Since.IsZero():
			firing = append(firing, k)
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
	for _, k := range firing {
		id, _, _ := strings.Cut(strings.TrimPrefix(k, keyPrefix), "/")
		a, ok := env.Registry.Account(id)
		if !ok || a.Active() {
			continue
		}
		_, err := detect.Update(ctx, env.Store, k, 0, func(r *record, found bool) (bool, error) {
			if !found || r.Since.IsZero() {
				return false, nil
			}
			if err := env.Publish(ctx, d.alert(env, a, r, env.Now(), "inactive")); err != nil {
				return false, err
			}
			r.Since = time.Time{}
			return true, nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// maxEvidence bounds the probes listed in an alert.
const maxEvidence = 10

func (d *Detector) alert(env *detect.Env, a *registry.Account, r *record, end time.Time, how string) *model.Alert {
	streak, fails := r.trailing(false), r.failures()
	reason := fmt.Sprintf("最近 %d 次探测中 %d 次失败", len(r.Recent), fails)
	if streak >= d.cfg.Consecutive {
		reason = fmt.Sprintf("连续 %d 次探测失败", streak)
	}
	var last result
	for _, x := range r.Recent {
		if !x.OK {
			last = x
		}
	}
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(env.Registry, a.Unit), "Target": r.Target,
		"Since": r.Since, "Reason": reason, "Last": last,
		"RecoveredAt": end, "OKs": r.trailing(true),
	}
	ann := map[string]string{
		model.AnnotationURL:        r.Target,
		model.AnnotationSuggestion: "检查应用、小程序或页面的服务器、域名、证书和应用商店上架状态，恢复后保持监测",
	}
	if d.Describe(ann, how, data) {
		var ev []string
		from := max(0, len(r.Recent)-maxEvidence)
		for _, x := range r.Recent[from:] {
			mark := "✗"
			if x.OK {
				mark = "✓"
			}
			ev = append(ev, fmt.Sprintf("%s %s %s", x.At.In(calendar.Shanghai).Format("01-02 15:04"), mark, x.Text()))
		}
		ann[model.AnnotationEvidence] = "最近探测：" + strings.Join(ev, "；")
	}
	labels := alerttext.AccountLabels(env.Registry, a, model.CategoryAccountUnavailable)
	labels[LabelTarget] = r.Target
	if !end.IsZero() && end.Before(r.Since) {
		end = r.Since
	}
	return &model.Alert{Labels: labels, Annotations: ann, StartsAt: r.Since, EndsAt: end}
}
