package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/simulate"
)

func simulateCmd(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch simulate", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	scenario := fs.String("scenario", "configs/scenarios/demo.yaml", "scenario file")
	listen := fs.String("listen", "127.0.0.1:8090", "HTTP listen address")
	generate := fs.Int("generate", 0, "serve this many generated quiet accounts instead of a scenario")
	seed := fs.Uint64("seed", 1, "seed of the generated accounts")
	registryOut := fs.String("registry-out", "", "with -generate: write the registry file of the generated accounts here")
	anchor := fs.String("anchor", "", `with -generate: when the newest posts were published, "now" or RFC 3339 (default: a fixed day in 2026, months ago)`)
	silentEvery := fs.Int("silent-every", 0, "with -generate: every n-th account fell silent 20 days before -anchor")
	leakEvery := fs.Int("leak-every", 0, "with -generate: every n-th account's newest post leaks a mobile and an ID number")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	var in simulate.GeneratedIncidents
	switch *anchor {
	case "":
	case "now":
		in.Anchor = time.Now().Truncate(time.Minute)
	default:
		t, err := time.Parse(time.RFC3339, *anchor)
		if err != nil {
			fmt.Fprintf(io.Stderr, "govwatch simulate: -anchor %q: want now or RFC 3339 (2026-12-04T08:00:00+08:00)\n", *anchor)
			return ExitUsage
		}
		in.Anchor = t
	}
	if *silentEvery < 0 || *leakEvery < 0 {
		fmt.Fprintln(io.Stderr, "govwatch simulate: -silent-every and -leak-every must not be negative")
		return ExitUsage
	}
	in.SilentEvery, in.LeakEvery = *silentEvery, *leakEvery
	log, _ := zap.NewDevelopment()
	if *generate > 0 {
		g := simulate.NewGenerated(*generate, *seed)
		g.SetIncidents(in)
		ready := func(addr string) {}
		if *registryOut != "" {
			f, err := os.Create(*registryOut)
			if err != nil {
				fmt.Fprintln(io.Stderr, err)
				return ExitProblem
			}
			var werr error
			ready = func(addr string) {
				werr = g.WriteRegistry(f, "http://"+addr)
				if cerr := f.Close(); werr == nil {
					werr = cerr
				}
				if werr != nil {
					fmt.Fprintln(io.Stderr, werr)
				} else {
					log.Info("registry written", zap.String("file", *registryOut))
				}
			}
		}
		if err := simulate.RunGenerated(ctx, *listen, g, log, ready); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		return ExitOK
	}
	if *registryOut != "" || *anchor != "" || *silentEvery != 0 || *leakEvery != 0 {
		fmt.Fprintln(io.Stderr, "govwatch simulate: -registry-out, -anchor, -silent-every and -leak-every need -generate")
		return ExitUsage
	}
	sc, err := simulate.LoadScenario(*scenario)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	if err := simulate.Run(ctx, *listen, sc, log); err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	return ExitOK
}
