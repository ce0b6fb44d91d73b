package detecttest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/govwatch/govwatch/pkg/analyze/detect"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
	"github.com/govwatch/govwatch/pkg/store/redis/redistest"
)

// Opener opens the store a replay runs over; close releases it.
type Opener func(clock clockwork.Clock) (st detect.Store, close func() error, err error)

// EmbeddedAt opens the embedded store file at path, the same file on every
// call, so a restart finds what was written before it.
func EmbeddedAt(path string) Opener {
	return func(clock clockwork.Clock) (detect.Store, func() error, error) {
		st, err := embedded.Open(path, embedded.WithClock(clock))
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
}

// RedisAt opens a Redis store at addr whose keys live under prefix.
func RedisAt(addr, prefix string) Opener {
	return func(clockwork.Clock) (detect.Store, func() error, error) {
		st, err := redis.Open(context.Background(), redis.Options{Addrs: []string{addr}, Prefix: prefix})
		if err != nil {
			return nil, nil, err
		}
		return st, st.Close, nil
	}
}

// Replay feeds c's events as Drive does, over the store open returns, and
// restarts every `every` events (never when every ≤ 0): it closes the
// store, opens it again and builds a fresh detector, as an analyzer killed
// and started again would. A detector that keeps its state in the store
// publishes the same as under Drive.
func Replay(t *testing.T, c *Case, build Build, open Opener, every int) []Published {
	t.Helper()
	clock := clockwork.NewFakeClockAt(c.Config.Start)
	rec := &Recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	env := &detect.Env{Registry: c.Registry, Publisher: rec, Now: clock.Now, GeneratorURL: "http://analyzer.test"}
	var (
		close func() error
		d     any
	)
	start := func() {
		var err error
		if env.Store, close, err = open(clock); err != nil {
			t.Fatal(err)
		}
		d = build(c)
	}
	start()
	defer func() { close() }()
	var out []Published
	for i, ev := range c.Events {
		if every > 0 && i > 0 && i%every == 0 {
			if err := close(); err != nil {
				t.Fatal(err)
			}
			start()
		}
		clock.Advance(ev.At.Sub(clock.Now()))
		if err := step(ctx, env, d, ev); err != nil {
			t.Fatalf("event %d (%s): %v", i+1, ev.At.Format(time.RFC3339), err)
		}
		batch := rec.Take()
		sortAlerts(batch)
		for _, a := range batch {
			out = append(out, Published{At: ev.At, Alert: a})
		}
	}
	return out
}

// RunDurable checks, for every case under dir, that the detector's outcome
// does not depend on the store it keeps its state in nor on restarts: the
// case replayed over an embedded file reopened (with a fresh detector)
// every few events, and over a real redis-server, publishes exactly what
// Drive does. The Redis half is skipped when redis-server is not installed.
func RunDurable(t *testing.T, dir string, build Build) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	addr, haveRedis := redistest.Optional(t)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, err := Load(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want := Encode(Drive(t, c, build(c)))
		t.Run(e.Name()+"/restarts", func(t *testing.T) {
			got := Encode(Replay(t, c, build, EmbeddedAt(filepath.Join(t.TempDir(), "state.db")), 3))
			if d := diffLines(want, got); d != "" {
				t.Errorf("restarting every 3 events changed the outcome (-straight +restarted):\n%s", d)
			}
		})
		t.Run(e.Name()+"/redis", func(t *testing.T) {
			if !haveRedis {
				t.Skip(redistest.ErrNoServer)
			}
			got := Encode(Replay(t, c, build, RedisAt(addr, "test:"+e.Name()+":"), 5))
			if d := diffLines(want, got); d != "" {
				t.Errorf("Redis changed the outcome (-embedded +redis):\n%s", d)
			}
		})
	}
}

// RunReplicas checks, for every case under dir, that two replicas given
// every event at the same moment (as when a message is redelivered to a
// second analyzer while the first still works on it) raise the same alerts
// as one detector alone, once the bus has dropped repeats: the same
// fingerprints, starts and resolutions, event by event.
func RunReplicas(t *testing.T, dir string, build Build) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		t.Run(e.Name(), func(t *testing.T) {
			c, err := Load(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			want := identities(Drive(t, c, build(c)))
			clock := clockwork.NewFakeClockAt(c.Config.Start)
			st, err := embedded.Open(filepath.Join(t.TempDir(), "state.db"), embedded.WithClock(clock))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			replicas := []any{build(c), build(c)}
			rec := &Recorder{}
			env := &detect.Env{Registry: c.Registry, Store: st, Publisher: rec, Now: clock.Now}
			ctx := context.Background()
			var got []Published
			for i, ev := range c.Events {
				clock.Advance(ev.At.Sub(clock.Now()))
				if ev.Registry != nil {
					// The replicas share env: the new registry is set once.
					if err := step(ctx, env, nil, ev); err != nil {
						t.Fatalf("event %d: %v", i+1, err)
					}
					continue
				}
				errs := make(chan error, len(replicas))
				for _, d := range replicas {
					go func() { errs <- step(ctx, env, d, ev) }()
				}
				for range replicas {
					if err := <-errs; err != nil {
						t.Fatalf("event %d: %v", i+1, err)
					}
				}
				batch := rec.Take()
				sortAlerts(batch)
				for _, a := range batch {
					got = append(got, Published{At: ev.At, Alert: a})
				}
			}
			if d := diffLines(want, identities(got)); d != "" {
				t.Errorf("two replicas raised different alerts (-one +two):\n%s", d)
			}
		})
	}
}

// identities lists what the bus keeps of published alerts: each distinct
// (fingerprint, start, state) once, with the event that first sent it.
func identities(ps []Published) string {
	seen := map[string]bool{}
	var b []string
	for _, p := range ps {
		state := "firing"
		if !p.Alert.EndsAt.IsZero() {
			state = "resolved@" + p.Alert.EndsAt.UTC().Format(time.RFC3339)
		}
		id := p.Alert.Labels.Fingerprint() + " " + p.Alert.Name() + " " + p.Alert.StartsAt.UTC().Format(time.RFC3339) + " " + state
		if !seen[id] {
			seen[id] = true
			b = append(b, p.At.UTC().Format(time.RFC3339)+" "+id)
		}
	}
	return strings.Join(b, "\n")
}

// RunSuite is what a detector's tests run: the golden cases as they are
// (RunAll), with restarts and over Redis (RunDurable), and with two replicas
// per event (RunReplicas), as subtests. It returns what RunAll returns, for
// extra checks.
func RunSuite(t *testing.T, dir string, build Build) map[string][]Published {
	var got map[string][]Published
	t.Run("golden", func(t *testing.T) { got = RunAll(t, dir, build) })
	t.Run("durable", func(t *testing.T) { RunDurable(t, dir, build) })
	t.Run("replicas", func(t *testing.T) { RunReplicas(t, dir, build) })
	return got
}

// Conformance is what every detector's tests run, as subtests: its golden
// cases in testcases/ (RunSuite), with the detector build makes, and the
// README's sample held to the code of the detector name (ReadmeSample). It
// returns what RunSuite returns, for extra checks.
func Conformance(t *testing.T, name string, build Build) map[string][]Published {
	t.Helper()
	got := RunSuite(t, "testcases", build)
	t.Run("readme", func(t *testing.T) { ReadmeSample(t, name) })
	return got
}
