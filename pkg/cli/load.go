package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"github.com/govwatch/govwatch/pkg/collect/load"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/store/embedded"
	"github.com/govwatch/govwatch/pkg/store/redis"
)

func collectorLoadCmd(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch collector-load", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	regFile := fs.String("registry", "", "registry file of the accounts to poll (govwatch simulate -generate N -registry-out FILE)")
	redisAddr := fs.String("redis", "", "Redis address for the store (default: an embedded store in -dir)")
	dir := fs.String("dir", "", "directory of the embedded store when -redis is not given")
	var o load.Options
	fs.DurationVar(&o.Duration, "duration", 0, "how long to run (default 1m)")
	fs.DurationVar(&o.Warmup, "warmup", 0, "first seconds left out of the per-second figures (default 5s)")
	fs.DurationVar(&o.Interval, "interval", 0, "every account's poll interval (default 10m)")
	fs.IntVar(&o.Workers, "workers", 0, "concurrent polls (default 64)")
	fs.IntVar(&o.HostRate, "host-rate", 0, "requests per second to the simulator's host (default 5000)")
	fs.IntVar(&o.HostConcurrency, "host-concurrency", 0, "requests at once to the simulator's host (default 256)")
	fs.BoolVar(&o.SchedulerOnly, "scheduler-only", false, "run the scheduler alone, to measure its own CPU")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if *regFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(io.Stderr, "usage: govwatch collector-load -registry FILE [-redis ADDR | -dir DIR] [-duration 10m] [-scheduler-only]")
		return ExitUsage
	}
	reg, err := config.LoadRegistry(*regFile)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	o.Registry = reg
	if !o.SchedulerOnly {
		switch {
		case *redisAddr != "":
			st, err := redis.Open(ctx, redis.Options{Addrs: []string{*redisAddr}})
			if err != nil {
				fmt.Fprintln(io.Stderr, err)
				return ExitProblem
			}
			defer st.Close()
			o.Store = st
		case *dir != "":
			st, err := embedded.Open(filepath.Join(*dir, "collector-load.db"))
			if err != nil {
				fmt.Fprintln(io.Stderr, err)
				return ExitProblem
			}
			defer st.Close()
			o.Store = st
		default:
			fmt.Fprintln(io.Stderr, "govwatch collector-load: give -redis ADDR or -dir DIR for the store")
			return ExitUsage
		}
	}
	rep, err := load.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	rep.Write(io.Stdout)
	return ExitOK
}
