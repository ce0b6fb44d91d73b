package roster

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
)

// FuzzRosterFile loads fuzzed roster files beside the shipped holiday
// schedules, seeded with configs/roster.yaml. A file that does not load
// has problems naming it; a roster that loads answers who is on duty with
// a named person whose shift holds the moment asked, and reports gaps
// inside the range asked.
func FuzzRosterFile(f *testing.F) {
	b, err := os.ReadFile("../../../configs/roster.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("teams:\n  - unit: a\n    layers:\n      - {name: x, rotation: weekly, handoff: \"09:00\", start: 2026-01-05, members: [{name: 甲}, {name: 乙}]}\n    overrides:\n      - {from: \"2026-11-02 08:30\", to: \"2026-11-07 08:30\", replaces: 甲, name: 丙}\n"))
	f.Add([]byte("timezone: Asia/Shanghai\nteams:\n  - unit: a\n    layers:\n      - &l {name: x, rotation: daily, members: [*l]}\n"))
	holidays, err := filepath.Abs("../../../configs/holidays")
	if err != nil {
		f.Fatal(err)
	}
	dir := f.TempDir()
	if err := os.Symlink(holidays, filepath.Join(dir, "holidays")); err != nil {
		f.Fatal(err)
	}
	path := filepath.Join(dir, "roster.yaml")
	from := time.Date(2026, 9, 28, 0, 0, 0, 0, time.UTC)
	until := from.Add(10 * 24 * time.Hour)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Load(path, nil)
		if err != nil {
			var ps conf.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					if p.File != path {
						t.Fatalf("problem %v does not name %s", p, path)
					}
				}
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, u := range r.Units() {
			for at := from; at.Before(until); at = at.Add(7 * time.Hour) {
				d, ok := r.Who(u, at)
				if !ok {
					continue
				}
				if d.Person.Name == "" || d.Unit != u {
					t.Fatalf("Who(%s, %s) = %+v: nobody named", u, at, d)
				}
				if !d.Since.IsZero() && at.Before(d.Since) || !d.Until.IsZero() && !at.Before(d.Until) {
					t.Fatalf("Who(%s, %s) = %+v: a shift that does not hold the moment", u, at, d)
				}
			}
		}
		for _, g := range r.Gaps(from, until) {
			if g.From.Before(from) || g.To.After(until) || !g.From.Before(g.To) {
				t.Fatalf("gap %v outside %s to %s", g, from, until)
			}
		}
	})
}
