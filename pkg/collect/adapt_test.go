package collect

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/collect/pace"
	"github.com/govwatch/govwatch/pkg/collect/source"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
)

// chattySource gives acct-000 a new post on every poll and the others none.
type chattySource struct {
	*logSource
	mu sync.Mutex
	n  int
}

func (s *chattySource) Poll(ctx context.Context, a *registry.Account, state []byte) (*source.Batch, error) {
	if _, err := s.logSource.Poll(ctx, a, state); err != nil {
		return nil, err
	}
	if a.ID != "acct-000" {
		return &source.Batch{NotModified: true}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	id := fmt.Sprintf("weibo:%s:%d", a.ID, s.n)
	return &source.Batch{Posts: []model.Post{{ID: id, AccountID: a.ID, Platform: a.Platform, ContentHash: "sha256:" + id}}}, nil
}

func TestIntervalAdaptsToPostRateWithinTheTier(t *testing.T) {
	reg := testRegistry(t, 2)
	tier := pace.NewTier(10*time.Minute, 2, 4) // [5m, 40m]
	f := startFleetWith(t, openState(t), reg, 1, Options{Tiers: map[string]pace.Tier{"normal": tier}, DefaultTier: "normal"},
		func(s *logSource) source.Source { return &chattySource{logSource: s} })
	f.run(t, 4*time.Hour, time.Minute)

	for _, tc := range []struct {
		id   string
		want time.Duration
	}{{"acct-000", 5 * time.Minute}, {"acct-001", 40 * time.Minute}} {
		polls := f.src.times(tc.id)
		if len(polls) < 5 {
			t.Fatalf("%s polled %d times in 4h", tc.id, len(polls))
		}
		first := polls[1].Sub(polls[0]).Round(time.Minute)
		last := polls[len(polls)-1].Sub(polls[len(polls)-2]).Round(time.Minute)
		if first != tier.Interval {
			t.Errorf("%s: first gap %v, want the tier's %v before the rate is known", tc.id, first, tier.Interval)
		}
		if last != tc.want {
			t.Errorf("%s: gap after 4h %v, want %v", tc.id, last, tc.want)
		}
	}
}
