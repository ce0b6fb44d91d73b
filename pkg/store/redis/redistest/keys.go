package redistest

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Fill writes n keys named prefix0 … prefix(n-1), each holding "x", in
// pipelines of 1000: the keys of no concern to a component that a test or
// benchmark puts beside its own to show its cost does not grow with them.
func Fill(tb testing.TB, c *goredis.Client, prefix string, n int) {
	tb.Helper()
	ctx := tb.Context()
	for i := 0; i < n; i += 1000 {
		_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for j := i; j < i+1000 && j < n; j++ {
				p.Set(ctx, prefix+strconv.Itoa(j), "x", 0)
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("fill %s: %v", prefix, err)
		}
	}
}

// Commands is the number of commands the server has executed
// (total_commands_processed of INFO stats, the INFO itself included).
func Commands(tb testing.TB, c *goredis.Client) int64 {
	tb.Helper()
	info, err := c.Info(tb.Context(), "stats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				tb.Fatalf("INFO stats: total_commands_processed %q: %v", v, err)
			}
			return n
		}
	}
	tb.Fatal("INFO stats has no total_commands_processed")
	return 0
}

// Short writes a key count the way benchmark names carry it: 50k, 1M.
func Short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprint(n/1_000_000, "M")
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprint(n/1000, "k")
	}
	return fmt.Sprint(n)
}

// PID asks the server behind c for its process id, so a test can stop
// (SIGSTOP) and resume (SIGCONT) it to play an outage.
func PID(tb testing.TB, c *goredis.Client) int {
	tb.Helper()
	info, err := c.Info(tb.Context(), "server").Result()
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				tb.Fatalf("INFO server: process_id %q: %v", v, err)
			}
			return pid
		}
	}
	tb.Fatal("INFO server has no process_id")
	return 0
}

// CommandCalls reads the number of calls of cmd from INFO commandstats
// output (lines "cmdstat_scan:calls=3,usec=…"), 0 when cmd never ran.
func CommandCalls(info, cmd string) int64 {
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+strings.ToLower(cmd)+":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		if v, err := strconv.ParseInt(n, 10, 64); err == nil {
			return v
		}
	}
	return 0
}

// Walks is how many SCAN and KEYS commands the server behind c has
// executed: the commands whose cost grows with the whole keyspace, which a
// test compares before and after a hot path.
func Walks(tb testing.TB, c *goredis.Client) int64 {
	tb.Helper()
	info, err := c.Info(tb.Context(), "commandstats").Result()
	if err != nil {
		tb.Fatal(err)
	}
	return CommandCalls(info, "scan") + CommandCalls(info, "keys")
}

// Stop stops the server behind c (SIGSTOP), as an outage, and returns
// resume (SIGCONT); the test's cleanup resumes it too, so a failing test
// leaves no stopped server behind.
func Stop(tb testing.TB, c *goredis.Client) (resume func()) {
	tb.Helper()
	pid := PID(tb, c)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		tb.Fatal(err)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
				tb.Errorf("resume redis-server %d: %v", pid, err)
			}
		})
	}
	tb.Cleanup(resume)
	return resume
}
