package analyze_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/duplicate"
	"github.com/govwatch/govwatch/pkg/analyze/detect/profile"
	"github.com/govwatch/govwatch/pkg/analyze/detect/unavailable"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/embedded"
)

// TestAccountDetectorsOnTwoReplicas runs two analyzers over one embedded
// JetStream and one store, as two replicas share NATS and Redis: snapshots
// and probes published on the bus are split between them, and both sweep at
// the same moment. Every alert must reach the alert stream exactly once.
func TestAccountDetectorsOnTwoReplicas(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	b, err := bus.Open(ctx, bus.Options{Embedded: true, StoreDir: t.TempDir(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	clock := clockwork.NewFakeClockAt(t0)
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg, probs := registry.New(
		[]registry.Unit{{ID: "fj-dsj", Name: "福建省大数据管理局", Region: "350000"}},
		[]registry.Account{
			{ID: "fj-mzt-app", Name: "闽政通", Platform: "app", Unit: "fj-dsj"},
			{ID: "fj-dsj-weibo", Name: "数字福建", Platform: "weibo", Unit: "fj-dsj"},
			{ID: "fj-dsj-weibo2", Name: "福建大数据", Platform: "weibo", Unit: "fj-dsj"},
		})
	if probs != nil {
		t.Fatal(probs)
	}

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var replicas []*analyze.Analyzer
	for range 2 {
		prof := profile.New(profile.Defaults())
		unav := unavailable.New(unavailable.Defaults())
		an := analyze.New(analyze.Options{
			Registry: reg, Bus: b, Store: st,
			Snapshots: []detect.SnapshotDetector{prof},
			Probes:    []detect.ProbeDetector{unav},
			Sweepers:  []detect.Sweeper{prof, unav, duplicate.New(duplicate.Defaults())},
			Workers:   2, Clock: clock, Log: log, AckWait: 5 * time.Second,
		})
		replicas = append(replicas, an)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := an.Run(runCtx); err != nil {
				t.Errorf("run: %v", err)
			}
		}()
	}
	defer func() { stop(); wg.Wait() }()

	snap := func(at time.Time, name string) {
		s := &model.AccountSnapshot{Schema: 1, AccountID: "fj-dsj-weibo", Platform: "weibo", Name: name,
			AvatarHash: "sha256:aa", Bio: "福建省大数据管理局官方微博", Followers: 1000, TakenAt: at}
		if err := b.PublishSnapshot(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	probe := func(at time.Time, ok bool) {
		r := &model.ProbeResult{Schema: 1, AccountID: "fj-mzt-app", Platform: "app", Target: "https://app.example/mzt",
			OK: ok, StatusCode: map[bool]int{true: 200, false: 503}[ok], CheckedAt: at}
		if err := b.PublishProbe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	snap(t0, "数字福建")
	// The first snapshot is the accepted profile: let it be judged before
	// the changed one, which the other replica might otherwise take first.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := st.Get(ctx, "analyzer/profile/fj-dsj-weibo"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first snapshot not judged within 10s")
		}
	}
	for i := range 3 {
		probe(t0.Add(time.Duration(i)*time.Minute), false)
	}
	snap(t0.Add(time.Hour), "数字福建（测试）")

	// Both replicas sweep at once: duplicate fires from both, identically.
	var sw sync.WaitGroup
	for _, an := range replicas {
		sw.Add(1)
		go func() {
			defer sw.Done()
			if err := an.Sweep(ctx); err != nil {
				t.Errorf("sweep: %v", err)
			}
		}()
	}
	sw.Wait()

	want := map[string]int{"account.profile_changed/firing": 1, "account.unavailable/firing": 1, "account.duplicate/firing": 1}
	got := waitAlerts(t, ctx, b, want)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d on the alert stream, want %d (all: %v)", k, got[k], n, got)
		}
	}

	for i := range 2 {
		probe(t0.Add(time.Duration(10+i)*time.Minute), true)
	}
	want["account.unavailable/resolved"] = 1
	got = waitAlerts(t, ctx, b, want)
	if got["account.unavailable/resolved"] != 1 || len(got) != len(want) {
		t.Errorf("after recovery: %v, want %v", got, want)
	}
}

// waitAlerts reads the alert stream until it holds at least want's totals
// and a moment more, and counts its messages by alertname/status.
func waitAlerts(t *testing.T, ctx context.Context, b *bus.Bus, want map[string]int) map[string]int {
	t.Helper()
	total := 0
	for _, n := range want {
		total += n
	}
	count := func() map[string]int {
		got := map[string]int{}
		for _, a := range bustest.Alerts(t, b) {
			status := "firing"
			if !a.EndsAt.IsZero() {
				status = "resolved"
			}
			got[a.Name()+"/"+status]++
		}
		return got
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got := count()
		n := 0
		for _, c := range got {
			n += c
		}
		if n >= total {
			// Let a duplicate that would be wrong have its chance to land.
			time.Sleep(300 * time.Millisecond)
			return count()
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := count()
	t.Fatalf("alert stream holds %v, want %v within 20s", got, want)
	return got
}
