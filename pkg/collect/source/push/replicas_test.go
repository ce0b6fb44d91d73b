package push

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestReplicasShareRateAndReplays runs two handlers, as two collector
// replicas, on one real Redis: the per-key rate and the replay check hold
// across them.
func TestReplicasShareRateAndReplays(t *testing.T) {
	addr := redistest.Start(t)
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := clockwork.NewFakeClockAt(now)
	var replicas []*rig
	for range 2 {
		r := &rig{clock: clock, got: &ingested{}}
		r.h, err = New(Options{Keys: []Key{{ID: "crawler-1", Secret: []byte("s3cret-one")}}, Registry: testRegistry(t),
			Ingester: r.got, Store: st, RatePerMinute: 2, Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, r)
	}
	a, b := replicas[0], replicas[1]
	body := batch(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	if code, ans := a.do(t, req{timestamp: ts, body: body}); code != http.StatusOK {
		t.Fatalf("replica a: got %d %+v, want 200", code, ans)
	}
	if code, ans := b.do(t, req{timestamp: ts, body: body}); code != http.StatusConflict {
		t.Errorf("replica b, the same request replayed: got %d %+v, want 409", code, ans)
	}
	clock.Advance(time.Second)
	if code, ans := b.do(t, req{body: body}); code != http.StatusOK {
		t.Errorf("replica b, a fresh request: got %d %+v, want 200", code, ans)
	}
	clock.Advance(time.Second)
	code, ans := a.do(t, req{body: body})
	if code != http.StatusTooManyRequests || !strings.Contains(ans.Error, "2 requests per minute") {
		t.Errorf("replica a, the third request of the minute: got %d %+v, want 429", code, ans)
	}
	if got := a.got.count() + b.got.count(); got != 6 {
		t.Errorf("got %d posts ingested across replicas, want 6", got)
	}
}
