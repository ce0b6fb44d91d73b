package redistest

import (
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestStartServer(t *testing.T) {
	addr2 := Start(t) // first: it skips or fails properly without redis-server
	addr1, stop1, err := StartServer()
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	defer stop1()
	if addr1 == addr2 {
		t.Fatalf("two servers on one address %s", addr1)
	}
	for _, addr := range []string{addr1, addr2} {
		if _, err := serverPID(addr); err != nil {
			t.Fatalf("server on %s does not answer: %v", addr, err)
		}
	}
	stop1()
	stop1() // safe twice
	if conn, err := net.DialTimeout("tcp", addr1, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after stop", addr1)
	}
}

func TestMissingServer(t *testing.T) {
	tests := []struct {
		name    string
		require string
		want    string
	}{
		{"skips by default", "", "skip"},
		{"fails when required", "1", "fatal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv(RequireEnv, tc.require)
			tb := &recordingTB{TB: t}
			done := make(chan struct{})
			go func() { // Skip and Fatal end the goroutine, as in a test
				defer close(done)
				Start(tb)
			}()
			<-done
			if tb.ended != tc.want {
				t.Fatalf("Start without redis-server ended with %q (%s), want %q", tb.ended, tb.msg, tc.want)
			}
			if !strings.Contains(tb.msg, "apt-get install redis-server") {
				t.Fatalf("message %q does not say how to install redis-server", tb.msg)
			}
		})
	}
}

// recordingTB records how Start ends a test instead of ending the real one.
type recordingTB struct {
	testing.TB
	ended, msg string
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Skipf(format string, args ...any) {
	r.ended, r.msg = "skip", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.ended, r.msg = "fatal", fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Fatal(args ...any) {
	r.ended, r.msg = "fatal", fmt.Sprint(args...)
	runtime.Goexit()
}
