package config

import (
	"fmt"
	"github.com/govwatch/govwatch/pkg/conf"
	"os"
	"slices"
	"time"

	"github.com/govwatch/govwatch/pkg/calendar"
	"github.com/govwatch/govwatch/pkg/registry"
)

// AccountChecksConfig tunes the detectors that judge accounts rather than
// what they publish (analyzer.account_checks): the reminder and
// closure-candidate levels of staleness, unanswered public messages, profile
// changes, duplicate accounts and availability. The veto threshold itself is
// analyzer.stale_after.
type AccountChecksConfig struct {
	Staleness   StalenessConfig   `yaml:"staleness"`
	Unanswered  UnansweredConfig  `yaml:"unanswered"`
	Profile     ProfileConfig     `yaml:"profile"`
	Duplicate   DuplicateConfig   `yaml:"duplicate"`
	Unavailable UnavailableConfig `yaml:"unavailable"`
}

// StalenessConfig sets the defaults of the levels around account.stale; an
// account's stale_warning_after and zombie_after override them. 0 turns a
// level off, and so does a reminder not before the veto or a zombie
// threshold not after it.
type StalenessConfig struct {
	// WarningAfter raises account.stale_warning, the reminder before the veto.
	WarningAfter conf.Duration `yaml:"warning_after"`
	// ZombieAfter raises account.zombie, a candidate for closure or merger.
	ZombieAfter conf.Duration `yaml:"zombie_after"`
}

// UnansweredConfig configures interaction.unanswered.
type UnansweredConfig struct {
	Enabled bool `yaml:"enabled"`
	// SLAWorkdays is how many working days an account has to answer a public
	// comment or message, not counting the day it arrived.
	SLAWorkdays int `yaml:"sla_workdays"`
	// Window is how long a comment's id and time are kept; a comment still
	// unanswered after it leaves the analysis. Commenters are never stored.
	Window conf.Duration `yaml:"window"`
	// HolidaysDir holds <year>.yaml holiday calendars, relative to the config
	// file. Without one for a year, only weekends are days off.
	HolidaysDir string `yaml:"holidays_dir"`
}

// ProfileConfig configures account.profile_changed.
type ProfileConfig struct {
	Enabled bool `yaml:"enabled"`
	// AcceptAfter is how long a changed profile is reported before it
	// becomes the accepted one and the alert resolves.
	AcceptAfter conf.Duration `yaml:"accept_after"`
}

// DuplicateConfig configures account.duplicate.
type DuplicateConfig struct {
	Enabled bool `yaml:"enabled"`
	// IgnorePlatforms are platforms where a unit may run several accounts.
	IgnorePlatforms []string `yaml:"ignore_platforms"`
}

// UnavailableConfig configures account.unavailable.
type UnavailableConfig struct {
	Enabled bool `yaml:"enabled"`
	// Consecutive failed probes in a row that fire.
	Consecutive int `yaml:"consecutive"`
	// WindowFailures failed probes among the last Window that fire.
	Window         int `yaml:"window"`
	WindowFailures int `yaml:"window_failures"`
	// RecoverAfter successful probes in a row that resolve.
	RecoverAfter int `yaml:"recover_after"`
}

// DefaultHolidaysDir is where holiday calendars are looked for.
const DefaultHolidaysDir = "holidays"

// DefaultAccountChecks are the defaults of analyzer.account_checks.
func DefaultAccountChecks() AccountChecksConfig {
	return AccountChecksConfig{
		Staleness: StalenessConfig{
			WarningAfter: conf.Duration(10 * 24 * time.Hour),
			ZombieAfter:  conf.Duration(90 * 24 * time.Hour),
		},
		Unanswered: UnansweredConfig{
			Enabled: true, SLAWorkdays: 5, Window: conf.Duration(30 * 24 * time.Hour),
			HolidaysDir: DefaultHolidaysDir,
		},
		Profile:     ProfileConfig{Enabled: true, AcceptAfter: conf.Duration(7 * 24 * time.Hour)},
		Duplicate:   DuplicateConfig{Enabled: true, IgnorePlatforms: []string{"other"}},
		Unavailable: UnavailableConfig{Enabled: true, Consecutive: 3, Window: 10, WindowFailures: 5, RecoverAfter: 2},
	}
}

// Holidays loads the holiday calendars of analyzer.account_checks.unanswered.
// A missing default folder is no error: the calendar then counts Monday to
// Friday only, and Years tells which years it knows.
func (c *Config) Holidays() (*calendar.Calendar, error) {
	dir := c.Analyzer.AccountChecks.Unanswered.HolidaysDir
	path := c.Resolve(dir)
	if _, err := os.Stat(path); os.IsNotExist(err) && dir == DefaultHolidaysDir {
		return calendar.New()
	}
	return calendar.LoadDir(path)
}

func (c *Config) validateAccountChecks(pos *conf.Positions) conf.Problems {
	var ps conf.Problems
	bad := func(path, format string, args ...any) { ps = append(ps, pos.Problem(path, format, args...)) }
	ac := c.Analyzer.AccountChecks
	const p = "analyzer.account_checks."

	// Staleness levels that do not fit around analyzer.stale_after (or an
	// account's own) are off rather than wrong: see pkg/analyze/detect/staleness.
	if u := ac.Unanswered; u.Enabled {
		if u.SLAWorkdays < 1 || u.SLAWorkdays > 60 {
			bad(p+"unanswered.sla_workdays", "must be 1 to 60 working days, not %d", u.SLAWorkdays)
		}
		// The longest run of days off (春节 with its weekends) is under two weeks.
		if min := conf.Duration(time.Duration(u.SLAWorkdays+14) * 24 * time.Hour); u.Window < min {
			bad(p+"unanswered.window", "must be at least %s to outlast an SLA of %d working days over 春节, not %s", min, u.SLAWorkdays, u.Window)
		}
		if u.HolidaysDir == "" {
			bad(p+"unanswered.holidays_dir", "must name the folder of <year>.yaml holiday calendars")
		} else if _, err := c.Holidays(); err != nil {
			bad(p+"unanswered.holidays_dir", "%v", err)
		}
	}
	if pr := ac.Profile; pr.Enabled && pr.AcceptAfter < conf.Duration(time.Hour) {
		bad(p+"profile.accept_after", "must be at least 1h, not %s", pr.AcceptAfter)
	}
	for i, pl := range ac.Duplicate.IgnorePlatforms {
		if !slices.Contains(registry.Platforms, pl) {
			bad(fmt.Sprintf("%sduplicate.ignore_platforms[%d]", p, i), "unknown platform %q (one of %v)", pl, registry.Platforms)
		}
	}
	if u := ac.Unavailable; u.Enabled {
		if u.Consecutive < 1 {
			bad(p+"unavailable.consecutive", "must be at least 1, not %d", u.Consecutive)
		}
		if u.Window < 1 || u.Window > 100 {
			bad(p+"unavailable.window", "must be 1 to 100 probes, not %d", u.Window)
		}
		if u.WindowFailures < 1 || u.WindowFailures > u.Window {
			bad(p+"unavailable.window_failures", "must be 1 to window (%d), not %d", u.Window, u.WindowFailures)
		}
		if u.RecoverAfter < 1 || u.RecoverAfter > u.Window {
			bad(p+"unavailable.recover_after", "must be 1 to window (%d), not %d", u.Window, u.RecoverAfter)
		}
	}
	return ps
}
