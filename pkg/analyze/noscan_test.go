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

	p := filepath.Join(t.TempDir(), "govwatch.yaml")
	if err := os.WriteFile(p, []byte("analyzer: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(t0)
	ds, err := analyze.Detectors(cfg.Detectors, detect.Deps{Clock: clock, Log: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Sweepers) < 5 || len(ds.Posts) < 5 {
		t.Fatalf("the default config builds %d post detectors and %d sweepers; the test means to run them all", len(ds.Posts), len(ds.Sweepers))
	}
	var accounts []registry.Account
	for i := range 20 {
		accounts = append(accounts, registry.Account{ID: fmt.Sprint("fz-acc-", i), Name: fmt.Sprint("福州政务", i),
			Platform: "weibo", Unit: "fz-gov"})
	}
	accounts = append(accounts, registry.Account{ID: "fz-app", Name: "e福州", Platform: "app", Unit: "fz-gov"})
	reg, probs := registry.New([]registry.Unit{{ID: "fz-gov", Name: "福州市人民政府", Region: "350100"}}, accounts)
	if probs != nil {
		t.Fatal(probs)
	}
	pub := &countingPublisher{}
	an := analyze.New(analyze.Options{
		Registry: reg, Publisher: pub, Store: st,
		Posts: ds.Posts, Snapshots: ds.Snapshots, Probes: ds.Probes, Sweepers: ds.Sweepers,
		Clock: clock, Log: zap.NewNop(),
	})
	round := func(r int) {
		for i := range 20 {
			acc := fmt.Sprint("fz-acc-", i)
			text := "今日天气晴，市民出行注意防晒。"
			if i == 3 {
				text = "联系电话13800138000，身份证号350102199001011234。" // raises a finding
			}
			if err := an.HandlePost(ctx, post(acc, fmt.Sprint("n", r, "-", i), text, clock.Now())); err != nil {
				t.Fatal(err)
			}
			if err := an.HandleSnapshot(ctx, &model.AccountSnapshot{Schema: model.SchemaVersion, AccountID: acc, Platform: "weibo",
				Name: fmt.Sprint("福州政务", i), Followers: int64(1000 + r*10), TakenAt: clock.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		if err := an.HandleProbe(ctx, &model.ProbeResult{Schema: model.SchemaVersion, AccountID: "fz-app", Platform: "app",
			Target: "https://app.fuzhou.gov.cn/", OK: r%2 == 0, StatusCode: 200, CheckedAt: clock.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := an.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The first round builds the indexes from the keyspace once (the
	// migration); what follows is the steady state.
	round(0)
	fill(t, raw, "noscan:collector/seen/", 20000)
	walks := func() int64 {
		info, err := raw.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		return redis.CommandCalls(info, "scan") + redis.CommandCalls(info, "keys")
	}
	before := walks()
	for r := 1; r <= 5; r++ {
		clock.Advance(time.Hour)
		round(r)
	}
	if got := walks() - before; got != 0 {
		t.Fatalf("5 rounds of posts, snapshots, probes and sweeps sent %d SCAN/KEYS commands, want 0", got)
	}
	if pub.n.Load() == 0 {
		t.Fatalf("no detector raised an alert: the rounds did not exercise the detectors")
	}
}

// fill writes n keys under prefix in pipelines of 1000.
func fill(t *testing.T, c *goredis.Client, prefix string, n int) {
	t.Helper()
	for i := 0; i < n; i += 1000 {
		_, err := c.Pipelined(context.Background(), func(p goredis.Pipeliner) error {
			for j := i; j < i+1000 && j < n; j++ {
				p.Set(context.Background(), fmt.Sprint(prefix, j), "x", 0)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
