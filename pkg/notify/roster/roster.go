// Package roster answers who is on duty for a unit at a given time. A unit's
// duty team has layers — rotations of people that hand off daily or weekly at
// a local time such as 08:30, optionally only on working days or only on rest
// days (statutory holidays and make-up working days included) — and the
// layer of highest priority that covers a moment wins. Overrides for leave
// and swaps take precedence over every layer. Times are read in the roster's
// time zone (Asia/Shanghai by default).
package roster

import (
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
)

// File is the format of configs/roster.yaml.
type File struct {
	Timezone string `yaml:"timezone"`
	// Holidays is the folder of <year>.yaml holiday schedules, relative to
	// the roster file.
	Holidays string       `yaml:"holidays"`
	Teams    []TeamConfig `yaml:"teams"`
}

// TeamConfig is one unit's duty team.
type TeamConfig struct {
	Unit      string           `yaml:"unit"`
	Name      string           `yaml:"name"`
	Layers    []LayerConfig    `yaml:"layers"`
	Overrides []OverrideConfig `yaml:"overrides"`
}

// LayerConfig is one rotation.
type LayerConfig struct {
	Name     string `yaml:"name"`
	Priority int    `yaml:"priority"` // higher wins
	Rotation string `yaml:"rotation"` // daily or weekly
	Handoff  string `yaml:"handoff"`  // HH:MM local time
	// Start is the day on whose handoff the first member begins.
	Start string `yaml:"start"`
	// Days limits the layer to duty days that are workdays, restdays, or all (default).
	Days    string         `yaml:"days"`
	Members []PersonConfig `yaml:"members"`
}

// PersonConfig is someone who can be paged.
type PersonConfig struct {
	Name   string `yaml:"name"`
	Mobile string `yaml:"mobile"`
	Email  string `yaml:"email"`
	// IDs are the person's accounts on other systems, by system name
	// (wecom: their WeCom user id, which the wecom_app channel pages).
	IDs map[string]string `yaml:"ids"`
}

// OverrideConfig puts someone on duty for a time: leave cover or a swap.
type OverrideConfig struct {
	From         string `yaml:"from"` // "2006-01-02 15:04" local, or RFC 3339
	To           string `yaml:"to"`
	PersonConfig `yaml:",inline"`
	// Replaces, when set, limits the override to the times that person
	// would be on duty (leave cover); empty replaces whoever is.
	Replaces string `yaml:"replaces"`
	Reason   string `yaml:"reason"`
}

// Person is someone on duty.
type Person struct {
	Name   string
	Mobile string
	Email  string
	IDs    map[string]string
}

// Duty is the answer to who is on duty.
type Duty struct {
	Unit   string
	Person Person
	Layer  string // the layer's name, or "override"
	Reason string // the override's reason
	// Since and Until bound the current shift (the override's window or the
	// layer's rotation period).
	Since, Until time.Time
}

type layer struct {
	name     string
	priority int
	period   int // days
	handoff  time.Duration
	start    calendar.Date
	days     string
	members  []Person
}

type override struct {
	from, to time.Time
	person   Person
	replaces string
	reason   string
}

type team struct {
	unit      string
	layers    []layer // by priority, highest first
	overrides []override
}

// Roster is a loaded, checked roster. It is immutable and safe for concurrent use.
type Roster struct {
	loc   *time.Location
	cal   *calendar.Calendar
	teams map[string]*team
	units []string
}

// Load reads and checks a roster file and the holiday schedules it names.
// Units, when not nil, is the set of known unit ids: teams of other units
// are problems.
func Load(path string, units func(string) bool) (*Roster, error) {
	var f File
	pos, err := conf.DecodeFile(path, &f)
	if err != nil {
		return nil, err
	}
	var cal *calendar.Calendar
	if f.Holidays != "" {
		dir := f.Holidays
		if !strings.HasPrefix(dir, "/") {
			dir = pathJoin(path, dir)
		}
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, conf.Problems{pos.Problem("holidays", "holiday folder %q does not exist", f.Holidays)}
		}
		if cal, err = calendar.LoadDir(dir); err != nil {
			return nil, err
		}
	}
	r, probs := build(&f, cal, pos, units)
	if len(probs) > 0 {
		return nil, probs
	}
	return r, nil
}

func pathJoin(file, rel string) string {
	if i := strings.LastIndex(file, "/"); i >= 0 {
		return file[:i+1] + rel
	}
	return rel
}

// New builds a roster from an already decoded file, for tests and tools.
func New(f *File, cal *calendar.Calendar) (*Roster, error) {
	r, probs := build(f, cal, conf.NewPositions("roster"), nil)
	if len(probs) > 0 {
		return nil, probs
	}
	return r, nil
}

func build(f *File, cal *calendar.Calendar, pos *conf.Positions, units func(string) bool) (*Roster, conf.Problems) {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	tz := f.Timezone
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz) // the zone database is built in (calendar)
	if err != nil {
		bad("timezone", "unknown time zone %q", tz)
		loc = time.UTC
	}
	r := &Roster{loc: loc, cal: cal, teams: map[string]*team{}}
	for i, tc := range f.Teams {
		p := fmt.Sprintf("teams[%d]", i)
		switch {
		case tc.Unit == "":
			bad(p+".unit", "team has no unit")
			continue
		case units != nil && !units(tc.Unit):
			bad(p+".unit", "unknown unit %q", tc.Unit)
		case r.teams[tc.Unit] != nil:
			bad(p+".unit", "second team for unit %q", tc.Unit)
			continue
		}
		t := &team{unit: tc.Unit}
		for j, lc := range tc.Layers {
			lp := fmt.Sprintf("%s.layers[%d]", p, j)
			l := layer{name: lc.Name, priority: lc.Priority, days: lc.Days}
			if l.name == "" {
				l.name = fmt.Sprintf("layer %d", j+1)
			}
			switch lc.Rotation {
			case "daily", "":
				l.period = 1
			case "weekly":
				l.period = 7
			default:
				bad(lp+".rotation", "unknown rotation %q (daily or weekly)", lc.Rotation)
			}
			hh, err := time.Parse("15:04", lc.Handoff)
			if err != nil {
				bad(lp+".handoff", "bad handoff time %q (want HH:MM)", lc.Handoff)
			}
			l.handoff = time.Duration(hh.Hour())*time.Hour + time.Duration(hh.Minute())*time.Minute
			if l.start, err = calendar.ParseDate(lc.Start); err != nil {
				bad(lp+".start", "%v", err)
			}
			switch l.days {
			case "":
				l.days = "all"
			case "all", "workdays", "restdays":
			default:
				bad(lp+".days", "unknown days %q (all, workdays or restdays)", lc.Days)
			}
			if len(lc.Members) == 0 {
				bad(lp+".members", "layer %q has no members", l.name)
			}
			for k, m := range lc.Members {
				if m.Name == "" {
					bad(fmt.Sprintf("%s.members[%d].name", lp, k), "member has no name")
				}
				l.members = append(l.members, person(m))
			}
			t.layers = append(t.layers, l)
		}
		sort.SliceStable(t.layers, func(a, b int) bool { return t.layers[a].priority > t.layers[b].priority })
		for j, oc := range tc.Overrides {
			op := fmt.Sprintf("%s.overrides[%d]", p, j)
			from, err1 := parseTime(oc.From, loc)
			to, err2 := parseTime(oc.To, loc)
			if err1 != nil {
				bad(op+".from", "%v", err1)
			}
			if err2 != nil {
				bad(op+".to", "%v", err2)
			}
			if err1 == nil && err2 == nil && !to.After(from) {
				bad(op+".to", "override ends (%s) before it starts (%s)", oc.To, oc.From)
			}
			if oc.Name == "" {
				bad(op+".name", "override names nobody")
			}
			t.overrides = append(t.overrides, override{from: from, to: to, person: person(oc.PersonConfig), replaces: oc.Replaces, reason: oc.Reason})
		}
		r.teams[tc.Unit] = t
		r.units = append(r.units, tc.Unit)
	}
	return r, ps
}

func person(p PersonConfig) Person {
	return Person{Name: p.Name, Mobile: p.Mobile, Email: p.Email, IDs: p.IDs}
}

// ParseTime reads "2006-01-02 15:04" (local to loc) or RFC 3339.
func ParseTime(s string, loc *time.Location) (time.Time, error) { return parseTime(s, loc) }

func parseTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q (want \"2006-01-02 15:04\" or RFC 3339)", s)
}

// Location is the roster's time zone.
func (r *Roster) Location() *time.Location { return r.loc }

// Units lists the units that have a duty team.
func (r *Roster) Units() []string { return slices.Clone(r.units) }

// Who returns who is on duty for unit at t; false when nobody is (no team,
// or a gap in its coverage).
func (r *Roster) Who(unit string, t time.Time) (Duty, bool) {
	tm := r.teams[unit]
	if tm == nil {
		return Duty{}, false
	}
	base, baseOK := r.layerDuty(tm, t)
	for _, o := range tm.overrides {
		if t.Before(o.from) || !t.Before(o.to) {
			continue
		}
		if o.replaces != "" && (!baseOK || base.Person.Name != o.replaces) {
			continue
		}
		return Duty{Unit: unit, Person: o.person, Layer: "override", Reason: o.reason, Since: o.from, Until: o.to}, true
	}
	return base, baseOK
}

func (r *Roster) layerDuty(tm *team, t time.Time) (Duty, bool) {
	for _, l := range tm.layers {
		local := t.In(r.loc)
		day := calendar.DateOf(local)
		if local.Sub(day.Time(r.loc)) < l.handoff {
			day = day.AddDays(-1) // before today's handoff: yesterday's shift
		}
		since := day.Time(r.loc).Add(l.handoff)
		switch l.days {
		case "workdays":
			if !r.cal.Workday(day) {
				continue
			}
		case "restdays":
			if r.cal.Workday(day) {
				continue
			}
		}
		days := int(day.Time(time.UTC).Sub(l.start.Time(time.UTC)).Hours() / 24)
		if days < 0 {
			continue
		}
		n := days / l.period
		shiftStart := l.start.AddDays(n * l.period).Time(r.loc).Add(l.handoff)
		until := shiftStart.AddDate(0, 0, l.period)
		if l.period == 1 {
			until = since.AddDate(0, 0, 1)
		} else {
			since = shiftStart
		}
		return Duty{Unit: tm.unit, Person: l.members[n%len(l.members)], Layer: l.name, Since: since, Until: until}, true
	}
	return Duty{}, false
}

// Gap is a time when a unit's team has nobody on duty.
type Gap struct {
	Unit     string
	From, To time.Time
}

func (g Gap) String() string {
	return fmt.Sprintf("unit %s has nobody on duty from %s to %s", g.Unit, g.From.Format("2006-01-02 15:04 MST"), g.To.Format("2006-01-02 15:04 MST"))
}

// Gaps lists, for every team, the stretches of [from, until) with nobody on
// duty. Coverage only changes at handoffs and override bounds, so those are
// the only moments looked at.
func (r *Roster) Gaps(from, until time.Time) []Gap {
	var out []Gap
	for _, unit := range r.units {
		tm := r.teams[unit]
		points := []time.Time{from}
		offsets := map[time.Duration]bool{}
		for _, l := range tm.layers {
			offsets[l.handoff] = true
		}
		for d := calendar.DateOf(from.In(r.loc)).AddDays(-1); d.Time(r.loc).Before(until); d = d.AddDays(1) {
			for off := range offsets {
				if p := d.Time(r.loc).Add(off); p.After(from) && p.Before(until) {
					points = append(points, p)
				}
			}
		}
		for _, o := range tm.overrides {
			for _, p := range []time.Time{o.from, o.to} {
				if p.After(from) && p.Before(until) {
					points = append(points, p)
				}
			}
		}
		sort.Slice(points, func(i, j int) bool { return points[i].Before(points[j]) })
		points = slices.CompactFunc(points, func(a, b time.Time) bool { return a.Equal(b) })
		var open *Gap
		for i, p := range points {
			_, ok := r.Who(unit, p)
			end := until
			if i+1 < len(points) {
				end = points[i+1]
			}
			switch {
			case !ok && open == nil:
				open = &Gap{Unit: unit, From: p, To: end}
			case !ok:
				open.To = end
			case open != nil:
				out = append(out, *open)
				open = nil
			}
		}
		if open != nil {
			out = append(out, *open)
		}
	}
	return out
}
