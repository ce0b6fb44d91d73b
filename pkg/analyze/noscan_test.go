package analyze_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// countingPublisher counts the alerts the detectors raise.
type countingPublisher struct{ n atomic.Int64 }

func (c *countingPublisher) PublishAlert(context.Context, *model.Alert) (bool, error) {
	c.n.Add(1)
	return false, nil
}

// hotPaths is every detector the default config turns on, in an analyzer
// over accounts weibo accounts and one app of one unit: what
// TestNoKeyspaceWalkOnHotPaths and BenchmarkKeyspace run.
type hotPaths struct {
	an       *analyze.Analyzer
	clock    *clockwork.FakeClock
	pub      *countingPublisher
	accounts int
}

// metrics, when given, receives the analyzer's metrics.
func newHotPaths(tb testing.TB, st detect.Store, accounts int, metrics ...prometheus.Registerer) *hotPaths {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "govwatch.yaml")
	if err := os.WriteFile(p, []byte("analyzer: {}\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		tb.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(t0)
	ds, err := analyze.Detectors(cfg.Detectors, detect.Deps{Clock: clock, Log: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	if len(ds.Sweepers) < 5 || len(ds.Posts) < 5 {
		tb.Fatalf("the default config builds %d post detectors and %d sweepers; the fixture means to run them all", len(ds.Posts), len(ds.Sweepers))
	}
	var accs []registry.Account
	for i := range accounts {
		accs = append(accs, registry.Account{ID: fmt.Sprint("fz-acc-", i), Name: fmt.Sprint("福州政务", i),
			Platform: "weibo", Unit: "fz-gov"})
	}
	accs = append(accs, registry.Account{ID: "fz-app", Name: "e福州", Platform: "app", Unit: "fz-gov"})
	reg, probs := registry.New([]registry.Unit{{ID: "fz-gov", Name: "福州市人民政府", Region: "350100"}}, accs)
	if probs != nil {
		tb.Fatal(probs)
	}
	pub := &countingPublisher{}
	o := analyze.Options{
		Registry: reg, Publisher: pub, Store: st,
		Posts: ds.Posts, Snapshots: ds.Snapshots, Probes: ds.Probes, Sweepers: ds.Sweepers,
		Clock: clock, Log: zap.NewNop(),
	}
	if len(metrics) > 0 {
		o.Metrics = metrics[0]
	}
	an := analyze.New(o)
	return &hotPaths{an: an, clock: clock, pub: pub, accounts: accounts}
}

// round hands the analyzer one post and one snapshot per account, one
// probe of the app, and sweeps once; one account's post leaks personal data.
func (h *hotPaths) round(tb testing.TB, r int) {
	for i := range h.accounts {
		h.input(tb, r, i)
	}
	if err := h.an.HandleProbe(tb.Context(), &model.ProbeResult{Schema: model.SchemaVersion, AccountID: "fz-app", Platform: "app",
		Target: "https://app.fuzhou.gov.cn/", OK: r%2 == 0, StatusCode: 200, CheckedAt: h.clock.Now()}); err != nil {
		tb.Fatal(err)
	}
	if err := h.an.Sweep(tb.Context()); err != nil {
		tb.Fatal(err)
	}
}

// input hands the analyzer round r's post and snapshot of account i.
func (h *hotPaths) input(tb testing.TB, r, i int) {
	ctx := tb.Context()
	now := h.clock.Now()
	acc := fmt.Sprint("fz-acc-", i)
	text := "今日天气晴，市民出行注意防晒。"
	if i == 3 {
		text = "联系电话13800138000，身份证号350102199001011234。" // raises a finding
	}
	if err := h.an.HandlePost(ctx, post(acc, fmt.Sprint("n", r, "-", i), text, now)); err != nil {
		tb.Fatal(err)
	}
	if err := h.an.HandleSnapshot(ctx, &model.AccountSnapshot{Schema: model.SchemaVersion, AccountID: acc, Platform: "weibo",
		Name: fmt.Sprint("福州政务", i), Followers: int64(1000 + r*10), TakenAt: now}); err != nil {
		tb.Fatal(err)
	}
}

// TestNoKeyspaceWalkOnHotPaths runs every detector the default config turns
// on against a real Redis that also holds many keys of no concern to them,
// and fails when handling posts, snapshots and probes or sweeping sends SCAN
// or KEYS: their cost grows with the whole keyspace, not with the accounts.
func TestNoKeyspaceWalkOnHotPaths(t *testing.T) {
	ctx := t.Context()
	addr := redistest.Start(t)
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { raw.Close() })
	st, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}, Prefix: "noscan:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHotPaths(t, st, 20)
	// The first round builds the indexes from the keyspace once (the
	// migration); what follows is the steady state.
	h.round(t, 0)
	redistest.Fill(t, raw, "noscan:collector/seen/", 20000)
	walks := func() int64 { return redistest.Walks(t, raw) }
	before := walks()
	for r := 1; r <= 5; r++ {
		h.clock.Advance(time.Hour)
		h.round(t, r)
	}
	if got := walks() - before; got != 0 {
		t.Fatalf("5 rounds of posts, snapshots, probes and sweeps sent %d SCAN/KEYS commands, want 0", got)
	}
	if h.pub.n.Load() == 0 {
		t.Fatalf("no detector raised an alert: the rounds did not exercise the detectors")
	}
}
