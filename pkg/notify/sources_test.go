package notify

import (
	"errors"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/channel"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
	"github.com/govwatch/govwatch/pkg/store"
)

// TestSourceIndexFollowsTheLifecycle: the index of inhibition sources holds
// a source alert while it is active, drops it when it resolves (by the
// analyzer or by hand), and a tick repairs an entry lost or left behind.
func TestSourceIndexFollowsTheLifecycle(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st := stores.at(t, escStart)
		src, _ := match.ParseAll([]string{`alertname="system.source_down"`})
		tgt, _ := match.ParseAll([]string{`alertname="account.stale"`})
		n := newTestNotifier(t, Options{Store: st, Clock: clock,
			Receivers: []Receiver{{Name: "robot", Channels: []channel.Channel{newRecorder("robot")}}}, Route: &Route{Receiver: "robot"},
			Inhibit: []inhibit.Rule{{Source: src, Target: tgt, Equal: []string{"account_id"}}}})
		ctx := testCtx(t)
		indexed := func() map[string]bool {
			t.Helper()
			got, err := n.records.sources.active(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, a := range got {
				out[a.Fingerprint] = true
			}
			return out
		}
		down := eduAlert(model.CategorySystemSourceDown, "minor")
		other := eduAlert(model.CategorySystemSourceDown, "minor")
		other.Labels["account_id"] = "fz-edu-wechat"
		stale := eduAlert(model.CategoryAccountStale, "critical")
		for _, a := range []*model.Alert{down, other, stale} {
			if err := n.Handle(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if got := indexed(); len(got) != 2 || !got[down.Fingerprint()] || !got[other.Fingerprint()] {
			t.Fatalf("indexed %v, want the two source alerts only", got)
		}
		ended := *down
		ended.EndsAt = clock.Now()
		if err := n.Handle(ctx, &ended); err != nil {
			t.Fatal(err)
		}
		if _, err := n.Resolve(ctx, other.Fingerprint(), 0, "王磊", "采集源已恢复"); err != nil {
			t.Fatal(err)
		}
		if got := indexed(); len(got) != 0 {
			t.Fatalf("after both resolved: indexed %v, want none", got)
		}

		// A crash lost an entry, another left one behind: the tick repairs.
		clock.Advance(time.Minute)
		again := eduAlert(model.CategorySystemSourceDown, "minor")
		again.StartsAt = clock.Now()
		if err := n.Handle(ctx, again); err != nil {
			t.Fatal(err)
		}
		if err := st.Delete(ctx, sourceKey(again.Fingerprint())); err != nil {
			t.Fatal(err)
		}
		if err := st.Set(ctx, sourceKey(other.Fingerprint()), []byte(`{"alertname": "system.source_down"}`), 0); err != nil {
			t.Fatal(err)
		}
		if err := st.Set(ctx, sourceKey("0000000000000000"), []byte(`{"alertname": "system.source_down"}`), 0); err != nil {
			t.Fatal(err)
		}
		if err := n.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got := indexed(); len(got) != 1 || !got[again.Fingerprint()] {
			t.Errorf("after the tick: indexed %v, want the firing source alone", got)
		}
		if _, err := st.Get(ctx, sourceKey("0000000000000000")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the entry of an alert with no record: %v, want it gone", err)
		}
	})
}
