package load

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/collect/source/rss"
	"github.com/govwatch/govwatch/pkg/registry"
	"github.com/govwatch/govwatch/pkg/simulate"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

func TestPerSecond(t *testing.T) {
	tests := []struct {
		name   string
		counts []int
		want   Rate
		ratio  float64
	}{
		{"empty", nil, Rate{}, 0},
		{"even", []int{500, 500, 500, 500}, Rate{Seconds: 4, Mean: 500, Max: 500, Min: 500}, 1},
		{"one burst", []int{400, 400, 400, 800}, Rate{Seconds: 4, Mean: 500, Max: 800, Min: 400}, 1.6},
		{"idle", []int{0, 0}, Rate{Seconds: 2}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := PerSecond(tc.counts)
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
			if r := got.MaxOverMean(); r != tc.ratio {
				t.Errorf("max/mean: got %v, want %v", r, tc.ratio)
			}
		})
	}
}

func TestQuantiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[99-i] = i + 1 // 100 … 1: Quantiles sorts
	}
	tests := []struct {
		name string
		lags []time.Duration
		want Lags
	}{
		{"none", nil, Lags{}},
		{"one", ms(7), Lags{P50: 7 * time.Millisecond, P90: 7 * time.Millisecond, P99: 7 * time.Millisecond, Max: 7 * time.Millisecond}},
		{"1 to 100 ms", ms(hundred...), Lags{P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}},
		{"four", ms(40, 10, 30, 20), Lags{P50: 20 * time.Millisecond, P90: 40 * time.Millisecond, P99: 40 * time.Millisecond, Max: 40 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Quantiles(tc.lags); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestBursts(t *testing.T) {
	counts := []int{900, 100, 100, 100, 140, 100}
	stalls := []time.Duration{0, 0, 300 * time.Millisecond, 0, 0, 0}
	// Second 0 is the warm-up: the mean of the rest is 108, and only
	// second 4 (140) is above 1.25 × 108 = 135; the 300 ms stall two
	// seconds before it is reported with it.
	got := Bursts(counts, stalls, 1, 1.25)
	want := []Burst{{Second: 4, Count: 140, Stall: 300 * time.Millisecond}}
	if len(got) != len(want) || got[0] != want[0] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if got := Bursts(counts, stalls, 6, 1.3); got != nil {
		t.Errorf("all seconds skipped: got %+v, want none", got)
	}
}

func TestCPUPercent(t *testing.T) {
	tests := []struct {
		r    Report
		want float64
	}{
		{Report{Ran: 10 * time.Second, CPUUser: 4, CPUSys: 1}, 50},
		{Report{Ran: 2 * time.Second, CPUUser: 3, CPUSys: 1}, 200},
		{Report{}, 0},
	}
	for _, tc := range tests {
		if got := tc.r.CPUPercent(); got != tc.want {
			t.Errorf("%+v: got %v%%, want %v%%", tc.r, got, tc.want)
		}
	}
}

// TestRunPollsTheSimulator runs the real collector for a few seconds
// against generated accounts with Redis as the store.
func TestRunPollsTheSimulator(t *testing.T) {
	g := simulate.NewGenerated(200, 1)
	ts := httptest.NewServer(g.Handler())
	defer ts.Close()
	accts := make([]registry.Account, g.N())
	for i := range accts {
		accts[i] = registry.Account{ID: g.ID(i), Name: g.ID(i), Platform: "weibo", Unit: "u", Status: registry.StatusActive,
			Source: registry.Source{Type: "rss", Options: &rss.Account{URL: ts.URL + g.FeedPath(i)}}}
	}
	reg, probs := registry.New([]registry.Unit{{ID: "u", Name: "单位"}}, accts)
	if probs != nil {
		t.Fatal(probs)
	}
	st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{redistest.Start(t)}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := Run(context.Background(), Options{Registry: reg, Store: st, Interval: 2 * time.Second,
		Duration: 5 * time.Second, Warmup: time.Second, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	fetched, notModified := g.Served()
	if rep.Accounts != 200 || rep.Polls == 0 || rep.Published == 0 || fetched == 0 {
		t.Errorf("got %d accounts, %d polls, %d posts published, %d feeds served; want 200 and some of each",
			rep.Accounts, rep.Polls, rep.Published, fetched)
	}
	if rep.Polls > 200 && notModified == 0 {
		t.Errorf("%d polls of 200 accounts and no 304: the validators were not sent", rep.Polls)
	}
	if rep.Rate.Seconds != 4 && rep.Rate.Seconds != 3 {
		t.Errorf("per-second figures over %d seconds, want the 4 whole seconds after the warm-up", rep.Rate.Seconds)
	}
	var out bytes.Buffer
	rep.Write(&out)
	for _, want := range []string{"200 accounts", "sustained polls/s", "max/mean", "p99", "peak RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
