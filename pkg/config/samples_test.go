package config_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	_ "github.com/govwatch/govwatch/pkg/collect/source/all"
	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/config"
	_ "github.com/govwatch/govwatch/pkg/notify/channel/all"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// moduleRoot is where plugin folders and the files samples name are found.
const moduleRoot = "../.."

var envKey = regexp.MustCompile(`(?m)\b\w*_env:\s*"?([A-Za-z_][A-Za-z0-9_]*)"?`)

// TestPluginReadmeSamples holds every registered plugin of every kind to
// one rule: its README's first ```yaml block is a govwatch.yaml that
// config.Load accepts, that shows the plugin, and that names its secrets by
// environment variable (set here) and only files of the repository.
func TestPluginReadmeSamples(t *testing.T) {
	n := 0
	for _, kind := range plugin.Kinds {
		for _, s := range plugin.All(kind) {
			if strings.HasPrefix(s.Name, "test") {
				continue // the plugins of this package's own tests
			}
			n++
			t.Run(string(kind)+"/"+s.Name, func(t *testing.T) {
				readme := filepath.Join(moduleRoot, s.Dir, "README.md")
				text, err := config.ReadmeSample(readme)
				if err != nil {
					t.Fatalf("every plugin has a README with a sample: %v", err)
				}
				for _, m := range envKey.FindAllStringSubmatch(text, -1) {
					t.Setenv(m[1], "sample-secret-0123456789abcdef")
				}
				if _, err := config.LoadBytes(readme, []byte(text), moduleRoot); err != nil {
					t.Errorf("the sample of %s does not load:\n%v", readme, err)
				}
				if !strings.Contains(text, s.Name+":") && !strings.Contains(text, "type: "+s.Name) {
					t.Errorf("the sample of %s does not show the %s %s", readme, s.Name, kind)
				}
			})
		}
	}
	t.Logf("%d plugin samples checked", n)
}

// TestPluginKeysDocumented: the reference is generated from the plugins'
// config types, so every key they have says what it does.
func TestPluginKeysDocumented(t *testing.T) {
	for _, kind := range plugin.Kinds {
		for _, s := range plugin.All(kind) {
			var fields []conf.Field
			if s.Config != nil {
				fields = append(fields, conf.Describe(s.Config())...)
			}
			if s.Account != nil {
				fields = append(fields, conf.Describe(s.Account())...)
			}
			for _, f := range fields {
				if strings.TrimSpace(f.Doc) == "" {
					t.Errorf("%s %s: key %s has no doc tag", kind, s.Name, f.Key)
				}
			}
			if s.Summary == "" && !strings.HasPrefix(s.Name, "test") {
				t.Errorf("%s %s has no summary", kind, s.Name)
			}
		}
	}
}

// TestCoreKeysDocumented: the keys of the file's own layout say what they
// do in the reference too, as the plugins' keys must.
func TestCoreKeysDocumented(t *testing.T) {
	n := 0
	for _, f := range conf.Describe(config.Default()) {
		n++
		if strings.TrimSpace(f.Doc) == "" {
			t.Errorf("key %s has no doc tag", f.Key)
		}
	}
	if n < 100 {
		t.Fatalf("described %d keys of the file; the layout has more", n)
	}
}
