package roster

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

var cst = time.FixedZone("CST", 8*3600)

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		panic(err)
	}
	return t
}

func loadCalendar(t *testing.T) *calendar.Calendar {
	t.Helper()
	c, err := calendar.LoadDir("../../../configs/holidays")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testRoster: unit a has a daily workday layer (甲, 乙) and a daily rest-day
// layer (丙, 丁) handing off at 08:30, an override for 甲's leave and a swap;
// unit w has a weekly rotation (东, 南, 西) handing off Mondays 09:00; unit g
// only covers working days, so it has gaps.
func testRoster(t *testing.T) *Roster {
	t.Helper()
	f := &File{Timezone: "Asia/Shanghai", Teams: []TeamConfig{
		{Unit: "a", Layers: []LayerConfig{
			{Name: "workday", Priority: 10, Rotation: "daily", Handoff: "08:30", Start: "2026-09-28", Days: "workdays",
				Members: []PersonConfig{{Name: "甲", Mobile: "1"}, {Name: "乙", Mobile: "2"}}},
			{Name: "restday", Priority: 20, Rotation: "daily", Handoff: "08:30", Start: "2026-09-28", Days: "restdays",
				Members: []PersonConfig{{Name: "丙"}, {Name: "丁"}}},
		}, Overrides: []OverrideConfig{
			{From: "2026-11-02 08:30", To: "2026-11-07 08:30", Replaces: "甲", PersonConfig: PersonConfig{Name: "戊"}, Reason: "甲休假"},
			{From: "2026-11-10 08:30", To: "2026-11-11 08:30", PersonConfig: PersonConfig{Name: "己"}, Reason: "调班"},
		}},
		{Unit: "w", Layers: []LayerConfig{
			{Name: "weekly", Rotation: "weekly", Handoff: "09:00", Start: "2026-01-05",
				Members: []PersonConfig{{Name: "东"}, {Name: "南"}, {Name: "西"}}},
		}},
		{Unit: "g", Layers: []LayerConfig{
			{Name: "office", Rotation: "daily", Handoff: "08:30", Start: "2026-01-01", Days: "workdays",
				Members: []PersonConfig{{Name: "北"}}},
		}},
	}}
	r, err := New(f, loadCalendar(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWho(t *testing.T) {
	r := testRoster(t)
	tests := []struct {
		name, unit, at string
		want, layer    string // "" = nobody
	}{
		// 2026-09-28 (Mon) is day 0 of the workday rotation: 甲, then 乙 …
		{"first shift", "a", "2026-09-28 08:30", "甲", "workday"},
		{"a minute before handoff: previous shift", "a", "2026-09-29 08:29", "甲", "workday"},
		{"at handoff: next member", "a", "2026-09-29 08:30", "乙", "workday"},
		{"night belongs to the day's shift", "a", "2026-09-30 03:00", "乙", "workday"},
		// 10-01..10-07 national day: the rest-day layer (day 3 → 丁, day 4 → 丙 …).
		{"national day morning before handoff: 9-30's workday shift", "a", "2026-10-01 08:00", "甲", "workday"},
		{"national day after handoff: rest-day layer", "a", "2026-10-01 08:30", "丁", "restday"},
		{"last holiday", "a", "2026-10-07 12:00", "丁", "restday"},
		{"holiday shift runs until the next handoff", "a", "2026-10-08 08:29", "丁", "restday"},
		{"back to work", "a", "2026-10-08 08:30", "甲", "workday"},
		// 10-10 is a Saturday and a make-up working day.
		{"make-up working Saturday: workday layer", "a", "2026-10-10 10:00", "甲", "workday"},
		{"ordinary Sunday after it: restday layer", "a", "2026-10-11 10:00", "丁", "restday"},
		// Overrides.
		{"leave cover leaves 乙 alone", "a", "2026-11-02 09:00", "乙", "workday"}, // day 35 → 乙
		{"leave cover replaces 甲", "a", "2026-11-03 09:00", "戊", "override"},    // day 36 → 甲
		{"leave over", "a", "2026-11-09 09:00", "甲", "workday"},                 // day 42 → 甲
		{"swap replaces whoever", "a", "2026-11-10 09:00", "己", "override"},     // day 43 → 乙
		{"swap over", "a", "2026-11-11 09:00", "甲", "workday"},
		// Weekly rotation, Mondays 09:00.
		{"weekly: first week", "w", "2026-01-05 09:00", "东", "weekly"},
		{"weekly: still first week on Sunday", "w", "2026-01-11 23:00", "东", "weekly"},
		{"weekly: Monday before handoff", "w", "2026-01-12 08:59", "东", "weekly"},
		{"weekly: second week", "w", "2026-01-12 09:00", "南", "weekly"},
		{"weekly: wraps around", "w", "2026-01-26 09:00", "东", "weekly"},
		{"before the rotation starts", "w", "2026-01-05 08:00", "", ""},
		{"no team", "nobody", "2026-01-05 10:00", "", ""},
		{"gap on a weekend", "g", "2026-11-28 10:00", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := r.Who(tc.unit, at(tc.at))
			if tc.want == "" {
				if ok {
					t.Fatalf("Who(%s, %s): got %s (%s), want nobody", tc.unit, tc.at, d.Person.Name, d.Layer)
				}
				return
			}
			if !ok || d.Person.Name != tc.want || d.Layer != tc.layer {
				t.Fatalf("Who(%s, %s): got %q from %q (ok %v), want %q from %q", tc.unit, tc.at, d.Person.Name, d.Layer, ok, tc.want, tc.layer)
			}
		})
	}
}

func TestWhoUTCInput(t *testing.T) {
	r := testRoster(t)
	// 00:30 UTC is 08:30 in Beijing: the handoff.
	d, ok := r.Who("a", time.Date(2026, 9, 29, 0, 30, 0, 0, time.UTC))
	if !ok || d.Person.Name != "乙" {
		t.Fatalf("Who at 00:30 UTC: got %q, want 乙", d.Person.Name)
	}
	if got, want := d.Since, at("2026-09-29 08:30"); !got.Equal(want) {
		t.Errorf("since: got %s, want %s", got, want)
	}
	if got, want := d.Until, at("2026-09-30 08:30"); !got.Equal(want) {
		t.Errorf("until: got %s, want %s", got, want)
	}
}

func TestGaps(t *testing.T) {
	r := testRoster(t)
	// 2026-09-24 (Thu) to 09-29: g covers workday shifts only. 09-25..27
	// is 中秋 (Fri–Sun), 09-28 Monday works again.
	gaps := r.Gaps(at("2026-09-24 00:00"), at("2026-09-29 00:00"))
	var got []string
	for _, g := range gaps {
		got = append(got, g.Unit+" "+g.From.In(cst).Format("01-02 15:04")+"→"+g.To.In(cst).Format("01-02 15:04"))
	}
	want := []string{
		"a 09-24 00:00→09-28 08:30", // a's rotations start on 09-28
		"g 09-25 08:30→09-28 08:30",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("gaps: got %q, want %q", got, want)
	}
	if s := gaps[1].String(); !strings.Contains(s, "unit g has nobody on duty from 2026-09-25 08:30") {
		t.Errorf("gap text: got %q", s)
	}
}

func TestLoadDemoRoster(t *testing.T) {
	known := map[string]bool{"fj-gov": true, "fz-gov": true, "xm-gov": true, "np-gov": true}
	r, err := Load("../../../configs/roster.yaml", func(u string) bool { return known[u] })
	if err != nil {
		t.Fatalf("load configs/roster.yaml: %v", err)
	}
	d, ok := r.Who("fz-gov", at("2026-10-01 09:00"))
	if !ok || d.Layer != "节假日值班" {
		t.Errorf("fz-gov on national day: got %+v, want the holiday layer", d)
	}
	if d, _ := r.Who("fj-gov", at("2026-01-05 09:00")); d.Person.IDs["wecom"] != "chenjianguo" {
		t.Errorf("fj-gov on 2026-01-05: got %+v, want 陈建国 with his WeCom id", d.Person)
	}
	if gaps := r.Gaps(at("2026-11-27 00:00"), at("2026-12-31 00:00")); len(gaps) != 0 {
		t.Errorf("demo roster gaps: got %v, want none", gaps)
	}
}

func TestLoadReportsProblems(t *testing.T) {
	f := &File{Timezone: "Mars/Olympus", Teams: []TeamConfig{
		{Unit: "a", Layers: []LayerConfig{{Rotation: "hourly", Handoff: "8h30", Start: "tomorrow", Days: "weekends"}},
			Overrides: []OverrideConfig{{From: "2026-11-02 08:30", To: "2026-11-01 08:30"}}},
		{Unit: "a"},
		{},
	}}
	_, err := New(f, nil)
	if err == nil {
		t.Fatal("New: got nil error, want problems")
	}
	for _, want := range []string{
		`timezone: unknown time zone "Mars/Olympus"`,
		`teams[0].layers[0].rotation: unknown rotation "hourly"`,
		`teams[0].layers[0].handoff: bad handoff time "8h30"`,
		`teams[0].layers[0].start: bad date "tomorrow"`,
		`teams[0].layers[0].days: unknown days "weekends"`,
		`teams[0].layers[0].members: layer "layer 1" has no members`,
		`teams[0].overrides[0].to: override ends`,
		`teams[0].overrides[0].name: override names nobody`,
		`teams[1].unit: second team for unit "a"`,
		`teams[2].unit: team has no unit`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q; got:\n%v", want, err)
		}
	}
}

// TestLoadRefusesAliasCycle: a roster whose layer lists itself among its
// members is a problem at the alias, not a walk without end.
func TestLoadRefusesAliasCycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.yaml")
	doc := "timezone: Asia/Shanghai\nteams:\n  - unit: a\n    layers:\n      - &l {name: x, rotation: daily, members: [*l]}\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Load(path, nil)
		done <- err
	}()
	select {
	case err := <-done:
		want := path + ":5: alias *l at line 5 column 49 refers to its own anchor: a cycle"
		if err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Load still running after 10s")
	}
}
