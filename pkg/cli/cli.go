// Package cli is govwatch's command line: the subcommands of the govwatch
// tool and the flags of the three daemons. A main is one call of Exec, which
// turns signals into a context and calls in here, and exits with its status.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/govwatch/govwatch/pkg/config"
	"github.com/govwatch/govwatch/pkg/daemon"
)

// IO is where a command reads and writes.
type IO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Exit statuses.
const (
	ExitOK      = 0
	ExitProblem = 1 // problems found (bad config, findings)
	ExitUsage   = 2
)

const usage = `govwatch watches the official accounts of government bodies and pages the people on duty.

Usage:
  govwatch run -config FILE [-dev]        collector, analyzer and notifier in one process
  govwatch config check FILE              check a config file; prints ok or every problem
  govwatch config reference               every key of the file and of each plugin, in Markdown
  govwatch check [--json] [--min-severity minor|major|critical] [--lexicons DIR] [--allow FILE] [FILE…|-]
                                          check drafts before publishing
  govwatch lexicon import FILE --category C [--severity S] [--lexicons DIR] [--controls DIR]
                                          import a term list, leaving out what fires on government text
  govwatch simulate -scenario FILE [-listen ADDR]
                                          serve the fake platform of a scenario
  govwatch simulate -generate N [-seed S] [-listen ADDR] [-registry-out FILE]
                                          serve N generated quiet accounts, write their registry
  govwatch collector-load -registry FILE (-redis ADDR | -dir DIR) [-duration 1m] [-scheduler-only]
                                          run the collector against the simulator and report
                                          polls/s, burstiness, schedule lag, CPU and peak RSS
  govwatch roster who [-config FILE] --unit U [--at TIME]
                                          who is on duty (also: roster gaps)
  govwatch notify test -receiver NAME [-config FILE]
                                          send a test message through every channel of a receiver
  govwatch replay [--accounts N] [--days N] [--seed N] [--restart-every N] [--json]
                                          replay a scripted month through the analyzer
  govwatch inspect rules [-rules FILE]   the indicators a check judges by (also: inspect report)
  govwatch health [-timeout 5s] URL      exit 0 when a daemon's URL (/readyz) answers 2xx: the image's health check
  govwatch deadletter list|replay [-config FILE] [--id N|--all] [--json]
                                          list or replay messages no handler could process
  govwatch version
`

// Main runs the govwatch tool with args (without the program name) and
// returns the exit status.
func Main(ctx context.Context, args []string, io IO) int {
	if len(args) == 0 {
		fmt.Fprint(io.Stderr, usage)
		return ExitUsage
	}
	switch args[0] {
	case "run":
		return Daemon(ctx, daemon.All, args[1:], io)
	case "config":
		return configCmd(ctx, args[1:], io)
	case "simulate":
		return simulateCmd(ctx, args[1:], io)
	case "collector-load":
		return collectorLoadCmd(ctx, args[1:], io)
	case "roster":
		return rosterCmd(args[1:], io, time.Now)
	case "notify":
		return notifyCmd(ctx, args[1:], io)
	case "check":
		return checkCmd(args[1:], io)
	case "lexicon":
		return lexiconCmd(args[1:], io)
	case "deadletter":
		return deadletterCmd(ctx, args[1:], io)
	case "replay":
		return replayCmd(ctx, args[1:], io)
	case "inspect":
		return inspectCmd(ctx, args[1:], io)
	case "health":
		return healthCmd(ctx, args[1:], io)
	case "version":
		fmt.Fprintln(io.Stdout, "govwatch", daemon.Version)
		return ExitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(io.Stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(io.Stderr, "govwatch: unknown command %q\n\n%s", args[0], usage)
	return ExitUsage
}

// Daemon runs the given components with the daemon flags:
// -config FILE, -listen ADDR, -dev.
func Daemon(ctx context.Context, components []string, args []string, io IO) int {
	name := "govwatch " + strings.Join(components, "+")
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Stderr)
	cfgPath := fs.String("config", "configs/govwatch.yaml", "config file")
	listen := fs.String("listen", "", "HTTP listen address (default from the config)")
	dev := fs.Bool("dev", false, "human-readable debug logs")
	if err := fs.Parse(args); err != nil {
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(io.Stderr, "%s: unexpected arguments %v\n", name, fs.Args())
		return ExitUsage
	}
	cfg, err := loadConfig(ctx, *cfgPath)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	log, err := daemon.NewLogger(cfg.Log, *dev)
	if err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	defer log.Sync() //nolint:errcheck // nothing to do about a failed flush at exit
	daemon.LibraryLogs(log)
	err = daemon.Run(ctx, daemon.Options{Config: cfg, Components: components, Listen: *listen, Log: log, Stdout: io.Stdout})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("govwatch failed", zap.Error(err))
		return ExitProblem
	}
	return ExitOK
}

const configUsage = `usage: govwatch config check FILE      report every problem of a config file
       govwatch config reference       print the reference of every key (docs/config-reference.md)
`

func configCmd(ctx context.Context, args []string, io IO) int {
	if len(args) == 1 && args[0] == "reference" {
		if err := config.Reference(io.Stdout); err != nil {
			fmt.Fprintln(io.Stderr, err)
			return ExitProblem
		}
		return ExitOK
	}
	if len(args) != 2 || args[0] != "check" {
		fmt.Fprint(io.Stderr, configUsage)
		return ExitUsage
	}
	if _, err := loadConfig(ctx, args[1]); err != nil {
		fmt.Fprintln(io.Stderr, err)
		return ExitProblem
	}
	fmt.Fprintln(io.Stdout, "ok")
	return ExitOK
}

// loadConfig is config.Load and the checks that need the packages
// pkg/config cannot import (daemon.Check), given up when ctx is done (a
// signal) and the load has not finished stopGrace later: reading a large
// registry stops between batches, and a read that blocks (a registry file
// on a FIFO or a hung network mount) is left to end with the process.
func loadConfig(ctx context.Context, path string) (*config.Loaded, error) {
	type loaded struct {
		cfg *config.Loaded
		err error
	}
	done := make(chan loaded, 1)
	go func() {
		cfg, err := config.LoadContext(ctx, path)
		if err == nil {
			err = daemon.Check(cfg)
		}
		done <- loaded{cfg, err}
	}()
	var l loaded
	select {
	case l = <-done:
	case <-ctx.Done():
		// A load about to finish gives its own answer: a bad config is
		// reported as such even to a daemon told to stop.
		select {
		case l = <-done:
		case <-time.After(stopGrace):
			return nil, fmt.Errorf("%s: not checked, stopped: %v", path, context.Cause(ctx))
		}
	}
	if l.err != nil {
		return nil, l.err
	}
	return l.cfg, nil
}

// stopGrace is how long a signal waits for a config load to finish.
const stopGrace = time.Second
