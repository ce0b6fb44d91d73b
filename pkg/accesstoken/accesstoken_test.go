package accesstoken

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/store/embedded"
)

var errBusy = errors.New("busy")

// platform hands out a new token valid two hours on every fetch.
type platform struct{ fetches int }

func (p *platform) fetch(context.Context) (string, time.Duration, error) {
	p.fetches++
	return "TOKEN_" + strconv.Itoa(p.fetches), 2 * time.Hour, nil
}

func TestGet(t *testing.T) {
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "in memory", true: "in the store"}[shared], func(t *testing.T) {
			ctx := context.Background()
			clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 26, 8, 5, 0, 0, time.UTC))
			p := &platform{}
			c := &Cache{Key: "t/app", LeaseKey: "t/app/lease", Clock: clock, Fetch: p.fetch, Busy: func() error { return errBusy }}
			var st *embedded.Store
			if shared {
				var err error
				st, err = embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				c.Store = st
			}
			steps := []struct {
				name    string
				advance time.Duration
				stale   string
				want    string
				fetches int
			}{
				{name: "first use fetches", want: "TOKEN_1", fetches: 1},
				{name: "valid token is reused", advance: time.Hour, want: "TOKEN_1", fetches: 1},
				{name: "refreshed before it expires", advance: time.Hour - RefreshBefore + time.Second, want: "TOKEN_2", fetches: 2},
				{name: "a refused token is dropped", stale: "TOKEN_2", want: "TOKEN_3", fetches: 3},
				{name: "an old refusal keeps the new token", stale: "TOKEN_2", want: "TOKEN_3", fetches: 3},
			}
			for _, s := range steps {
				clock.Advance(s.advance)
				got, err := c.Get(ctx, s.stale)
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got != s.want || p.fetches != s.fetches {
					t.Errorf("%s: got %s after %d fetches, want %s after %d", s.name, got, p.fetches, s.want, s.fetches)
				}
			}
			if !shared {
				return
			}
			// Another replica holds the lease: the current token serves
			// until it runs out, then Get is busy.
			clock.Advance(2*time.Hour - RefreshBefore)
			if ok, err := st.SetNX(ctx, c.LeaseKey, []byte("other"), time.Hour); !ok || err != nil {
				t.Fatalf("take the lease: %v %v", ok, err)
			}
			if got, err := c.Get(ctx, ""); got != "TOKEN_3" || err != nil {
				t.Errorf("near expiry while another refreshes: got %q, %v, want TOKEN_3", got, err)
			}
			clock.Advance(RefreshBefore)
			if _, err := c.Get(ctx, ""); !errors.Is(err, errBusy) {
				t.Errorf("expired while another refreshes: got %v, want Busy()", err)
			}
			if p.fetches != 3 {
				t.Errorf("got %d fetches, want 3: the lease holder fetches", p.fetches)
			}
		})
	}
}
