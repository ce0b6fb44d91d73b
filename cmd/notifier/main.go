// Command notifier consumes alerts, routes and delivers them, and serves the alert API.
// Flags: -config FILE, -listen ADDR, -dev.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/govwatch/govwatch/pkg/cli"
	"github.com/govwatch/govwatch/pkg/daemon"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Daemon(ctx, []string{daemon.Notifier}, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
