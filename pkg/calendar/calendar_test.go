package calendar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad2026(t *testing.T) {
	c, err := Load("../../configs/holidays")
	if err != nil {
		t.Fatalf("load configs/holidays: %v", err)
	}
	if !c.Covers(2026) {
		t.Fatal("Covers(2026): got false, want true")
	}
	tests := []struct {
		date    string
		workday bool
		holiday string
	}{
		{"2026-01-01", false, "元旦"},
		{"2026-01-04", true, ""}, // Sunday make-up day
		{"2026-01-05", true, ""},
		{"2026-02-14", true, ""}, // Saturday make-up day
		{"2026-02-15", false, "春节"},
		{"2026-02-23", false, "春节"}, // Monday off
		{"2026-02-24", true, ""},
		{"2026-02-28", true, ""},  // Saturday make-up day
		{"2026-03-01", false, ""}, // ordinary Sunday
		{"2026-04-06", false, "清明节"},
		{"2026-05-05", false, "劳动节"},
		{"2026-05-09", true, ""},
		{"2026-06-19", false, "端午节"},
		{"2026-09-20", true, ""},
		{"2026-09-25", false, "中秋节"},
		{"2026-10-07", false, "国庆节"},
		{"2026-10-10", true, ""},
		{"2026-10-11", false, ""},
		{"2026-11-26", true, ""},
	}
	for _, tc := range tests {
		d, err := ParseDate(tc.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Workday(d); got != tc.workday {
			t.Errorf("Workday(%s): got %v, want %v", tc.date, got, tc.workday)
		}
		if got, _ := c.Holiday(d); got != tc.holiday {
			t.Errorf("Holiday(%s): got %q, want %q", tc.date, got, tc.holiday)
		}
	}
}

func TestLoadReportsProblems(t *testing.T) {
	dir := t.TempDir()
	bad := `year: 2025
holidays:
  - {name: 春节, from: 2026-02-15, to: 2026-02-10}
  - {name: "", from: 2026-03-01, to: 2026-03-02}
  - {name: x, from: 2026/03/01, to: 2026-03-02}
workdays: [2026-02-16, 2026-03-01]
colour: red
`
	if err := os.WriteFile(filepath.Join(dir, "2026.yaml"), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil {
		t.Fatal("Load: got nil error, want problems")
	}
	for _, want := range []string{
		`2026.yaml:7: colour: unknown key "colour"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// Fix the unknown key and see the semantic problems, each with its line.
	if err := os.WriteFile(filepath.Join(dir, "2026.yaml"), []byte(strings.Replace(bad, "colour: red\n", "", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	for _, want := range []string{
		"2026.yaml:1: year: year 2025 does not match the file name 2026.yaml",
		"2026.yaml:3: holidays[0]: range 2026-02-15 to 2026-02-10 is not inside 2026",
		"2026.yaml:4: holidays[1].name: holiday has no name",
		`2026.yaml:5: holidays[2]: bad date "2026/03/01"`,
		"workdays[0]: 2026-02-16 is a Monday",
		"workdays[1]: 2026-03-01 is also listed as a holiday",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestZeroCalendar(t *testing.T) {
	var c *Calendar
	sat, _ := ParseDate("2026-10-10")
	if c.Workday(sat) {
		t.Error("nil calendar: Saturday 2026-10-10 got workday, want rest (no holiday data)")
	}
}
