// Package alerttext builds the parts of an alert about an account that every
// alert producer shares: its labels (category, severity, account, unit,
// region) and its Chinese texts, rendered from templates a deployment can
// replace, with times in Beijing time. The analyzer's detectors and the
// collector's system.source_down use it alike.
package alerttext

import (
	"bytes"
	"text/template"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// AccountLabels are the labels of an alert about account a.
func AccountLabels(reg *registry.Registry, a *registry.Account, category string) model.LabelSet {
	ls := model.LabelSet{
		model.LabelAlertname:   category,
		model.LabelSeverity:    model.DefaultSeverity(category),
		model.LabelAccountID:   a.ID,
		model.LabelAccountName: a.Name,
		model.LabelPlatform:    a.Platform,
		model.LabelUnit:        a.Unit,
	}
	if u, ok := reg.Unit(a.Unit); ok && u.Region != "" {
		ls[model.LabelRegion] = u.Region
	}
	return ls
}

// UnitName returns the unit's name for texts, or its id.
func UnitName(reg *registry.Registry, id string) string {
	if u, ok := reg.Unit(id); ok && u.Name != "" {
		return u.Name
	}
	return id
}

// Texts renders the Chinese texts of alerts from templates that a
// deployment can replace.
type Texts struct {
	t *template.Template
}

// NewTexts parses named templates; each value is a text/template body.
// Templates may call cst (format a time in Beijing time), platform and
// category (Chinese names).
func NewTexts(defs map[string]string) (*Texts, error) {
	t := template.New("").Funcs(template.FuncMap{
		"cst":      func(t time.Time) string { return t.In(calendar.Shanghai).Format("2006-01-02 15:04") },
		"platform": model.PlatformName,
		"category": model.CategoryName,
	})
	for name, body := range defs {
		if _, err := t.New(name).Parse(body); err != nil {
			return nil, err
		}
	}
	return &Texts{t: t}, nil
}

// MustTexts is NewTexts for the built-in templates.
func MustTexts(defs map[string]string) *Texts {
	t, err := NewTexts(defs)
	if err != nil {
		panic(err)
	}
	return t
}

// Render executes the named template; a failing template renders its error,
// so an alert is never lost over its wording.
func (t *Texts) Render(name string, data any) string {
	var b bytes.Buffer
	if err := t.t.ExecuteTemplate(&b, name, data); err != nil {
		return "template " + name + ": " + err.Error()
	}
	return b.String()
}
