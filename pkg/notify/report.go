package notify

import (
	"fmt"
	"strings"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/report"
)

// reporter renders the upstream report (上报) of an incident, naming units
// and people as the registry knows them.
type reporter struct {
	tmpl *report.Upstream
	dir  *escalate.Directory
	log  *zap.Logger
}

// render renders the upstream report of r; "" when the template fails,
// which is logged.
func (rp *reporter) render(r *Record, reason string) string {
	a := r.Alert
	inc := &report.Incident{
		Veto: r.Veto, Category: a.Name(), CategoryName: model.CategoryName(a.Name()),
		Severity: a.Labels[model.LabelSeverity], SeverityName: model.SeverityName(a.Labels[model.LabelSeverity]),
		Summary: a.Annotations[model.AnnotationSummary], Description: a.Annotations[model.AnnotationDescription],
		Evidence: a.Annotations[model.AnnotationEvidence], URL: a.Annotations[model.AnnotationURL],
		AccountName:  firstNonEmpty(a.Labels[model.LabelAccountName], a.Labels[model.LabelAccountID]),
		PlatformName: model.PlatformName(a.Labels[model.LabelPlatform]),
		UnitName:     rp.unitName(a.Labels[model.LabelUnit], a.Annotations[model.AnnotationUnitName]),
		FirstSeen:    r.FirstSeen, Reason: reason,
	}
	var to []string
	for _, u := range r.Superiors {
		to = append(to, rp.unitName(u, ""))
	}
	inc.ToUnits = strings.Join(to, "、")
	for _, p := range r.Pages {
		inc.Pages = append(inc.Pages, report.Page{At: p.At, Who: rp.describe(p.People), Why: p.Why})
	}
	if r.Ack != nil {
		inc.Acked, inc.AckAt, inc.AckBy, inc.AckNote = true, r.Ack.At, r.Ack.By, r.Ack.Note
	}
	if r.Status == StatusResolved {
		inc.Resolved, inc.ResolvedAt = true, r.ResolvedAt
		if r.Resolution != nil {
			inc.ResolvedBy, inc.ResolutionNote = r.Resolution.By, r.Resolution.Note
		} else {
			inc.ResolutionNote = firstNonEmpty(a.Annotations["resolution"], "监测发现问题已消除")
		}
	}
	text, err := rp.tmpl.Render(inc)
	if err != nil {
		rp.log.Error("upstream report", zap.String("fingerprint", r.Fingerprint), zap.Error(err))
		return ""
	}
	return text
}

func (rp *reporter) unitName(id, fallback string) string {
	if reg := rp.dir.Registry; reg != nil {
		if u, ok := reg.Unit(id); ok && u.Name != "" {
			return u.Name
		}
	}
	return firstNonEmpty(fallback, id)
}

// describe writes people as 王磊（值班人员，福州市人民政府办公厅）.
func (rp *reporter) describe(people []channel.Person) string {
	var parts []string
	for _, p := range people {
		parts = append(parts, fmt.Sprintf("%s（%s，%s）", firstNonEmpty(p.Name, p.Mobile, p.Email), p.Role, rp.unitName(p.Unit, "")))
	}
	return strings.Join(parts, "、")
}

func names(people []channel.Person) string {
	var out []string
	for _, p := range people {
		out = append(out, firstNonEmpty(p.Name, p.Mobile, p.Email)+"("+p.Role+")")
	}
	return strings.Join(out, ", ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}
