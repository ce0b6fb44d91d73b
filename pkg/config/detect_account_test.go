package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAccountChecksDefaultsAndOverrides(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry+`    stale_warning_after: 7d
    zombie_after: 60d
`)
	if err := os.Mkdir(filepath.Join(dir, "holidays"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../configs/holidays/2026.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "holidays"), "2026.yaml", string(b))
	p := write(t, dir, "govwatch.yaml", `
registry: {file: registry.yaml}
analyzer:
  account_checks:
    unanswered: {sla_workdays: 3}
    unavailable: {consecutive: 2}
`)
	l, err := Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	ac := l.Analyzer.AccountChecks
	if got, want := ac.Unanswered.SLAWorkdays, 3; got != want {
		t.Errorf("sla_workdays = %d, want %d", got, want)
	}
	if got, want := ac.Unanswered.Window.D(), 30*24*time.Hour; got != want {
		t.Errorf("default window = %v, want %v", got, want)
	}
	if got, want := ac.Unavailable.Consecutive, 2; got != want {
		t.Errorf("consecutive = %d, want %d", got, want)
	}
	if got, want := ac.Unavailable.WindowFailures, 5; got != want {
		t.Errorf("default window_failures = %d, want %d", got, want)
	}
	if got, want := ac.Staleness.WarningAfter.D(), 10*24*time.Hour; got != want {
		t.Errorf("default warning_after = %v, want %v", got, want)
	}
	a, _ := l.Registry.Account("fz-wechat")
	if a.StaleWarningAfter != 7*24*time.Hour || a.ZombieAfter != 60*24*time.Hour {
		t.Errorf("account levels = %v, %v, want 7d and 60d", a.StaleWarningAfter, a.ZombieAfter)
	}
	cal, err := l.Holidays()
	if err != nil || !cal.Covers(2026) {
		t.Errorf("Holidays() = %v, %v, want the 2026 calendar", cal.Years(), err)
	}
}

func TestAccountChecksProblems(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	if err := os.Mkdir(filepath.Join(dir, "cal"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "cal"), "2026.yaml", "year: 2026\nworkdays: [2026-10-09]\n")
	p := write(t, dir, "govwatch.yaml", `registry: {file: registry.yaml}
analyzer:
  account_checks:
    unanswered:
      sla_workdays: 0
      window: 5d
      holidays_dir: cal
    profile: {accept_after: 10m}
    duplicate: {ignore_platforms: [weibo, myspace]}
    unavailable: {consecutive: 0, window: 10, window_failures: 11, recover_after: 0}
`)
	_, err := Load(p)
	if err == nil {
		t.Fatal("Load: no error")
	}
	for _, want := range []string{
		"govwatch.yaml:5: analyzer.account_checks.unanswered.sla_workdays: must be 1 to 60 working days, not 0",
		"govwatch.yaml:6: analyzer.account_checks.unanswered.window: must be at least 14d",
		"govwatch.yaml:7: analyzer.account_checks.unanswered.holidays_dir: " + filepath.Join(dir, "cal", "2026.yaml") + ":2: workdays[0]: 2026-10-09 is a Friday",
		"govwatch.yaml:8: analyzer.account_checks.profile.accept_after: must be at least 1h, not 10m",
		`govwatch.yaml:9: analyzer.account_checks.duplicate.ignore_platforms[1]: unknown platform "myspace"`,
		"analyzer.account_checks.unavailable.consecutive: must be at least 1, not 0",
		"analyzer.account_checks.unavailable.window_failures: must be 1 to window (10), not 11",
		"analyzer.account_checks.unavailable.recover_after: must be 1 to window (10), not 0",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("problems do not contain %q:\n%v", want, err)
		}
	}
}

func TestMissingHolidaysDir(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "registry.yaml", goodRegistry)
	// The default folder may be missing: weekends only, no problem.
	l, err := Load(write(t, dir, "a.yaml", "registry: {file: registry.yaml}\n"))
	if err != nil {
		t.Fatalf("default holidays_dir missing: %v", err)
	}
	if cal, err := l.Holidays(); err != nil || len(cal.Years()) != 0 {
		t.Errorf("Holidays() = %v, %v, want an empty calendar", cal.Years(), err)
	}
	// A folder named explicitly must exist.
	_, err = Load(write(t, dir, "b.yaml", "registry: {file: registry.yaml}\nanalyzer: {account_checks: {unanswered: {holidays_dir: nowhere}}}\n"))
	if err == nil || !strings.Contains(err.Error(), "b.yaml:2: analyzer.account_checks.unanswered.holidays_dir: holidays:") {
		t.Errorf("missing explicit holidays_dir: got %v", err)
	}
}
