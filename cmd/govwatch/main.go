// Command govwatch runs collector, analyzer and notifier in one process with
// an embedded NATS server and store, and holds the tools: config check,
// simulate.
package main

import (
	"os"

	"github.com/govwatch/govwatch/pkg/cli"
)

func main() {
	os.Exit(cli.Exec(cli.Main))
}
