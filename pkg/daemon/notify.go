package daemon

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/notify"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/report"
)

// notifyDuty is the notifier's duty side built from the config: roster,
// escalation policies, inhibition rules, link signer, API tokens.
type notifyDuty struct {
	dir      *escalate.Directory
	policies []escalate.Policy
	inhibit  []inhibit.Rule
	signer   *ack.Signer
	linkTTL  time.Duration
	auth     *notify.Auth
	report   *report.Upstream
	tick     time.Duration
}

func (d *notifyDuty) apply(o *notify.Options) {
	o.Directory, o.Policies, o.Inhibit = d.dir, d.policies, d.inhibit
	o.Signer, o.LinkTTL, o.Report, o.Tick = d.signer, d.linkTTL, d.report, d.tick
}

// RosterGapHorizon is how far ahead coverage gaps are reported at start.
const RosterGapHorizon = 14 * 24 * time.Hour

func (e *env) notifyDuty() (*notifyDuty, error) {
	nc := e.cfg.Notifier
	d := &notifyDuty{dir: &escalate.Directory{Registry: e.cfg.Registry}, linkTTL: nc.Ack.LinkTTL.D(), tick: nc.Tick.D()}
	if nc.Roster != "" {
		ro, err := LoadRoster(e.cfg)
		if err != nil {
			return nil, err
		}
		d.dir.Roster = ro
		now := e.clock.Now()
		for _, g := range ro.Gaps(now, now.Add(RosterGapHorizon)) {
			e.log.Warn("roster coverage gap", zap.String("unit", g.Unit), zap.Time("from", g.From), zap.Time("to", g.To))
		}
	}
	logCoverage(e.log, d.dir)
	for _, pc := range nc.Escalation {
		ms, err := config.Matchers(pc.Match, pc.Matchers)
		if err != nil {
			return nil, fmt.Errorf("escalation %s: %w", pc.Name, err)
		}
		p := escalate.Policy{Name: pc.Name, Matchers: ms, RepeatEvery: pc.Repeat.Every.D(), RepeatTimes: pc.Repeat.Times, VetoUpward: pc.VetoUpward}
		for _, sc := range pc.Steps {
			p.Steps = append(p.Steps, escalate.Step{After: sc.After.D(), Targets: sc.Notify, Receivers: sc.Receivers})
		}
		d.policies = append(d.policies, p)
	}
	for i, ic := range nc.InhibitRules {
		src, err := config.Matchers(ic.SourceMatch, ic.SourceMatchers)
		if err != nil {
			return nil, fmt.Errorf("inhibit rule %d: %w", i, err)
		}
		tgt, err := config.Matchers(ic.TargetMatch, ic.TargetMatchers)
		if err != nil {
			return nil, fmt.Errorf("inhibit rule %d: %w", i, err)
		}
		d.inhibit = append(d.inhibit, inhibit.Rule{Source: src, Target: tgt, Equal: ic.Equal})
	}
	var err error
	if d.signer, err = e.ackSigner(); err != nil {
		return nil, err
	}
	if d.auth, err = e.apiAuth(); err != nil {
		return nil, err
	}
	text := ""
	if nc.ReportTemplate != "" {
		b, err := os.ReadFile(e.cfg.Resolve(nc.ReportTemplate))
		if err != nil {
			return nil, fmt.Errorf("report template: %w", err)
		}
		text = string(b)
	}
	if d.report, err = report.NewUpstream(text); err != nil {
		return nil, err
	}
	return d, nil
}

// logCoverage says, once per unit that owns an active account and has no
// duty team (every unit, without a roster), who its alerts page: its head,
// when a page can reach the head, or nobody, in which case they raise
// system.unrouted to the supervising unit.
func logCoverage(log *zap.Logger, dir *escalate.Directory) {
	head, nobody := dir.Teamless()
	for _, u := range nobody {
		log.Warn("unit has no duty team and no head to page: its alerts page nobody and raise system.unrouted", zap.String("unit", u))
	}
	for _, u := range head {
		log.Info("unit has no duty team; its head is paged instead", zap.String("unit", u))
	}
}

// ackSigner builds the link signer: from the configured key (and the
// previous one, still accepted) or, with none configured, from the key ring
// the replicas share in the store, which it re-reads.
func (e *env) ackSigner() (*ack.Signer, error) {
	ac := e.cfg.Notifier.Ack
	key, err := e.cfg.Secret(ac.KeyFile, ac.KeyEnv)
	if err != nil {
		return nil, fmt.Errorf("ack key: %w", err)
	}
	prev, err := e.cfg.Secret(ac.PreviousKeyFile, ac.PreviousKeyEnv)
	if err != nil {
		return nil, fmt.Errorf("previous ack key: %w", err)
	}
	if len(key) > 0 {
		var previous [][]byte
		if len(prev) > 0 {
			previous = append(previous, prev)
		}
		return ack.NewSigner(key, previous...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ack.FromStore(ctx, e.store, ack.StoreOptions{Clock: e.clock, Log: e.log.Named("ack")})
}

// LoadRoster loads the roster the config names, checking its units against
// the registry.
func LoadRoster(cfg *config.Loaded) (*roster.Roster, error) {
	return roster.Load(cfg.Resolve(cfg.Notifier.Roster), func(u string) bool {
		_, ok := cfg.Registry.Unit(u)
		return ok
	})
}
