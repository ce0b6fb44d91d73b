package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSimulateGenerateWritesTheRegistry(t *testing.T) {
	reg := filepath.Join(t.TempDir(), "reg.yaml")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"simulate", "-generate", "30", "-listen", "127.0.0.1:0", "-registry-out", reg}, IO{Stdout: &bytes.Buffer{}, Stderr: &errb})
	}()
	deadline := time.Now().Add(10 * time.Second)
	var body []byte
	for !strings.Contains(string(body), "gen-000029") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("registry not written within 10s; stderr %q", errb.String())
		}
		time.Sleep(10 * time.Millisecond)
		body, _ = os.ReadFile(reg)
	}
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit %d, want 0 (stderr %q)", code, errb.String())
	}

	// The registry drives a scheduler-only load run.
	code, out, errOut := run("collector-load", "-registry", reg, "-scheduler-only", "-duration", "2s", "-warmup", "1s")
	if code != ExitOK || !strings.Contains(out, "scheduler only: 30 accounts") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the report", code, out, errOut)
	}
}

func TestCollectorLoadRefusesBadArguments(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "units: [{id: u, name: U}]\naccounts:\n  - {id: a, name: A, platform: weibo, unit: nope, source: {type: rss, url: \"http://h/f\"}}\n")
	good := writeFile(t, dir, "good.yaml", "units: [{id: u, name: U}]\naccounts:\n  - {id: a, name: A, platform: weibo, unit: u, source: {type: rss, url: \"http://h/f\"}}\n")
	testRefusals(t, []refusal{
		{"no registry", []string{"collector-load"}, ExitUsage, "usage: govwatch collector-load -registry FILE"},
		{"bad registry", []string{"collector-load", "-registry", bad}, ExitProblem, bad + ":3: accounts[0].unit: unknown unit \"nope\""},
		{"no store", []string{"collector-load", "-registry", good}, ExitUsage, "give -redis ADDR or -dir DIR"},
		{"registry-out without generate", []string{"simulate", "-registry-out", filepath.Join(dir, "r.yaml")}, ExitUsage, "-leak-every need -generate"},
		{"incidents without generate", []string{"simulate", "-leak-every", "100"}, ExitUsage, "-leak-every need -generate"},
		{"bad anchor", []string{"simulate", "-generate", "10", "-anchor", "yesterday"}, ExitUsage, `-anchor "yesterday": want now or RFC 3339`},
		{"negative rate", []string{"simulate", "-generate", "10", "-silent-every", "-3"}, ExitUsage, "must not be negative"},
	})
}
