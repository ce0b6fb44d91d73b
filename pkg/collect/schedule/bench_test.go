package schedule

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

const benchAccounts = 300_000

func benchTasks() []Task {
	tasks := make([]Task, benchAccounts)
	for i := range tasks {
		tasks[i] = Task{Key: fmt.Sprintf("account-%06d", i), Interval: 10 * time.Minute}
	}
	return tasks
}

// BenchmarkSchedulerMemory reports the scheduler's heap per account, keys
// excluded (the registry holds them anyway).
func BenchmarkSchedulerMemory(b *testing.B) {
	tasks := benchTasks()
	for range b.N {
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithCancel(context.Background())
		s := New(Options{Workers: 8, Clock: clock, Jitter: time.Second})
		done := make(chan struct{})
		go func() {
			s.Run(ctx, tasks, func(context.Context, string, time.Time) time.Time { return time.Time{} })
			close(done)
		}()
		if err := clock.BlockUntilContext(ctx, 1); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchAccounts, "B/account")
		cancel()
		<-done
	}
}

// BenchmarkSchedulerDispatch is the scheduler's CPU per due run: each
// iteration makes all 300,000 tasks due at once (one interval of virtual
// time) and waits until every one was handed to a worker and returned.
func BenchmarkSchedulerDispatch(b *testing.B) {
	tasks := benchTasks()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int64
	// No jitter: one interval of virtual time then holds exactly one run
	// of every task.
	s := New(Options{Workers: 8, Clock: clock})
	done := make(chan struct{})
	go func() {
		s.Run(ctx, tasks, func(context.Context, string, time.Time) time.Time { runs.Add(1); return time.Time{} })
		close(done)
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime(b)
	b.ResetTimer()
	for i := range b.N {
		clock.Advance(10 * time.Minute)
		for runs.Load() < int64(i+1)*benchAccounts {
			runtime.Gosched()
		}
	}
	b.StopTimer()
	// CPU rather than wall time: on a shared machine the wall clock counts
	// other people's work too.
	b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N*benchAccounts), "cpu-ns/run")
	cancel()
	<-done
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
