package unanswered_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unanswered"
	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// build makes the detector of a case from the shipped defaults
// (analyzer.detectors.unanswered), the case's detector section and the
// shipped holiday calendar.
func build(t *testing.T) detecttest.Build {
	cal, err := calendar.LoadDir("../../../../configs/holidays")
	if err != nil {
		t.Fatal(err)
	}
	return detecttest.Configured(t, unanswered.Defaults, func(cfg unanswered.Config) *unanswered.Detector {
		return unanswered.New(cfg, cal)
	})
}

// TestGolden walks testcases/<case>/ (see testcases/README.md) as they
// are, restarting before every event, and with two replicas per event. Not
// over Redis (RunDurable): the analysis window ends by the store's expiry,
// which Redis counts on its own clock, not the cases' virtual one.
func TestGolden(t *testing.T) {
	t.Run("golden", func(t *testing.T) { detecttest.RunAll(t, "testcases", build(t)) })
	t.Run("replicas", func(t *testing.T) { detecttest.RunReplicas(t, "testcases", build(t)) })
}

// TestCommentersAreNeitherAlertedNorKept runs every case and checks that no
// commenter's name or words reach an alert or the store.
func TestCommentersAreNeitherAlertedNorKept(t *testing.T) {
	dirs, err := filepath.Glob("testcases/*/input.jsonl")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c, err := detecttest.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var private []string
			for _, ev := range c.Events {
				if p := ev.Post; p != nil && p.Kind == "comment" {
					private = append(private, p.Author, p.Text)
				}
			}
			clock := clockwork.NewFakeClockAt(c.Config.Start)
			st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			published := detecttest.DriveWith(t, c, build(t)(c), st, clock)

			var seen []string
			for _, p := range published {
				for k, v := range p.Alert.Labels {
					seen = append(seen, "label "+k+"="+v)
				}
				for k, v := range p.Alert.Annotations {
					seen = append(seen, "annotation "+k+"="+v)
				}
			}
			err = st.Scan(context.Background(), "", func(k string, v []byte) error {
				seen = append(seen, "store "+k+"="+string(v))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range seen {
				for _, p := range private {
					if p != "" && strings.Contains(s, p) {
						t.Errorf("%q reached %s", p, s)
					}
				}
			}
		})
	}
}

// TestReadmeSample holds the README's sample to the defaults and the
// templates in the code.
func TestReadmeSample(t *testing.T) {
	detecttest.ReadmeSample(t, "unanswered")
}

// newDetector builds the detector of a file whose analyzer.detectors is section.
func newDetector(t *testing.T, dir, section string) error {
	t.Helper()
	l, err := detecttest.LoadSection(t, dir, section)
	if err != nil {
		return err
	}
	for _, dc := range l.Detectors {
		if dc.Name == "unanswered" {
			_, err := detect.New(dc.Name, dc.Config, detect.Deps{})
			return err
		}
	}
	t.Fatal("no unanswered detector")
	return nil
}

func TestSettingsProblems(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "cal"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cal", "2026.yaml"), []byte("year: 2026\nworkdays: [2026-10-09]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := detecttest.LoadSection(t, dir, `    unanswered:
      sla_workdays: 0
      window: 5d
      holidays_dir: cal
`)
	detecttest.WantProblems(t, err,
		"govwatch.yaml:5: analyzer.detectors.unanswered.sla_workdays: must be 1 to 60 working days, not 0",
		"govwatch.yaml:6: analyzer.detectors.unanswered.window: must be at least 14d",
		"govwatch.yaml:7: analyzer.detectors.unanswered.holidays_dir: "+filepath.Join(dir, "cal", "2026.yaml")+":2: workdays[0]: 2026-10-09 is a Friday",
	)
}

// The default folder may be missing (weekends only); one named explicitly
// must exist; one beside the config file is read by default.
func TestHolidaysDir(t *testing.T) {
	dir := t.TempDir()
	if err := newDetector(t, dir, "    unanswered: {}\n"); err != nil {
		t.Errorf("default holidays_dir missing: %v", err)
	}
	err := newDetector(t, dir, "    unanswered: {holidays_dir: nowhere}\n")
	detecttest.WantProblems(t, err, "govwatch.yaml:4: analyzer.detectors.unanswered.holidays_dir: ")

	if err := os.Mkdir(filepath.Join(dir, unanswered.DefaultHolidaysDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "holidays", "2026.yaml"), []byte("year: 2026\nworkdays: [2026-10-09]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = newDetector(t, dir, "    unanswered: {}\n")
	detecttest.WantProblems(t, err, "analyzer.detectors.unanswered.holidays_dir: "+filepath.Join(dir, "holidays", "2026.yaml")+":2: workdays[0]: 2026-10-09 is a Friday")
}
