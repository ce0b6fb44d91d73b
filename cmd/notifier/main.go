// Command notifier consumes alerts, routes and delivers them, and serves the alert API.
// Flags: -config FILE, -listen ADDR, -dev.
package main

import (
	"os"

	"github.com/govwatch/govwatch/pkg/cli"
	"github.com/govwatch/govwatch/pkg/daemon"
)

func main() {
	os.Exit(cli.ExecDaemon(daemon.Notifier))
}
