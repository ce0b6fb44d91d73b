// Command collector polls the registry's accounts and publishes their posts to NATS JetStream.
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
	code := cli.Daemon(ctx, []string{daemon.Collector}, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
