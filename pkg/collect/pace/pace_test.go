package pace

import (
	"errors"
	"testing"
	"time"
)

func TestBackoffDelayDoublesUpToMax(t *testing.T) {
	b := Backoff{Initial: time.Minute, Max: 10 * time.Minute}
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {4, 8 * time.Minute}, {5, 10 * time.Minute}, {60, 10 * time.Minute}} {
		if got := b.Delay(tc.failures); got != tc.want {
			t.Errorf("Delay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
}

func TestAdaptedIntervalFollowsPostRateWithinBounds(t *testing.T) {
	tier := NewTier(10*time.Minute, 2, 4) // [5m, 40m]
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		postsPer time.Duration // one new post every …; 0 = none
		polls    int
		want     time.Duration
	}{
		{"too few polls to judge", time.Hour, 2, 10 * time.Minute},
		{"quiet account slows to max", 0, 30, 40 * time.Minute},
		{"busy account speeds up to min", 5 * time.Minute, 60, 5 * time.Minute},
		{"an hourly poster gets about 10m", time.Hour, 200, 10 * time.Minute},
		{"every 3h: 30m", 3 * time.Hour, 200, 30 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Record
			now := t0
			step := 5 * time.Minute
			var since time.Duration
			for i := range tc.polls {
				n := 0
				if tc.postsPer > 0 && i > 0 {
					since += step
					for since >= tc.postsPer {
						n++
						since -= tc.postsPer
					}
				}
				r.Success(tier, now, now, n)
				now = now.Add(step)
			}
			if got := tier.Adapted(&r); got != tc.want {
				t.Errorf("interval = %v (rate %.2f/h), want %v", got, r.Rate(), tc.want)
			}
			if got := tier.Adapted(&r); got%tier.Min != 0 {
				t.Errorf("interval %v is not a multiple of the slot grid %v", got, tier.Min)
			}
		})
	}
}

func TestFailureBacksOffAndSuccessClears(t *testing.T) {
	tier := Fixed(time.Minute)
	b := Backoff{Initial: 2 * time.Minute, Max: time.Hour}
	t0 := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var r Record
	now := t0
	var waits []time.Duration
	for range 8 {
		r.Failure(tier, b, now, now.Add(time.Second), false, errors.New("status 503"))
		next := time.Unix(0, r.NextAt)
		waits = append(waits, next.Sub(now))
		if r.Due(now) {
			t.Fatal("a slot before the backoff ended counts as due")
		}
		now = next
	}
	want := []time.Duration{2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait after failure %d = %v, want %v", i+1, waits[i], want[i])
		}
	}
	if got, want := time.Unix(0, r.FirstFailure), t0.Add(time.Second); !got.Equal(want) {
		t.Errorf("first failure %v, want %v (kept across failures)", got, want)
	}
	if !r.Down(5) || r.Down(9) {
		t.Errorf("Down after %d failures: threshold 5 %v, 9 %v; want true, false", r.Failures, r.Down(5), r.Down(9))
	}

	var p Record
	p.Failure(tier, b, t0, t0, true, errors.New("parse: not a feed"))
	if got := time.Unix(0, p.NextAt).Sub(t0); got != time.Hour {
		t.Errorf("a permanent failure waits %v, want the max backoff %v", got, time.Hour)
	}

	r.Success(tier, now, now, 0)
	if r.Failures != 0 || r.FirstFailure != 0 || r.LastError != "" {
		t.Errorf("after a success the record still holds failures: %+v", r)
	}
	if got := time.Unix(0, r.NextAt).Sub(now); got != time.Minute {
		t.Errorf("after a success the next poll is in %v, want the interval %v", got, time.Minute)
	}
}

func TestDecodeSurvivesGarbage(t *testing.T) {
	r := Record{NextAt: 42, Failures: 3, LastError: "x"}
	for _, tc := range []struct {
		name string
		in   []byte
		want Record
	}{{"absent", nil, Record{}}, {"garbage", []byte("{not json"), Record{}}, {"round trip", r.Encode(), r}} {
		if got := Decode(tc.in); got != tc.want {
			t.Errorf("%s: Decode = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
