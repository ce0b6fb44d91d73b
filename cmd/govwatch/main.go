// Command govwatch runs collector, analyzer and notifier in one process with
// an embedded NATS server and store, and holds the tools: config check,
// simulate.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/govwatch/govwatch/pkg/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
