package allow_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/allow"
	"github.com/govwatch/govwatch/pkg/model"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
	"github.com/govwatch/govwatch/pkg/textscan"
)

func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	return map[string]func(t *testing.T) store.Store{
		"embedded": func(t *testing.T) store.Store {
			s, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
		"redis": func(t *testing.T) store.Store {
			s, err := redis.Open(t.Context(), redis.Options{Addrs: []string{redistest.Start(t)}})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		},
	}
}

// counting counts Gets and fails on Scan: judging a post must not scan.
type counting struct {
	store.Store
	gets atomic.Int64
	t    *testing.T
}

func (c *counting) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *counting) Scan(context.Context, string, func(string, []byte) error) error {
	c.t.Error("allow entries scanned the keyspace")
	return nil
}

var t0 = time.Date(2026, 11, 26, 2, 0, 0, 0, time.UTC)

func TestEntriesInTheStore(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			st := &counting{Store: open(t), t: t}
			es := allow.New(st)
			phone := allow.Entry{Scope: allow.ScopeAccount, Target: "fz-edu-wechat", Category: model.CategoryPrivacyPhone,
				Match: "１３９１２３４５６７８", Reason: "办事大厅咨询电话", By: "张三", Unit: "fz-edu", CreatedAt: t0}
			got, err := es.Add(ctx, phone)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == "" || got.Match != textscan.Normalize("13912345678") {
				t.Fatalf("added %+v: want an id and the match normalised", got)
			}
			typo := allow.Entry{Scope: allow.ScopePost, Target: "p1", Category: model.CategoryWordingTypo, Reason: "引用原文", By: "李四", CreatedAt: t0.Add(time.Minute)}
			if _, err := es.Add(ctx, typo); err != nil {
				t.Fatal(err)
			}

			st.gets.Store(0)
			cover, err := es.For(ctx, "p1", "fz-edu-wechat", "fz-edu")
			if err != nil {
				t.Fatal(err)
			}
			if n := st.gets.Load(); n != 4 {
				t.Errorf("For made %d Gets, want 4", n)
			}
			if len(cover) != 2 {
				t.Fatalf("For covers %d entries, want 2: %+v", len(cover), cover)
			}
			fs := []textscan.Finding{
				{Category: model.CategoryPrivacyPhone, Rule: "validator.mobile", Match: "13912345678"},
				{Category: model.CategoryPrivacyPhone, Rule: "validator.mobile", Match: "13800001111"},
				{Category: model.CategoryWordingTypo, Rule: "再接再励", Match: "再接再励"},
			}
			left := allow.Filter(fs, cover)
			if len(left) != 1 || left[0].Match != "13800001111" {
				t.Errorf("Filter left %+v, want only the other phone number", left)
			}
			other, err := es.For(ctx, "p2", "fz-edu-weibo", "fz-edu")
			if err != nil || len(other) != 0 {
				t.Errorf("another account's post is covered by %+v (%v), want none", other, err)
			}

			list, err := es.List(ctx)
			if err != nil || len(list) != 2 || list[0].ID != got.ID {
				t.Fatalf("List: %+v, %v; want both, oldest first", list, err)
			}
			if err := es.Remove(ctx, got.ID); err != nil {
				t.Fatal(err)
			}
			if err := es.Remove(ctx, got.ID); err != allow.ErrNotFound {
				t.Errorf("removing twice: %v, want ErrNotFound", err)
			}
			if cover, _ := es.For(ctx, "p9", "fz-edu-wechat", "fz-edu"); len(cover) != 0 {
				t.Errorf("after removal the account is still covered by %+v", cover)
			}
		})
	}
}

// TestConcurrentAdds: replicas of the notifier adding to one list at once
// lose none.
func TestConcurrentAdds(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			es := allow.New(open(t))
			var wg sync.WaitGroup
			for i := range 10 {
				wg.Go(func() {
					_, err := es.Add(t.Context(), allow.Entry{Scope: allow.ScopeUnit, Target: "fz-edu", Category: model.CategoryWordingTypo,
						Rule: string(rune('a' + i)), Reason: "r", By: "b", CreatedAt: t0})
					if err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			list, err := es.List(t.Context())
			if err != nil || len(list) != 10 {
				t.Fatalf("List after 10 concurrent adds: %d entries, %v", len(list), err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	base := allow.Entry{Scope: allow.ScopeUnit, Target: "u", Category: model.CategoryWordingTypo, Rule: "r", Reason: "why"}
	tests := []struct {
		name string
		edit func(*allow.Entry)
		want string
	}{
		{"ok", func(*allow.Entry) {}, ""},
		{"bad scope", func(e *allow.Entry) { e.Scope = "region" }, `scope "region": want one of post, account, unit, everywhere`},
		{"no reason", func(e *allow.Entry) { e.Reason = " " }, "reason"},
		{"whole category for a unit", func(e *allow.Entry) { e.Rule = "" }, "too broad"},
		{"whole category for a post", func(e *allow.Entry) { e.Scope, e.Rule = allow.ScopePost, "" }, ""},
		{"everywhere with a target", func(e *allow.Entry) { e.Scope = allow.ScopeEverywhere }, "names no target"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := base
			tc.edit(&e)
			err := e.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	env := `{"status":"success","data":[{"id":"a","scope":"everywhere","category":"wording.typo","rule":"再接再励","reason":"x","by":"y","created_at":"2026-11-26T02:00:00Z"}]}`
	for _, in := range []string{env, `[{"id":"a","scope":"everywhere","category":"wording.typo","rule":"再接再励","reason":"x","by":"y"}]`} {
		es, err := allow.Read(strings.NewReader(in))
		if err != nil || len(es) != 1 || es[0].Rule != "再接再励" {
			t.Errorf("Read(%s): %+v, %v", in, es, err)
		}
	}
	_, err := allow.Read(strings.NewReader(`[{"id":"b","scope":"everywhere","category":"wording.typo","reason":"x"}]`))
	if err == nil || !strings.Contains(err.Error(), `entry 1 (id "b")`) || !strings.Contains(err.Error(), "too broad") {
		t.Errorf("Read of a too broad entry: %v", err)
	}
	if _, err := allow.Read(strings.NewReader(`{"alerts": []}`)); err == nil {
		t.Error("Read of an object without data: no error")
	}
}
