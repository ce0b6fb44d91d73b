// Package schedule spreads per-account polls over their intervals the way
// Prometheus spreads scrapes: each account gets a fixed phase inside its
// interval from a hash of its id, plus a little jitter, and one loop over a
// heap of next-due times hands due polls to a bounded pool of workers. There
// is no timer or cron entry per account, so 300,000 accounts cost one heap.
package schedule

import (
	"container/heap"
	"context"
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Task is one recurring job.
type Task struct {
	Key      string
	Interval time.Duration
}

// Func runs one due task. due is when it was meant to start. It returns the
// earliest time the task should run again; the scheduler picks the first
// slot on the task's phase at or after it (zero: the next slot). A task that
// backs off or slows down says so here, at no cost to the other tasks.
type Func func(ctx context.Context, key string, due time.Time) (notBefore time.Time)

// Options tune a Scheduler.
type Options struct {
	Workers int             // concurrent runs; default 8
	Jitter  time.Duration   // at most this much random delay added to each run; default 0
	Clock   clockwork.Clock // default the real clock
	// Lag, when set, is told how late each run started (start − due).
	Lag func(time.Duration)
	// Skipped, when set, is told of runs dropped because the task's previous
	// run was still going when it came due again.
	Skipped func(key string)
	// Pace, when above 0, caps how fast runs start: at most Pace times the
	// tasks' mean rate (the sum of 1/Interval, at least one run a second),
	// with a burst of 100 ms of that rate or 16 runs, whichever is more. The phases already spread runs
	// evenly; the cap matters when the loop falls behind (the process got
	// no CPU, a long garbage collection, workers all busy) and would
	// otherwise start every overdue run at once, a burst the upstream hosts
	// feel. Overdue runs then catch up at Pace − 1 times the mean rate.
	Pace float64
}

// Scheduler runs a fixed set of tasks forever.
type Scheduler struct {
	o Options

	mu      sync.Mutex
	running map[string]bool // tasks handed to a worker and not yet returned
}

// New returns a scheduler with defaults filled in.
func New(o Options) *Scheduler {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	return &Scheduler{o: o, running: map[string]bool{}}
}

// Phase is the offset of key inside interval: fnv64a(key) mod interval.
func Phase(key string, interval time.Duration) time.Duration {
	if interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(h.Sum64() % uint64(interval))
}

// NextDue returns the first time at or after now that lies on key's phase
// inside its interval, counted from the Unix epoch, so every replica and every
// restart agrees on it.
func NextDue(key string, interval time.Duration, now time.Time) time.Time {
	if interval <= 0 {
		return now
	}
	phase := Phase(key, interval)
	base := now.Truncate(interval)
	due := base.Add(phase)
	if due.Before(now) {
		due = due.Add(interval)
	}
	return due
}

type entry struct {
	task Task
	due  time.Time
	at   time.Time // due plus jitter
}

type dueHeap []*entry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(*entry)) }
func (h *dueHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Run schedules tasks until ctx is done, then waits for running tasks to
// return. A task is never run twice at once: a run that comes due while the
// previous one is still going is skipped.
func (s *Scheduler) Run(ctx context.Context, tasks []Task, run Func) {
	clock := s.o.Clock
	now := clock.Now()
	h := make(dueHeap, 0, len(tasks))
	for _, t := range tasks {
		due := NextDue(t.Key, t.Interval, now)
		h = append(h, &entry{task: t, due: due, at: s.jittered(due)})
	}
	heap.Init(&h)
	g := s.gate(tasks)

	type job struct {
		key string
		due time.Time
	}
	jobs := make(chan job)
	// notBefore of finished runs, read by the loop when it reschedules; a
	// map rather than a channel so workers never wait on the loop.
	after := map[string]time.Time{}
	var wg sync.WaitGroup
	for range s.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if s.o.Lag != nil {
					s.o.Lag(clock.Since(j.due))
				}
				nb := run(ctx, j.key, j.due)
				s.mu.Lock()
				delete(s.running, j.key)
				if !nb.IsZero() {
					after[j.key] = nb
				}
				s.mu.Unlock()
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
	}()

	for len(h) > 0 {
		next := h[0]
		now := clock.Now()
		wait := next.at.Sub(now)
		if g != nil {
			wait = max(wait, g.wait(now))
		}
		if wait > 0 {
			t := clock.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.Chan():
			}
		}
		e := heap.Pop(&h).(*entry)
		s.mu.Lock()
		busy := s.running[e.task.Key]
		nb, held := after[e.task.Key]
		if !busy && held {
			delete(after, e.task.Key)
		}
		if !busy && held && nb.After(e.due) {
			// The last run asked to wait longer: move to the first slot
			// at or after that time without running now.
			s.mu.Unlock()
			e.due = NextDue(e.task.Key, e.task.Interval, nb)
			e.at = s.jittered(e.due)
			heap.Push(&h, e)
			continue
		}
		if !busy {
			s.running[e.task.Key] = true
		}
		s.mu.Unlock()
		if busy {
			if s.o.Skipped != nil {
				s.o.Skipped(e.task.Key)
			}
		} else {
			if g != nil {
				g.take(clock.Now())
			}
			select {
			case jobs <- job{key: e.task.Key, due: e.due}:
			case <-ctx.Done():
				return
			}
		}
		if e.task.Interval <= 0 {
			continue // one-shot
		}
		// The next slot after now: a scheduler that fell behind catches up
		// by skipping slots, not by running a burst of stale polls. A run
		// still going is rescheduled when its slot comes up, with the
		// notBefore it has left by then.
		e.due = NextDue(e.task.Key, e.task.Interval, clock.Now().Add(time.Nanosecond))
		e.at = s.jittered(e.due)
		heap.Push(&h, e)
	}
}

// gate spaces run starts (a GCRA token bucket); nil when Pace is off.
type gate struct {
	spacing time.Duration // between two starts at the capped rate
	burst   time.Duration // how far ahead of the rate starts may run
	tat     time.Time     // theoretical arrival time of the next start
}

// minBurst is the least burst of a paced scheduler: small deployments keep
// starting what is due together.
const minBurst = 16

func (s *Scheduler) gate(tasks []Task) *gate {
	if s.o.Pace <= 0 {
		return nil
	}
	var mean float64 // runs per second
	for _, t := range tasks {
		if t.Interval > 0 {
			mean += 1 / t.Interval.Seconds()
		}
	}
	rate := max(s.o.Pace*mean, 1)
	tokens := max(minBurst, int(rate*0.1))
	spacing := time.Duration(float64(time.Second) / rate)
	return &gate{spacing: spacing, burst: time.Duration(tokens-1) * spacing}
}

// wait is how long until a run may start at now.
func (g *gate) wait(now time.Time) time.Duration { return g.tat.Add(-g.burst).Sub(now) }

// take counts a start at now.
func (g *gate) take(now time.Time) {
	if g.tat.Before(now) {
		g.tat = now
	}
	g.tat = g.tat.Add(g.spacing)
}

// InFlight returns the number of runs handed to workers and not yet returned.
func (s *Scheduler) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.running)
}

func (s *Scheduler) jittered(due time.Time) time.Time {
	if s.o.Jitter <= 0 {
		return due
	}
	return due.Add(time.Duration(rand.Int64N(int64(s.o.Jitter))))
}
