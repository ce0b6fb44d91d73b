package notify

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

func TestRouteReceivers(t *testing.T) {
	// default
	// ├── severity=critical → oncall (continue)
	// ├── unit=fz → fz
	// │   └── alertname=privacy.phone → fz-privacy
	// ├── unit=xm (no receiver: inherits default)
	// │   └── severity=critical → xm-oncall
	// ├── platform=weibo → weibo
	// └── severity=critical → oncall (again: sent once)
	tree := &Route{
		Receiver: "default",
		Routes: []*Route{
			{Match: map[string]string{"severity": "critical"}, Receiver: "oncall", Continue: true},
			{Match: map[string]string{"unit": "fz"}, Receiver: "fz", Routes: []*Route{
				{Match: map[string]string{"alertname": "privacy.phone"}, Receiver: "fz-privacy"},
			}},
			{Match: map[string]string{"unit": "xm"}, Routes: []*Route{
				{Match: map[string]string{"severity": "critical"}, Receiver: "xm-oncall"},
			}},
			{Match: map[string]string{"platform": "weibo"}, Receiver: "weibo"},
			{Match: map[string]string{"severity": "critical"}, Receiver: "oncall"},
		},
	}
	tests := []struct {
		name   string
		route  *Route
		labels model.LabelSet
		want   []string
	}{
		{"no child matches: default receiver", tree, model.LabelSet{"alertname": "wording.typo", "unit": "np"}, []string{"default"}},
		{"matching child without continue takes it", tree, model.LabelSet{"alertname": "wording.typo", "unit": "fz"}, []string{"fz"}},
		{"first matching child wins over later ones", tree, model.LabelSet{"unit": "fz", "platform": "weibo"}, []string{"fz"}},
		{"later child when earlier ones do not match", tree, model.LabelSet{"unit": "np", "platform": "weibo"}, []string{"weibo"}},
		{"nested route takes it from its parent", tree, model.LabelSet{"alertname": "privacy.phone", "unit": "fz"}, []string{"fz-privacy"}},
		{"continue goes on to the next match", tree, model.LabelSet{"severity": "critical", "unit": "fz"}, []string{"oncall", "fz"}},
		{"continue then nested", tree, model.LabelSet{"severity": "critical", "unit": "fz", "alertname": "privacy.phone"}, []string{"oncall", "fz-privacy"}},
		{"each receiver once", tree, model.LabelSet{"severity": "critical", "unit": "np"}, []string{"oncall"}},
		{"match needs every label", tree, model.LabelSet{"severity": "major", "unit": "np"}, []string{"default"}},
		{"nested match under a route without receiver", tree, model.LabelSet{"severity": "critical", "unit": "xm"}, []string{"oncall", "xm-oncall"}},
		{"route without receiver inherits its parent's", tree, model.LabelSet{"severity": "minor", "unit": "xm"}, []string{"default"}},
		{"empty tree routes nowhere", &Route{}, model.LabelSet{"alertname": "x"}, nil},
		{"root match that fails routes nowhere", &Route{Receiver: "r", Match: map[string]string{"unit": "fz"}}, model.LabelSet{"unit": "xm"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.route.Receivers(tc.labels)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Receivers(%v): got %q, want %q", tc.labels, got, tc.want)
			}
		})
	}
}

func TestRouteMatchers(t *testing.T) {
	mustParse := func(ss ...string) match.Matchers {
		ms, err := match.ParseAll(ss)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	tree := &Route{Receiver: "default", Routes: []*Route{
		{Matchers: mustParse(`severity="critical"`, `unit=~"fz.*"`), Receiver: "fz-critical"},
		{Match: map[string]string{"platform": "weibo"}, Matchers: mustParse(`severity!="minor"`), Receiver: "weibo"},
	}}
	tests := []struct {
		name   string
		labels model.LabelSet
		want   []string
	}{
		{"all matchers match", model.LabelSet{"severity": "critical", "unit": "fz-edu"}, []string{"fz-critical"}},
		{"one matcher fails", model.LabelSet{"severity": "critical", "unit": "xm-gov"}, []string{"default"}},
		{"match and matchers together", model.LabelSet{"severity": "major", "platform": "weibo"}, []string{"weibo"}},
		{"match holds, matcher fails", model.LabelSet{"severity": "minor", "platform": "weibo"}, []string{"default"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tree.Receivers(tc.labels); !slices.Equal(got, tc.want) {
				t.Errorf("Receivers(%v): got %q, want %q", tc.labels, got, tc.want)
			}
		})
	}
}

func TestRouterAssignsAndSplits(t *testing.T) {
	rt := &router{
		route: &Route{Receiver: "default", Routes: []*Route{
			{Match: map[string]string{"severity": "major"}, Receiver: "oncall", Continue: true, GroupBy: []string{"unit"}, GroupWait: time.Minute},
			{Match: map[string]string{"unit": "fj-gov"}, Receiver: "unit"},
		}},
		receivers: map[string]Receiver{"default": {Name: "default"}, "oncall": {Name: "oncall"}, "unit": {Name: "unit"}},
	}
	r := &Record{Fingerprint: "fp", Alert: model.Alert{Labels: testLabels()}}
	rt.assign(r)
	if want := []string{"oncall", "unit"}; !slices.Equal(r.Receivers, want) {
		t.Fatalf("assigned %q, want %q", r.Receivers, want)
	}
	// The incident keeps its receivers: one removed from the config since
	// is skipped, and each delivery carries its route's grouping.
	r.Receivers = append(r.Receivers, "removed")
	var got []string
	for _, d := range rt.split(&delivery{rec: r, moved: true}) {
		if d.rec != r || !d.moved {
			t.Errorf("split of %s lost the record or the move", d.recv.Name)
		}
		got = append(got, d.recv.Name+" "+strings.Join(d.dest.GroupBy, ",")+" "+d.dest.GroupWait.String())
	}
	if want := []string{"oncall unit 1m0s", "unit  30s"}; !slices.Equal(got, want) {
		t.Errorf("split: got %q, want %q", got, want)
	}
}
