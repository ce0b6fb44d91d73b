package silence

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
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
		all, err := ss.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		active := ActiveAt(all, clock.Now())
		if ids := active.Muting(critical); (len(ids) == 1 && ids[0] == id) != s.wantMutes {
			t.Fatalf("at %s: muting critical %v, want %v", clock.Now(), ids, s.wantMutes)
		}
		if ids := active.Muting(minor); len(ids) != 0 {
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

func TestActiveAt(t *testing.T) {
	now := time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)
	sil := func(id string, starts time.Duration, ms ...Matcher) Silence {
		return Silence{ID: id, Matchers: ms, StartsAt: now.Add(starts), EndsAt: now.Add(time.Hour)}
	}
	all := []Silence{
		sil("account", 0, Matcher{Name: "account_id", Value: "fz-wechat"}),
		sil("regex", 0, Matcher{Name: "account_id", Value: "fz-.*", IsRegex: true}),
		sil("pending", time.Minute, Matcher{Name: "account_id", Value: "fz-wechat"}),
		sil("broken", 0, Matcher{Name: "account_id", Value: "(", IsRegex: true}),
		sil("both", 0, Matcher{Name: "account_id", Value: "fz-wechat"}, Matcher{Name: "severity", Value: "critical"}),
	}
	active := ActiveAt(all, now)
	tests := []struct {
		name string
		ls   model.LabelSet
		want []string
	}{
		{"active silences that match, pending and broken ones not", model.LabelSet{"account_id": "fz-wechat", "severity": "minor"}, []string{"account", "regex"}},
		{"every matcher of a silence", model.LabelSet{"account_id": "fz-wechat", "severity": "critical"}, []string{"account", "regex", "both"}},
		{"the regex alone", model.LabelSet{"account_id": "fz-weibo"}, []string{"regex"}},
		{"none", model.LabelSet{"account_id": "xm-douyin"}, nil},
	}
	for _, tc := range tests {
		if got := active.Muting(tc.ls); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
