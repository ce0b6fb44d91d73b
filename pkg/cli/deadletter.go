package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/bus"
	"github.com/govwatch/govwatch/pkg/daemon"
)

// deadletterCmd is `govwatch deadletter list|replay`: the messages no
// handler could process, in GOVWATCH_DEADLETTER, and putting them back on
// their original subjects once the cause is fixed.
func deadletterCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "replay") {
		fmt.Fprintln(io.Stderr, "usage: govwatch deadletter list|replay [-config FILE] [--id N|--all] [--json]")
		return ExitUsage
	}
	sub := args[0]
	fs := flag.NewFlagSet("govwatch deadletter "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	cfgPath := fs.String("config", "configs/govwatch.yaml", "config file naming the NATS servers")
	asJSON := fs.Bool("json", false, "print JSON")
	id := fs.Uint64("id", 0, "replay: the dead letter with this id (see list)")
	all := fs.Bool("all", false, "replay: every dead letter")
	if err := fs.Parse(args[1:]); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "govwatch deadletter %s: unexpected arguments %v\n", sub, fs.Args())
		return ExitUsage
	}
	if sub == "replay" && (*id == 0) == !*all {
		fmt.Fprintln(io.Stderr, "govwatch deadletter replay: give exactly one of --id N or --all")
		return ExitUsage
	}
	cfg, err := loadConfig(ctx, *cfgPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	octx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	b, err := daemon.OpenBus(octx, cfg, zap.NewNop(), "govwatch-deadletter")
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch deadletter: %v\n", err)
		return ExitProblem
	}
	defer b.Close()
	if sub == "list" {
		return deadletterList(ctx, b, *asJSON, io)
	}
	ids := []uint64{*id}
	if *all {
		dl, err := b.DeadLetters(ctx)
		if err != nil {
			fmt.Fprintf(io.Stderr, "govwatch deadletter replay: %v\n", err)
			return ExitProblem
		}
		ids = ids[:0]
		for _, d := range dl {
			ids = append(ids, d.ID)
		}
	}
	status, failed := ExitOK, 0
	for _, i := range ids {
		d, err := b.ReplayDeadLetter(ctx, i)
		if err != nil {
			fmt.Fprintf(io.Stderr, "govwatch deadletter replay: %v\n", err)
			status, failed = ExitProblem, failed+1
			continue
		}
		fmt.Fprintf(io.Stdout, "replayed %d to %s\n", d.ID, d.Subject)
	}
	fmt.Fprintf(io.Stdout, "%d of %d replayed\n", len(ids)-failed, len(ids))
	return status
}

func deadletterList(ctx context.Context, b *bus.Bus, asJSON bool, io IO) int {
	dl, err := b.DeadLetters(ctx)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch deadletter list: %v\n", err)
		return ExitProblem
	}
	if asJSON {
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		if dl == nil {
			dl = []bus.DeadLetter{}
		}
		if err := enc.Encode(dl); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		return ExitOK
	}
	if len(dl) == 0 {
		fmt.Fprintln(io.Stdout, "no dead letters")
		return ExitOK
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "id\tfailed at\treason\tdeliveries\tconsumer\tsubject\terror")
	for _, d := range dl {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.FailedAt.Format(time.RFC3339), d.Reason, d.Deliveries,
			d.Consumer, d.Subject, d.Error)
	}
	tw.Flush()
	return ExitOK
}
