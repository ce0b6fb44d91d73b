// Package pace decides when an account is polled next: its tier's interval,
// adapted to how often the account posts, and exponential backoff after
// failed polls. The decision is kept per account in the store (Record), so
// every collector replica, and a replica taking over after another died,
// continues from the same history.
package pace

import (
	"encoding/json"
	"math"
	"time"
)

// Tier is an account's poll interval and the bounds adaptation keeps it in.
// Min is also the account's slot grid: every interval chosen is a whole
// multiple of Min, so replicas agree on the slots.
type Tier struct {
	Interval time.Duration
	Min      time.Duration
	Max      time.Duration
}

// NewTier returns interval with the bounds interval/faster and
// interval×slower (1 and 1: a fixed interval).
func NewTier(interval time.Duration, faster, slower int) Tier {
	if faster < 1 {
		faster = 1
	}
	if slower < 1 {
		slower = 1
	}
	return Tier{Interval: interval, Min: interval / time.Duration(faster), Max: interval * time.Duration(slower)}
}

// Fixed is a tier that does not adapt.
func Fixed(interval time.Duration) Tier {
	return Tier{Interval: interval, Min: interval, Max: interval}
}

// Backoff is the wait after failed polls: Initial after the first, doubling,
// at most Max.
type Backoff struct {
	Initial time.Duration
	Max     time.Duration
}

// Delay is the wait after the given number of failures in a row (≥ 1).
func (b Backoff) Delay(failures int) time.Duration {
	if failures < 1 {
		return 0
	}
	d := b.Initial
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// Window is how far back the post rate looks: posts older than about a day
// weigh little.
const Window = 24 * time.Hour

// PollsPerPost is how many polls an adaptive account gets between two of
// its posts on average, before the tier's bounds apply: an account posting
// every hour is polled every 10 minutes.
const PollsPerPost = 6

// minSamples is how many successful polls a rate needs before it moves the
// interval; until then the tier's interval holds.
const minSamples = 3

// Record is what the store keeps per account. Times are Unix nanoseconds so
// that the JSON stays small and exact.
type Record struct {
	// NextAt is the earliest time of the next poll (interval or backoff).
	NextAt int64 `json:"next,omitempty"`
	// Failures is the number of failed polls in a row; FirstFailure is when
	// the first of them happened (the source_down alert's startsAt) and
	// Alerted whether source_down was raised for them.
	Failures     int    `json:"fail,omitempty"`
	FirstFailure int64  `json:"first_fail,omitempty"`
	LastError    string `json:"err,omitempty"`
	Alerted      bool   `json:"alerted,omitempty"`
	// Posts is the count of new posts, decayed with Window, as of LastPoll;
	// Since is when counting started; Samples counts successful polls.
	Posts    float64 `json:"posts,omitempty"`
	LastPoll int64   `json:"last,omitempty"`
	Since    int64   `json:"since,omitempty"`
	Samples  int     `json:"n,omitempty"`
}

// Decode reads a stored record; nil or garbage is a fresh record, so a
// damaged key costs an account its history, never its polling.
func Decode(b []byte) Record {
	var r Record
	if len(b) > 0 && json.Unmarshal(b, &r) != nil {
		return Record{}
	}
	return r
}

// Encode is the stored form of r.
func (r *Record) Encode() []byte {
	b, _ := json.Marshal(r) // a struct of numbers and a string cannot fail
	return b
}

// Due reports whether a poll of the slot at due may go ahead.
func (r *Record) Due(due time.Time) bool { return r.NextAt <= due.UnixNano() }

// Rate is the account's recent posts per hour, or -1 before enough polls.
func (r *Record) Rate() float64 {
	if r.Samples < minSamples || r.LastPoll <= r.Since {
		return -1
	}
	// Posts decays with Window, so it is compared with the decayed length
	// of time it covers: a steady rate reads true from the first hours on.
	span := time.Duration(r.LastPoll - r.Since).Hours()
	w := Window.Hours()
	return r.Posts / (w * (1 - math.Exp(-span/w)))
}

// Adapted is the adapted interval of an account of tier t with record r: an
// interval that gives about PollsPerPost polls between two posts, within
// [t.Min, t.Max], rounded down to a multiple of t.Min.
func (t Tier) Adapted(r *Record) time.Duration {
	iv := t.Interval
	if rate := r.Rate(); rate >= 0 && t.Min < t.Max {
		if rate == 0 {
			iv = t.Max
		} else {
			iv = time.Duration(float64(time.Hour) / (rate * PollsPerPost))
		}
	}
	iv = max(min(iv, t.Max), t.Min)
	if t.Min > 0 {
		iv = iv / t.Min * t.Min
	}
	return iv
}

// Success records a good poll of the slot at due, made at now, that found
// newPosts new posts; the next poll is one adapted interval after due. The
// first poll of an account starts the count without adding to it: all its
// feed is new then.
func (r *Record) Success(t Tier, due, now time.Time, newPosts int) {
	n := now.UnixNano()
	if r.LastPoll == 0 || r.Since == 0 {
		r.Since, r.Posts = n, 0
	} else {
		dt := time.Duration(n - r.LastPoll)
		r.Posts = r.Posts*math.Exp(-dt.Hours()/Window.Hours()) + float64(newPosts)
		r.Samples++
	}
	r.LastPoll = n
	r.Failures, r.FirstFailure, r.LastError, r.Alerted = 0, 0, "", false
	r.NextAt = due.Add(t.Adapted(r)).UnixNano()
}

// Failure records a failed poll of the slot at due, made at now. A retryable
// failure waits b.Delay(failures); a permanent one (the source answers but
// what it says cannot be used) waits b.Max straight away. Never sooner than
// one interval of the tier.
func (r *Record) Failure(t Tier, b Backoff, due, now time.Time, permanent bool, err error) {
	r.Failures++
	if r.FirstFailure == 0 {
		r.FirstFailure = now.UnixNano()
	}
	if err != nil {
		r.LastError = truncate(err.Error(), 300)
	}
	wait := b.Delay(r.Failures)
	if permanent {
		wait = b.Max
	}
	r.NextAt = due.Add(max(wait, t.Min)).UnixNano()
}

// Down reports whether the account has failed threshold times in a row.
func (r *Record) Down(threshold int) bool { return threshold > 0 && r.Failures >= threshold }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}
