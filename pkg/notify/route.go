package notify

import (
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

// Route is a node of the routing tree, as in Alertmanager: an alert that
// matches a node goes to the first matching child, or to every matching
// child that has Continue set before it, and to the node's own receiver when
// no child takes it. A node without a receiver uses its parent's.
type Route struct {
	Receiver string
	Match    map[string]string // label equality; empty matches everything
	Matchers match.Matchers    // Alertmanager's matchers, all of which must match too
	Continue bool
	Routes   []*Route
}

// Receivers returns the receivers an alert with labels ls is sent to, each
// once, in tree order.
func (r *Route) Receivers(ls model.LabelSet) []string {
	var out []string
	seen := map[string]bool{}
	r.walk(ls, "", func(name string) {
		if name != "" && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	})
	return out
}

func (r *Route) matches(ls model.LabelSet) bool {
	for k, v := range r.Match {
		if ls[k] != v {
			return false
		}
	}
	return r.Matchers.Matches(ls)
}

// walk reports whether r took the alert; inherited is the receiver of the
// nearest ancestor that has one.
func (r *Route) walk(ls model.LabelSet, inherited string, emit func(string)) bool {
	if !r.matches(ls) {
		return false
	}
	recv := r.Receiver
	if recv == "" {
		recv = inherited
	}
	taken := false
	for _, ch := range r.Routes {
		if ch.walk(ls, recv, emit) {
			taken = true
			if !ch.Continue {
				break
			}
		}
	}
	if !taken {
		emit(recv)
	}
	return true
}
