// Command analyzer consumes posts, runs the detectors and publishes alerts.
// Flags: -config FILE, -listen ADDR, -dev.
package main

import (
	"os"

	"github.com/govwatch/govwatch/pkg/cli"
	"github.com/govwatch/govwatch/pkg/daemon"
)

func main() {
	os.Exit(cli.ExecDaemon(daemon.Analyzer))
}
