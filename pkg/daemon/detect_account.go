package daemon

import (
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
	"github.com/govwatch/govwatch/pkg/analyze/detect/profile"
	"github.com/govwatch/govwatch/pkg/analyze/detect/staleness"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unanswered"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
	"github.com/govwatch/govwatch/pkg/calendar"
)

// accountDetectors are the detectors that judge accounts, built from
// analyzer.stale_after and analyzer.account_checks.
type accountDetectors struct {
	posts     []detect.PostDetector
	snapshots []detect.SnapshotDetector
	probes    []detect.ProbeDetector
	sweepers  []detect.Sweeper
}

func (e *env) accountDetectors() (accountDetectors, error) {
	ac := e.cfg.Analyzer
	chk := ac.AccountChecks
	var ds accountDetectors

	stale := withTexts(e.texts, "staleness", staleness.NewLevels(chk.Staleness.WarningAfter.D(), ac.StaleAfter.D(), chk.Staleness.ZombieAfter.D()))
	ds.posts = append(ds.posts, stale)
	ds.sweepers = append(ds.sweepers, stale)

	if u := chk.Unanswered; u.Enabled {
		cal, err := e.cfg.Holidays()
		if err != nil {
			return ds, err
		}
		if year := e.clock.Now().In(calendar.Shanghai).Year(); !cal.Covers(year) {
			e.log.Warn("no holiday calendar for this year: unanswered comments are counted Monday to Friday only",
				zap.Int("year", year), zap.String("holidays_dir", e.cfg.Resolve(u.HolidaysDir)), zap.Ints("years", cal.Years()))
		}
		d := withTexts(e.texts, "unanswered", unanswered.New(unanswered.Config{SLAWorkdays: u.SLAWorkdays, Window: u.Window.D(), Calendar: cal}))
		ds.posts = append(ds.posts, d)
		ds.sweepers = append(ds.sweepers, d)
	}
	if p := chk.Profile; p.Enabled {
		d := withTexts(e.texts, "profile", profile.New(profile.Config{AcceptAfter: p.AcceptAfter.D()}))
		ds.snapshots = append(ds.snapshots, d)
		ds.sweepers = append(ds.sweepers, d)
	}
	if u := chk.Unavailable; u.Enabled {
		d := withTexts(e.texts, "unavailable", unavailable.New(unavailable.Config{Consecutive: u.Consecutive, Window: u.Window,
			WindowFailures: u.WindowFailures, RecoverAfter: u.RecoverAfter}))
		ds.probes = append(ds.probes, d)
		ds.sweepers = append(ds.sweepers, d)
	}
	if dc := chk.Duplicate; dc.Enabled {
		ds.sweepers = append(ds.sweepers, withTexts(e.texts, "duplicate", duplicate.New(duplicate.Config{IgnorePlatforms: dc.IgnorePlatforms})))
	}
	return ds, nil
}
