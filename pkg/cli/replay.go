package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/govwatch/govwatch/pkg/analyze/replay"
	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/model"
)

// replayCmd is `govwatch replay`: exit 0 when the alerts are exactly the
// scripted ones, 1 when not, 2 on bad usage.
func replayCmd(ctx context.Context, args []string, io IO) int {
	fs := flag.NewFlagSet("govwatch replay", flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	accounts := fs.Int("accounts", 1000, "accounts to simulate")
	days := fs.Int("days", 30, fmt.Sprintf("days to simulate (at least %d; over 92 adds a zombie account)", replay.MinDays))
	seed := fs.Uint64("seed", 1, "seed of the generated activity")
	restart := fs.Int("restart-every", 0, "close the store and rebuild the analyzer after every N events (0: never)")
	inspectEnd := fs.Bool("inspect", false, "check every account at the end against the national indicators and compare the failures with the script")
	sweep := fs.String("sweep", "@every 12h", `sweep schedule in virtual time; "config" takes analyzer.sweep`)
	cfgPath := fs.String("config", "", "config file whose analyzer settings to use (default: built-in defaults)")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "govwatch replay: unexpected arguments %v\n", fs.Args())
		return ExitUsage
	}
	o := replay.Options{Accounts: *accounts, Days: *days, Seed: *seed, RestartEvery: *restart, Inspect: *inspectEnd}
	if *cfgPath != "" {
		cfg, err := loadConfig(ctx, *cfgPath)
		if err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		o.Config = cfg
	}
	if *sweep != "config" {
		s, err := config.ParseSchedule(*sweep)
		if err != nil {
			fmt.Fprintf(io.Stderr, "govwatch replay: -sweep %q: %v\n", *sweep, err)
			return ExitUsage
		}
		o.Sweep = s
	}
	dir, err := os.MkdirTemp("", "govwatch-replay-")
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	defer os.RemoveAll(dir)
	o.Dir = dir
	res, err := replay.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(io.Stderr, "govwatch replay: %v\n", err)
		return ExitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(io.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*replay.Result
			OK bool `json:"ok"`
		}{res, res.OK()}); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
	} else {
		printReplay(io.Stdout, res)
	}
	if !res.OK() {
		return ExitProblem
	}
	return ExitOK
}

func printReplay(w io.Writer, r *replay.Result) {
	fmt.Fprintf(w, "replay: %d accounts, %d days (seed %d): %d events, %d sweeps, %d restarts, %s\n\n",
		r.Accounts, r.Days, r.Seed, r.Events, r.Sweeps, r.Restarts, r.Elapsed.Round(10*time.Millisecond))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "category\tfired want\tfired got\tresolved want\tresolved got\t\t")
	for _, row := range r.Rows {
		mark := " "
		if !row.Matches {
			mark = "✗"
		}
		// The Chinese name goes last: tabwriter takes every rune as one column wide.
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", row.Category,
			row.WantFired, row.GotFired, row.WantResolved, row.GotResolved, mark, model.CategoryName(row.Category))
	}
	tw.Flush()
	if r.Inspection != nil {
		fmt.Fprintf(w, "\n%s\n", r.Inspection)
	}
	if len(r.Mismatches) == 0 {
		fmt.Fprintln(w, "\noutcome: exactly the scripted alerts and resolutions")
		return
	}
	fmt.Fprintf(w, "\noutcome: %d accounts differ from the script\n", len(r.Mismatches))
	for _, m := range r.Mismatches {
		fmt.Fprintf(w, "  %s %s: fired %d (want %d), resolved %d (want %d) %s\n",
			m.Category, m.Account, m.GotFired, m.WantFired, m.GotResolved, m.WantResolved, m.Incident)
	}
}
