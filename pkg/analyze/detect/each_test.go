package detect_test

import (
	"context"
	"errors"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/detecttest"
	"github.com/govwatch/govwatch/pkg/registry"
)

// TestEachAccount: every account is judged, in order, whatever an earlier
// one returned; the errors come back joined with their ids, and an ended
// context stops the walk.
func TestEachAccount(t *testing.T) {
	env := &detect.Env{Registry: detecttest.BenchRegistry(3, 1, "weibo")}
	failed := errors.New("failed")
	var seen []string
	err := detect.EachAccount(context.Background(), env, func(a *registry.Account) error {
		seen = append(seen, a.ID)
		if a.ID != "u1-weibo" {
			return failed
		}
		return nil
	})
	if want := "u0-weibo: failed\nu2-weibo: failed"; err == nil || err.Error() != want || !errors.Is(err, failed) {
		t.Errorf("EachAccount = %v, want %q", err, want)
	}
	if len(seen) != 3 || seen[0] != "u0-weibo" || seen[2] != "u2-weibo" {
		t.Errorf("judged %v, want the three accounts in order", seen)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = detect.EachAccount(ctx, env, func(a *registry.Account) error {
		t.Errorf("judged %s after the context ended", a.ID)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("EachAccount after cancel = %v, want context.Canceled", err)
	}
}
