package cli

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Exec runs a command on the process's arguments (without the program name)
// and standard streams until SIGINT or SIGTERM cancels its context, and
// returns the exit status for main to exit with: the whole of a main is
// os.Exit(cli.Exec(cli.Main)).
func Exec(command func(ctx context.Context, args []string, io IO) int) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return command(ctx, os.Args[1:], IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
}

// ExecDaemon is Exec of the daemon that runs the one component (a
// daemon.Collector, daemon.Analyzer or daemon.Notifier) with the daemon
// flags: the whole of its main is os.Exit(cli.ExecDaemon(daemon.Analyzer)).
func ExecDaemon(component string) int {
	return Exec(func(ctx context.Context, args []string, io IO) int {
		return Daemon(ctx, []string{component}, args, io)
	})
}
