package cli

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/bus"
)

// TestDeadletterListAndReplay dead-letters a poison alert on the embedded
// bus of a data directory, then lists it and replays it with the command.
func TestDeadletterListAndReplay(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := writeFile(t, dir, "govwatch.yaml", "data_dir: "+data+"\n")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, bus.Options{Embedded: true, StoreDir: filepath.Join(data, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.JetStream().Publish(ctx, "govwatch.alert.privacy.phone", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	cctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- b.Consume(cctx, bus.ConsumerConfig{Stream: bus.StreamAlerts, Durable: "notifier"}, func(context.Context, bus.Message) error {
			return bus.Permanent(errors.New("decode alert: invalid character 'n'"))
		})
	}()
	for {
		dl, err := b.DeadLetters(ctx)
		if err == nil && len(dl) == 1 {
			break
		}
		if ctx.Err() != nil {
			t.Fatal("no dead letter")
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	b.Close()

	code, out, errOut := run("deadletter", "list", "-config", cfg)
	if code != ExitOK || !strings.Contains(out, "govwatch.alert.privacy.phone") || !strings.Contains(out, "poison") || !strings.Contains(out, "decode alert") {
		t.Fatalf("list: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run("deadletter", "replay", "-config", cfg); code != ExitUsage || !strings.Contains(errOut, "--id N or --all") {
		t.Errorf("replay without --id or --all: exit %d, %s", code, errOut)
	}
	code, out, errOut = run("deadletter", "replay", "-config", cfg, "--all")
	if code != ExitOK || !strings.Contains(out, "replayed 1 to govwatch.alert.privacy.phone") || !strings.Contains(out, "1 of 1 replayed") {
		t.Fatalf("replay: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := run("deadletter", "list", "-config", cfg); code != ExitOK || out != "no dead letters\n" {
		t.Errorf("list after replay: exit %d, %q", code, out)
	}
	if code, _, errOut := run("deadletter", "replay", "-config", cfg, "--id", "1"); code != ExitProblem || !strings.Contains(errOut, "not in GOVWATCH_DEADLETTER") {
		t.Errorf("replaying a replayed one: exit %d, %s", code, errOut)
	}

	// The replayed alert is back on its subject, after the original.
	b, err = bus.Open(ctx, bus.Options{Embedded: true, StoreDir: filepath.Join(data, "nats")})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s, err := b.JetStream().Stream(ctx, bus.StreamAlerts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, 2)
	if err != nil || m.Subject != "govwatch.alert.privacy.phone" || string(m.Data) != "{not json" {
		t.Fatalf("replayed message: %+v, %v", m, err)
	}
}
