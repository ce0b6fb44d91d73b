package daemon

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSlowAndIdleConnectionsAreCut: a body that never arrives and a
// keep-alive left idle are closed by the server, not held for ever.
func TestSlowAndIdleConnectionsAreCut(t *testing.T) {
	read := make(chan error, 1)
	srv := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(r.Body)
		read <- err
	}), httpTimeouts{header: time.Second, read: 200 * time.Millisecond, write: time.Second, idle: 200 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })

	// send opens a connection and writes a request head on it.
	send := func(head string) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := io.WriteString(c, head); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// A body announced and never sent.
	send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
	select {
	case err := <-read:
		if err == nil {
			t.Error("the handler read a body that never came")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a slow body held its request for 10 s")
	}

	// An idle keep-alive after one request.
	idle := send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	br := bufio.NewReader(idle)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	<-read
	if err := idle.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); err == nil || strings.Contains(err.Error(), "timeout") {
		t.Errorf("an idle keep-alive stayed open: %v", err)
	}
}
