package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalStopsConfigLoading: `govwatch config check` and a daemon's
// start, stuck reading a registry file that never comes (a FIFO nobody
// writes: opening it blocks), exit on SIGTERM and SIGINT with a non-zero
// status and a message saying the config was not checked.
func TestSignalStopsConfigLoading(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the govwatch binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "govwatch")
	build := exec.Command("go", "build", "-o", bin, "github.com/govwatch/govwatch/cmd/govwatch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "registry.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "govwatch.yaml")
	if err := os.WriteFile(cfg, []byte("registry: {file: registry.yaml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		sig  syscall.Signal
		want string
	}{
		{"config check, SIGTERM", []string{"config", "check", cfg}, syscall.SIGTERM, cfg + ": not checked, stopped: terminated signal received"},
		{"config check, SIGINT", []string{"config", "check", cfg}, syscall.SIGINT, cfg + ": not checked, stopped: interrupt signal received"},
		{"run, SIGTERM", []string{"run", "-config", cfg, "-listen", "127.0.0.1:0"}, syscall.SIGTERM, cfg + ": not checked, stopped: terminated signal received"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Let it reach the registry file: a signal before the
			// handler is installed would kill it without the message.
			select {
			case err := <-done:
				t.Fatalf("exited before the signal: %v\n%s", err, stderr.String())
			case <-time.After(time.Second):
			}
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.ExitCode() != ExitProblem {
					t.Errorf("got %v, want exit status %d", err, ExitProblem)
				}
			case <-time.After(10 * time.Second):
				cmd.Process.Kill() //nolint:errcheck // it is being given up on
				<-done
				t.Fatalf("still running 10s after %v; stderr:\n%s", tc.sig, stderr.String())
			}
			if got := strings.TrimSpace(stderr.String()); got != tc.want {
				t.Errorf("stderr %q, want %q", got, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing (no ok)", stdout.String())
			}
		})
	}
}
