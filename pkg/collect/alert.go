package collect

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// defaultTexts word system.source_down for the people on duty; Options.Texts
// replaces any of them.
var defaultTexts = map[string]string{
	"summary":     `{{.Account.Name}}（{{platform .Account.Platform}}）采集连续失败 {{.Failures}} 次`,
	"description": `{{.Unit}}的账号“{{.Account.Name}}”自 {{cst .Since}} 起无法采集，恢复前该账号的发布无法被检查。`,
	"resolved":    `{{.Account.Name}}（{{platform .Account.Platform}}）采集已恢复`,
}

const sourceDownSuggestion = "检查采集源地址和上游服务（如 RSSHub）是否可用；账号如已迁移或关停，请更新账号登记"

// sourceDown publishes system.source_down for account a: firing (end zero)
// while it keeps failing, resolved at end. startsAt is the first failure of
// the run, which every replica reads from the same record, so repeats from
// any replica are one alert and the bus drops the duplicates.
func (c *Collector) sourceDown(ctx context.Context, a *registry.Account, r *pace.Record, since, end time.Time) {
	if c.o.Alerts == nil {
		return
	}
	data := map[string]any{
		"Account": a, "Unit": alerttext.UnitName(c.o.Registry, a.Unit),
		"Failures": r.Failures, "Since": since, "Error": r.LastError,
	}
	ann := map[string]string{
		model.AnnotationURL:        source.URL(c.o.Sources[a.Source.Type], a),
		model.AnnotationSuggestion: sourceDownSuggestion,
	}
	result := "firing"
	if end.IsZero() {
		ann[model.AnnotationSummary] = c.texts.Render("summary", data)
		ann[model.AnnotationDescription] = c.texts.Render("description", data)
		ann[model.AnnotationEvidence] = r.LastError
	} else {
		ann[model.AnnotationSummary] = c.texts.Render("resolved", data)
		result = "resolved"
	}
	alert := &model.Alert{
		Labels:      alerttext.AccountLabels(c.o.Registry, a, model.CategorySystemSourceDown),
		Annotations: ann,
		StartsAt:    since.UTC(),
		EndsAt:      end.UTC(),
	}
	if end.IsZero() {
		alert.EndsAt = time.Time{}
	}
	if _, err := c.o.Alerts.PublishAlert(ctx, alert); err != nil {
		c.m.alerts.WithLabelValues("error").Inc()
		c.o.Log.Warn("publish source_down", zap.String("account_id", a.ID), zap.String("state", result), zap.Error(err))
		return
	}
	c.m.alerts.WithLabelValues(result).Inc()
	if end.IsZero() {
		r.Alerted = true
	}
}
