package cli

import (
	"context"
	"flag"
	"fmt"
	"os"

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
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	log, _ := zap.NewDevelopment()
	if *generate > 0 {
		g := simulate.NewGenerated(*generate, *seed)
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
	if *registryOut != "" {
		fmt.Fprintln(io.Stderr, "govwatch simulate: -registry-out needs -generate")
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
