package cli

import (
	"context"
	"flag"
	"fmt"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/daemon"
)

const notifyUsage = "usage: govwatch notify test [-config FILE] --receiver NAME\n"

// notifyCmd sends a test message through a configured receiver.
func notifyCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(io.Stderr, notifyUsage)
		return ExitUsage
	}
	fs := flag.NewFlagSet("govwatch notify test", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	cfgPath := fs.String("config", "configs/govwatch.yaml", "config file")
	receiver := fs.String("receiver", "", "receiver to send through")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	if *receiver == "" {
		fmt.Fprint(io.Stderr, "govwatch notify test: --receiver is required\n"+notifyUsage)
		return ExitUsage
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	if err := daemon.NotifyTest(ctx, cfg, *receiver, io.Stdout, zap.NewNop()); err != nil {
		fmt.Fprintln(io.Stderr, "notify test:", err)
		return ExitProblem
	}
	fmt.Fprintf(io.Stderr, "test message sent through %s\n", *receiver)
	return ExitOK
}
