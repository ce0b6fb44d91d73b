// Package registry is govwatch's list of the units (government bodies, with
// their parent units) and the official accounts they run. It is built once
// from configuration, checked as a whole, and then read concurrently.
package registry

import (
	"fmt"
	"regexp"
	"sort"
	"time"
)

// Account statuses. Only active accounts are polled and judged; suspended and
// closed accounts never alert.
const (
	StatusActive    = "active"
	StatusSuspended = "suspended"
	StatusClosed    = "closed"
)

// Platforms govwatch knows. The platform is where the account lives, not how
// it is collected (see Source).
var Platforms = []string{
	"wechat", "weibo", "douyin", "toutiao", "kuaishou", "bilibili", "xiaohongshu",
	"zhihu", "app", "miniprogram", "website", "other",
}

// Contact is a person to reach.
type Contact struct {
	Name   string
	Title  string
	Mobile string
	Email  string
	IDs    map[string]string // accounts on other systems, by system name
}

// Unit is a government body. Parent is the supervising unit's id ("" for the top).
type Unit struct {
	ID       string
	Name     string
	Region   string // administrative division code, e.g. 350100
	Parent   string
	Head     Contact // 第一责任人
	Contacts []Contact
}

// Source says how an account is collected.
type Source struct {
	Type     string        // the source's name: rss, …
	Interval time.Duration // poll interval; 0 means the collector's default
	// Options are the account's options as its source declared them (the
	// keys of the account's source block besides type and interval); the
	// source reads them with source.Options. Secrets are never held here,
	// only where they are.
	Options any
}

// Account is one official account.
type Account struct {
	ID         string
	Name       string
	Platform   string
	Unit       string
	Status     string
	Source     Source
	StaleAfter time.Duration // 0 means the analyzer's default
	// StaleWarningAfter and ZombieAfter are the account's own reminder and
	// closure-candidate thresholds; 0 means the analyzer's defaults.
	StaleWarningAfter time.Duration
	ZombieAfter       time.Duration
	Tier              string // the collector's poll tier; "" = its default tier
}

// Active reports whether the account is watched and judged.
func (a *Account) Active() bool { return a.Status == StatusActive }

// Problem is one inconsistency found while building a registry. Kind is
// "units" or "accounts", Index the position in the input, Field the offending
// field, so a caller can point at the line of a file.
type Problem struct {
	Kind  string
	Index int
	Field string
	Msg   string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s[%d].%s: %s", p.Kind, p.Index, p.Field, p.Msg)
}

// Registry is an immutable, checked set of units and accounts.
type Registry struct {
	units    map[string]*Unit
	accounts map[string]*Account
	order    []*Account
}

var safeID = regexp.MustCompile(`^[a-z0-9_-]+$`)

// SafeID reports whether id can be a NATS subject token and a store key part.
func SafeID(id string) bool { return len(id) <= 128 && safeID.MatchString(id) }

// idProblem says why id cannot be the id of a unit or an account, or
// returns "" when it can.
func idProblem(id string) string {
	switch {
	case id == "":
		return "missing id"
	case !SafeID(id):
		return fmt.Sprintf("id %q must match [a-z0-9_-]+", id)
	}
	return ""
}

// New checks units and accounts together and returns the registry, or every
// problem found: ids that are missing, duplicated or not subject-safe, unknown
// parent units and cycles among them, accounts of unknown units, unknown
// platforms and statuses.
func New(units []Unit, accounts []Account) (*Registry, []Problem) {
	r := &Registry{units: map[string]*Unit{}, accounts: map[string]*Account{}}
	var probs []Problem
	add := func(kind string, i int, field, format string, args ...any) {
		probs = append(probs, Problem{Kind: kind, Index: i, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	unitIndex := map[string]int{}
	for i := range units {
		u := units[i]
		if msg := idProblem(u.ID); msg != "" {
			add("units", i, "id", "%s", msg)
			continue
		}
		if j, dup := unitIndex[u.ID]; dup {
			add("units", i, "id", "duplicate unit id %q (first at units[%d])", u.ID, j)
			continue
		}
		if u.Name == "" {
			add("units", i, "name", "unit %q has no name", u.ID)
		}
		unitIndex[u.ID] = i
		r.units[u.ID] = &u
	}
	for id, u := range r.units {
		if u.Parent == "" {
			continue
		}
		if _, ok := r.units[u.Parent]; !ok {
			add("units", unitIndex[id], "parent", "unknown parent unit %q", u.Parent)
		}
	}
	probs = append(probs, r.cycles(unitIndex)...)

	known := map[string]bool{}
	for _, p := range Platforms {
		known[p] = true
	}
	accIndex := map[string]int{}
	for i := range accounts {
		a := accounts[i]
		if msg := idProblem(a.ID); msg != "" {
			add("accounts", i, "id", "%s", msg)
			continue
		}
		j, dup := accIndex[a.ID]
		if dup {
			add("accounts", i, "id", "duplicate account id %q (first at accounts[%d])", a.ID, j)
		} else {
			accIndex[a.ID] = i
		}
		if _, ok := r.units[a.Unit]; !ok {
			if a.Unit == "" {
				add("accounts", i, "unit", "account %q has no unit", a.ID)
			} else {
				add("accounts", i, "unit", "unknown unit %q", a.Unit)
			}
		}
		if !known[a.Platform] {
			add("accounts", i, "platform", "unknown platform %q (one of %v)", a.Platform, Platforms)
		}
		if a.Status == "" {
			a.Status = StatusActive
		}
		switch a.Status {
		case StatusActive, StatusSuspended, StatusClosed:
		default:
			add("accounts", i, "status", "unknown status %q (active, suspended or closed)", a.Status)
		}
		if !dup {
			r.accounts[a.ID] = &a
			r.order = append(r.order, &a)
		}
	}
	if len(probs) > 0 {
		sort.SliceStable(probs, func(i, j int) bool {
			if probs[i].Kind != probs[j].Kind {
				return probs[i].Kind > probs[j].Kind // units first
			}
			return probs[i].Index < probs[j].Index
		})
		return nil, probs
	}
	return r, nil
}

// cycles reports each unit whose parent chain comes back to itself, once per cycle.
func (r *Registry) cycles(index map[string]int) []Problem {
	var probs []Problem
	reported := map[string]bool{}
	for id := range r.units {
		seen := map[string]bool{}
		for cur := id; cur != ""; {
			if seen[cur] {
				if cur == id && !reported[id] {
					chain := []string{id}
					for c := r.units[id].Parent; c != id; c = r.units[c].Parent {
						chain = append(chain, c)
						reported[c] = true
					}
					reported[id] = true
					probs = append(probs, Problem{Kind: "units", Index: index[id], Field: "parent",
						Msg: fmt.Sprintf("parent cycle: %v", append(chain, id))})
				}
				break
			}
			seen[cur] = true
			u, ok := r.units[cur]
			if !ok {
				break
			}
			cur = u.Parent
		}
	}
	return probs
}

// Account returns the account with id, if any.
func (r *Registry) Account(id string) (*Account, bool) {
	a, ok := r.accounts[id]
	return a, ok
}

// Unit returns the unit with id, if any.
func (r *Registry) Unit(id string) (*Unit, bool) {
	u, ok := r.units[id]
	return u, ok
}

// Accounts returns every account in input order. Callers must not modify them.
func (r *Registry) Accounts() []*Account { return r.order }

// Units returns the number of units.
func (r *Registry) Units() int { return len(r.units) }

// Chain returns the unit and its ancestors, nearest first: the escalation path.
func (r *Registry) Chain(unitID string) []*Unit {
	var out []*Unit
	for u, ok := r.units[unitID]; ok && len(out) <= len(r.units); u, ok = r.units[u.Parent] {
		out = append(out, u)
	}
	return out
}

// UnitIDs returns the ids of every unit, sorted.
func (r *Registry) UnitIDs() []string {
	ids := make([]string, 0, len(r.units))
	for id := range r.units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
