package notify

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
)

var (
	t0 = time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC) // first episode starts
	t1 = t0.Add(10 * time.Minute)                      // first episode ends
	t2 = t0.Add(time.Hour)                             // second episode starts
)

func testLabels() model.LabelSet {
	return model.LabelSet{
		model.LabelAlertname: model.CategoryPrivacyIDNumber,
		model.LabelSeverity:  model.SeverityMajor,
		model.LabelAccountID: "fj-gov-wechat",
		model.LabelPlatform:  "wechat",
		model.LabelUnit:      "fj-gov",
	}
}

// firing is the alert as the analyzer publishes it while the problem lasts.
func firing(startsAt time.Time, summary string) *model.Alert {
	return &model.Alert{
		Labels:      testLabels(),
		Annotations: map[string]string{model.AnnotationSummary: summary},
		StartsAt:    startsAt,
	}
}

// resolved is the alert as the analyzer publishes it when the problem ended.
func resolved(startsAt, endsAt time.Time) *model.Alert {
	return &model.Alert{
		Labels:      testLabels(),
		Annotations: map[string]string{"resolution": "已删除"},
		StartsAt:    startsAt,
		EndsAt:      endsAt,
	}
}

// roundTrip stores and loads r as the notifier does between two messages,
// so no map is shared between steps.
func roundTrip(t *testing.T, r *Record) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	*r = Record{}
	if err := json.Unmarshal(b, r); err != nil {
		t.Fatal(err)
	}
}

func TestRecordApply(t *testing.T) {
	hist := t2.Add(time.Minute)     // when the history was applied
	now := t2.Add(30 * time.Minute) // when the alert under test arrives
	tests := []struct {
		name    string
		history []*model.Alert // applied before, in order
		in      *model.Alert

		wantMoved     bool
		wantStatus    string
		wantIncident  int
		wantStartsAt  time.Time
		wantSummary   string
		wantResolved  time.Time // ResolvedAt
		wantTimeline  []string  // What of each event, with incident
		wantUpdatedAt time.Time
	}{
		{
			name:      "first firing opens incident 1",
			in:        firing(t0, "身份证号泄露"),
			wantMoved: true, wantStatus: StatusFiring, wantIncident: 1,
			wantStartsAt: t0, wantSummary: "身份证号泄露",
			wantTimeline: []string{"firing 1"}, wantUpdatedAt: now,
		},
		{
			name:      "firing with endsAt in the future (API) opens incident 1",
			in:        &model.Alert{Labels: testLabels(), StartsAt: t0, EndsAt: now.Add(5 * time.Minute)},
			wantMoved: true, wantStatus: StatusFiring, wantIncident: 1,
			wantStartsAt: t0, wantTimeline: []string{"firing 1"}, wantUpdatedAt: now,
		},
		{
			name:      "repeat firing updates annotations without moving",
			history:   []*model.Alert{firing(t0, "旧摘要")},
			in:        firing(t0, "新摘要"),
			wantMoved: false, wantStatus: StatusFiring, wantIncident: 1,
			wantStartsAt: t0, wantSummary: "新摘要",
			wantTimeline: []string{"firing 1"}, wantUpdatedAt: now,
		},
		{
			name:      "an older firing while firing changes nothing",
			history:   []*model.Alert{firing(t2, "新一次")},
			in:        firing(t0, "旧一次"),
			wantMoved: false, wantStatus: StatusFiring, wantIncident: 1,
			wantStartsAt: t2, wantSummary: "新一次",
			wantTimeline: []string{"firing 1"}, wantUpdatedAt: hist,
		},
		{
			name:      "resolved moves to resolved",
			history:   []*model.Alert{firing(t0, "身份证号泄露")},
			in:        resolved(t0, t1),
			wantMoved: true, wantStatus: StatusResolved, wantIncident: 1,
			wantStartsAt: t0, wantSummary: "身份证号泄露", wantResolved: t1,
			wantTimeline: []string{"firing 1", "resolved 1"}, wantUpdatedAt: now,
		},
		{
			name:      "replay of the old firing after resolution does not reopen",
			history:   []*model.Alert{firing(t0, "身份证号泄露"), resolved(t0, t1)},
			in:        firing(t0, "身份证号泄露"),
			wantMoved: false, wantStatus: StatusResolved, wantIncident: 1,
			wantStartsAt: t0, wantSummary: "身份证号泄露", wantResolved: t1,
			wantTimeline: []string{"firing 1", "resolved 1"}, wantUpdatedAt: hist,
		},
		{
			name:      "replay of the resolution after resolution does nothing",
			history:   []*model.Alert{firing(t0, "身份证号泄露"), resolved(t0, t1)},
			in:        resolved(t0, t1),
			wantMoved: false, wantStatus: StatusResolved, wantIncident: 1,
			wantStartsAt: t0, wantSummary: "身份证号泄露", wantResolved: t1,
			wantTimeline: []string{"firing 1", "resolved 1"}, wantUpdatedAt: hist,
		},
		{
			name:      "a firing with a later startsAt opens incident 2",
			history:   []*model.Alert{firing(t0, "第一次"), resolved(t0, t1)},
			in:        firing(t2, "第二次"),
			wantMoved: true, wantStatus: StatusFiring, wantIncident: 2,
			wantStartsAt: t2, wantSummary: "第二次",
			wantTimeline: []string{"firing 1", "resolved 1", "firing 2"}, wantUpdatedAt: now,
		},
		{
			name:      "a resolved for an older startsAt does not resolve the newer incident",
			history:   []*model.Alert{firing(t0, "第一次"), resolved(t0, t1), firing(t2, "第二次")},
			in:        resolved(t0, t1),
			wantMoved: false, wantStatus: StatusFiring, wantIncident: 2,
			wantStartsAt: t2, wantSummary: "第二次",
			wantTimeline: []string{"firing 1", "resolved 1", "firing 2"}, wantUpdatedAt: hist,
		},
		{
			name:      "a resolved for an unknown alert does nothing",
			in:        resolved(t0, t1),
			wantMoved: false, wantStatus: "", wantIncident: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Record
			for _, h := range tc.history {
				r.apply(h, hist)
				roundTrip(t, &r)
			}
			moved := r.apply(tc.in, now)
			if moved != tc.wantMoved {
				t.Errorf("moved: got %v, want %v", moved, tc.wantMoved)
			}
			if r.Status != tc.wantStatus {
				t.Errorf("status: got %q, want %q", r.Status, tc.wantStatus)
			}
			if r.Incident != tc.wantIncident {
				t.Errorf("incident: got %d, want %d", r.Incident, tc.wantIncident)
			}
			if !r.Alert.StartsAt.Equal(tc.wantStartsAt) {
				t.Errorf("startsAt: got %s, want %s", r.Alert.StartsAt, tc.wantStartsAt)
			}
			if got := r.Alert.Annotations[model.AnnotationSummary]; got != tc.wantSummary {
				t.Errorf("summary: got %q, want %q", got, tc.wantSummary)
			}
			if !r.ResolvedAt.Equal(tc.wantResolved) {
				t.Errorf("resolvedAt: got %s, want %s", r.ResolvedAt, tc.wantResolved)
			}
			if !r.UpdatedAt.Equal(tc.wantUpdatedAt) {
				t.Errorf("updatedAt: got %s, want %s", r.UpdatedAt, tc.wantUpdatedAt)
			}
			if got := timelineOf(r); !slices.Equal(got, tc.wantTimeline) {
				t.Errorf("timeline: got %q, want %q", got, tc.wantTimeline)
			}
		})
	}
}

func TestRecordTimelineBounded(t *testing.T) {
	var r Record
	const cycles = 30 // 60 events, more than maxTimeline
	for i := range cycles {
		start := t0.Add(time.Duration(i) * time.Hour)
		if !r.apply(firing(start, "x"), start) {
			t.Fatalf("cycle %d: firing did not move", i+1)
		}
		if !r.apply(resolved(start, start.Add(time.Minute)), start.Add(time.Minute)) {
			t.Fatalf("cycle %d: resolved did not move", i+1)
		}
	}
	if got, want := r.Incident, cycles; got != want {
		t.Fatalf("incident: got %d, want %d", got, want)
	}
	if got, want := len(r.Timeline), maxTimeline; got != want {
		t.Fatalf("timeline length: got %d, want %d", got, want)
	}
	// The oldest go first: 60 events, the first 10 (cycles 1-5) dropped.
	if got, want := eventString(r.Timeline[0]), "firing 6"; got != want {
		t.Errorf("oldest kept event: got %q, want %q", got, want)
	}
	if got, want := eventString(r.Timeline[len(r.Timeline)-1]), "resolved 30"; got != want {
		t.Errorf("newest event: got %q, want %q", got, want)
	}
	for i := 1; i < len(r.Timeline); i++ {
		if r.Timeline[i].At.Before(r.Timeline[i-1].At) {
			t.Fatalf("timeline out of order at %d: %s before %s", i, r.Timeline[i].At, r.Timeline[i-1].At)
		}
	}
}

func eventString(e Event) string { return e.What + " " + strconv.Itoa(e.Incident) }

func timelineOf(r Record) []string {
	var out []string
	for _, e := range r.Timeline {
		out = append(out, eventString(e))
	}
	return out
}

func TestLifecycleStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, t2.Add(time.Hour))
		opened := 0
		l := testLifecycle(t, st, clock, func(r *Record) {
			opened++
			r.Receivers = []string{"opened-" + strconv.Itoa(r.Incident)}
		})
		ctx := testCtx(t)
		steps := []struct {
			name         string
			in           *model.Alert
			wantDelivery bool
			wantMoved    bool
			wantStatus   string
			wantIncident int
			wantOpened   int
		}{
			{"a resolution of an alert never seen ends the delivery", resolved(t0, t1), false, false, "", 0, 0},
			{"the first firing opens incident 1 and runs the openers", firing(t0, "x"), true, true, StatusFiring, 1, 1},
			{"a repeat goes on, unmoved", firing(t0, "x"), true, false, StatusFiring, 1, 1},
			{"the resolution moves it", resolved(t0, t1), true, true, StatusResolved, 1, 1},
			{"a refire opens incident 2 and runs the openers again", firing(t2, "y"), true, true, StatusFiring, 2, 2},
		}
		for _, s := range steps {
			d, err := l.Exec(ctx, &delivery{alert: s.in})
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if (d != nil) != s.wantDelivery {
				t.Fatalf("%s: delivery %+v, want one: %v", s.name, d, s.wantDelivery)
			}
			if opened != s.wantOpened {
				t.Errorf("%s: openers ran %d times, want %d", s.name, opened, s.wantOpened)
			}
			if d == nil {
				continue
			}
			if d.moved != s.wantMoved || d.rec.Status != s.wantStatus || d.rec.Incident != s.wantIncident {
				t.Errorf("%s: got moved %v, %s, incident %d, want %v, %s, %d", s.name, d.moved, d.rec.Status, d.rec.Incident, s.wantMoved, s.wantStatus, s.wantIncident)
			}
			got, err := l.get(ctx, testLabels().Fingerprint())
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"opened-" + strconv.Itoa(s.wantIncident)}; !slices.Equal(got.Receivers, want) {
				t.Errorf("%s: stored receivers %q, want %q (written with the move)", s.name, got.Receivers, want)
			}
		}

		// A stored record delivered again passes through untouched.
		rec, err := l.get(ctx, testLabels().Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		d, err := l.Exec(ctx, &delivery{rec: rec})
		if err != nil || d == nil || d.rec != rec || d.moved {
			t.Errorf("redelivery: got %+v, %v, want the record passed on unmoved", d, err)
		}
	})
}

func TestLifecycleStampsAPIAlerts(t *testing.T) {
	clock, st := embeddedStores.at(t, t0)
	l := testLifecycle(t, st, clock)
	tests := []struct {
		name               string
		in                 model.Alert
		wantStart, wantEnd time.Time
	}{
		{"no times: starts now, ends after the resolve timeout", model.Alert{}, t0, t0.Add(5 * time.Minute)},
		{"given times are kept", model.Alert{StartsAt: t0.Add(-time.Hour), EndsAt: t1}, t0.Add(-time.Hour), t1},
	}
	for _, tc := range tests {
		a := tc.in
		l.stamp(&a)
		if !a.StartsAt.Equal(tc.wantStart) || !a.EndsAt.Equal(tc.wantEnd) || a.Annotations == nil {
			t.Errorf("%s: got %s–%s (annotations %v), want %s–%s and annotations", tc.name, a.StartsAt, a.EndsAt, a.Annotations, tc.wantStart, tc.wantEnd)
		}
	}
}

func TestLifecycleExpired(t *testing.T) {
	clock, st := embeddedStores.at(t, t1)
	l := testLifecycle(t, st, clock)
	ended := Record{Alert: model.Alert{Labels: model.LabelSet{"alertname": "a"}, StartsAt: t0, EndsAt: t1}}
	later := Record{Alert: model.Alert{Labels: model.LabelSet{"alertname": "b"}, StartsAt: t0, EndsAt: t1.Add(time.Second)}}
	open := Record{Alert: model.Alert{Labels: model.LabelSet{"alertname": "c"}, StartsAt: t0}}
	gone, live := l.expired([]Record{ended, later, open})
	if len(gone) != 1 || gone[0].Name() != "a" {
		t.Errorf("ended: got %v, want alert a", gone)
	}
	if len(live) != 2 || live[0].Alert.Name() != "b" || live[1].Alert.Name() != "c" {
		t.Errorf("live: got %v, want b and c", live)
	}
}
