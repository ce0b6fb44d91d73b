package wechat

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/collect/source/sourcetest"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// TestReplicasShareOneToken polls one account from four replicas at once
// over a real Redis: WeChat is asked for a token once.
func TestReplicasShareOneToken(t *testing.T) {
	addr := redistest.Start(t)
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: "test:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	plat := &platform{calls: map[string]int{}}
	ts := httptest.NewServer(plat.handler(t))
	defer ts.Close()
	acc := &registry.Account{ID: "fz-wechat", Platform: "wechat", Source: registry.Source{Type: "wechat",
		Options: &Account{AppID: appID, SecretFile: sourcetest.SecretFile(t, "app-s3cret")}}}
	clock := clockwork.NewFakeClockAt(now)
	// The first replica gets the token; then all poll at once.
	first := &Source{BaseURL: ts.URL, Store: st, Clock: clock}
	if _, err := first.Poll(context.Background(), acc, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &Source{BaseURL: ts.URL, Store: st, Clock: clock}
			if _, err := s.Poll(context.Background(), acc, nil); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := plat.count("/cgi-bin/stable_token"); got != 1 {
		t.Errorf("got %d stable_token calls from five replicas, want 1", got)
	}
}
