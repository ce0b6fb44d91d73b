//go:build unix

package staleness

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time (user and system) the process has used, which a
// busy shared machine inflates far less than wall-clock time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
