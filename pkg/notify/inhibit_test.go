package notify

import (
	"testing"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/inhibit"
	"github.com/govwatch/govwatch/pkg/notify/match"
)

func TestInhibitorStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st0 := stores.at(t, escStart)
		st := &countingStore{Store: st0}
		l := testLifecycle(t, st, clock)
		m, reg := testMetrics(t)
		src, _ := match.ParseAll([]string{`alertname="system.source_down"`})
		tgt, _ := match.ParseAll([]string{`alertname="account.stale"`})
		rules := []inhibit.Rule{{Source: src, Target: tgt, Equal: []string{"account_id"}}}
		l.sources = &sourceIndex{store: st, rules: rules}
		inh := &inhibitor{rules: rules, records: l, sources: l.sources, m: m}
		ctx := testCtx(t)

		stored(t, ctx, l, eduAlert(model.CategorySystemSourceDown, "minor"))
		stale := stored(t, ctx, l, eduAlert(model.CategoryAccountStale, "critical"))
		otherAlert := eduAlert(model.CategoryAccountStale, "critical")
		otherAlert.Labels["account_id"] = "fz-edu-wechat"
		other := stored(t, ctx, l, otherAlert)
		untargeted := stored(t, ctx, l, eduAlert(model.CategoryPrivacyIDNumber, "major"))
		done := *stale
		done.Status = StatusResolved

		tests := []struct {
			name        string
			d           *delivery
			wantPass    bool
			wantScanned bool    // read the one source alert, not the four records
			wantCounted float64 // inhibited_total of account.stale so far
		}{
			{"a target sharing the source's account is muted, and counted on a move", &delivery{rec: stale, moved: true}, false, true, 1},
			{"muted again on a redelivery, not counted again", &delivery{rec: stale}, false, true, 1},
			{"a target of another account passes", &delivery{rec: other, moved: true}, true, true, 1},
			{"a resolution passes", &delivery{rec: &done, moved: true}, true, false, 1},
			{"an alert no rule targets passes without reading the alerts", &delivery{rec: untargeted, moved: true}, true, false, 1},
		}
		for _, tc := range tests {
			st.scanned.Store(0)
			d, err := inh.Exec(ctx, tc.d)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if (d != nil) != tc.wantPass {
				t.Errorf("%s: passed %v, want %v", tc.name, d != nil, tc.wantPass)
			}
			if got := st.scanned.Load(); (got > 0) != tc.wantScanned || got > 1 {
				t.Errorf("%s: read %d values, want %v (the source alert alone)", tc.name, got, tc.wantScanned)
			}
			if got := metricValue(t, reg, "govwatch_notifier_inhibited_total", map[string]string{"category": model.CategoryAccountStale}); got != tc.wantCounted {
				t.Errorf("%s: inhibited metric %v, want %v", tc.name, got, tc.wantCounted)
			}
		}

		// Sources read once for many deliveries: no read of the store.
		idx := inh.index(nil) // no active alerts: nothing inhibits
		st.scanned.Store(0)
		if d, err := inh.Exec(ctx, &delivery{rec: stale, inhibitor: idx}); err != nil || d == nil {
			t.Errorf("with sources read already (none): got %v, %v, want the delivery passed", d, err)
		}
		if st.scanned.Load() != 0 {
			t.Error("with sources read already: read the store again")
		}
	})
}
