package notify

import (
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/notify/silence"
)

func TestSilencerStage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, stores backend) {
		clock, st0 := stores.at(t, escStart)
		st := &countingStore{Store: st0}
		l := testLifecycle(t, st, clock)
		m, reg := testMetrics(t)
		sil := &silencer{silences: silence.New(st, clock), clock: clock, m: m}
		ctx := testCtx(t)
		if _, err := sil.silences.Set(ctx, silence.Silence{
			Matchers: []silence.Matcher{{Name: "account_id", Value: "fz-edu-weibo"}},
			StartsAt: escStart, EndsAt: escStart.Add(time.Hour), CreatedBy: "值班", Comment: "账号迁移",
		}); err != nil {
			t.Fatal(err)
		}
		muted := stored(t, ctx, l, eduAlert(model.CategoryPrivacyIDNumber, "major"))
		otherAlert := eduAlert(model.CategoryPrivacyIDNumber, "major")
		otherAlert.Labels["account_id"] = "fz-edu-wechat"
		other := stored(t, ctx, l, otherAlert)
		done := *muted
		done.Status = StatusResolved

		tests := []struct {
			name        string
			advance     time.Duration
			d           *delivery
			wantPass    bool
			wantCounted float64
		}{
			{"a matching alert is muted, and counted on a move", 0, &delivery{rec: muted, moved: true}, false, 1},
			{"muted again on a redelivery, not counted again", 0, &delivery{rec: muted}, false, 1},
			{"another account passes", 0, &delivery{rec: other, moved: true}, true, 1},
			{"a resolution passes", 0, &delivery{rec: &done, moved: true}, true, 1},
			{"once the silence ended the alert passes", time.Hour, &delivery{rec: muted, moved: true}, true, 1},
		}
		for _, tc := range tests {
			clock.Advance(tc.advance)
			d, err := sil.Exec(ctx, tc.d)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if (d != nil) != tc.wantPass {
				t.Errorf("%s: passed %v, want %v", tc.name, d != nil, tc.wantPass)
			}
			if got := metricValue(t, reg, "govwatch_notifier_silenced_total", map[string]string{"category": model.CategoryPrivacyIDNumber}); got != tc.wantCounted {
				t.Errorf("%s: silenced metric %v, want %v", tc.name, got, tc.wantCounted)
			}
		}

		// Silences read once for many deliveries are not read again.
		set, err := sil.active(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.scanned.Store(0)
		if _, err := sil.Exec(ctx, &delivery{rec: muted, silences: set}); err != nil {
			t.Fatal(err)
		}
		if st.scanned.Load() != 0 {
			t.Error("with silences read already: read the store again")
		}
	})
}
