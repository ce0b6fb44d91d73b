package cli

import (
	"context"
	"flag"
	"fmt"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/simulate"
)

func simulateCmd(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch simulate", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	scenario := fs.String("scenario", "configs/scenarios/demo.yaml", "scenario file")
	listen := fs.String("listen", "127.0.0.1:8090", "HTTP listen address")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	sc, err := simulate.LoadScenario(*scenario)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	log, _ := zap.NewDevelopment()
	if err := simulate.Run(ctx, *listen, sc, log); err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	return ExitOK
}
