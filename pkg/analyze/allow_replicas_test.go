package analyze_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/analyze"
	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/analyze/detect/content"
	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/bus/bustest"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// judged is one alert a replica published.
type judged struct {
	replica, post, alert string
}

// tagging publishes to the bus and tells which replica published what.
type tagging struct {
	*bus.Bus
	name string
	out  chan<- judged
}

func (p *tagging) PublishAlert(ctx context.Context, a *model.Alert) (bool, error) {
	dup, err := p.Bus.PublishAlert(ctx, a)
	if err == nil {
		status := "firing"
		if !a.EndsAt.IsZero() {
			status = "resolved"
		}
		p.out <- judged{p.name, a.Labels[model.LabelPostID], a.Name() + "/" + status}
	}
	return dup, err
}

// TestAllowEntryHoldsOnEveryReplicaAndAfterRestart runs analyzer replicas
// over one JetStream and one Redis. A phone number fires; once an allow
// entry for it is in the store, later posts repeating it raise only their
// other finding (a typo, which shows the post was judged), on whichever
// replica judges them, and still after every replica restarted.
func TestAllowEntryHoldsOnEveryReplicaAndAfterRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	log := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel))
	b := bustest.Open(t, bus.Options{Logger: log})
	addr := redistest.Start(t)
	clock := clockwork.NewFakeClockAt(t0)
	reg, probs := registry.New(
		[]registry.Unit{{ID: "fz-edu", Name: "福州市教育局", Region: "350100"}},
		[]registry.Account{{ID: "fz-edu-weibo", Name: "福州教育", Platform: "weibo", Unit: "fz-edu"}})
	if probs != nil {
		t.Fatal(probs)
	}
	out := make(chan judged, 100)

	type replica struct {
		stop func()
		done chan error
	}
	start := func(name string) *replica {
		t.Helper()
		st, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		an := analyze.New(analyze.Options{
			Registry: reg, Bus: b, Store: st, Publisher: &tagging{Bus: b, name: name, out: out},
			Posts:   []detect.PostDetector{content.New(nil)},
			Workers: 2, Clock: clock, Log: log, AckWait: 5 * time.Second,
		})
		runCtx, stop := context.WithCancel(ctx)
		r := &replica{stop: stop, done: make(chan error, 1)}
		go func() {
			err := an.Run(runCtx)
			st.Close()
			r.done <- err
		}()
		return r
	}
	halt := func(rs ...*replica) {
		t.Helper()
		for _, r := range rs {
			r.stop()
			select {
			case err := <-r.done:
				if err != nil {
					t.Errorf("run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("replica did not stop")
			}
		}
	}
	const phone, typo = model.CategoryPrivacyPhone + "/firing", model.CategoryWordingTypo + "/firing"
	n := 0
	// judge publishes a post with the phone number and a typo and returns
	// what the replicas published about it once its typo fired.
	judge := func(want ...string) {
		t.Helper()
		n++
		p := post("fz-edu-weibo", fmt.Sprint("90", n), "咨询电话13912345678，希望大家再接再励。", t0.Add(time.Duration(n)*time.Minute))
		if _, err := b.PublishPost(ctx, p); err != nil {
			t.Fatal(err)
		}
		var got []judged
		deadline := time.After(20 * time.Second)
		for {
			select {
			case j := <-out:
				if j.post != p.ID {
					t.Errorf("post %d: an alert of an earlier post came late: %+v", n, j)
					continue
				}
				got = append(got, j)
				if j.alert != typo {
					continue
				}
				// The detector publishes in category order: phone before typo.
				var alerts []string
				for _, g := range got {
					alerts = append(alerts, g.alert)
				}
				if !equal(alerts, want) {
					t.Errorf("post %d: replicas published %+v, want %v", n, got, want)
				}
				return
			case <-deadline:
				t.Fatalf("post %d: not judged within 20s (got %+v)", n, got)
			}
		}
	}

	a, bb := start("a"), start("b")
	judge(phone, typo)

	st, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := allow.New(st).Add(ctx, allow.Entry{Scope: allow.ScopeAccount, Target: "fz-edu-weibo",
		Category: model.CategoryPrivacyPhone, Match: "13912345678", Reason: "教育局咨询电话，公开号码", By: "值班员",
		Unit: "fz-edu", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}

	// Replica a alone: it was running before the entry was written.
	halt(bb)
	judge(typo)
	// Replica b alone.
	bb = start("b")
	halt(a)
	judge(typo)
	// Both restarted: the entry is in the store, not in a process.
	halt(bb)
	a, bb = start("a"), start("b")
	defer halt(a, bb)
	judge(typo)
	judge(typo)
}

func equal(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }
