// Package inhibit mutes alerts that another firing alert makes redundant,
// as Alertmanager's inhibition rules do: while an alert matching a rule's
// source matchers fires, alerts matching its target matchers that have the
// same values for the rule's equal labels page nobody. For example
// account.stale inhibits account.stale_warning for the same account, and
// system.source_down inhibits account.stale for the same account (a broken
// collector is not a silent account).
package inhibit

import (
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

// Inhibitor returns the fingerprint of an active alert that inhibits the
// alert (fp, ls) under rules, if any. An alert never inhibits itself.
func Inhibitor(rules []Rule, fp string, ls model.LabelSet, active []Active) (string, bool) {
	for _, r := range rules {
		if !r.Target.Matches(ls) {
			continue
		}
	next:
		for _, a := range active {
			if a.Fingerprint == fp || !r.Source.Matches(a.Labels) {
				continue
			}
			for _, l := range r.Equal {
				if a.Labels[l] != ls[l] {
					continue next
				}
			}
			return a.Fingerprint, true
		}
	}
	return "", false
}
