package notify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/escalate"
	"github.com/govwatch/govwatch/pkg/notify/roster"
	"github.com/govwatch/govwatch/pkg/notify/silence"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store"
)

// unroutedDirectory: 福建省人民政府办公厅 (fj-gov) ← 福州市人民政府办公厅
// (fz-gov) ← 福州市教育局 (fz-edu), and fj-gov ← 南平市人民政府办公室
// (np-gov) ← 南平市教育局 (np-edu). The province and Fuzhou have duty
// teams; neither bureau has a team or a head a page can reach (fz-edu's
// head has a name only), and Nanping's office has neither either.
func unroutedDirectory(t *testing.T) *escalate.Directory {
	t.Helper()
	reg, probs := registry.New([]registry.Unit{
		{ID: "fj-gov", Name: "福建省人民政府办公厅", Head: registry.Contact{Name: "省办主任", Mobile: "13900000001"}},
		{ID: "fz-gov", Name: "福州市人民政府办公厅", Parent: "fj-gov"},
		{ID: "fz-edu", Name: "福州市教育局", Parent: "fz-gov", Head: registry.Contact{Name: "局长"}},
		{ID: "np-gov", Name: "南平市人民政府办公室", Parent: "fj-gov"},
		{ID: "np-edu", Name: "南平市教育局", Parent: "np-gov"},
	}, nil)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	team := func(unit, name, mobile string) roster.TeamConfig {
		return roster.TeamConfig{Unit: unit, Layers: []roster.LayerConfig{{Name: "值班", Rotation: "daily", Handoff: "08:30", Start: "2026-01-01",
			Members: []roster.PersonConfig{{Name: name, Mobile: mobile}}}}}
	}
	ro, err := roster.New(&roster.File{Teams: []roster.TeamConfig{
		team("fz-gov", "市值班", "13800000002"),
		team("fj-gov", "省值班", "13800000001"),
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &escalate.Directory{Registry: reg, Roster: ro}
}

// newUnroutedNotifier is newEscNotifier over unroutedDirectory.
func newUnroutedNotifier(t *testing.T, st store.Store, clock *clockwork.FakeClock, ch *recorder, more ...func(*Options)) *escFixture {
	t.Helper()
	return newEscNotifier(t, st, clock, ch, append([]func(*Options){func(o *Options) { o.Directory = unroutedDirectory(t) }}, more...)...)
}

func unitAlert(unit string) *model.Alert {
	a := eduAlert(model.CategoryPrivacyIDNumber, model.SeverityMajor)
	a.Labels[model.LabelUnit] = unit
	return a
}

// unroutedRecords are the system.unrouted records in the store.
func unroutedRecords(t *testing.T, ctx context.Context, n *testNotifier) []Record {
	t.Helper()
	recs, err := n.Alerts(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	var out []Record
	for _, r := range recs {
		if r.Alert.Name() == model.CategorySystemUnrouted {
			out = append(out, r)
		}
	}
	return out
}

func unroutedCount(t *testing.T, n *testNotifier, category string) float64 {
	t.Helper()
	return metricValue(t, n.reg, "govwatch_notifier_unrouted_total", map[string]string{"category": category})
}

// TestUnroutedRaisedOnce: an alert of a unit with no team and no head
// raises one system.unrouted to the supervising unit, whose duty officer
// is paged, however often the alert comes and whichever notifier over the
// store handles it; its resolution resolves the system.unrouted too.
func TestUnroutedRaisedOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		f := newUnroutedNotifier(t, st, clock, newRecorder("robot"))
		ctx := testCtx(t)
		src := unitAlert("fz-edu")
		if err := f.n.Handle(ctx, src); err != nil {
			t.Fatal(err)
		}
		rec, err := f.n.Record(ctx, src.Fingerprint())
		if err != nil {
			t.Fatal(err)
		}
		// Its head's name is in the message; nobody is reached.
		if len(rec.Recipients) != 1 || escalate.Reachable(rec.Recipients[0]) || rec.Unrouted == nil {
			t.Fatalf("source record: recipients %v, unrouted %v; want the head's name alone, marked unrouted", rec.Recipients, rec.Unrouted)
		}
		got := unroutedRecords(t, ctx, f.n)
		if len(got) != 1 {
			t.Fatalf("system.unrouted records: got %d, want 1", len(got))
		}
		un := got[0]
		for k, want := range map[string]string{
			"unit": "fz-gov", "severity": "major", "source_unit": "fz-edu",
			"source_alertname": model.CategoryPrivacyIDNumber, "source_fingerprint": src.Fingerprint(), "source_incident": "1",
		} {
			if v := un.Alert.Labels[k]; v != want {
				t.Errorf("label %s: got %q, want %q", k, v, want)
			}
		}
		for k, want := range map[string]string{
			"summary":     "福州市教育局的告警无人接收：隐私泄露：公民身份号码",
			"description": "没有通知到任何人",
			"suggestion":  "为福州市教育局添加值班组",
			"unit_name":   "福州市人民政府办公厅",
		} {
			if v := un.Alert.Annotations[k]; !strings.Contains(v, want) {
				t.Errorf("annotation %s: got %q, want it to contain %q", k, v, want)
			}
		}
		if len(un.Pages) != 1 || len(un.Pages[0].People) != 1 || un.Pages[0].People[0].Name != "市值班" {
			t.Errorf("system.unrouted pages: got %+v, want the city's duty officer", un.Pages)
		}
		want := []string{"firing: 局长", "firing: 市值班"}
		if got := f.ch.pages(); !sameMultiset(got, want) {
			t.Fatalf("pages: got %q, want %q", got, want)
		}
		if got := unroutedCount(t, f.n, model.CategoryPrivacyIDNumber); got != 1 {
			t.Errorf("unrouted_total: got %v, want 1", got)
		}

		// The same alert again, and through a second notifier on the
		// same store (a restart, another replica), ticking too.
		if err := f.n.Handle(ctx, src); err != nil {
			t.Fatal(err)
		}
		again := newUnroutedNotifier(t, st, clock, f.ch)
		if err := again.n.Handle(ctx, src); err != nil {
			t.Fatal(err)
		}
		if err := again.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(unroutedRecords(t, ctx, f.n)); got != 1 {
			t.Errorf("system.unrouted records after the repeats: got %d, want 1", got)
		}
		if got := f.ch.pages(); !sameMultiset(got, want) {
			t.Errorf("pages after the repeats: got %q, want %q", got, want)
		}
		if got := unroutedCount(t, f.n, model.CategoryPrivacyIDNumber) + unroutedCount(t, again.n, model.CategoryPrivacyIDNumber); got != 1 {
			t.Errorf("unrouted_total over both notifiers: got %v, want 1", got)
		}

		// The source resolves: so does the system.unrouted, once.
		setClock(clock, escStart.Add(5*time.Minute))
		done := unitAlert("fz-edu")
		done.EndsAt = clock.Now()
		for range 2 {
			if err := again.n.Handle(ctx, done); err != nil {
				t.Fatal(err)
			}
		}
		got = unroutedRecords(t, ctx, f.n)
		if len(got) != 1 || got[0].Status != StatusResolved {
			t.Fatalf("system.unrouted after the source resolved: %+v, want one, resolved", got)
		}
		want = append(want, "resolved: 局长", "resolved: 市值班")
		if got := f.ch.pages(); !sameMultiset(got, want) {
			t.Errorf("pages after the resolution: got %q, want %q", got, want)
		}
	})
}

// TestUnroutedDoesNotLoop: a system.unrouted that itself reaches nobody
// (the supervising unit has no team and no head either) raises no other.
func TestUnroutedDoesNotLoop(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		f := newUnroutedNotifier(t, st, clock, newRecorder("robot"))
		ctx := testCtx(t)
		if err := f.n.Handle(ctx, unitAlert("np-edu")); err != nil {
			t.Fatal(err)
		}
		got := unroutedRecords(t, ctx, f.n)
		if len(got) != 1 {
			t.Fatalf("system.unrouted records: got %d, want 1", len(got))
		}
		if u := got[0]; u.Alert.Labels[model.LabelUnit] != "np-gov" || len(u.Pages) != 0 || u.Unrouted != nil {
			t.Errorf("system.unrouted: unit %q, pages %v, unrouted %v; want np-gov, nobody paged, raising none",
				u.Alert.Labels[model.LabelUnit], u.Pages, u.Unrouted)
		}
		// It still reaches the receiver: somebody reads it.
		if got, want := f.ch.delivered(), []string{"duty firing " + unitAlert("np-edu").Fingerprint(), "duty firing " + got[0].Fingerprint}; !sameMultiset(got, want) {
			t.Errorf("delivered %q, want %q", got, want)
		}
		if got := unroutedCount(t, f.n, model.CategorySystemUnrouted); got != 0 {
			t.Errorf("unrouted_total{system.unrouted}: got %v, want 0", got)
		}
	})
}

// TestUnroutedNotForPagedOrUnitless: an alert that pages somebody, and one
// that names no unit, raise nothing.
func TestUnroutedNotForPagedOrUnitless(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	f := newUnroutedNotifier(t, st, clock, newRecorder("robot"))
	ctx := testCtx(t)
	noUnit := unitAlert("")
	delete(noUnit.Labels, model.LabelUnit)
	for _, a := range []*model.Alert{unitAlert("fz-gov"), noUnit} {
		if err := f.n.Handle(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if got := unroutedRecords(t, ctx, f.n); len(got) != 0 {
		t.Errorf("system.unrouted records: got %d, want none", len(got))
	}
}

// TestUnroutedSilenced: a silenced source alert pages nobody on purpose and
// raises none while the silence lasts; once it ends, the alert goes out
// and its system.unrouted with it.
func TestUnroutedSilenced(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		f := newUnroutedNotifier(t, st, clock, newRecorder("robot"))
		ctx := testCtx(t)
		if _, err := f.n.Silences().Set(ctx, silence.Silence{
			Matchers: []silence.Matcher{{Name: "account_id", Value: "fz-edu-weibo"}},
			StartsAt: escStart, EndsAt: escStart.Add(time.Hour), CreatedBy: "值班", Comment: "账号迁移",
		}); err != nil {
			t.Fatal(err)
		}
		if err := f.n.Handle(ctx, unitAlert("fz-edu")); err != nil {
			t.Fatal(err)
		}
		if err := f.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got := unroutedRecords(t, ctx, f.n); len(got) != 0 {
			t.Errorf("system.unrouted records under the silence: got %d, want none", len(got))
		}
		if got := unroutedCount(t, f.n, model.CategoryPrivacyIDNumber); got != 0 {
			t.Errorf("unrouted_total under the silence: got %v, want 0", got)
		}
		setClock(clock, escStart.Add(time.Hour))
		if err := f.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got := unroutedRecords(t, ctx, f.n); len(got) != 1 {
			t.Errorf("system.unrouted records after the silence: got %d, want 1", len(got))
		}
	})
}

// TestUnroutedToRootReceiver: the tree sends the city's alerts to the
// city's receiver; the system.unrouted reaches the root's receiver too.
func TestUnroutedToRootReceiver(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	admin, city := newRecorder("admin"), newRecorder("city")
	f := newUnroutedNotifier(t, st, clock, newRecorder("robot"), func(o *Options) {
		o.Receivers = append(o.Receivers, Receiver{Name: "admin", Channels: []channel.Channel{admin}}, Receiver{Name: "city", Channels: []channel.Channel{city}})
		o.Route = &Route{Receiver: "admin", Routes: []*Route{
			{Match: map[string]string{"unit": "fz-gov"}, Receiver: "city"},
			{Match: map[string]string{"unit": "fz-edu"}, Receiver: "duty"},
		}}
	})
	ctx := testCtx(t)
	if err := f.n.Handle(ctx, unitAlert("fz-edu")); err != nil {
		t.Fatal(err)
	}
	un := unroutedRecords(t, ctx, f.n)
	if len(un) != 1 {
		t.Fatalf("system.unrouted records: got %d, want 1", len(un))
	}
	if got, want := un[0].Receivers, []string{"city", "admin"}; !equalStrings(got, want) {
		t.Errorf("system.unrouted receivers: got %q, want %q", got, want)
	}
	for _, c := range []*recorder{admin, city} {
		if got, want := c.pages(), []string{"firing: 市值班"}; !equalStrings(got, want) {
			t.Errorf("%s: pages %q, want %q", c.name, got, want)
		}
	}
	if got := f.ch.delivered(); len(got) != 1 {
		t.Errorf("duty: delivered %q, want the source alert only", got)
	}
}

// TestUnroutedRaisedAfterFailure: when the system.unrouted cannot be
// delivered it is raised all the same and owed: a tick after the receiver
// recovers delivers it, once.
func TestUnroutedRaisedAfterFailure(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		admin := newRecorder("admin")
		admin.setFailAlways(errors.New("robot timed out"))
		f := newUnroutedNotifier(t, st, clock, newRecorder("robot"), func(o *Options) {
			o.Receivers = append(o.Receivers, Receiver{Name: "admin", Channels: []channel.Channel{admin}})
			o.Route = &Route{Receiver: "admin", Routes: []*Route{{Match: map[string]string{"unit": "fz-edu"}, Receiver: "duty"}}}
			o.Retry = RetryPolicy{Attempts: 1, Initial: time.Millisecond, Max: time.Millisecond}
		})
		ctx := testCtx(t)
		if err := f.n.Handle(ctx, unitAlert("fz-edu")); err != nil {
			t.Fatalf("Handle: %v, want nil with the system.unrouted owed", err)
		}
		if got := admin.pages(); len(got) != 0 {
			t.Errorf("admin: pages %q while it fails, want none", got)
		}
		un := unroutedRecords(t, ctx, f.n)
		if len(un) != 1 {
			t.Fatalf("system.unrouted records: got %d, want 1", len(un))
		}
		if _, err := st.Get(ctx, owedKey(un[0].Fingerprint, "admin", un[0].Incident, StatusFiring)); err != nil {
			t.Fatalf("the system.unrouted is not owed to admin: %v", err)
		}
		admin.setFailAlways(nil)
		if err := f.n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if err := f.n.Handle(ctx, unitAlert("fz-edu")); err != nil {
			t.Fatal(err)
		}
		if got, want := admin.pages(), []string{"firing: 市值班"}; !equalStrings(got, want) {
			t.Errorf("admin: pages %q, want %q", got, want)
		}
		if got := unroutedCount(t, f.n, model.CategoryPrivacyIDNumber); got != 1 {
			t.Errorf("unrouted_total: got %v, want 1", got)
		}
	})
}

// TestUnroutedTexts: a deployment rewords system.unrouted by template
// name; a name it does not have, or a body that does not parse, is refused.
func TestUnroutedTexts(t *testing.T) {
	clock, st := embeddedStores.at(t, escStart)
	f := newUnroutedNotifier(t, st, clock, newRecorder("robot"), func(o *Options) {
		o.UnroutedTexts = map[string]string{"summary": `无人值守：{{.Unit}}`}
	})
	ctx := testCtx(t)
	if err := f.n.Handle(ctx, unitAlert("fz-edu")); err != nil {
		t.Fatal(err)
	}
	if got := unroutedRecords(t, ctx, f.n); len(got) != 1 || got[0].Alert.Annotations["summary"] != "无人值守：福州市教育局" {
		t.Errorf("system.unrouted: %+v, want one with the deployment's summary", got)
	}
	for _, bad := range []map[string]string{{"title": "x"}, {"summary": "{{.Unit"}} {
		if _, err := New(withRequired(t, Options{Store: st, UnroutedTexts: bad})); err == nil || !strings.Contains(err.Error(), "unrouted texts") {
			t.Errorf("New with unrouted texts %v: got %v, want an unrouted texts error", bad, err)
		}
	}
}
