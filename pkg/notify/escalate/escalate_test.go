package escalate

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/registry"
)

func TestVeto(t *testing.T) {
	tests := []struct {
		category, severity string
		want               bool
	}{
		{"secret.marking", "critical", true},
		{"prohibited.gambling", "critical", true},
		{"wording.serious", "critical", true},
		{"opinion.emergency", "critical", true},
		{"opinion.negative", "critical", true}, // a major opinion incident
		{"opinion.negative", "major", false},
		{"privacy.phone", "major", false},
		{"account.stale", "critical", false},
	}
	for _, tc := range tests {
		if got := Veto(model.LabelSet{"alertname": tc.category, "severity": tc.severity}); got != tc.want {
			t.Errorf("Veto(%s, %s): got %v, want %v", tc.category, tc.severity, got, tc.want)
		}
	}
}

func TestPolicySchedule(t *testing.T) {
	opened := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	p := &Policy{Name: "p", Steps: []Step{
		{After: 0, Targets: []string{TargetDuty}},
		{After: 15 * time.Minute, Targets: []string{TargetHead}},
		{After: 30 * time.Minute, Targets: []string{TargetParent}},
	}, RepeatEvery: 20 * time.Minute, RepeatTimes: 2}
	s, now := p.Start(opened)
	if len(now) != 1 || now[0].Targets[0] != TargetDuty {
		t.Fatalf("Start: immediate steps %+v, want the duty step", now)
	}
	var got []string
	for m := 0; m <= 120; m++ {
		at := opened.Add(time.Duration(m) * time.Minute)
		if step, due := p.Due(s, at); due {
			got = append(got, at.Format("15:04")+" "+strings.Join(step.Targets, ","))
			s = p.Advance(s, opened, 0)
		}
	}
	want := "02:15 head|02:30 parent|02:50 parent|03:10 parent"
	if strings.Join(got, "|") != want {
		t.Fatalf("due steps: got %q, want %q", strings.Join(got, "|"), want)
	}
	if !s.NextAt.IsZero() || s.Seq != 4 {
		t.Errorf("final state %+v, want nothing left after 4 pages", s)
	}
}

func TestDirectoryPage(t *testing.T) {
	reg, probs := registry.New([]registry.Unit{
		{ID: "prov", Name: "省", Head: registry.Contact{Name: "省长办"}},
		{ID: "city", Name: "市", Parent: "prov", Head: registry.Contact{Name: "市办主任"}},
		{ID: "bureau", Name: "局", Parent: "city", Head: registry.Contact{Name: "局长", Mobile: "139"}},
	}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{{Unit: "prov", Layers: []roster.LayerConfig{
		{Rotation: "daily", Handoff: "08:30", Start: "2026-01-01", Members: []roster.PersonConfig{{Name: "省值班"}}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &Directory{Registry: reg, Roster: ro}
	at := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		targets   []string
		level     int
		want      string // name/role, …
		wantLevel int
		wantUp    string
	}{
		{"no duty team: the head answers", []string{TargetDuty}, 0, "局长/第一责任人", 0, ""},
		{"head", []string{TargetHead}, 0, "局长/第一责任人", 0, ""},
		{"duty and head: each once", []string{TargetDuty, TargetHead}, 0, "局长/第一责任人", 0, ""},
		{"parent without team: its head", []string{TargetParent}, 0, "市办主任/上级单位负责人", 1, "city"},
		{"parent after parent: the province's duty", []string{TargetParent}, 1, "省值班/上级值班", 2, "prov"},
		{"parent at the top: nobody", []string{TargetParent}, 2, "", 2, ""},
		{"top", []string{TargetTop}, 0, "省值班/上级值班", 2, "prov"},
		{"chain", []string{TargetChain}, 0, "市办主任/上级单位负责人,省值班/上级值班", 2, "city,prov"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			people, level, up := d.Page("bureau", tc.targets, tc.level, at)
			var got []string
			for _, p := range people {
				got = append(got, p.Name+"/"+p.Role)
			}
			if strings.Join(got, ",") != tc.want || level != tc.wantLevel || strings.Join(up, ",") != tc.wantUp {
				t.Fatalf("got %v level %d up %v, want %s level %d up %s", got, level, up, tc.want, tc.wantLevel, tc.wantUp)
			}
		})
	}
}

// TestDirectoryPageIDs: a person's ids on other systems reach the paged
// person, from the roster and from the registry's heads alike, so a
// channel that pages people directly can address them.
func TestDirectoryPageIDs(t *testing.T) {
	reg, probs := registry.New([]registry.Unit{
		{ID: "city", Name: "市", Head: registry.Contact{Name: "市办主任", IDs: map[string]string{"wecom": "zhuren"}}},
		{ID: "bureau", Name: "局", Parent: "city", Head: registry.Contact{Name: "局长", IDs: map[string]string{"wecom": "juzhang"}}},
	}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{{Unit: "city", Layers: []roster.LayerConfig{
		{Rotation: "daily", Handoff: "08:30", Start: "2026-01-01", Members: []roster.PersonConfig{{Name: "市值班", IDs: map[string]string{"wecom": "zhiban"}}}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &Directory{Registry: reg, Roster: ro}
	people, _, _ := d.Page("bureau", []string{TargetHead, TargetParent}, 0, time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC))
	var got []string
	for _, p := range people {
		got = append(got, p.Name+"="+p.IDs["wecom"])
	}
	if want := "局长=juzhang,市值班=zhiban"; strings.Join(got, ",") != want {
		t.Fatalf("paged %v, want %s", got, want)
	}
}

func TestUncovered(t *testing.T) {
	reg, probs := registry.New(
		[]registry.Unit{
			{ID: "fj", Name: "省"},
			{ID: "fz", Name: "市", Parent: "fj", Head: registry.Contact{Name: "王", Mobile: "13800000001"}},
			{ID: "xm", Name: "厦门", Parent: "fj", Head: registry.Contact{Name: "只有名字"}},
			{ID: "np", Name: "南平", Parent: "fj"},
			{ID: "pt", Name: "莆田", Parent: "fj"},
			{ID: "sm", Name: "三明", Parent: "fj"},
		},
		[]registry.Account{
			{ID: "fz-w", Name: "a", Platform: "wechat", Unit: "fz"},
			{ID: "xm-w", Name: "b", Platform: "wechat", Unit: "xm"},
			{ID: "np-w", Name: "c", Platform: "wechat", Unit: "np"},
			{ID: "pt-w", Name: "d", Platform: "wechat", Unit: "pt", Status: registry.StatusClosed},
			{ID: "sm-w", Name: "e", Platform: "wechat", Unit: "sm"},
		})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{{Unit: "sm", Layers: []roster.LayerConfig{
		{Rotation: "daily", Handoff: "08:30", Start: "2026-01-01", Members: []roster.PersonConfig{{Name: "赵", Mobile: "13800000002"}}}}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// fz has a head to page and sm a team; pt's account is closed; xm's
	// head has no number, np none at all.
	got := (&Directory{Registry: reg, Roster: ro}).Uncovered()
	if want := []string{"np", "xm"}; !slices.Equal(got, want) {
		t.Errorf("Uncovered() = %v, want %v", got, want)
	}
}
