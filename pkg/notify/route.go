package notify

import (
	"slices"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

// Route is a node of the routing tree, as in Alertmanager: an alert that
// matches a node goes to the first matching child, or to every matching
// child that has Continue set before it, and to the node's own receiver when
// no child takes it. A node without a receiver uses its parent's; grouping
// settings left zero are inherited too.
type Route struct {
	Receiver string
	Match    map[string]string // label equality; empty matches everything
	Matchers match.Matchers    // Alertmanager's matchers, all of which must match too
	Continue bool
	Routes   []*Route

	// GroupBy turns on grouping: alerts with the same values of these
	// labels go out together ("..." groups by every label). Nil inherits;
	// nil at the root sends each alert on its own at once.
	GroupBy        []string
	GroupWait      time.Duration // before a new group's first notification (critical alerts skip it)
	GroupInterval  time.Duration // before notifying changes to a group
	RepeatInterval time.Duration // before repeating an unchanged firing group
}

// Grouping defaults, as Alertmanager's.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// Matched is a receiver an alert routes to, with the grouping of the node
// that took it.
type Matched struct {
	Receiver       string
	GroupBy        []string // nil: no grouping
	GroupWait      time.Duration
	GroupInterval  time.Duration
	RepeatInterval time.Duration
}

// Receivers returns the receivers an alert with labels ls is sent to, each
// once, in tree order.
func (r *Route) Receivers(ls model.LabelSet) []string {
	var out []string
	for _, m := range r.Destinations(ls) {
		out = append(out, m.Receiver)
	}
	return out
}

// Destinations returns where an alert with labels ls goes, each receiver once, in tree order.
func (r *Route) Destinations(ls model.LabelSet) []Matched {
	var out []Matched
	seen := map[string]bool{}
	root := Matched{GroupWait: DefaultGroupWait, GroupInterval: DefaultGroupInterval, RepeatInterval: DefaultRepeatInterval}
	r.walk(ls, root, func(m Matched) {
		if m.Receiver != "" && !seen[m.Receiver] {
			seen[m.Receiver] = true
			out = append(out, m)
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

// walk reports whether r took the alert; inherited carries the receiver and
// grouping of the nearest ancestors that set them.
func (r *Route) walk(ls model.LabelSet, inherited Matched, emit func(Matched)) bool {
	if !r.matches(ls) {
		return false
	}
	m := inherited
	if r.Receiver != "" {
		m.Receiver = r.Receiver
	}
	if r.GroupBy != nil {
		m.GroupBy = r.GroupBy
	}
	if r.GroupWait > 0 {
		m.GroupWait = r.GroupWait
	}
	if r.GroupInterval > 0 {
		m.GroupInterval = r.GroupInterval
	}
	if r.RepeatInterval > 0 {
		m.RepeatInterval = r.RepeatInterval
	}
	taken := false
	for _, ch := range r.Routes {
		if ch.walk(ls, m, emit) {
			taken = true
			if !ch.Continue {
				break
			}
		}
	}
	if !taken {
		emit(m)
	}
	return true
}

// router is the routing stage: when an incident opens it picks the
// receivers by the alert's labels (kept on the record, so that the
// incident's resolution reaches the same receivers), and it splits each
// delivery into one per receiver, with the grouping of the route that took
// the alert there.
type router struct {
	route     *Route
	receivers map[string]Receiver
}

// assign routes a new incident; it runs in the lifecycle's write. A
// system.unrouted alert goes to the root's receiver too, wherever the tree
// sends it: the people who keep the roster and the registry must hear that
// an alert reached nobody.
func (rt *router) assign(r *Record) {
	r.Receivers = rt.route.Receivers(r.Alert.Labels)
	if root := rt.route.Receiver; r.Alert.Name() == model.CategorySystemUnrouted && root != "" && !slices.Contains(r.Receivers, root) {
		r.Receivers = append(r.Receivers, root)
	}
}

func (rt *router) split(d *delivery) []*delivery {
	dests := map[string]Matched{}
	for _, m := range rt.route.Destinations(d.rec.Alert.Labels) {
		dests[m.Receiver] = m
	}
	var out []*delivery
	for _, name := range d.rec.Receivers {
		recv, ok := rt.receivers[name]
		if !ok {
			continue // receiver removed from config since the alert fired
		}
		one := *d
		one.recv = recv
		one.dest = dests[name] // zero (no grouping) when the route changed since
		out = append(out, &one)
	}
	return out
}
