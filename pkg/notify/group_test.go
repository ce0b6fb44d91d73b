package notify

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/store"
)

func groupedNotifier(t *testing.T, st store.Store, clock *clockwork.FakeClock, ch *recorder) *Notifier {
	t.Helper()
	return newTestNotifier(t, Options{
		Store:     st,
		Receivers: []Receiver{{Name: "g", Channels: []channel.Channel{ch}}},
		Route: &Route{Receiver: "g", GroupBy: []string{"unit"},
			GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour},
		Clock: clock,
	}).Notifier
}

func groupAlert(name, unit, severity string, startsAt time.Time) *model.Alert {
	return &model.Alert{Labels: model.LabelSet{"alertname": name, "unit": unit, "severity": severity, "account_id": name + "-" + unit},
		Annotations: map[string]string{"summary": name}, StartsAt: startsAt}
}

// groups lists each notification as "status unit: alert/status …".
func (r *recorder) groups() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		var as []string
		for _, a := range n.Alerts {
			as = append(as, a.Labels["alertname"]+"/"+a.Status)
		}
		sort.Strings(as)
		out = append(out, fmt.Sprintf("%s %s: %s", n.Status, n.GroupLabels["unit"], strings.Join(as, " ")))
	}
	return out
}

func TestGrouping(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		start := escStart
		clock, st := stores.at(t, start)
		ch := newRecorder("robot")
		a, b := groupedNotifier(t, st, clock, ch), groupedNotifier(t, st, clock, ch) // two replicas
		ctx := testCtx(t)
		tickBoth := func() {
			var wg sync.WaitGroup
			for _, n := range []*Notifier{a, b} {
				wg.Go(func() {
					if err := n.Tick(ctx); err != nil {
						t.Errorf("Tick: %v", err)
					}
				})
			}
			wg.Wait()
		}
		resolvedAt := func(al *model.Alert, at time.Time) *model.Alert { c := *al; c.EndsAt = at; return &c }
		x := groupAlert("x", "fz", "major", start)
		y := groupAlert("y", "fz", "minor", start)
		z := groupAlert("z", "fz", "major", start)
		crit := groupAlert("c", "xm", "critical", start)
		steps := []struct {
			name  string
			at    time.Duration
			alert *model.Alert // handled (on replica a) before ticking
			want  []string     // notifications added at this step
		}{
			{"first alert waits group_wait", 0, x, nil},
			{"second alert joins", 10 * time.Second, y, nil},
			{"group_wait over: one notification with both", 30 * time.Second, nil, []string{"firing fz: x/firing y/firing"}},
			{"third alert waits for group_interval", time.Minute, z, nil},
			{"not yet", 5 * time.Minute, nil, nil},
			{"group_interval after the last flush", 5*time.Minute + 30*time.Second, nil, []string{"firing fz: x/firing y/firing z/firing"}},
			{"critical alert skips group_wait", 6 * time.Minute, crit, []string{"firing xm: c/firing"}},
			{"nothing changed: no notification", 2 * time.Hour, nil, nil},
			{"repeat_interval: the same again", 4*time.Hour + 5*time.Minute + 30*time.Second, nil, []string{"firing fz: x/firing y/firing z/firing"}},
			{"a resolution waits for group_interval; xm repeats", 4*time.Hour + 6*time.Minute, resolvedAt(x, start.Add(4*time.Hour+6*time.Minute)), []string{"firing xm: c/firing"}},
			{"resolution notified with the rest", 4*time.Hour + 10*time.Minute + 30*time.Second, nil, []string{"firing fz: x/resolved y/firing z/firing"}},
			{"the resolved alert has left the group", 4*time.Hour + 12*time.Minute, resolvedAt(y, start.Add(4*time.Hour+12*time.Minute)), nil},
			{"next resolution after group_interval", 4*time.Hour + 15*time.Minute + 30*time.Second, nil, []string{"firing fz: y/resolved z/firing"}},
		}
		var want []string
		for _, s := range steps {
			setClock(clock, start.Add(s.at))
			if s.alert != nil {
				if err := a.Handle(ctx, s.alert); err != nil {
					t.Fatalf("%s: Handle: %v", s.name, err)
				}
			}
			tickBoth()
			want = append(want, s.want...)
			if got := ch.groups(); !equalStrings(got, want) {
				t.Fatalf("%s: notifications\n%q\nwant\n%q", s.name, got, want)
			}
		}
		// A restarted replica picks the group up from the store.
		c := groupedNotifier(t, st, clock, ch)
		setClock(clock, start.Add(8*time.Hour+26*time.Minute))
		if err := c.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		want = append(want, "firing fz: z/firing", "firing xm: c/firing")
		if got := ch.groups(); !sameMultiset(got, want) {
			t.Fatalf("after restart: %q, want %q", got, want)
		}
	})
}

func TestGrouperStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		ch := newRecorder("g")
		gr := groupedNotifier(t, st, clock, ch).grouper
		l := testLifecycle(t, st, clock)
		ctx := testCtx(t)
		dest := Matched{Receiver: "g", GroupBy: []string{"unit"}, GroupWait: 30 * time.Second, GroupInterval: 5 * time.Minute, RepeatInterval: 4 * time.Hour}
		major := stored(t, ctx, l, groupAlert("privacy.phone", "fz", "major", escStart))
		critical := stored(t, ctx, l, groupAlert("secret.marking", "xm", "critical", escStart))

		if d, err := gr.Exec(ctx, &delivery{rec: major, recv: Receiver{Name: "g"}}); err != nil || d == nil {
			t.Errorf("an ungrouped route: got %v, %v, want the delivery passed on", d, err)
		}
		if d, err := gr.Exec(ctx, &delivery{rec: major, recv: Receiver{Name: "g"}, dest: dest}); err != nil || d != nil {
			t.Fatalf("a grouped route: got %v, %v, want the delivery ended here", d, err)
		}
		raw, err := st.Get(ctx, groupKey("g", map[string]string{"unit": "fz"}))
		if err != nil {
			t.Fatalf("the group in the store: %v", err)
		}
		var g group
		if err := json.Unmarshal(raw, &g); err != nil {
			t.Fatal(err)
		}
		if !g.NextFlush.Equal(escStart.Add(30*time.Second)) || len(g.Members) != 1 || g.Members[0] != major.Fingerprint {
			t.Errorf("stored group: due %s with %q, want due after group_wait with the alert", g.NextFlush, g.Members)
		}
		if got := ch.groups(); len(got) != 0 {
			t.Errorf("sent before group_wait: %q", got)
		}
		if _, err := gr.Exec(ctx, &delivery{rec: critical, recv: Receiver{Name: "g"}, dest: dest}); err != nil {
			t.Fatal(err)
		}
		if got, want := ch.groups(), []string{"firing xm: secret.marking/firing"}; !equalStrings(got, want) {
			t.Errorf("a critical alert skips group_wait: sent %q, want %q", got, want)
		}
		clock.Advance(30 * time.Second)
		if err := gr.flushDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got, want := ch.groups(), []string{"firing xm: secret.marking/firing", "firing fz: privacy.phone/firing"}; !equalStrings(got, want) {
			t.Errorf("after group_wait: sent %q, want %q", got, want)
		}
	})
}
