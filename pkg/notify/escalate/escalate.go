// Package escalate decides who an incident pages and when: ordered steps
// (the on-duty officer at once; after N minutes without acknowledgement the
// unit head, 第一责任人; after M minutes the duty of the supervising unit,
// and upward to the top of the registry's chain), bounded repeats of the
// last step, and veto-level categories reported upward at once.
//
// The package holds no state and no timers: the notifier keeps each
// incident's State in its record in the store and asks Due, Page and
// Advance what to do on every tick, so a restart or a second replica
// resumes exactly where the store says.
package escalate

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/registry"
)

// Targets a step may page.
const (
	// TargetDuty is the on-duty officer of the alert's unit (its head when
	// the unit has no duty team or nobody is on duty).
	TargetDuty = "duty"
	// TargetHead is the unit's head (第一责任人) from the registry.
	TargetHead = "head"
	// TargetParent is the duty of the unit one level above the highest
	// level paged so far; each parent step climbs one level.
	TargetParent = "parent"
	// TargetTop is the duty of the top of the chain (the provincial office).
	TargetTop = "top"
	// TargetChain is the duty of every superior unit up to the top at once.
	TargetChain = "chain"
)

// Targets lists the valid step targets.
var Targets = []string{TargetDuty, TargetHead, TargetParent, TargetTop, TargetChain}

// Roles, as duty officers read them.
const (
	RoleDuty       = "值班人员"
	RoleHead       = "第一责任人"
	RoleParentDuty = "上级值班"
	RoleParentHead = "上级单位负责人"
)

// Step pages Targets After the incident opened.
type Step struct {
	After     time.Duration
	Targets   []string
	Receivers []string // empty: the alert's routed receivers
}

// Policy is an escalation policy: the first whose matchers match an alert applies.
type Policy struct {
	Name     string
	Matchers match.Matchers
	Steps    []Step
	// RepeatEvery and RepeatTimes repeat the last step while nobody acknowledges.
	RepeatEvery time.Duration
	RepeatTimes int
	// VetoUpward reports veto-level categories to every superior unit at once.
	VetoUpward bool
}

// Veto reports whether labels describe a veto-level incident reported
// upward at once: a category its detector declares so (model.Category's
// Upward: a leaked secret, prohibited content, a serious wording error, a
// public emergency), or any opinion.* alert marked critical (a major
// opinion incident).
func Veto(ls model.LabelSet) bool {
	c := ls[model.LabelAlertname]
	if info, ok := model.LookupCategory(c); ok && info.Upward {
		return true
	}
	return strings.HasPrefix(c, "opinion.") && ls[model.LabelSeverity] == model.SeverityCritical
}

// Select returns the first policy that matches ls.
func Select(ps []Policy, ls model.LabelSet) (*Policy, bool) {
	for i := range ps {
		if ps[i].Matchers.Matches(ls) {
			return &ps[i], true
		}
	}
	return nil, false
}

// State is an incident's escalation, kept in the notifier's record.
type State struct {
	Policy string    `json:"policy"`
	Seq    int       `json:"seq"`    // pages done by Advance; the claim key's sequence
	Next   int       `json:"next"`   // index of the next step; len(steps) when only repeats remain
	NextAt time.Time `json:"nextAt"` // zero when nothing is left
	Repeat int       `json:"repeat"` // repeats done
	Level  int       `json:"level"`  // highest level paged: 0 the unit, 1 its parent …
}

// Start opens the escalation of an incident that opened at opened: it
// returns the steps due at once (After 0), and the state pointing at the first later step.
func (p *Policy) Start(opened time.Time) (State, []Step) {
	s := State{Policy: p.Name}
	var now []Step
	for s.Next < len(p.Steps) && p.Steps[s.Next].After <= 0 {
		now = append(now, p.Steps[s.Next])
		s.Next++
	}
	s.NextAt = p.nextAt(s, opened)
	return s, now
}

func (p *Policy) nextAt(s State, opened time.Time) time.Time {
	if s.Next < len(p.Steps) {
		return opened.Add(p.Steps[s.Next].After)
	}
	if len(p.Steps) > 0 && p.RepeatEvery > 0 && s.Repeat < p.RepeatTimes {
		last := p.Steps[len(p.Steps)-1].After
		return opened.Add(last + time.Duration(s.Repeat+1)*p.RepeatEvery)
	}
	return time.Time{}
}

// Due returns the step due at now, if any.
func (p *Policy) Due(s State, now time.Time) (Step, bool) {
	if s.NextAt.IsZero() || now.Before(s.NextAt) || len(p.Steps) == 0 {
		return Step{}, false
	}
	if s.Next < len(p.Steps) {
		return p.Steps[s.Next], true
	}
	return p.Steps[len(p.Steps)-1], true
}

// Advance moves s past the step that was due; level is the level the page reached.
func (p *Policy) Advance(s State, opened time.Time, level int) State {
	s.Seq++
	if s.Next < len(p.Steps) {
		s.Next++
	} else {
		s.Repeat++
	}
	s.Level = max(s.Level, level)
	s.NextAt = p.nextAt(s, opened)
	return s
}

// Directory finds the people behind targets: units and heads in the
// registry, duty officers in the roster. Either may be nil.
type Directory struct {
	Registry *registry.Registry
	Roster   *roster.Roster
}

// Page resolves targets for an alert of unit at time at; level is the
// highest level paged so far. It returns the people (each once), the level
// the page reaches and the superior units it reaches (for the upward report).
func (d *Directory) Page(unit string, targets []string, level int, at time.Time) (people []channel.Person, reached int, superiors []string) {
	chain := d.chain(unit)
	reached = level
	seen := map[string]bool{}
	add := func(p channel.Person) {
		key := p.Name + "|" + p.Mobile + "|" + p.Email
		if p.Name == "" && p.Mobile == "" && p.Email == "" || seen[key] {
			return
		}
		seen[key] = true
		people = append(people, p)
	}
	dutyOf := func(i int) {
		if i >= len(chain) {
			return
		}
		u := chain[i]
		role, headRole := RoleDuty, RoleHead
		if i > 0 {
			role, headRole = RoleParentDuty, RoleParentHead
			superiors = appendOnce(superiors, u.ID)
		}
		if d.Roster != nil {
			if duty, ok := d.Roster.Who(u.ID, at); ok {
				add(channel.Person{Name: duty.Person.Name, Mobile: duty.Person.Mobile, Email: duty.Person.Email, IDs: duty.Person.IDs, Role: role, Unit: u.ID})
				return
			}
		}
		// Nobody on duty: the head answers for the unit.
		add(person(u.Head, headRole, u.ID))
		reached = max(reached, i)
	}
	for _, t := range targets {
		switch t {
		case TargetDuty:
			dutyOf(0)
		case TargetHead:
			if len(chain) > 0 {
				add(person(chain[0].Head, RoleHead, chain[0].ID))
			}
		case TargetParent:
			if reached+1 < len(chain) {
				reached++
				dutyOf(reached)
			}
		case TargetTop:
			if len(chain) > 1 {
				reached = len(chain) - 1
				dutyOf(reached)
			}
		case TargetChain:
			for i := 1; i < len(chain); i++ {
				dutyOf(i)
			}
			if len(chain) > 1 {
				reached = len(chain) - 1
			}
		}
	}
	return people, reached, superiors
}

func (d *Directory) chain(unit string) []*registry.Unit {
	if d.Registry == nil {
		return []*registry.Unit{{ID: unit}}
	}
	c := d.Registry.Chain(unit)
	if len(c) == 0 {
		return []*registry.Unit{{ID: unit}}
	}
	return c
}

func person(c registry.Contact, role, unit string) channel.Person {
	return channel.Person{Name: c.Name, Mobile: c.Mobile, Email: c.Email, IDs: c.IDs, Role: role, Unit: unit}
}

func appendOnce(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// LevelName is a bounded metric label for a page's level.
func LevelName(level int, targets []string) string {
	switch {
	case level <= 0:
		for _, t := range targets {
			if t == TargetHead {
				return "head"
			}
		}
		return "duty"
	case level == 1:
		return "parent"
	default:
		return "upper"
	}
}

// Validate checks a policy against the known receivers.
func (p *Policy) Validate(receiver func(string) bool) error {
	if len(p.Steps) == 0 {
		return fmt.Errorf("policy %q has no steps", p.Name)
	}
	var last time.Duration
	for i, s := range p.Steps {
		if s.After < last {
			return fmt.Errorf("policy %q: step %d comes before step %d", p.Name, i+1, i)
		}
		last = s.After
		for _, t := range s.Targets {
			ok := false
			for _, v := range Targets {
				ok = ok || t == v
			}
			if !ok {
				return fmt.Errorf("policy %q: step %d: unknown target %q (one of %v)", p.Name, i+1, t, Targets)
			}
		}
		for _, r := range s.Receivers {
			if !receiver(r) {
				return fmt.Errorf("policy %q: step %d: unknown receiver %q", p.Name, i+1, r)
			}
		}
	}
	return nil
}

// Uncovered lists, sorted, the units that own an active account and that
// nobody answers for: no team in the roster and no head in the registry
// that a page could reach. Their alerts page nobody.
func (d *Directory) Uncovered() []string {
	_, nobody := d.Teamless()
	return nobody
}

// Teamless lists, sorted, the units that own an active account and have no
// team in the roster (every such unit without a roster), split by who
// their alerts page: their head, when a page can reach it, or nobody.
func (d *Directory) Teamless() (head, nobody []string) {
	if d.Registry == nil {
		return nil, nil
	}
	seen := map[string]bool{}
	if d.Roster != nil {
		for _, u := range d.Roster.Units() {
			seen[u] = true
		}
	}
	for _, a := range d.Registry.Accounts() {
		if !a.Active() || seen[a.Unit] {
			continue
		}
		seen[a.Unit] = true
		if u, ok := d.Registry.Unit(a.Unit); ok && HeadReachable(u) {
			head = append(head, a.Unit)
		} else {
			nobody = append(nobody, a.Unit)
		}
	}
	sort.Strings(head)
	sort.Strings(nobody)
	return head, nobody
}

// Reachable reports whether a page can reach p: it has a mobile, an email
// or an account on another system to send to. A name alone is shown in a
// message but reaches nobody.
func Reachable(p channel.Person) bool { return p.Mobile != "" || p.Email != "" || len(p.IDs) > 0 }

// HeadReachable reports whether a page can reach unit u's head.
func HeadReachable(u *registry.Unit) bool { return Reachable(person(u.Head, RoleHead, u.ID)) }
