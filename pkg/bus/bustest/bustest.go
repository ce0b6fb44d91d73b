// Package bustest opens buses on in-process NATS JetStream servers for the
// tests of the packages that publish to or consume from the bus.
//
// The bus package's own tests cannot import it (it imports bus) and keep
// an equivalent helper of their own.
package bustest

import (
	"context"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/bus"
)

// openTimeout bounds how long the server may take to start and the bus to
// connect and create its streams.
const openTimeout = 20 * time.Second

// Open opens a bus on an in-process server, as o describes, and closes it
// when tb ends. The server stores in a fresh tb.TempDir unless o.StoreDir
// names a folder (a restart test reopens one); o.Embedded is implied.
func Open(tb testing.TB, o bus.Options) *bus.Bus {
	tb.Helper()
	o.Embedded = true
	if o.StoreDir == "" {
		o.StoreDir = tb.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), openTimeout)
	defer cancel()
	b, err := bus.Open(ctx, o)
	if err != nil {
		tb.Fatalf("open bus: %v", err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}
