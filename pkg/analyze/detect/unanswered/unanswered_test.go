package unanswered_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"

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
