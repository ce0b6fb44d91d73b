// Package redistest starts private redis-server processes for tests.
//
// Start is for a single test: it skips the test when redis-server is not
// installed (or fails it when GOVWATCH_REQUIRE_REDIS=1) and stops the server
// at cleanup. StartServer is the lower-level form for TestMain, where one
// server is shared by several tests or processes and the caller calls stop.
package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing redis-server
// into a test failure instead of a skip (set it in CI).
const RequireEnv = "GOVWATCH_REQUIRE_REDIS"

// ErrNoServer reports that redis-server is not on PATH.
var ErrNoServer = errors.New("redis-server not found on PATH; install it (Debian/Ubuntu: apt-get install redis-server, macOS: brew install redis)")

const (
	// startTimeout bounds how long one server may take to answer.
	startTimeout = 10 * time.Second
	// startAttempts is how often StartServer retries on a new port when
	// the one it picked was taken before redis-server could bind it.
	startAttempts = 3
)

// Start starts a private redis-server for tb, stops it at tb.Cleanup and
// returns its address, "127.0.0.1:port". When redis-server is not installed it
// skips tb, or fails it when GOVWATCH_REQUIRE_REDIS=1.
func Start(tb testing.TB) string {
	tb.Helper()
	addr, ok := Optional(tb)
	if !ok {
		tb.Skipf("%v; set %s=1 to fail instead of skipping", ErrNoServer, RequireEnv)
	}
	return addr
}

// Optional is Start for tests that also run without Redis: when
// redis-server is not installed it returns ok false (or fails tb when
// GOVWATCH_REQUIRE_REDIS=1) instead of skipping.
func Optional(tb testing.TB) (addr string, ok bool) {
	tb.Helper()
	addr, stop, err := StartServer()
	if errors.Is(err, ErrNoServer) {
		if os.Getenv(RequireEnv) == "1" {
			tb.Fatalf("%v (%s=1 requires it)", err, RequireEnv)
		}
		return "", false
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return addr, true
}

// StartServer starts redis-server from PATH on a free loopback port, with no
// persistence, and waits until it answers (polling with a deadline). The caller must call stop,
// which kills the server and waits for it to exit; stop is safe to call more
// than once. The error wraps ErrNoServer when redis-server is not on PATH.
func StartServer() (addr string, stop func(), err error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, ErrNoServer
	}
	for attempt := 1; ; attempt++ {
		addr, stop, err = startOnce(bin)
		if err == nil || attempt == startAttempts {
			return addr, stop, err
		}
	}
}

// startOnce makes one attempt on one free port.
func startOnce(bin string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return "", nil, fmt.Errorf("redis-server temp dir: %w", err)
	}
	cmd := exec.Command(bin,
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
	)
	var out bytes.Buffer // read only after the process has exited
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-exited
			os.RemoveAll(dir)
		})
	}

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			stop()
			return "", nil, fmt.Errorf("redis-server on %s exited before answering: %s", addr, lastLines(out.String(), 5))
		default:
		}
		if pid, err := serverPID(addr); err == nil {
			if pid != cmd.Process.Pid {
				// Someone else's server got the port first; ours
				// will exit and the caller retries on another.
				stop()
				return "", nil, fmt.Errorf("redis-server port %d taken by pid %d", port, pid)
			}
			return addr, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server on %s did not answer within %s: %s", addr, startTimeout, lastLines(out.String(), 5))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort asks the kernel for a free loopback port. Another process may take
// it before redis-server binds it; StartServer retries then.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// serverPID asks the server at addr for its process id (INFO server). It is
// how startOnce makes sure it reached its own server and not one that another
// test started on the same port first.
func serverPID(addr string) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return 0, err
	}
	if _, err := conn.Write([]byte("INFO server\r\n")); err != nil {
		return 0, err
	}
	r := bufio.NewReader(conn)
	head, err := r.ReadString('\n')
	if err != nil {
		return 0, err
	}
	head = strings.TrimSpace(head)
	size, err := strconv.Atoi(strings.TrimPrefix(head, "$"))
	if !strings.HasPrefix(head, "$") || err != nil {
		// -LOADING and the like: not ready yet.
		return 0, fmt.Errorf("info %s: got %q", addr, head)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, fmt.Errorf("info %s: no process_id", addr)
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
