// Package calendar knows China's working days: weekdays are working days and
// weekends rest days, except for the statutory holidays and the make-up
// working days (调休上班) the State Council publishes each year. The roster
// uses it for duty layers that cover working days or rest days; detectors
// that count working days can use it too.
//
// A year's schedule is a YAML file <dir>/<year>.yaml:
//
//	year: 2026
//	source: 国务院办公厅关于2026年部分节假日安排的通知
//	holidays:
//	  - {name: 春节, from: 2026-02-15, to: 2026-02-23}
//	workdays: [2026-02-14, 2026-02-28]
package calendar

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/config"
)

// File is the format of one year's schedule.
type File struct {
	Year     int       `yaml:"year"`
	Source   string    `yaml:"source"`
	Holidays []Holiday `yaml:"holidays"`
	Workdays []string  `yaml:"workdays"`
}

// Holiday is a named range of days off, both ends included.
type Holiday struct {
	Name string `yaml:"name"`
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Date is a calendar day, independent of time zones.
type Date struct {
	Y int
	M time.Month
	D int
}

// DateOf is the calendar day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate reads YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("bad date %q (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Y, d.M, d.D) }

// Time is midnight of d in loc.
func (d Date) Time(loc *time.Location) time.Time { return time.Date(d.Y, d.M, d.D, 0, 0, 0, 0, loc) }

// AddDays moves d by n days.
func (d Date) AddDays(n int) Date { return DateOf(d.Time(time.UTC).AddDate(0, 0, n)) }

// Weekday of d.
func (d Date) Weekday() time.Weekday { return d.Time(time.UTC).Weekday() }

// Calendar answers whether a day is a working day. The zero Calendar knows
// no holidays: weekdays work, weekends rest.
type Calendar struct {
	holidays map[Date]string // day → holiday name
	workdays map[Date]bool
	years    map[int]bool
}

// Load reads every <year>.yaml in dir. A missing dir is an empty calendar.
func Load(dir string) (*Calendar, error) {
	c := &Calendar{holidays: map[Date]string{}, workdays: map[Date]bool{}, years: map[int]bool{}}
	names, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var probs config.Problems
	for _, name := range names {
		year, err := strconv.Atoi(strings.TrimSuffix(filepath.Base(name), ".yaml"))
		if err != nil {
			continue // not a year's file
		}
		var f File
		pos, err := config.DecodeFile(name, &f)
		if err != nil {
			if ps, ok := err.(config.Problems); ok {
				probs = append(probs, ps...)
				continue
			}
			return nil, err
		}
		probs = append(probs, c.add(year, &f, pos)...)
	}
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

func (c *Calendar) add(year int, f *File, pos *config.Positions) config.Problems {
	var ps config.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	if f.Year != year {
		bad("year", "year %d does not match the file name %d.yaml", f.Year, year)
	}
	c.years[year] = true
	for i, h := range f.Holidays {
		p := fmt.Sprintf("holidays[%d]", i)
		from, err1 := ParseDate(h.From)
		to, err2 := ParseDate(h.To)
		if err1 != nil || err2 != nil {
			bad(p, "%v", firstErr(err1, err2))
			continue
		}
		if h.Name == "" {
			bad(p+".name", "holiday has no name")
		}
		if to.Time(time.UTC).Before(from.Time(time.UTC)) || to.Y != year || from.Y != year && from.Y != year-1 {
			bad(p, "range %s to %s is not inside %d", from, to, year)
			continue
		}
		for d := from; !to.Time(time.UTC).Before(d.Time(time.UTC)); d = d.AddDays(1) {
			c.holidays[d] = h.Name
		}
	}
	for i, s := range f.Workdays {
		d, err := ParseDate(s)
		if err != nil {
			bad(fmt.Sprintf("workdays[%d]", i), "%v", err)
			continue
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			bad(fmt.Sprintf("workdays[%d]", i), "%s is a %s: make-up working days fall on weekends", d, wd)
		}
		if _, off := c.holidays[d]; off {
			bad(fmt.Sprintf("workdays[%d]", i), "%s is also listed as a holiday", d)
		}
		c.workdays[d] = true
	}
	return ps
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Workday reports whether d is a working day.
func (c *Calendar) Workday(d Date) bool {
	if c == nil {
		return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
	}
	if c.workdays[d] {
		return true
	}
	if _, off := c.holidays[d]; off {
		return false
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
}

// Holiday returns the name of the holiday d falls in, if any.
func (c *Calendar) Holiday(d Date) (string, bool) {
	if c == nil {
		return "", false
	}
	n, ok := c.holidays[d]
	return n, ok
}

// Covers reports whether the calendar has the schedule of year; without it,
// holidays of that year are unknown and only weekends count as rest days.
func (c *Calendar) Covers(year int) bool { return c != nil && c.years[year] }

// Exists reports whether dir exists, for configuration checks.
func Exists(dir string) bool {
	st, err := os.Stat(dir)
	return err == nil && st.IsDir()
}
