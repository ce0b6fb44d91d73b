package unanswered_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unanswered"
)

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
