package detecttest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/plugin"
)

// moduleRoot is the module's root seen from a detector's folder, where the
// files a sample names are found.
const moduleRoot = "../../../.."

// ReadmeSample holds the README of the detector name, in the current
// folder, to the code: its first ```yaml block is a govwatch.yaml that
// config.Load accepts, whose analyzer.detectors.<name> section holds the
// detector's defaults and whose texts are the detector's templates, every
// one of them, as the code has them. It returns the decoded section.
func ReadmeSample(t *testing.T, name string) config.DetectorConfig {
	t.Helper()
	const path = "README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "```yaml\n")
	if start < 0 {
		t.Fatalf("%s: no ```yaml block", path)
	}
	text = text[start+len("```yaml\n"):]
	end := strings.Index(text, "```")
	if end < 0 {
		t.Fatalf("%s: unterminated ```yaml block", path)
	}
	text = text[:end]
	l, err := config.LoadBytes(path, []byte(text), moduleRoot)
	if err != nil {
		t.Fatalf("%s: the sample does not load: %v", path, err)
	}
	spec, ok := plugin.Lookup(plugin.Detector, name)
	if !ok {
		t.Fatalf("no detector %q registered", name)
	}
	var dc *config.DetectorConfig
	for i := range l.Detectors {
		if l.Detectors[i].Name == name {
			dc = &l.Detectors[i]
		}
	}
	if dc == nil {
		t.Fatalf("%s: the sample has no analyzer.detectors.%s", path, name)
	}
	if spec.Config != nil {
		want := conf.Describe(spec.Config())
		got := conf.Describe(dc.Config)
		for i := range want {
			w := want[i].Default
			if strings.HasPrefix(want[i].Type, "file") && w != "" {
				w, _ = filepath.Abs(filepath.Join(moduleRoot, w))
			}
			if i >= len(got) || got[i].Default != w {
				t.Errorf("%s: %s is not the default %q", path, want[i].Key, want[i].Default)
			}
		}
	}
	// The texts, as written, are the templates.
	var doc struct {
		Analyzer struct {
			Detectors map[string]struct {
				Texts map[string]string `yaml:"texts"`
			} `yaml:"detectors"`
		} `yaml:"analyzer"`
	}
	if err := conf.CheckAliases(path, []byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	texts := doc.Analyzer.Detectors[name].Texts
	for tmpl, body := range spec.Templates {
		got, ok := texts[tmpl]
		switch {
		case !ok:
			t.Errorf("%s: the sample's texts lack the template %s", path, tmpl)
		case got != body:
			t.Errorf("%s: texts.%s is not the template in the code:\n got %q\nwant %q", path, tmpl, got, body)
		}
	}
	return *dc
}

// LoadSection loads a govwatch.yaml, written into dir, whose
// analyzer.detectors section is detectors (indented as its children), as
// config.Load does; line 4 of the file is the first line of detectors.
func LoadSection(t *testing.T, dir, detectors string) (*config.Loaded, error) {
	t.Helper()
	p := filepath.Join(dir, "govwatch.yaml")
	body := "data_dir: data\nanalyzer:\n  detectors:\n" + detectors
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return config.Load(p)
}

// WantProblems fails unless err holds every one of want, each a problem
// written after the file name ("govwatch.yaml:4: analyzer.detectors.…").
func WantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the config loaded; want %d problems", len(want))
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("problems lack %q; got:\n%v", w, err)
		}
	}
}

// SettingsProblems fails unless config.Load refuses a govwatch.yaml whose
// analyzer.detectors section is detectors (see LoadSection: line 4 of the
// file is its first line) with every one of want (see WantProblems).
func SettingsProblems(t *testing.T, detectors string, want ...string) {
	t.Helper()
	_, err := LoadSection(t, t.TempDir(), detectors)
	WantProblems(t, err, want...)
}
