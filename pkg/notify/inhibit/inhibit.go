// Package inhibit mutes alerts that another firing alert makes redundant,
// as Alertmanager's inhibition rules do: while an alert matching a rule's
// source matchers fires, alerts matching its target matchers that have the
// same values for the rule's equal labels page nobody. For example
// account.stale inhibits account.stale_warning for the same account, and
// system.source_down inhibits account.stale for the same account (a broken
// collector is not a silent account).
package inhibit

import (
	"slices"
	"strconv"
	"strings"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

// Rule is one inhibition rule.
type Rule struct {
	Source match.Matchers
	Target match.Matchers
	Equal  []string
}

// Active is a firing alert that may inhibit others.
type Active struct {
	Fingerprint string
	Labels      model.LabelSet
}

// Index holds the active alerts that may inhibit others, by rule and by
// the values of the rule's equal labels, so that checking an alert costs a
// look-up per rule instead of a walk over every active alert.
type Index struct {
	rules   []Rule
	sources []map[string][]string // per rule: equal values → fingerprints, in the order of active
}

// NewIndex indexes active under rules.
func NewIndex(rules []Rule, active []Active) *Index {
	x := &Index{rules: rules, sources: make([]map[string][]string, len(rules))}
	for i, r := range rules {
		by := map[string][]string{}
		for _, a := range active {
			if r.Source.Matches(a.Labels) {
				k := equalKey(r.Equal, a.Labels)
				by[k] = append(by[k], a.Fingerprint)
			}
		}
		x.sources[i] = by
	}
	return x
}

// Sourced reports whether an alert with labels ls may inhibit others: a
// rule's source matchers match it.
func Sourced(rules []Rule, ls model.LabelSet) bool {
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.Source.Matches(ls) })
}

// Targeted reports whether a rule may inhibit an alert with labels ls: only
// then does checking it need the active alerts.
func Targeted(rules []Rule, ls model.LabelSet) bool {
	return slices.ContainsFunc(rules, func(r Rule) bool { return r.Target.Matches(ls) })
}

// Inhibitor returns the fingerprint of an active alert that inhibits the
// alert (fp, ls), if any. An alert never inhibits itself.
func (x *Index) Inhibitor(fp string, ls model.LabelSet) (string, bool) {
	for i, r := range x.rules {
		if !r.Target.Matches(ls) {
			continue
		}
		for _, src := range x.sources[i][equalKey(r.Equal, ls)] {
			if src != fp {
				return src, true
			}
		}
	}
	return "", false
}

// equalKey joins the values of names in ls, each prefixed by its length so
// that no two lists of values share a key; a missing label counts as empty.
func equalKey(names []string, ls model.LabelSet) string {
	var b strings.Builder
	for _, l := range names {
		v := ls[l]
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.WriteString(v)
	}
	return b.String()
}
