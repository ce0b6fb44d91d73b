// Package calendar does working-day arithmetic in Beijing time with China's
// statutory holidays and make-up working days (调休上班), as the State Council
// publishes them each year. A deployment keeps one file per year,
// configs/holidays/<year>.yaml:
//
//	year: 2026
//	holidays:
//	  - {name: 国庆节, from: 2026-10-01, to: 2026-10-07}
//	workdays: [2026-09-20, 2026-10-10]
//
// A day is a working day when it is a make-up working day, or a Monday to
// Friday that is not a holiday. A year without a file counts Monday to
// Friday only; Covers tells whether a year has one.
package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Asia/Shanghai on machines without zoneinfo

	"gopkg.in/yaml.v3"

	"github.com/govwatch/govwatch/pkg/conf"
)

// Shanghai (Beijing time) is the zone days are counted in and people read
// times in: alert texts, reports, rosters, and dates that feeds give
// without a zone.
var Shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// Date is a calendar day in Beijing time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf is the Beijing-time day t falls on.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Shanghai).Date()
	return Date{y, m, d}
}

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.ParseInLocation("2006-01-02", s, Shanghai)
	if err != nil {
		return Date{}, fmt.Errorf("bad date %q (want YYYY-MM-DD)", s)
	}
	return DateOf(t), nil
}

// Start is the day's first instant.
func (d Date) Start() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Shanghai) }

// Time is the start of d in loc; Start is Time(Shanghai).
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the day n days later (earlier when n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.Start().AddDate(0, 0, n)) }

// Weekday is the day of the week.
func (d Date) Weekday() time.Weekday { return d.Start().Weekday() }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Start().Before(e.Start()) }

func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Holiday is a named run of days off, both ends included.
type Holiday struct {
	Name string `yaml:"name"`
	From day    `yaml:"from"`
	To   day    `yaml:"to"`
}

// File is one year's schedule as written in <year>.yaml.
type File struct {
	Year     int       `yaml:"year"`
	Holidays []Holiday `yaml:"holidays"`
	Workdays []day     `yaml:"workdays"`
}

// day is a Date read from YAML with the line it was on.
type day struct {
	Date
	line int
}

func (d *day) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a date such as 2026-10-01", n.Line)
	}
	v, err := ParseDate(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = day{Date: v, line: n.Line}
	return nil
}

// Parse reads and checks one year's file; name is used in errors, which
// carry name:line.
func Parse(name string, data []byte) (*File, error) {
	var f File
	if err := conf.CheckAliases(name, data); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var errs []error
	bad := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...)))
	}
	if f.Year < 2000 || f.Year > 2100 {
		bad(1, "year %d out of range (2000 to 2100)", f.Year)
	}
	// A year's notice may reach into the neighbouring years (元旦 starting
	// on Dec 30), never further.
	inRange := func(d Date) bool { return d.Year >= f.Year-1 && d.Year <= f.Year+1 }
	off := map[Date]string{}
	for i, h := range f.Holidays {
		switch {
		case h.Name == "":
			bad(h.From.line, "holidays[%d]: no name", i)
		case h.From.Year == 0 || h.To.Year == 0:
			bad(h.From.line, "holidays[%d] (%s): want both from and to", i, h.Name)
			continue
		case h.To.Before(h.From.Date):
			bad(h.To.line, "holidays[%d] (%s): to %s is before from %s", i, h.Name, h.To, h.From)
			continue
		case !inRange(h.From.Date) || !inRange(h.To.Date):
			bad(h.From.line, "holidays[%d] (%s): %s to %s is not in or next to %d", i, h.Name, h.From, h.To, f.Year)
			continue
		case h.From.AddDays(31).Before(h.To.Date):
			bad(h.To.line, "holidays[%d] (%s): longer than a month", i, h.Name)
			continue
		}
		for d := h.From.Date; !h.To.Before(d); d = d.AddDays(1) {
			if other, dup := off[d]; dup {
				bad(h.From.line, "holidays[%d] (%s): %s is already in %s", i, h.Name, d, other)
				break
			}
			off[d] = h.Name
		}
	}
	on := map[Date]bool{}
	for i, w := range f.Workdays {
		switch {
		case !inRange(w.Date):
			bad(w.line, "workdays[%d]: %s is not in or next to %d", i, w.Date, f.Year)
		case w.Weekday() != time.Saturday && w.Weekday() != time.Sunday:
			bad(w.line, "workdays[%d]: %s is a %s, already a working day; list only weekend days worked", i, w.Date, w.Weekday())
		case off[w.Date] != "":
			bad(w.line, "workdays[%d]: %s is also a holiday (%s)", i, w.Date, off[w.Date])
		case on[w.Date]:
			bad(w.line, "workdays[%d]: %s listed twice", i, w.Date)
		}
		on[w.Date] = true
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &f, nil
}

// Calendar answers working-day questions. The zero value and nil count
// Monday to Friday only. It is immutable and safe for concurrent use.
type Calendar struct {
	off   map[Date]string // holiday name
	on    map[Date]bool   // make-up working days
	years map[int]bool
}

// New combines years' files; a day defined by two files is an error.
func New(files ...*File) (*Calendar, error) {
	c := &Calendar{off: map[Date]string{}, on: map[Date]bool{}, years: map[int]bool{}}
	for _, f := range files {
		if c.years[f.Year] {
			return nil, fmt.Errorf("calendar: year %d given twice", f.Year)
		}
		c.years[f.Year] = true
		for _, h := range f.Holidays {
			for d := h.From.Date; !h.To.Before(d); d = d.AddDays(1) {
				if _, dup := c.off[d]; dup {
					return nil, fmt.Errorf("calendar: %s is a holiday in two files", d)
				}
				c.off[d] = h.Name
			}
		}
		for _, w := range f.Workdays {
			if c.on[w.Date] {
				return nil, fmt.Errorf("calendar: %s is a working day in two files", w.Date)
			}
			c.on[w.Date] = true
		}
	}
	for d := range c.on {
		if name, ok := c.off[d]; ok {
			return nil, fmt.Errorf("calendar: %s is both a working day and a holiday (%s)", d, name)
		}
	}
	return c, nil
}

// LoadDir reads every <year>.yaml in dir; the year in the name must be the
// year inside. Other files are ignored. Errors name the file and line.
func LoadDir(dir string) (*Calendar, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("holidays: %w", err)
	}
	var files []*File
	var errs []error
	for _, e := range entries {
		base, ok := strings.CutSuffix(e.Name(), ".yaml")
		if e.IsDir() || !ok {
			continue
		}
		year, err := strconv.Atoi(base)
		if err != nil {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		f, err := Parse(path, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if f.Year != year {
			errs = append(errs, fmt.Errorf("%s: says year %d, its name %d", path, f.Year, year))
			continue
		}
		files = append(files, f)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return New(files...)
}

// Years lists the years that have a schedule, in order.
func (c *Calendar) Years() []int {
	if c == nil {
		return nil
	}
	var ys []int
	for y := range c.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// Covers reports whether year has a schedule; without one, only weekends
// are days off.
func (c *Calendar) Covers(year int) bool { return c != nil && c.years[year] }

// IsWorkday reports whether t falls on a working day in Beijing time.
func (c *Calendar) IsWorkday(t time.Time) bool { return c.isWorkday(DateOf(t)) }

// Workday reports whether the calendar day d is a working day.
func (c *Calendar) Workday(d Date) bool { return c.isWorkday(d) }

func (c *Calendar) isWorkday(d Date) bool {
	if c != nil {
		if c.on[d] {
			return true
		}
		if _, off := c.off[d]; off {
			return false
		}
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkdays returns the deadline "within n working days" of t: the end
// (midnight, Beijing time) of the n-th working day after the day of t. The
// day of t itself does not count, as in "5 个工作日内答复". n ≤ 0 returns t.
func (c *Calendar) AddWorkdays(t time.Time, n int) time.Time {
	if n <= 0 {
		return t
	}
	d := DateOf(t)
	for n > 0 {
		d = d.AddDays(1)
		if c.isWorkday(d) {
			n--
		}
	}
	return d.AddDays(1).Start()
}

// WorkdaysBetween counts the working days after the day of a that have ended
// by b. WorkdaysBetween(t, AddWorkdays(t, n)) == n.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	n := 0
	for d := DateOf(a).AddDays(1); !b.Before(d.AddDays(1).Start()); d = d.AddDays(1) {
		if c.isWorkday(d) {
			n++
		}
	}
	return n
}
