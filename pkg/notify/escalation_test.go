package notify

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/ack"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// escStart is when the escalation tests' incidents open: Thursday
// 2026-11-26 10:00 in Beijing, a working day.
var escStart = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

// testDirectory: 省政府办公厅 (fj-gov) ← 福州市政府办公厅 (fz-gov) ← 福州市教育局
// (fz-edu); each has a one-person duty team; the bureau's head is 局长.
func testDirectory(t *testing.T) *escalate.Directory {
	t.Helper()
	reg, probs := registry.New([]registry.Unit{
		{ID: "fj-gov", Name: "福建省人民政府办公厅", Head: registry.Contact{Name: "省办主任", Mobile: "13900000001"}},
		{ID: "fz-gov", Name: "福州市人民政府办公厅", Parent: "fj-gov", Head: registry.Contact{Name: "市办主任", Mobile: "13900000002"}},
		{ID: "fz-edu", Name: "福州市教育局", Parent: "fz-gov", Head: registry.Contact{Name: "局长", Mobile: "13900000003"}},
	}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	team := func(unit, name, mobile string) roster.TeamConfig {
		return roster.TeamConfig{Unit: unit, Layers: []roster.LayerConfig{{Name: "值班", Rotation: "daily", Handoff: "08:30", Start: "2026-01-01",
			Members: []roster.PersonConfig{{Name: name, Mobile: mobile}}}}}
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{
		team("fz-edu", "教育值班", "13800000003"),
		team("fz-gov", "市值班", "13800000002"),
		team("fj-gov", "省值班", "13800000001"),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &escalate.Directory{Registry: reg, Roster: ro}
}

func testPolicies(t *testing.T) []escalate.Policy {
	return []escalate.Policy{{
		Name: "default",
		Steps: []escalate.Step{
			{After: 0, Targets: []string{escalate.TargetDuty}},
			{After: 15 * time.Minute, Targets: []string{escalate.TargetHead}},
			{After: 30 * time.Minute, Targets: []string{escalate.TargetParent}},
			{After: 60 * time.Minute, Targets: []string{escalate.TargetParent}},
		},
		RepeatEvery: 30 * time.Minute, RepeatTimes: 1,
		VetoUpward: true,
	}}
}

type escFixture struct {
	n      *testNotifier
	signer *ack.Signer
	clock  *clockwork.FakeClock
	ch     *recorder
}

// newEscNotifier builds a notifier over st with one receiver "duty" whose
// channel is ch (shared between replicas, as the real robot would be).
func newEscNotifier(t *testing.T, st store.Store, clock *clockwork.FakeClock, ch *recorder, more ...func(*Options)) *escFixture {
	t.Helper()
	signer, err := ack.NewSigner([]byte("test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Store:       st,
		Receivers:   []Receiver{{Name: "duty", Channels: []channel.Channel{ch}}},
		Route:       &Route{Receiver: "duty"},
		ExternalURL: "https://govwatch.example",
		Clock:       clock,
		Directory:   testDirectory(t),
		Policies:    testPolicies(t),
		Signer:      signer,
	}
	for _, f := range more {
		f(&o)
	}
	return &escFixture{n: newTestNotifier(t, o), signer: signer, clock: clock, ch: ch}
}

func eduAlert(category, severity string) *model.Alert {
	return &model.Alert{
		Labels: model.LabelSet{"alertname": category, "severity": severity, "unit": "fz-edu",
			"account_id": "fz-edu-weibo", "account_name": "福州教育", "platform": "weibo"},
		Annotations: map[string]string{"summary": "微博发布了公民身份号码", "evidence": "350102********1234"},
		StartsAt:    escStart,
	}
}

// pages lists each delivered notification as "status: recipients" with the
// recipients' names, plus " +report" when it carries an upstream report.
func (r *recorder) pages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.got {
		var names []string
		for _, p := range n.Recipients {
			names = append(names, p.Name)
		}
		s := n.Status + ": " + strings.Join(names, ",")
		if n.Report != "" {
			s += " +report"
		}
		out = append(out, s)
	}
	return out
}

func TestEscalationWithoutAck(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		f := newEscNotifier(t, st, clock, newRecorder("robot"))
		ctx := testCtx(t)
		if err := f.n.Handle(ctx, eduAlert(model.CategoryPrivacyIDNumber, "major")); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			at   time.Duration
			want []string // cumulative
		}{
			{0, []string{"firing: 教育值班"}},
			{14 * time.Minute, []string{"firing: 教育值班"}},
			{15 * time.Minute, []string{"firing: 教育值班", "firing: 局长"}},
			{29 * time.Minute, []string{"firing: 教育值班", "firing: 局长"}},
			{30 * time.Minute, []string{"firing: 教育值班", "firing: 局长", "firing: 市值班 +report"}},
			{60 * time.Minute, []string{"firing: 教育值班", "firing: 局长", "firing: 市值班 +report", "firing: 省值班 +report"}},
			{90 * time.Minute, []string{"firing: 教育值班", "firing: 局长", "firing: 市值班 +report", "firing: 省值班 +report", "firing: 省值班 +report"}},
			{300 * time.Minute, []string{"firing: 教育值班", "firing: 局长", "firing: 市值班 +report", "firing: 省值班 +report", "firing: 省值班 +report"}},
		}
		for _, s := range steps {
			setClock(clock, escStart.Add(s.at))
			if err := f.n.Tick(ctx); err != nil {
				t.Fatalf("+%s: Tick: %v", s.at, err)
			}
			if got := f.ch.pages(); !equalStrings(got, s.want) {
				t.Fatalf("+%s: pages %q, want %q", s.at, got, s.want)
			}
		}
		// The report to the city office says who was paged when.
		f.ch.mu.Lock()
		rep := f.ch.got[2].Report
		f.ch.mu.Unlock()
		for _, want := range []string{"报送单位：福州市人民政府办公厅", "责任单位：福州市教育局", "账号：福州教育（微博）",
			"2026-11-26 10:00 通报 教育值班（值班人员，福州市教育局）", "2026-11-26 10:15 通报 局长（第一责任人，福州市教育局）",
			"2026-11-26 10:30 通报 市值班（上级值班，福州市人民政府办公厅）", "确认：尚未确认", "30 分钟内无人确认"} {
			if !strings.Contains(rep, want) {
				t.Errorf("report lacks %q:\n%s", want, rep)
			}
		}
		for level, want := range map[string]float64{"duty": 1, "head": 1, "parent": 1, "upper": 2} {
			if got := metricValue(t, f.n.reg, "govwatch_notifier_escalations_total", map[string]string{"level": level}); got != want {
				t.Errorf("escalations{level=%s}: got %v, want %v", level, got, want)
			}
		}
		rec, err := f.n.Record(ctx, eduAlert(model.CategoryPrivacyIDNumber, "major").Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(rec.Pages), 5; got != want {
			t.Errorf("pages in the record: got %d, want %d", got, want)
		}
	})
}

func TestAckStopsEscalation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		f := newEscNotifier(t, st, clock, newRecorder("robot"))
		ctx := testCtx(t)
		a := eduAlert(model.CategoryPrivacyIDNumber, "major")
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
		setClock(clock, escStart.Add(15*time.Minute))
		if err := f.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		setClock(clock, escStart.Add(20*time.Minute))
		rec, err := f.n.Acknowledge(ctx, a.Fingerprint(), 1, "教育值班", "已联系编辑删除")
		if err != nil {
			t.Fatalf("Acknowledge: %v", err)
		}
		if rec.Status != StatusAcknowledged || rec.Ack.By != "教育值班" || !rec.Ack.At.Equal(clock.Now()) {
			t.Fatalf("after ack: status %s ack %+v", rec.Status, rec.Ack)
		}
		if _, err := f.n.Acknowledge(ctx, a.Fingerprint(), 1, "又一人", ""); err != nil {
			t.Errorf("second Acknowledge: got %v, want nil (idempotent)", err)
		}
		for _, at := range []time.Duration{30 * time.Minute, 60 * time.Minute, 3 * time.Hour} {
			setClock(clock, escStart.Add(at))
			if err := f.n.Tick(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := f.ch.pages(), []string{"firing: 教育值班", "firing: 局长"}; !equalStrings(got, want) {
			t.Fatalf("pages after ack: %q, want %q", got, want)
		}
		// The analyzer sees the problem gone: resolved goes to the receiver.
		setClock(clock, escStart.Add(4*time.Hour))
		res := eduAlert(model.CategoryPrivacyIDNumber, "major")
		res.EndsAt = clock.Now()
		if err := f.n.Handle(ctx, res); err != nil {
			t.Fatal(err)
		}
		if got := f.ch.pages(); len(got) != 3 || !strings.HasPrefix(got[2], "resolved") {
			t.Fatalf("pages after resolution: %q, want a resolved notification last", got)
		}
		histCount := func(name string) uint64 {
			mfs, _ := f.n.reg.Gather()
			for _, mf := range mfs {
				if mf.GetName() == name {
					return mf.GetMetric()[0].GetHistogram().GetSampleCount()
				}
			}
			return 0
		}
		if got := histCount("govwatch_notifier_ack_duration_seconds"); got != 1 {
			t.Errorf("ack duration samples: got %d, want 1", got)
		}
		if got := histCount("govwatch_notifier_resolve_duration_seconds"); got != 1 {
			t.Errorf("resolve duration samples: got %d, want 1", got)
		}
		rec, _ = f.n.Record(ctx, a.Fingerprint())
		var what []string
		for _, e := range rec.Timeline {
			what = append(what, e.What)
		}
		if got, want := strings.Join(what, ","), "firing,paged,notified,escalated,acknowledged,resolved,notified"; got != want {
			t.Errorf("timeline: got %s, want %s", got, want)
		}
	})
}

func TestResolveByHand(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	f := newEscNotifier(t, st, clock, newRecorder("robot"))
	ctx := testCtx(t)
	a := eduAlert(model.CategoryPrivacyIDNumber, "major")
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Minute)
	rec, err := f.n.Resolve(ctx, a.Fingerprint(), 0, "教育值班", "文章已删除")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Status != StatusResolved || rec.Resolution.Note != "文章已删除" {
		t.Fatalf("after resolve: %s %+v", rec.Status, rec.Resolution)
	}
	if _, err := f.n.Resolve(ctx, a.Fingerprint(), 0, "x", ""); err != nil {
		t.Errorf("second Resolve: got %v, want nil", err)
	}
	if _, err := f.n.Acknowledge(ctx, a.Fingerprint(), 0, "x", ""); err == nil {
		t.Error("Acknowledge after resolution: got nil, want an error")
	}
	// The analyzer repeats the same episode: it stays resolved.
	if err := f.n.Handle(ctx, a); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if err := f.n.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := f.ch.pages(), []string{"firing: 教育值班", "resolved: 教育值班"}; !equalStrings(got, want) {
		t.Fatalf("pages: %q, want %q", got, want)
	}
	// A new episode opens incident 2; links of incident 1 no longer act.
	b := eduAlert(model.CategoryPrivacyIDNumber, "major")
	b.StartsAt = clock.Now()
	if err := f.n.Handle(ctx, b); err != nil {
		t.Fatal(err)
	}
	if _, err := f.n.Acknowledge(ctx, a.Fingerprint(), 1, "x", ""); err != ErrIncidentOver {
		t.Errorf("ack of incident 1 during incident 2: got %v, want ErrIncidentOver", err)
	}
}

func TestVetoReportedUpwardAtOnce(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	f := newEscNotifier(t, st, clock, newRecorder("robot"))
	ctx := testCtx(t)
	if err := f.n.Handle(ctx, eduAlert(model.CategorySecretMarking, "critical")); err != nil {
		t.Fatal(err)
	}
	got := f.ch.pages()
	if want := []string{"firing: 教育值班,局长,市值班,省值班 +report"}; !equalStrings(got, want) {
		t.Fatalf("pages: %q, want %q", got, want)
	}
	f.ch.mu.Lock()
	rep := f.ch.got[0].Report
	f.ch.mu.Unlock()
	for _, want := range []string{"【单项否决事项报告】", "报送单位：福州市人民政府办公厅、福建省人民政府办公厅"} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	if got := metricValue(t, f.n.reg, "govwatch_notifier_veto_incidents_total", map[string]string{"category": model.CategorySecretMarking}); got != 1 {
		t.Errorf("veto incidents: got %v, want 1", got)
	}
}

func TestEscalationRestartAndReplicas(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		robot := newRecorder("robot")
		a := newEscNotifier(t, st, clock, robot)
		ctx := testCtx(t)
		alert := eduAlert(model.CategoryPrivacyIDNumber, "major")
		if err := a.n.Handle(ctx, alert); err != nil {
			t.Fatal(err)
		}
		setClock(clock, escStart.Add(15*time.Minute))
		if err := a.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		// Replica a "dies" in the middle of the 30-minute step: it paged
		// and wrote its claim, but never advanced the record.
		setClock(clock, escStart.Add(30*time.Minute))
		rec, _ := a.n.Record(ctx, alert.Fingerprint())
		pg := sentPage{Page: Page{At: clock.Now(), People: []channel.Person{{Name: "市值班", Role: escalate.RoleParentDuty, Unit: "fz-gov"}}, Level: 1, Why: "30 分钟未确认"}, Superiors: []string{"fz-gov"}}
		if err := st.Set(ctx, escKey(alert.Fingerprint(), 1, rec.Escalation.Seq), append([]byte(logSent+" "), mustJSON(t, pg)...), time.Hour); err != nil {
			t.Fatal(err)
		}
		// Two fresh replicas take over and tick at the same moments.
		b := newEscNotifier(t, st, clock, robot)
		c := newEscNotifier(t, st, clock, robot)
		tickBoth := func() {
			var wg sync.WaitGroup
			for _, r := range []*escFixture{b, c, b, c} {
				wg.Go(func() {
					if err := r.n.Tick(ctx); err != nil {
						t.Errorf("Tick: %v", err)
					}
				})
			}
			wg.Wait()
		}
		tickBoth()
		if got, want := robot.pages(), []string{"firing: 教育值班", "firing: 局长"}; !equalStrings(got, want) {
			t.Fatalf("after the takeover at +30m: pages %q, want %q (the dead replica's page is not resent)", got, want)
		}
		rec, _ = b.n.Record(ctx, alert.Fingerprint())
		if got := len(rec.Pages); got != 3 || rec.Pages[2].People[0].Name != "市值班" {
			t.Fatalf("record pages: got %+v, want the dead replica's page recorded third", rec.Pages)
		}
		for _, at := range []time.Duration{60 * time.Minute, 61 * time.Minute, 90 * time.Minute, 2 * time.Hour} {
			setClock(clock, escStart.Add(at))
			tickBoth()
		}
		want := []string{"firing: 教育值班", "firing: 局长", "firing: 省值班 +report", "firing: 省值班 +report"}
		if got := robot.pages(); !equalStrings(got, want) {
			t.Fatalf("pages: %q, want %q (each once)", got, want)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEscalatorStart(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	e := newEscNotifier(t, st, clock, newRecorder("robot")).n.escalator
	tests := []struct {
		name          string
		alert         *model.Alert
		wantVeto      bool
		wantPaged     []string
		wantSuperiors []string
	}{
		{"a major alert pages the unit's duty", eduAlert(model.CategoryPrivacyIDNumber, "major"), false, []string{"教育值班"}, nil},
		{"a veto item goes up the chain at once", eduAlert(model.CategorySecretMarking, "critical"), true, []string{"教育值班", "局长", "市值班", "省值班"}, []string{"fz-gov", "fj-gov"}},
	}
	for _, tc := range tests {
		r := &Record{Fingerprint: tc.alert.Fingerprint(), Alert: *tc.alert, Status: StatusFiring, Incident: 1, FirstSeen: escStart}
		e.start(r)
		var paged []string
		for _, p := range r.Recipients {
			paged = append(paged, p.Name)
		}
		if r.Veto != tc.wantVeto || !equalStrings(paged, tc.wantPaged) || !equalStrings(r.Superiors, tc.wantSuperiors) {
			t.Errorf("%s: veto %v, paged %q, superiors %q; want %v, %q, %q", tc.name, r.Veto, paged, r.Superiors, tc.wantVeto, tc.wantPaged, tc.wantSuperiors)
		}
		if r.Escalation == nil || r.Escalation.Policy != "default" || len(r.Pages) != 1 {
			t.Errorf("%s: escalation %+v with %d pages, want the default policy and one page", tc.name, r.Escalation, len(r.Pages))
		}
	}
}

// TestEscalatorRecordsWhatADeadReplicaPaged pins the crash safety of a
// step: a replica that paged and died before advancing the record leaves a
// sent claim holding the page, and the next tick records that page without
// paging again.
func TestEscalatorRecordsWhatADeadReplicaPaged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		robot := newRecorder("robot")
		f := newEscNotifier(t, st, clock, robot)
		ctx := testCtx(t)
		a := eduAlert(model.CategoryPrivacyIDNumber, "major")
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
		clock.Advance(16 * time.Minute) // the head's step is due
		rec, err := f.n.Record(ctx, a.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		page := Page{At: clock.Now(), People: []channel.Person{{Name: "局长", Role: "第一责任人"}}, Level: 1, Why: "16 分钟未确认"}
		b, _ := json.Marshal(sentPage{Page: page})
		if err := f.n.claims.settle(ctx, escKey(rec.Fingerprint, rec.Incident, rec.Escalation.Seq), logSent+" "+string(b)); err != nil {
			t.Fatal(err)
		}
		before := len(robot.pages())
		if err := f.n.escalator.tick(ctx, rec, nil); err != nil {
			t.Fatal(err)
		}
		if got := len(robot.pages()); got != before {
			t.Errorf("pages sent: %d more, want none (the dead replica sent it)", got-before)
		}
		after, err := f.n.Record(ctx, a.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		if len(after.Pages) != len(rec.Pages)+1 || after.Pages[len(after.Pages)-1].Why != page.Why {
			t.Errorf("pages recorded: %+v, want the dead replica's page added", after.Pages)
		}
		if after.Escalation.Seq != rec.Escalation.Seq+1 {
			t.Errorf("escalation seq: got %d, want %d (advanced past the step)", after.Escalation.Seq, rec.Escalation.Seq+1)
		}
	})
}
