// Command collector polls the registry's accounts and publishes their posts to NATS JetStream.
// Flags: -config FILE, -listen ADDR, -dev.
package main

import (
	"os"

	"github.com/govwatch/govwatch/pkg/cli"
	"github.com/govwatch/govwatch/pkg/daemon"
)

func main() {
	os.Exit(cli.ExecDaemon(daemon.Collector))
}
