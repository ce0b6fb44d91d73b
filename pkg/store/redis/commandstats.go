package redis

import (
	"strconv"
	"strings"
)

// CommandCalls reads the number of calls of cmd from INFO commandstats
// output (lines "cmdstat_scan:calls=3,usec=…"): what a test or benchmark
// compares before and after to prove a path sends no SCAN or KEYS.
func CommandCalls(info, cmd string) int64 {
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+strings.ToLower(cmd)+":calls=")
		if !ok {
			continue
		}
		n, _, _ := strings.Cut(rest, ",")
		v, err := strconv.ParseInt(n, 10, 64)
		if err == nil {
			return v
		}
	}
	return 0
}
