//go:build !unix

package staleness

import "time"

// cpuTime is not measured here.
func cpuTime() time.Duration { return 0 }
