package daemon

import (
	"os"
	"time"

	"github.com/govwatch/govwatch/pkg/conf"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/report"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// Check reports what config.Load cannot judge because it needs packages
// above pkg/config, and what the components read at start-up beside the
// file: the lexicons, the upward report's template and the simulator's
// scenario. The detectors' templates (analyzer.detectors.<name>.texts) are
// judged by config.Load, which has every detector's. `govwatch config check` and every
// daemon's start-up call it, so one refuses what the other would; the
// error is a conf.Problems, each at the key that names the culprit.
func Check(cfg *config.Loaded) error {
	pos := cfg.Positions
	if pos == nil {
		pos = conf.NewPositions(cfg.Path)
	}
	var probs conf.Problems
	if dir := cfg.Analyzer.Lexicons; dir != "" {
		if _, err := textscan.NewLive(cfg.Resolve(dir), nil, nil, time.Now); err != nil {
			probs = append(probs, pos.Problem("analyzer.lexicons", "%v", err))
		}
	}
	if file := cfg.Notifier.ReportTemplate; file != "" {
		if b, err := os.ReadFile(cfg.Resolve(file)); err == nil {
			if _, err := report.NewUpstream(string(b)); err != nil {
				probs = append(probs, pos.Problem("notifier.report_template", "%v", err))
			}
		}
	}
	if sc := cfg.Simulate; sc.Enabled && sc.Scenario != "" {
		if _, err := simulate.LoadScenario(cfg.Resolve(sc.Scenario)); err != nil {
			probs = append(probs, pos.Problem("simulate.scenario", "%v", err))
		}
	}
	return probs.Sorted().Err()
}
