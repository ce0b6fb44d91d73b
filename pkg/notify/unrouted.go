package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
)

// Labels of a system.unrouted alert that name the alert that reached nobody.
const (
	LabelSourceUnit        = "source_unit"
	LabelSourceAlertname   = "source_alertname"
	LabelSourceFingerprint = "source_fingerprint"
	LabelSourceIncident    = "source_incident"
)

// defaultUnroutedTexts word system.unrouted for the people on duty of the
// supervising unit; Options.UnroutedTexts replaces any of them. The
// templates see unroutedData.
var defaultUnroutedTexts = map[string]string{
	"summary": `{{.Unit}}的告警无人接收：{{category .Alertname}}`,
	"description": `{{.Unit}}{{with .Account}}的账号“{{.}}”{{end}}于 {{cst .Since}} 发生“{{category .Alertname}}”告警` +
		`{{with .Summary}}（{{.}}）{{end}}，但该单位在值班表中没有值班组，单位登记中也没有可通知的第一责任人，` +
		`这条告警没有通知到任何人。请{{.Parent}}督促处置。`,
	"suggestion": `在值班表（notifier.roster）中为{{.Unit}}添加值班组，或在单位登记中补充第一责任人的手机号、邮箱或企业微信账号；` +
		`补充后该单位的告警会直接通知到人。原告警“{{category .Alertname}}”仍需处置。`,
	"resolved": `{{.Unit}}的“{{category .Alertname}}”告警已解除，无人接收告警随之解除`,
}

// unroutedTemplates are the templates a system.unrouted alert is worded with.
var unroutedTemplates = []string{"summary", "description", "suggestion", "resolved"}

// unroutedData is what the templates of system.unrouted see.
type unroutedData struct {
	Unit      string    // the name of the unit whose alert reached nobody
	Parent    string    // the name of the unit the alert goes to instead
	Alertname string    // the category of the alert that reached nobody
	Account   string    // its account's name, if any
	Summary   string    // its summary
	Since     time.Time // when its incident opened
}

// unroutedLabels are the labels of the system.unrouted alert an incident
// of r's alert raises when its first notification reaches nobody: it goes
// to the supervising unit of the alert's unit (the unit itself at the top
// of the chain or outside the registry) and names the alert's unit,
// category, fingerprint and incident, so that each incident raises one.
// It returns nil for an alert that names no unit, and for a system.unrouted
// alert, which raises no other.
func unroutedLabels(dir *escalate.Directory, r *Record) model.LabelSet {
	unit := r.Alert.Labels[model.LabelUnit]
	if unit == "" || r.Alert.Name() == model.CategorySystemUnrouted {
		return nil
	}
	to := unit
	if dir.Registry != nil {
		if u, ok := dir.Registry.Unit(unit); ok && u.Parent != "" {
			to = u.Parent
		}
	}
	return model.LabelSet{
		model.LabelAlertname:   model.CategorySystemUnrouted,
		model.LabelSeverity:    model.DefaultSeverity(model.CategorySystemUnrouted),
		model.LabelUnit:        to,
		LabelSourceUnit:        unit,
		LabelSourceAlertname:   r.Alert.Name(),
		LabelSourceFingerprint: r.Fingerprint,
		LabelSourceIncident:    strconv.Itoa(r.Incident),
	}
}

func unroutedKey(fp string, incident int, status string) string {
	return fmt.Sprintf("notifier/unrouted/%s/%d/%s", fp, incident, status)
}

// unrouter is the stage that turns an incident which paged nobody into an
// alert of its own: nobody learns of a problem that no person was told
// of, so the supervising unit's duty and the route's root receiver hear
// that it happened and who must fix the roster or the registry.
//
// The escalation's start marks the incident (Record.Unrouted) in the
// lifecycle's write; this stage, after the silence and inhibition stages
// (a muted alert pages nobody on purpose), raises the system.unrouted alert
// through the notifier's own pipeline, once per incident under a claim in
// the store (claim, handle, settle), and resolves it once the incident
// resolves. It acts on every delivery of a marked record, not only on the
// move that opened it: a replica dying between the lifecycle's write and
// the raise leaves the claim unsettled, and the next delivery (the bus's
// redelivery, a tick) raises it. Handling the alert again is harmless: its
// lifecycle does not move twice and the notification log does not send
// twice.
type unrouter struct {
	claims   *claims
	texts    *alerttext.Texts
	reporter *reporter // names units as the registry knows them
	clock    clockwork.Clock
	log      *zap.Logger
	m        *metrics
	// handle runs an alert through the whole pipeline (Notifier.Handle).
	handle func(ctx context.Context, a *model.Alert) error
}

func (u *unrouter) Exec(ctx context.Context, d *delivery) (*delivery, error) {
	r := d.rec
	if r.Unrouted == nil {
		return d, nil
	}
	status := r.notifyStatus()
	if status == StatusResolved {
		// Only a system.unrouted that was raised is resolved.
		v, ok, err := u.claims.value(ctx, unroutedKey(r.Fingerprint, r.Incident, StatusFiring))
		switch {
		case err != nil:
			return nil, err
		case !ok || v == logFailed:
			return d, nil
		case v != logSent:
			// Being raised elsewhere: the bus brings the resolution
			// again once it is.
			return nil, fmt.Errorf("unrouted alert of %s is %w", r.Fingerprint, errSendingElsewhere)
		}
	}
	key := unroutedKey(r.Fingerprint, r.Incident, status)
	won, err := u.claims.claim(ctx, key)
	switch {
	case errors.Is(err, errSendingElsewhere) && status == StatusFiring:
		// Another replica raises it; the source's own notifications
		// need not wait for that.
		return d, nil
	case err != nil:
		return nil, err
	case !won:
		return d, nil // raised already
	}
	if err := u.handle(ctx, u.alert(r, status)); err != nil {
		if rerr := u.claims.release(ctx, key); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("unrouted alert of %s: %w", r.Fingerprint, err)
	}
	if err := u.claims.settle(ctx, key, logSent); err != nil {
		return nil, err
	}
	if status == StatusFiring {
		u.m.unrouted.WithLabelValues(r.Alert.Name()).Inc()
		u.log.Warn("alert paged nobody: raised system.unrouted", zap.String("fingerprint", r.Fingerprint),
			zap.String("alertname", r.Alert.Name()), zap.String("unit", r.Alert.Labels[model.LabelUnit]),
			zap.String("to_unit", r.Unrouted[model.LabelUnit]), zap.Int("incident", r.Incident))
	}
	return d, nil
}

// alert is r's system.unrouted alert, firing or resolved as status says.
// It starts when r's incident opened, so every replica and every restart
// raises the same alert.
func (u *unrouter) alert(r *Record, status string) *model.Alert {
	src := r.Alert
	data := unroutedData{
		Unit:      u.reporter.unitName(src.Labels[model.LabelUnit], src.Annotations[model.AnnotationUnitName]),
		Parent:    u.reporter.unitName(r.Unrouted[model.LabelUnit], ""),
		Alertname: src.Name(),
		Account:   firstNonEmpty(src.Labels[model.LabelAccountName], src.Labels[model.LabelAccountID]),
		Summary:   src.Annotations[model.AnnotationSummary],
		Since:     r.FirstSeen,
	}
	a := &model.Alert{
		Labels: copyMap(r.Unrouted),
		Annotations: map[string]string{
			model.AnnotationUnitName: data.Parent,
		},
		StartsAt: r.FirstSeen,
	}
	if status == StatusResolved {
		now := u.clock.Now()
		a.EndsAt = r.ResolvedAt
		if a.EndsAt.IsZero() || a.EndsAt.After(now) {
			a.EndsAt = now
		}
		a.Annotations[model.AnnotationSummary] = u.texts.Render("resolved", data)
		return a
	}
	a.Annotations[model.AnnotationSummary] = u.texts.Render("summary", data)
	a.Annotations[model.AnnotationDescription] = u.texts.Render("description", data)
	a.Annotations[model.AnnotationSuggestion] = u.texts.Render("suggestion", data)
	if url := src.Annotations[model.AnnotationURL]; url != "" {
		a.Annotations[model.AnnotationURL] = url
	}
	return a
}

// unroutedTexts builds the templates of system.unrouted: the defaults with
// those of over in their place.
func unroutedTexts(over map[string]string) (*alerttext.Texts, error) {
	defs := map[string]string{}
	for k, v := range defaultUnroutedTexts {
		defs[k] = v
	}
	for k, v := range over {
		if _, ok := defaultUnroutedTexts[k]; !ok {
			return nil, fmt.Errorf("unrouted texts: no template %q (one of %v)", k, unroutedTemplates)
		}
		defs[k] = v
	}
	t, err := alerttext.NewTexts(defs)
	if err != nil {
		return nil, fmt.Errorf("unrouted texts: %w", err)
	}
	return t, nil
}
