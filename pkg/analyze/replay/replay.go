// Package replay drives the analyzer's detectors, built exactly as the
// daemon builds them (analyze.Detectors), through a generated month of activity of many
// accounts with scripted incidents, in virtual time over the embedded
// store, and compares the alerts raised and resolved with the script.
// It is `govwatch replay`.
package replay

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/robfig/cron/v3"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/textscan"
)

// Options say what to replay.
type Options struct {
	Accounts int
	Days     int
	Seed     uint64
	// Config configures the detectors; its registry is replaced by the
	// generated one. Nil: the defaults, as an empty file gives them.
	Config *config.Loaded
	// Sweep overrides the config's analyzer.sweep schedule.
	Sweep cron.Schedule
	// RestartEvery, when positive, closes and reopens the store and builds
	// the detectors and the analyzer anew after every that many events, as
	// if the analyzer were killed and restarted.
	RestartEvery int
	// Dir holds the store file; it must exist and be empty or unused.
	Dir string
	// Inspect checks every account at the end against the national
	// indicators and compares the failures with the script.
	Inspect bool
}

// Row is one category of the outcome.
type Row struct {
	Category      string `json:"category"`
	WantFired     int    `json:"want_fired"`
	WantResolved  int    `json:"want_resolved"`
	GotFired      int    `json:"got_fired"`
	GotResolved   int    `json:"got_resolved"`
	Matches       bool   `json:"matches"`
	unexpectedAny bool
}

// Mismatch is one account whose alerts differ from the script.
type Mismatch struct {
	Category     string `json:"category"`
	Account      string `json:"account_id"`
	WantFired    int    `json:"want_fired"`
	WantResolved int    `json:"want_resolved"`
	GotFired     int    `json:"got_fired"`
	GotResolved  int    `json:"got_resolved"`
	Incident     string `json:"incident,omitempty"`
}

// Result is the outcome of a replay.
type Result struct {
	Accounts   int           `json:"accounts"`
	Days       int           `json:"days"`
	Seed       uint64        `json:"seed"`
	Events     int           `json:"events"`
	Sweeps     int           `json:"sweeps"`
	Restarts   int           `json:"restarts"`
	Elapsed    time.Duration `json:"elapsed_ns"`
	Rows       []Row         `json:"categories"`
	Mismatches []Mismatch    `json:"mismatches"`
	Expected   []Expect      `json:"script"`
	Inspection *Inspection   `json:"inspection,omitempty"`
}

// OK reports whether the alerts were exactly the scripted ones.
func (r *Result) OK() bool {
	return len(r.Mismatches) == 0 && (r.Inspection == nil || len(r.Inspection.Mismatches) == 0)
}

// Run generates the replay and drives the analyzer through it.
func Run(ctx context.Context, o Options) (*Result, error) {
	began := time.Now()
	// A replay is a batch of short-lived JSON states: trade some memory
	// for less collection, up to a soft limit that keeps 10,000 accounts
	// under a GiB (the stream itself holds about 30 KB per account).
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(768 << 20))
	s, err := generate(o.Accounts, o.Days, o.Seed)
	if err != nil {
		return nil, err
	}
	cfg := o.Config
	if cfg == nil {
		if cfg, err = config.LoadBytes("defaults.yaml", nil, ""); err != nil {
			return nil, fmt.Errorf("default config: %w", err)
		}
	}
	reg, probs := registry.New(s.units, s.accounts)
	if len(probs) > 0 {
		return nil, fmt.Errorf("generated registry: %v", probs[0])
	}
	lc := *cfg
	lc.Registry = reg
	sweep := o.Sweep
	if sweep == nil {
		if sweep, err = config.ParseSchedule(cfg.Analyzer.Sweep); err != nil {
			return nil, fmt.Errorf("sweep schedule: %w", err)
		}
	}

	clock := clockwork.NewFakeClockAt(Start)
	rec := newRecorder()
	hist := newHistory()
	rec.hist = hist
	an := &instance{cfg: &lc, clock: clock, pub: rec, path: filepath.Join(o.Dir, "state.db")}
	if err := an.start(); err != nil {
		return nil, err
	}
	defer an.stop()

	res := &Result{Accounts: o.Accounts, Days: o.Days, Seed: o.Seed, Events: len(s.events), Expected: s.expect}
	next := sweep.Next(Start.Add(-time.Nanosecond))
	sweepUntil := func(t time.Time) error {
		for !next.After(t) {
			clock.Advance(next.Sub(clock.Now()))
			if err := an.a.Sweep(ctx); err != nil {
				return fmt.Errorf("sweep at %s: %w", next.Format(time.RFC3339), err)
			}
			res.Sweeps++
			next = sweep.Next(next)
		}
		return nil
	}
	for i, e := range s.events {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := sweepUntil(e.at); err != nil {
			return nil, err
		}
		if d := e.at.Sub(clock.Now()); d > 0 {
			clock.Advance(d)
		}
		var err error
		switch {
		case e.post != nil:
			p := e.Post()
			hist.post(p)
			err = an.a.HandlePost(ctx, p)
		case e.snap != nil:
			err = an.a.HandleSnapshot(ctx, e.snap)
		case e.probe != nil:
			err = an.a.HandleProbe(ctx, e.probe)
		}
		if err != nil {
			return nil, fmt.Errorf("event %d at %s: %w", i, e.at.Format(time.RFC3339), err)
		}
		if o.RestartEvery > 0 && (i+1)%o.RestartEvery == 0 {
			an.stop()
			if err := an.start(); err != nil {
				return nil, fmt.Errorf("restart after event %d: %w", i, err)
			}
			res.Restarts++
		}
	}
	if err := sweepUntil(s.end); err != nil {
		return nil, err
	}
	res.Rows, res.Mismatches = compare(s.expect, rec.outcome())
	if o.Inspect {
		if res.Inspection, err = inspectReplay(ctx, s, hist); err != nil {
			return nil, err
		}
	}
	res.Elapsed = time.Since(began)
	return res, nil
}

// instance is one life of the analyzer: its store and its detectors.
type instance struct {
	cfg   *config.Loaded
	clock clockwork.Clock
	pub   *recorder
	path  string
	st    *embedded.Store
	a     *analyze.Analyzer
}

func (in *instance) start() error {
	st, err := embedded.Open(in.path, embedded.WithClock(in.clock), embedded.WithoutSync(), embedded.WithJanitorInterval(time.Hour))
	if err != nil {
		return err
	}
	lex, err := textscan.NewLive(in.cfg.Resolve(in.cfg.Analyzer.Lexicons), nil, nil, in.clock.Now)
	if err != nil {
		st.Close()
		return fmt.Errorf("lexicons: %w", err)
	}
	ds, err := analyze.Detectors(in.cfg.Detectors, detect.Deps{Clock: in.clock, Lexicons: lex})
	if err != nil {
		st.Close()
		return fmt.Errorf("detectors: %w", err)
	}
	in.st = st
	in.a = analyze.New(analyze.Options{
		Registry: in.cfg.Registry, Publisher: in.pub, Store: st,
		Posts: ds.Posts, Snapshots: ds.Snapshots, Probes: ds.Probes, Sweepers: ds.Sweepers,
		Clock: in.clock, SelfURL: "http://replay",
	})
	return nil
}

func (in *instance) stop() {
	if in.st != nil {
		in.st.Close()
		in.st, in.a = nil, nil
	}
}

// recorder is the bus as far as alerts go: it keeps each alert episode's
// firing and its resolution once, as the bus's de-duplication by
// fingerprint, startsAt and state does (bus.AlertMsgID).
type recorder struct {
	mu   sync.Mutex
	seen map[string]bool
	got  map[key]*Mismatch
	hist *history // when set, keeps each episode for the inspection
}

type key struct{ category, account string }

func newRecorder() *recorder {
	return &recorder{seen: map[string]bool{}, got: map[key]*Mismatch{}}
}

func (r *recorder) PublishAlert(_ context.Context, a *model.Alert) (bool, error) {
	if a.StartsAt.IsZero() {
		return false, errors.New("zero startsAt")
	}
	state := "firing"
	if !a.EndsAt.IsZero() {
		state = "resolved"
	}
	id := a.Fingerprint() + "@" + a.StartsAt.UTC().Format(time.RFC3339Nano) + "@" + state
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[id] {
		return true, nil
	}
	r.seen[id] = true
	if r.hist != nil {
		r.hist.alert(a)
	}
	k := key{a.Name(), a.Labels[model.LabelAccountID]}
	m := r.got[k]
	if m == nil {
		m = &Mismatch{Category: k.category, Account: k.account}
		r.got[k] = m
	}
	if state == "firing" {
		m.GotFired++
	} else {
		m.GotResolved++
	}
	return false, nil
}

func (r *recorder) outcome() map[key]*Mismatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[key]*Mismatch, len(r.got))
	for k, m := range r.got {
		c := *m
		out[k] = &c
	}
	return out
}

// compare sums the script and the outcome by category and lists every
// account whose alerts differ.
func compare(want []Expect, got map[key]*Mismatch) ([]Row, []Mismatch) {
	all := map[key]*Mismatch{}
	for k, g := range got {
		all[k] = g
	}
	for _, e := range want {
		k := key{e.Category, e.Account}
		m := all[k]
		if m == nil {
			m = &Mismatch{Category: e.Category, Account: e.Account}
			all[k] = m
		}
		m.WantFired += e.Fired
		m.WantResolved += e.Resolved
		m.Incident = e.Incident
	}
	rows := map[string]*Row{}
	for _, c := range categoryOrder {
		rows[c] = &Row{Category: c}
	}
	var mism []Mismatch
	for _, m := range all {
		r := rows[m.Category]
		if r == nil {
			r = &Row{Category: m.Category}
			rows[m.Category] = r
		}
		r.WantFired += m.WantFired
		r.WantResolved += m.WantResolved
		r.GotFired += m.GotFired
		r.GotResolved += m.GotResolved
		if m.WantFired != m.GotFired || m.WantResolved != m.GotResolved {
			mism = append(mism, *m)
			r.unexpectedAny = true
		}
	}
	var out []Row
	for _, r := range rows {
		r.Matches = !r.unexpectedAny
		out = append(out, *r)
	}
	order := func(c string) int {
		if i := slices.Index(categoryOrder, c); i >= 0 {
			return i
		}
		return len(categoryOrder)
	}
	slices.SortFunc(out, func(a, b Row) int {
		if d := order(a.Category) - order(b.Category); d != 0 {
			return d
		}
		return cmpString(a.Category, b.Category)
	})
	slices.SortFunc(mism, func(a, b Mismatch) int {
		if d := cmpString(a.Category, b.Category); d != 0 {
			return d
		}
		return cmpString(a.Account, b.Account)
	})
	return out, mism
}

// categoryOrder is the order of the categories table in DESIGN.md; every
// row is shown, so a category that stayed silent shows 0 against 0.
var categoryOrder = []string{
	"secret.marking", "prohibited.political", "prohibited.violence", "prohibited.porn", "prohibited.gambling",
	"prohibited.cult", "privacy.id_number", "privacy.phone", "privacy.bank_card", "wording.serious", "wording.typo",
	"wording.outdated", "engagement.forced", "engagement.bought_followers", "account.stale_warning", "account.stale",
	"account.zombie", "account.unavailable", "account.profile_changed", "account.duplicate", "interaction.unanswered",
	"opinion.spike", "opinion.negative", "opinion.emergency", "consistency.cross_platform",
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
