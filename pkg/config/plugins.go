package config

import (
	"maps"
	"slices"
	"strings"

	"github.com/govwatch/govwatch/pkg/alerttext"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/plugin"
	"github.com/govwatch/govwatch/pkg/registry"
)

// The file's layout holds each plugin's section as YAML (conf.Section)
// and knows none of their keys: the functions here hand every section to
// the registered plugin that owns it (pkg/plugin), strictly, and run its
// Validate. What they decode is what Loaded gives the daemons.

// PluginConfig is one plugin's decoded and validated section.
type PluginConfig struct {
	Name string
	// Config is the value the plugin's Spec.Config made, decoded from its
	// section; nil for a plugin without settings.
	Config any
}

// DetectorConfig is a detector's section of analyzer.detectors: whether it
// runs, its own keys, and its alert texts.
type DetectorConfig struct {
	PluginConfig
	Enabled bool
	// Texts are the detector's templates, its defaults with the section's
	// texts replacing them; nil for a detector without templates.
	Texts *alerttext.Texts
}

// detectorCommon are the keys every detector's section has.
type detectorCommon struct {
	Enabled *bool             `yaml:"enabled" doc:"Runs the detector; each detector has its own default."`
	Texts   map[string]string `yaml:"texts" doc:"Replaces alert templates (text/template, Chinese), by template name; the detector's README lists them."`
}

// decodeSettings decodes the sections found under base (collector.sources)
// into the config of every registered plugin of kind that has settings; a
// plugin without a section keeps its defaults. A section no plugin owns is
// a problem.
func decodeSettings(d *conf.Decoder, kind plugin.Kind, base string, sections map[string]conf.Section) map[string]any {
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		s, ok := plugin.Lookup(kind, name)
		switch {
		case !ok:
			d.Problem(conf.Join(base, name), "unknown %s %q (%s)", kind, name, plugin.List(kind))
		case s.Config == nil:
			d.Problem(conf.Join(base, name), "the %s %s has no settings", name, kind)
		}
	}
	out := map[string]any{}
	for _, s := range plugin.All(kind) {
		if s.Config == nil {
			continue
		}
		cfg := s.Config()
		d.Section(sections[s.Name], conf.Join(base, s.Name), cfg)
		out[s.Name] = cfg
	}
	return out
}

// validateSettings runs the Validate of every plugin of kind in cfgs;
// used tells which sources accounts name.
func validateSettings(d *conf.Decoder, kind plugin.Kind, base string, cfgs map[string]any, reg *registry.Registry, used map[string]bool) {
	for _, name := range slices.Sorted(maps.Keys(cfgs)) {
		s, ok := plugin.Lookup(kind, name)
		if !ok || s.Validate == nil {
			continue
		}
		s.Validate(cfgs[name], &plugin.Check{Report: d.Report(conf.Join(base, name)), Registry: reg, Used: used[name]})
	}
}

// decodeDetectors decodes analyzer.detectors: every registered detector,
// with its section when there is one.
func decodeDetectors(d *conf.Decoder, base string, sections map[string]conf.Section) []DetectorConfig {
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		if _, ok := plugin.Lookup(plugin.Detector, name); !ok {
			d.Problem(conf.Join(base, name), "unknown detector %q (%s)", name, plugin.List(plugin.Detector))
		}
	}
	var out []DetectorConfig
	for _, s := range plugin.All(plugin.Detector) {
		path := conf.Join(base, s.Name)
		sec := sections[s.Name]
		var common detectorCommon
		d.Section(sec.Only("enabled", "texts"), path, &common)
		dc := DetectorConfig{PluginConfig: PluginConfig{Name: s.Name}, Enabled: s.DefaultOn}
		if common.Enabled != nil {
			dc.Enabled = *common.Enabled
		}
		if s.Config != nil {
			dc.Config = s.Config()
			d.Section(sec.Without("enabled", "texts"), path, dc.Config)
		} else {
			d.Section(sec.Without("enabled", "texts"), path, &struct{}{})
		}
		dc.Texts = detectorTexts(d.Report(conf.Join(path, "texts")), s, common.Texts)
		out = append(out, dc)
	}
	return out
}

// detectorTexts merges a section's texts over the detector's templates,
// reporting names it does not have and templates that do not parse.
func detectorTexts(r *conf.Report, s *plugin.Spec, texts map[string]string) *alerttext.Texts {
	if len(s.Templates) == 0 {
		for _, name := range slices.Sorted(maps.Keys(texts)) {
			r.Errorf(name, "the %s detector has no templates", s.Name)
		}
		return nil
	}
	merged := maps.Clone(s.Templates)
	bad := false
	for _, name := range slices.Sorted(maps.Keys(texts)) {
		if _, ok := s.Templates[name]; !ok {
			r.Errorf(name, "unknown template (%s)", strings.Join(slices.Sorted(maps.Keys(s.Templates)), ", "))
			bad = true
			continue
		}
		// Parse each replacement alone to tell which one is wrong.
		if _, err := alerttext.NewTexts(map[string]string{name: texts[name]}); err != nil {
			r.Errorf(name, "%v", err)
			bad = true
			continue
		}
		merged[name] = texts[name]
	}
	if bad {
		return nil
	}
	t, err := alerttext.NewTexts(merged)
	if err != nil {
		r.Errorf("", "%v", err)
		return nil
	}
	return t
}

// validateDetectors runs the Validate of every enabled detector.
func validateDetectors(d *conf.Decoder, base string, ds []DetectorConfig, reg *registry.Registry) {
	for _, dc := range ds {
		s, ok := plugin.Lookup(plugin.Detector, dc.Name)
		if !ok || !dc.Enabled || s.Validate == nil || dc.Config == nil {
			continue
		}
		s.Validate(dc.Config, &plugin.Check{Report: d.Report(conf.Join(base, dc.Name)), Registry: reg, Dir: d.Dir})
	}
}

// decodeChannels decodes the channel keys of one receiver, at path, in
// the order of their names. A key no channel owns is a problem.
func decodeChannels(d *conf.Decoder, path string, sections map[string]conf.Section, known string) []PluginConfig {
	var out []PluginConfig
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		p := conf.Join(path, name)
		s, ok := plugin.Lookup(plugin.Channel, name)
		if !ok {
			d.Problem(p, "unknown key %q (%s, or a channel: %s)", name, known, plugin.List(plugin.Channel))
			continue
		}
		pc := PluginConfig{Name: name}
		if s.Config != nil {
			pc.Config = s.Config()
			d.Section(sections[name], p, pc.Config)
		}
		out = append(out, pc)
	}
	return out
}

// validateChannels runs the Validate of each channel of a receiver.
func validateChannels(d *conf.Decoder, path string, chans []PluginConfig, reg *registry.Registry) {
	for _, pc := range chans {
		s, ok := plugin.Lookup(plugin.Channel, pc.Name)
		if !ok || s.Validate == nil || pc.Config == nil {
			continue
		}
		s.Validate(pc.Config, &plugin.Check{Report: d.Report(conf.Join(path, pc.Name)), Registry: reg})
	}
}

// AccountSource is an account's source block decoded by its source.
type AccountSource struct {
	Type     string
	Interval conf.Duration
	// Options are the source's account options (Spec.Account's value).
	Options any
}

// sourceCommon are the keys of every account's source block that the
// collector reads itself.
type sourceCommon struct {
	Type     string        `yaml:"type" doc:"The source that collects the account: a name under collector.sources, or one without settings."`
	Interval conf.Duration `yaml:"interval" doc:"Poll interval of this account; empty: its tier's."`
}

// decodeAccountSource decodes the source block sec of account a, at path,
// with the options type of the source it names, and validates them
// against that source's settings. ok is false when the block has problems.
func decodeAccountSource(d *conf.Decoder, path string, sec conf.Section, id, platform, unit string, settings map[string]any) (src AccountSource, ok bool) {
	before := len(d.Problems())
	var common sourceCommon
	d.Section(sec.Only("type", "interval"), path, &common)
	src.Type, src.Interval = common.Type, common.Interval
	spec, known := plugin.Lookup(plugin.Source, common.Type)
	switch {
	case sec.IsZero() || common.Type == "":
		d.Problem(conf.Join(path, "type"), "account %q has no source type (one of %s)", id, plugin.List(plugin.Source))
		return src, false
	case !known:
		d.Problem(conf.Join(path, "type"), "unknown source type %q (one of %s)", common.Type, plugin.List(plugin.Source))
		return src, false
	}
	src.Options = spec.Account()
	d.Section(sec.Without("type", "interval"), path, src.Options)
	if len(d.Problems()) > before {
		return src, false
	}
	if spec.ValidateAccount != nil {
		spec.ValidateAccount(src.Options, settings[common.Type], &plugin.AccountCheck{Report: d.Report(path), ID: id, Platform: platform, Unit: unit})
	}
	return src, len(d.Problems()) == before
}
