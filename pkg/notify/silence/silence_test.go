package silence

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

func TestSilenceLifecycle(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(now)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "s.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ss := New(st, clock)
	ctx := context.Background()
	no := false
	id, err := ss.Set(ctx, Silence{
		Matchers: []Matcher{{Name: "account_id", Value: "fz-wechat"}, {Name: "severity", Value: "minor", IsEqual: &no}},
		StartsAt: now.Add(time.Hour), EndsAt: now.Add(3 * time.Hour), CreatedBy: "管理员", Comment: "维护",
	})
	if err != nil {
		t.Fatal(err)
	}
	critical := model.LabelSet{"account_id": "fz-wechat", "severity": "critical"}
	minor := model.LabelSet{"account_id": "fz-wechat", "severity": "minor"}
	steps := []struct {
		advance   time.Duration
		wantState string
		wantMutes bool
	}{
		{0, StatePending, false},
		{time.Hour, StateActive, true},
		{2*time.Hour - time.Second, StateActive, true},
		{time.Second, StateExpired, false},
	}
	for _, s := range steps {
		clock.Advance(s.advance)
		got, err := ss.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if st := got.State(clock.Now()); st != s.wantState {
			t.Fatalf("at %s: state %s, want %s", clock.Now(), st, s.wantState)
		}
		ids, _ := ss.Muting(ctx, critical)
		if (len(ids) == 1) != s.wantMutes {
			t.Fatalf("at %s: muting critical %v, want %v", clock.Now(), ids, s.wantMutes)
		}
		if ids, _ := ss.Muting(ctx, minor); len(ids) != 0 {
			t.Fatalf("severity!=minor muted a minor alert")
		}
	}
	// Expired silences are kept for Retention, then gone.
	clock.Advance(Retention + time.Minute)
	if _, err := ss.Get(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after retention: got %v, want ErrNotFound", err)
	}
	if err := ss.Expire(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Expire(unknown): got %v, want ErrNotFound", err)
	}
	if _, err := ss.Set(ctx, Silence{ID: "nope", Matchers: []Matcher{{Name: "a", Value: "b"}}, EndsAt: clock.Now().Add(time.Hour), CreatedBy: "a", Comment: "b"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Set with an unknown id: got %v, want ErrNotFound", err)
	}
}
