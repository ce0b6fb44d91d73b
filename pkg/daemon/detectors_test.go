package daemon

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap/zaptest"

	_ "github.com/govwatch/govwatch/pkg/analyze/detect/all"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
)

// staleAfter is the staleness detector's default threshold in cfg.
func staleAfter(t *testing.T, cfg *config.Loaded) time.Duration {
	t.Helper()
	for _, dc := range cfg.Detectors {
		if c, ok := dc.Config.(*staleness.Config); ok {
			return c.StaleAfter.D()
		}
	}
	t.Fatal("no staleness detector in the config")
	return 0
}

// writeAnalyzer writes a config whose analyzer section is analyzer.
func writeAnalyzer(t *testing.T, analyzer string) string {
	t.Helper()
	return writeConfig(t, t.TempDir(), map[string]string{"govwatch.yaml": "data_dir: " + filepath.Join(t.TempDir(), "data") + "\nanalyzer:\n" + analyzer})
}

// A detector's texts change the text it emits; the templates they do not
// name keep their defaults.
func TestDetectorTextsOverride(t *testing.T) {
	cfg, err := config.Load(writeAnalyzer(t, `  detectors:
    staleness:
      texts:
        summary: '{{.Account.Name}} 停更 {{.Days}} 天（自定义）'
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(cfg); err != nil {
		t.Fatal(err)
	}
	e := &env{cfg: cfg, clock: clockwork.NewFakeClock(), log: zaptest.NewLogger(t)}
	ds, _, err := e.detectors()
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

// Texts a detector does not have, or that do not parse, are refused when
// the file is loaded, at their line, before any daemon starts.
func TestDetectorTextsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, detectors, want string
	}{
		{"unknown detector", "    stalenes:\n      texts: {summary: x}\n", `:4: analyzer.detectors.stalenes: unknown detector "stalenes" (content, crossplatform, `},
		{"unknown template", "    staleness:\n      texts:\n        summry: x\n", ":6: analyzer.detectors.staleness.texts.summry: unknown template (cleared, description, "},
		{"bad template", "    spike:\n      texts:\n        post.summary: '{{.Account.Name'\n", ":6: analyzer.detectors.spike.texts.post.summary: template: post.summary:1: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeAnalyzer(t, "  detectors:\n"+tc.detectors)
			_, err := config.Load(p)
			if err == nil || !strings.Contains(err.Error(), p+tc.want) {
				t.Fatalf("Load: %v; want %q", err, p+tc.want)
			}
		})
	}
}
