// Package plugin is the catalogue of govwatch's plugins: the sources that
// collect, the detectors that judge and the channels that deliver. Each
// plugin is a folder holding its config type, its checks, its constructor,
// its templates, its README and its tests, and registers itself by name in
// init(); the built-in set is one file of blank imports per kind
// (pkg/collect/source/all, pkg/analyze/detect/all, pkg/notify/channel/all).
//
// A plugin's life, the same for every kind:
//
//  1. Register: in init(), the kind's Register (source.Register,
//     detect.Register, channel.Register) records the plugin's Spec here and
//     its typed constructor with the kind.
//  2. Decode: pkg/config hands the plugin's section of the file to a fresh
//     value of its config type holding its defaults (Spec.Config), decoded
//     strictly: unknown keys, wrong types, unreadable files and unset
//     environment variables are problems with file:line.
//  3. Validate: the config's Validate method reports what is wrong with the
//     values, each at its path, and may read what they name (secret files,
//     templates, lexicons) so that `govwatch config check` refuses what the
//     daemon would refuse. A source also validates each account's options.
//  4. New: the daemon calls the kind's constructor with the validated
//     config and the shared dependencies the kind declares (store, clock,
//     logger, metrics, HTTP client …). New does not re-check the config; it
//     fails only on what cannot be known before running.
//
// The reference of every key (`govwatch config reference`,
// docs/config-reference.md) is generated from the specs registered here.
package plugin

import (
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Kind is a kind of plugin.
type Kind string

// The kinds.
const (
	Source   Kind = "source"
	Detector Kind = "detector"
	Channel  Kind = "channel"
)

// Kinds lists the kinds in the order the reference documents them.
var Kinds = []Kind{Source, Detector, Channel}

// Section is where a kind's plugins are configured in the file; a
// channel's section is a key of a receiver, a source's account options are
// the account's source block.
func (k Kind) Section(name string) string {
	switch k {
	case Source:
		return "collector.sources." + name
	case Detector:
		return "analyzer.detectors." + name
	case Channel:
		return "notifier.receivers[]." + name
	}
	return string(k) + "." + name
}

// Spec is what the configuration and the reference know of a plugin. The
// kinds' Register functions fill it from their typed plugin descriptions.
type Spec struct {
	Kind Kind
	// Name is the key the plugin is configured under, and a metric label.
	Name string
	// Summary is one English line for the reference.
	Summary string
	// Dir is the plugin's folder relative to the module root, where its
	// README lives; Register sets it from its caller.
	Dir string

	// Config returns a new value (a pointer) of the plugin's config type
	// holding its defaults; nil when the plugin has no settings.
	Config func() any
	// Validate checks a decoded config (a value Config returned). It may
	// be nil.
	Validate func(cfg any, c *Check)

	// Account returns a new value of a source's per-account options; nil
	// for other kinds.
	Account func() any
	// ValidateAccount checks a decoded account's options against the
	// source's config (nil when it has none).
	ValidateAccount func(opts, cfg any, c *AccountCheck)

	// DefaultOn says whether a detector runs when its section does not
	// say enabled.
	DefaultOn bool
	// Categories are what a detector raises.
	Categories []model.Category
	// Templates are a detector's default alert texts, which its section's
	// texts may replace, by name.
	Templates map[string]string
}

// Check is what a plugin's Validate is given: where to report problems,
// with paths relative to its section, and what it may check against.
type Check struct {
	*conf.Report
	// Registry is the registry being configured; nil while the registry
	// has problems of its own.
	Registry *registry.Registry
	// Used is whether any account is collected by this source (sources only).
	Used bool
	// Dir is the folder relative paths of the file are resolved against
	// (the config file's), for a plain string path whose absence may be
	// no error; conf.File values are resolved already.
	Dir string
}

// AccountCheck is what a source's ValidateAccount is given: a report at
// the account's source block and the account it belongs to.
type AccountCheck struct {
	*conf.Report
	ID       string
	Platform string
	Unit     string
}

var (
	mu    sync.RWMutex
	specs = map[Kind]map[string]*Spec{}
)

// Register adds s to the catalogue, recording as its folder the directory
// of the file that called the kind's Register (skip frames above Register's
// caller). Registering a name twice in a kind is a programming error and
// panics.
func Register(s Spec, skip int) {
	if s.Name == "" || s.Kind == "" {
		panic("plugin: Register needs a kind and a name")
	}
	if _, file, _, ok := runtime.Caller(skip + 1); ok && s.Dir == "" {
		s.Dir = moduleDir(file)
	}
	mu.Lock()
	defer mu.Unlock()
	if specs[s.Kind] == nil {
		specs[s.Kind] = map[string]*Spec{}
	}
	if _, dup := specs[s.Kind][s.Name]; dup {
		panic(fmt.Sprintf("plugin: %s %q registered twice", s.Kind, s.Name))
	}
	for _, c := range s.Categories {
		model.RegisterCategory(c)
	}
	specs[s.Kind][s.Name] = &s
}

// moduleDir turns the path of a source file into its folder relative to
// the module root ("pkg/collect/source/rss").
func moduleDir(file string) string {
	dir := filepath.ToSlash(filepath.Dir(file))
	if i := strings.LastIndex(dir, "/pkg/"); i >= 0 {
		return dir[i+1:]
	}
	return dir
}

// Lookup returns the spec of the plugin of kind named name.
func Lookup(kind Kind, name string) (*Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[kind][name]
	return s, ok
}

// Names lists the registered plugins of kind, sorted.
func Names(kind Kind) []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(specs[kind]))
	for n := range specs[kind] {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// All returns the specs of kind, sorted by name.
func All(kind Kind) []*Spec {
	var out []*Spec
	for _, n := range Names(kind) {
		s, _ := Lookup(kind, n)
		out = append(out, s)
	}
	return out
}

// List writes the names of kind as "a, b or c", for problems that name
// what could have been meant.
func List(kind Kind) string {
	names := Names(kind)
	switch len(names) {
	case 0:
		return "none registered"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
