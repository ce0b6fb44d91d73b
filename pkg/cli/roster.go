package cli

import (
	"flag"
	"fmt"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/daemon"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/roster"
)

const rosterUsage = `usage:
  govwatch roster who [-config FILE] --unit UNIT [--at TIME]
                                 who is on duty for UNIT at TIME ("2006-01-02 15:04" in the
                                 roster's time zone, or RFC 3339; default now)
  govwatch roster gaps [-config FILE] [--days N]
                                 stretches of the next N days (default 14) with nobody on duty
`

// rosterCmd answers questions about the duty roster the config names.
func rosterCmd(args []string, io IO, now func() time.Time) int {
	if len(args) == 0 || (args[0] != "who" && args[0] != "gaps") {
		fmt.Fprint(io.Stderr, rosterUsage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("govwatch roster "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	cfgPath := fs.String("config", "configs/govwatch.yaml", "config file")
	unit := fs.String("unit", "", "unit id (who)")
	at := fs.String("at", "", "time (who); default now")
	days := fs.Int("days", 14, "days ahead (gaps)")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	// Without a roster nobody is on duty anywhere: every unit's head is
	// paged, and a unit without a head a page can reach is paged to nobody.
	var ro *roster.Roster
	loc := calendar.Shanghai
	if cfg.Notifier.Roster != "" {
		if ro, err = daemon.LoadRoster(cfg); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		loc = ro.Location()
	}
	if args[0] == "gaps" {
		var gaps []roster.Gap
		if ro == nil {
			fmt.Fprintf(io.Stdout, "%s names no roster (notifier.roster): nobody is on duty, each unit's head is paged\n", *cfgPath)
		} else {
			from := now()
			gaps = ro.Gaps(from, from.Add(time.Duration(*days)*24*time.Hour))
		}
		for _, g := range gaps {
			fmt.Fprintf(io.Stdout, "%s\t%s – %s\n", g.Unit, g.From.In(loc).Format("2006-01-02 15:04"), g.To.In(loc).Format("2006-01-02 15:04"))
		}
		uncovered := (&escalate.Directory{Registry: cfg.Registry, Roster: ro}).Uncovered()
		for _, u := range uncovered {
			fmt.Fprintf(io.Stdout, "%s\tno duty team in the roster and no head in the registry to page: its alerts page nobody\n", u)
		}
		if len(gaps)+len(uncovered) > 0 {
			return ExitProblem
		}
		fmt.Fprintln(io.Stdout, "no gaps")
		return ExitOK
	}
	if *unit == "" {
		fmt.Fprint(io.Stderr, "govwatch roster who: --unit is required\n"+rosterUsage)
		return ExitUsage
	}
	u, ok := cfg.Registry.Unit(*unit)
	if !ok {
		fmt.Fprintf(io.Stderr, "unknown unit %q\n", *unit)
		return ExitUsage
	}
	t := now()
	if *at != "" {
		if t, err = roster.ParseTime(*at, loc); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitUsage
		}
	}
	var d roster.Duty
	onDuty := false
	if ro != nil {
		d, onDuty = ro.Who(*unit, t)
	}
	when := t.In(loc).Format("2006-01-02 15:04 MST")
	if !onDuty {
		if !escalate.HeadReachable(u) {
			fmt.Fprintf(io.Stdout, "%s %s: nobody on duty, and the registry names no head to page instead\n", u.Name, when)
		} else {
			fmt.Fprintf(io.Stdout, "%s %s: nobody on duty; the head (第一责任人) is paged: %s %s\n", u.Name, when, u.Head.Name, u.Head.Mobile)
		}
		return ExitProblem
	}
	fmt.Fprintf(io.Stdout, "%s %s: %s", u.Name, when, d.Person.Name)
	if d.Person.Mobile != "" {
		fmt.Fprintf(io.Stdout, " %s", d.Person.Mobile)
	}
	fmt.Fprintf(io.Stdout, " (%s", d.Layer)
	if d.Reason != "" {
		fmt.Fprintf(io.Stdout, ": %s", d.Reason)
	}
	fmt.Fprintf(io.Stdout, ", %s – %s)\n", d.Since.In(loc).Format("01-02 15:04"), d.Until.In(loc).Format("01-02 15:04"))
	return ExitOK
}
