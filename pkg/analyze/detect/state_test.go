package detect_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/store"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

type counter struct {
	N    int   `json:"n"`
	Seen []int `json:"seen"`
}

// TestUpdateUnderContention has many writers add to one record at once on
// both backends: compare-and-swap must lose none of them.
func TestUpdateUnderContention(t *testing.T) {
	ctx := context.Background()
	emb, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	stores := map[string]detect.Store{"embedded": emb}
	if addr, ok := redistest.Optional(t); ok {
		rs, err := redis.Open(ctx, redis.Options{Addrs: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		stores["redis"] = rs
	}
	for name, st := range stores {
		t.Run(name, func(t *testing.T) {
			const writers = 16
			var wg sync.WaitGroup
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := detect.Update(ctx, st, "test/counter", 0, func(c *counter, _ bool) (bool, error) {
						c.N++
						c.Seen = append(c.Seen, i)
						return true, nil
					})
					if err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			var got counter
			found, err := detect.Load(ctx, st, "test/counter", &got)
			if err != nil || !found {
				t.Fatalf("Load = %v, %v", found, err)
			}
			if got.N != writers || len(got.Seen) != writers {
				t.Errorf("after %d concurrent updates: n = %d, seen %d writers, want %d", writers, got.N, len(got.Seen), writers)
			}
		})
	}
}

func TestUpdateWritesNothingWhenAsked(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	v, err := detect.Update(ctx, st, "test/none", 0, func(c *counter, found bool) (bool, error) {
		if found {
			t.Error("found = true for an absent key")
		}
		c.N = 7
		return false, nil
	})
	if err != nil || v.N != 7 {
		t.Errorf("Update = %+v, %v, want the value fn left and no error", v, err)
	}
	if found, err := detect.Load(ctx, st, "test/none", &counter{}); found || err != nil {
		t.Errorf("Load after a no-write update = %v, %v, want absent", found, err)
	}
	boom := errors.New("boom")
	if _, err := detect.Update(ctx, st, "test/none", 0, func(*counter, bool) (bool, error) { return true, boom }); !errors.Is(err, boom) {
		t.Errorf("Update error = %v, want fn's error", err)
	}
}

// The kinds TestScanJSON lists.
var (
	_ = store.DeclareKind("a/", 1)
	_ = store.DeclareKind("b/", 1)
)

// TestScanJSON decodes every record under the prefix, each into a fresh
// value, and stops at one that does not decode, naming its key.
func TestScanJSON(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for k, v := range map[string]string{"a/1": `{"n":1,"seen":[1]}`, "a/2": `{"n":2}`, "b/1": `not json`} {
		if err := st.Set(ctx, k, []byte(v), 0); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]counter{}
	err = detect.ScanJSON(ctx, st, "a/", func(key string, c *counter) error {
		got[key] = *c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a/1"].N != 1 || got["a/2"].N != 2 || got["a/2"].Seen != nil {
		t.Errorf("got %v, want a/1 with n 1 and a/2 with n 2 and nothing seen", got)
	}
	err = detect.ScanJSON(ctx, st, "b/", func(string, *counter) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "b/1") {
		t.Errorf("got error %v, want one naming b/1", err)
	}
}
