package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
)

// loadTexts loads a config whose analyzer section is analyzer.
func loadTexts(t *testing.T, analyzer string) *config.Loaded {
	t.Helper()
	p := filepath.Join(t.TempDir(), "govwatch.yaml")
	body := "data_dir: " + filepath.Join(t.TempDir(), "data") + "\nanalyzer:\n" + analyzer
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// An override of analyzer.texts changes the text the detector emits; the
// templates it does not name keep their defaults.
func TestAnalyzerTextsOverride(t *testing.T) {
	cfg := loadTexts(t, `  texts:
    staleness:
      summary: '{{.Account.Name}} 停更 {{.Days}} 天（自定义）'
`)
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	ds, err := AnalyzerDetectors(cfg, clockwork.NewFakeClock(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var stale any
	for _, s := range ds.Sweepers {
		if s.Name() == "staleness" {
			stale = s
		}
	}
	c, err := detecttest.Load("../analyze/detect/staleness/testcases/next-post-resolves")
	if err != nil {
		t.Fatal(err)
	}
	var fired *model.Alert
	for _, p := range detecttest.Drive(t, c, stale) {
		if p.Alert.Labels[model.LabelAlertname] == "account.stale" && p.Alert.EndsAt.IsZero() {
			fired = &p.Alert
			break
		}
	}
	if fired == nil {
		t.Fatal("no account.stale fired")
	}
	if got, want := fired.Annotations[model.AnnotationSummary], "南平文旅 停更 14 天（自定义）"; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if got := fired.Annotations[model.AnnotationDescription]; !strings.Contains(got, "单项否决") {
		t.Errorf("description %q: want the default text", got)
	}
}

func TestAnalyzerTextsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, texts, want string
	}{
		{"unknown detector", "    stalenes:\n      summary: x\n", ":4: analyzer.texts.stalenes: unknown detector (content, crossplatform, "},
		{"unknown template", "    staleness:\n      summry: x\n", ":5: analyzer.texts.staleness.summry: unknown template (cleared, description, "},
		{"bad template", "    spike:\n      post.summary: '{{.Account.Name'\n", ":5: analyzer.texts.spike.post.summary: template: post.summary:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadTexts(t, "  texts:\n"+tc.texts)
			err := Check(cfg)
			if err == nil || !strings.Contains(err.Error(), cfg.Path+tc.want) {
				t.Fatalf("Check: %v; want %q", err, cfg.Path+tc.want)
			}
			if _, err := AnalyzerDetectors(cfg, clockwork.NewFakeClock(), nil, nil); err == nil {
				t.Error("the detectors were built despite the bad texts")
			}
		})
	}
}
