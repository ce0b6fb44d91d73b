package calendar_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

func load2026(t *testing.T) *calendar.Calendar {
	t.Helper()
	c, err := calendar.LoadDir("../../configs/holidays")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Covers(2026) {
		t.Fatalf("shipped holidays do not cover 2026; years %v", c.Years())
	}
	return c
}

// bj is a time in Beijing.
func bj(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

func TestIsWorkday2026(t *testing.T) {
	c := load2026(t)
	tests := []struct {
		day  string
		want bool
		why  string
	}{
		{"2026-01-01", false, "元旦"},
		{"2026-01-02", false, "元旦 (Friday)"},
		{"2026-01-04", true, "元旦 make-up Sunday"},
		{"2026-01-05", true, "plain Monday"},
		{"2026-01-10", false, "plain Saturday"},
		{"2026-02-14", true, "春节 make-up Saturday"},
		{"2026-02-15", false, "春节 first day"},
		{"2026-02-23", false, "春节 last day (Monday)"},
		{"2026-02-24", true, "after 春节"},
		{"2026-02-28", true, "春节 make-up Saturday"},
		{"2026-04-06", false, "清明 Monday"},
		{"2026-05-05", false, "劳动节 Tuesday"},
		{"2026-05-09", true, "劳动节 make-up Saturday"},
		{"2026-06-19", false, "端午 Friday"},
		{"2026-09-20", true, "国庆 make-up Sunday"},
		{"2026-09-25", false, "中秋 Friday"},
		{"2026-10-01", false, "国庆 first day"},
		{"2026-10-07", false, "国庆 last day (Wednesday)"},
		{"2026-10-08", true, "after 国庆"},
		{"2026-10-10", true, "国庆 make-up Saturday"},
		{"2026-10-11", false, "plain Sunday"},
	}
	for _, tt := range tests {
		t.Run(tt.day, func(t *testing.T) {
			// 23:30 Beijing is 15:30 UTC the same day: judged in Beijing time.
			at := bj(tt.day + " 23:30").UTC()
			if got := c.IsWorkday(at); got != tt.want {
				t.Errorf("IsWorkday(%s, %s) = %v, want %v", tt.day, tt.why, got, tt.want)
			}
		})
	}
}

func TestWeekdaysOfTheNotice(t *testing.T) {
	// The notice names the weekday of each date; check the file against them.
	want := map[string]time.Weekday{
		"2026-01-01": time.Thursday, "2026-01-04": time.Sunday, "2026-02-14": time.Saturday,
		"2026-02-15": time.Sunday, "2026-02-23": time.Monday, "2026-02-28": time.Saturday,
		"2026-04-04": time.Saturday, "2026-05-01": time.Friday, "2026-05-09": time.Saturday,
		"2026-06-19": time.Friday, "2026-09-25": time.Friday, "2026-10-01": time.Thursday,
		"2026-10-07": time.Wednesday, "2026-09-20": time.Sunday, "2026-10-10": time.Saturday,
	}
	for s, wd := range want {
		d, err := calendar.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Weekday(); got != wd {
			t.Errorf("%s is a %s, want %s", s, got, wd)
		}
	}
}

func TestAddWorkdays2026(t *testing.T) {
	c := load2026(t)
	tests := []struct {
		name string
		from string
		n    int
		want string // deadline, Beijing time
	}{
		{"plain week", "2026-09-07 10:00", 5, "2026-09-15 00:00"},
		{"friday comment skips the weekend", "2026-09-11 16:00", 5, "2026-09-19 00:00"},
		{"over 国庆 with the make-up Saturday", "2026-09-30 10:00", 5, "2026-10-14 00:00"},
		{"the 国庆 make-up Sunday counts", "2026-09-18 09:00", 5, "2026-09-25 00:00"},
		{"over 中秋", "2026-09-23 09:00", 3, "2026-09-30 00:00"},
		{"over 春节 with both make-up Saturdays", "2026-02-12 09:00", 5, "2026-02-27 00:00"},
		{"make-up Saturday is day one", "2026-02-13 09:00", 1, "2026-02-15 00:00"},
		{"comment on a holiday", "2026-10-03 12:00", 1, "2026-10-09 00:00"},
		{"late evening counts as that day", "2026-09-07 23:59", 1, "2026-09-09 00:00"},
		{"zero days", "2026-09-07 10:00", 0, "2026-09-07 10:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from := bj(tt.from).UTC()
			got := c.AddWorkdays(from, tt.n)
			if want := bj(tt.want); !got.Equal(want) {
				t.Errorf("AddWorkdays(%s, %d) = %s, want %s", tt.from, tt.n, got.In(calendar.Shanghai), want)
			}
			if tt.n > 0 {
				if got := c.WorkdaysBetween(from, c.AddWorkdays(from, tt.n)); got != tt.n {
					t.Errorf("WorkdaysBetween(%s, deadline) = %d, want %d", tt.from, got, tt.n)
				}
			}
		})
	}
}

func TestWorkdaysBetween2026(t *testing.T) {
	c := load2026(t)
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"国庆 week counts nothing", "2026-09-30 10:00", "2026-10-08 00:00", 0},
		{"the make-up Saturday counts", "2026-09-30 10:00", "2026-10-11 00:00", 3},
		{"an unfinished day does not count", "2026-09-30 10:00", "2026-10-10 23:59", 2},
		{"same day", "2026-09-07 08:00", "2026-09-07 20:00", 0},
		{"b before a", "2026-09-10 08:00", "2026-09-07 20:00", 0},
		{"plain fortnight", "2026-11-01 10:00", "2026-11-15 00:00", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkdaysBetween(bj(tt.a), bj(tt.b)); got != tt.want {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestUncoveredYearCountsWeekdays(t *testing.T) {
	c := load2026(t)
	if c.Covers(2027) {
		t.Fatal("2027 unexpectedly covered")
	}
	// 2027-01-01 is a Friday: without a 2027 file it is a working day.
	if got := c.IsWorkday(bj("2027-01-01 10:00")); !got {
		t.Errorf("IsWorkday(2027-01-01) = false, want true without a 2027 schedule")
	}
	var none *calendar.Calendar
	if got, want := none.AddWorkdays(bj("2026-09-30 10:00"), 5), bj("2026-10-08 00:00"); !got.Equal(want) {
		t.Errorf("nil calendar AddWorkdays = %s, want %s", got, want)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "year: 2026\nholidayz: []\n", "field holidayz not found"},
		{"bad date", "year: 2026\nholidays:\n  - {name: 国庆节, from: 2026-10-32, to: 2026-10-07}\n", `x.yaml: line 3: bad date "2026-10-32"`},
		{"to before from", "year: 2026\nholidays:\n  - name: 国庆节\n    from: 2026-10-07\n    to: 2026-10-01\n", "x.yaml:5: holidays[0] (国庆节): to 2026-10-01 is before from 2026-10-07"},
		{"weekday listed as workday", "year: 2026\nworkdays:\n  - 2026-10-09\n", "x.yaml:3: workdays[0]: 2026-10-09 is a Friday"},
		{"workday that is a holiday", "year: 2026\nholidays:\n  - {name: 国庆节, from: 2026-10-01, to: 2026-10-07}\nworkdays: [2026-10-03]\n", "is also a holiday (国庆节)"},
		{"overlapping holidays", "year: 2026\nholidays:\n  - {name: a, from: 2026-10-01, to: 2026-10-07}\n  - {name: b, from: 2026-10-07, to: 2026-10-08}\n", "2026-10-07 is already in a"},
		{"far year", "year: 2026\nholidays:\n  - {name: a, from: 2028-10-01, to: 2028-10-02}\n", "is not in or next to 2026"},
		{"no year", "holidays: []\n", "year 0 out of range"},
		{"mapping key beside a merge", "{w: &w {a: 1}, <<, *w, year: 2026}\n", "x.yaml:1: key at line 1 column 20 is a mapping or a list: keys must be plain values"},
		{"alias cycle", "year: 2026\nworkdays: &w [2026-10-10, *w]\n", "x.yaml:2: alias *w at line 2 column 27 refers to its own anchor: a cycle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.Parse("x.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadDirNameMustMatchYear(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("../../configs/holidays/2026.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "2027.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = calendar.LoadDir(dir)
	if err == nil || !strings.Contains(err.Error(), "says year 2026, its name 2027") {
		t.Errorf("LoadDir error = %v, want the year mismatch named", err)
	}
	if _, err := calendar.LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Error("LoadDir of a missing folder: no error")
	}
}

func FuzzParse(f *testing.F) {
	b, err := os.ReadFile("../../configs/holidays/2026.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("year: 2026\nworkdays: [2026-10-10]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := calendar.Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		c, err := calendar.New(file)
		if err != nil {
			t.Fatalf("a parsed file does not build a calendar: %v", err)
		}
		from := time.Date(file.Year, 1, 1, 0, 0, 0, 0, calendar.Shanghai)
		if got := c.WorkdaysBetween(from, c.AddWorkdays(from, 5)); got != 5 {
			t.Fatalf("WorkdaysBetween(AddWorkdays(5)) = %d", got)
		}
	})
}
