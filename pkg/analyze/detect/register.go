package detect

import (
	"fmt"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// Deps are what a detector may use besides its config; the analyzer and
// `govwatch replay` give every detector the same.
type Deps struct {
	Clock   clockwork.Clock
	Log     *zap.Logger
	Metrics prometheus.Registerer
	// Lexicons is the analyzer's content scanner (analyzer.lexicons),
	// reloaded while running.
	Lexicons *textscan.Live
	// Texts are the detector's alert templates: its Templates with the
	// replacements of its section's texts.
	Texts *alerttext.Texts
}

// Detector is what a plugin's New returns: one or more of PostDetector,
// SnapshotDetector, ProbeDetector and Sweeper.
type Detector interface {
	Name() string
}

// Plugin describes a detector to Register. C is its config type (the keys
// of analyzer.detectors.<name> besides enabled and texts), with yaml and
// doc tags; (*C).Validate, when defined, checks it (see pkg/plugin).
type Plugin[C any] struct {
	// Name is the detector's key under analyzer.detectors, e.g. "spike".
	Name    string
	Summary string
	// Defaults returns the config with its defaults; nil: the zero value.
	Defaults func() C
	// DefaultOn runs the detector when its section does not say enabled.
	DefaultOn bool
	// Categories are the categories the detector raises, declared here
	// with their Chinese names, default severities and veto flags.
	Categories []model.Category
	// Templates are the detector's default alert texts (pkg/alerttext).
	Templates map[string]string
	// New builds the detector from its validated config; Of and OrError
	// adapt a detector's own constructor. A detector embedding Templated
	// then gets the deployment's texts (Deps.Texts).
	New func(c *C, d Deps) (Detector, error)
}

// Of adapts a constructor from the config alone, the usual New of a
// detector, to Plugin.New.
func Of[C any, D Detector](newDetector func(C) D) func(*C, Deps) (Detector, error) {
	return func(c *C, _ Deps) (Detector, error) { return newDetector(*c), nil }
}

// OrError adapts a constructor from the config alone that may fail, e.g.
// on a lexicon it reads, to Plugin.New.
func OrError[C any, D Detector](newDetector func(C) (D, error)) func(*C, Deps) (Detector, error) {
	return func(c *C, _ Deps) (Detector, error) {
		det, err := newDetector(*c)
		if err != nil {
			return nil, err
		}
		return det, nil
	}
}

// Templated holds a detector's alert texts; embed it so that Register
// gives the detector the deployment's texts.
type Templated struct {
	texts *alerttext.Texts
}

// DefaultTexts returns a Templated of the detector's default templates, for
// its constructor; they are replaced by the deployment's when built by New.
func DefaultTexts(templates map[string]string) Templated {
	return Templated{texts: alerttext.MustTexts(templates)}
}

// Render renders the template name (see alerttext.Texts.Render).
func (t *Templated) Render(name string, data any) string { return t.texts.Render(name, data) }

// Describe writes an alert's texts into ann, rendered from data. While the
// alert fires (ending is ""), they are the templates summary and
// description; once it has ended, the summary alone is the template named
// ending ("resolved", "inactive", …). It reports whether the alert fires,
// for the annotations only a firing alert carries (evidence, suggestion).
func (t *Templated) Describe(ann map[string]string, ending string, data any) (firing bool) {
	if ending != "" {
		ann[model.AnnotationSummary] = t.Render(ending, data)
		return false
	}
	ann[model.AnnotationSummary] = t.Render("summary", data)
	ann[model.AnnotationDescription] = t.Render("description", data)
	return true
}

// DescribeUntil is Describe for an alert whose one ending is the template
// resolved: the alert fires while end is zero.
func (t *Templated) DescribeUntil(ann map[string]string, end time.Time, data any) (firing bool) {
	if end.IsZero() {
		return t.Describe(ann, "", data)
	}
	return t.Describe(ann, "resolved", data)
}

func (t *Templated) useTexts(texts *alerttext.Texts) { t.texts = texts }

// templated is a detector embedding Templated.
type templated interface{ useTexts(*alerttext.Texts) }

var (
	mu       sync.RWMutex
	builders = map[string]func(cfg any, d Deps) (Detector, error){}
)

// Register makes a detector known by name; call it from the detector's
// init(). It panics when the name is taken.
func Register[C any](p Plugin[C]) {
	config, validate := plugin.Configure(p.Defaults)
	plugin.Register(plugin.Spec{
		Kind: plugin.Detector, Name: p.Name, Summary: p.Summary, Config: config, Validate: validate,
		DefaultOn: p.DefaultOn, Categories: p.Categories, Templates: p.Templates,
	}, 1)
	mu.Lock()
	defer mu.Unlock()
	builders[p.Name] = func(cfg any, d Deps) (Detector, error) {
		det, err := p.New(plugin.Config[C](cfg), d)
		if t, ok := det.(templated); ok && err == nil {
			t.useTexts(d.TextsOr(p.Templates))
		}
		return det, err
	}
}

// New builds the detector name from its decoded and validated config.
func New(name string, cfg any, d Deps) (Detector, error) {
	mu.RLock()
	build, ok := builders[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown detector %q (%s)", name, plugin.List(plugin.Detector))
	}
	if d.Clock == nil {
		d.Clock = clockwork.NewRealClock()
	}
	if d.Log == nil {
		d.Log = zap.NewNop()
	}
	det, err := build(cfg, d)
	if err != nil {
		return nil, fmt.Errorf("detector %s: %w", name, err)
	}
	return det, nil
}

// TextsOr returns the deployment's templates, or the defaults when the
// detector was built without them (tests, a detector built by hand).
func (d Deps) TextsOr(defaults map[string]string) *alerttext.Texts {
	if d.Texts != nil {
		return d.Texts
	}
	return alerttext.MustTexts(defaults)
}
