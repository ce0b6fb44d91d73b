package daemon

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestConnectionsCappedPerClient: over real TCP, a client's connection
// beyond the cap is closed as it is accepted and counted, another client
// is still served meanwhile, and a closed connection gives its place back.
func TestConnectionsCappedPerClient(t *testing.T) {
	reg := prometheus.NewRegistry()
	refused := refusedConns(reg)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := limitConnsPerClient(raw, 2, refused)
	t.Cleanup(func() { ln.Close() })
	// The server greets every connection it gets and keeps it open.
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n")) //nolint:errcheck // the client reads it or not
			accepted <- c
		}
	}()

	// dial connects from the loopback address from (127.0.0.x) and tells
	// whether the server greeted the connection or closed it.
	dial := func(from string) (net.Conn, bool) {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatalf("dial from %s: %v", from, err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetReadDeadline(time.Now().Add(5 * time.Second)) //nolint:errcheck // a read then fails
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil && line == "" {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("a connection from %s was neither served nor closed within 5s", from)
			}
			return c, false
		}
		return c, line == "hello\n"
	}
	server := func() net.Conn {
		t.Helper()
		select {
		case c := <-accepted:
			return c
		case <-time.After(5 * time.Second):
			t.Fatal("the server got no connection")
			return nil
		}
	}

	var first net.Conn
	for i := range 2 {
		if _, ok := dial("127.0.0.1"); !ok {
			t.Fatalf("connection %d of 127.0.0.1 was closed under the cap of 2", i+1)
		}
		if c := server(); i == 0 {
			first = c
		}
	}
	for i := range 3 {
		if _, ok := dial("127.0.0.1"); ok {
			t.Fatalf("connection %d over the cap of 2 was served", i+1)
		}
	}
	if got := testutil.ToFloat64(refused); got != 3 {
		t.Errorf("govwatch_http_connections_refused_total{reason=%q} = %v, want 3", refusedPerClient, got)
	}
	if _, ok := dial("127.0.0.2"); !ok {
		t.Fatal("another client was refused while 127.0.0.1 was at its cap")
	}
	server()

	// The server closes one of 127.0.0.1's connections: its place is free.
	first.Close()
	first.Close() // closing twice gives back one place, not two
	if _, ok := dial("127.0.0.1"); !ok {
		t.Fatal("127.0.0.1 was refused after one of its connections closed")
	}
	server()
	if _, ok := dial("127.0.0.1"); ok {
		t.Fatal("a second close gave back a second place")
	}
	if got := testutil.ToFloat64(refused); got != 4 {
		t.Errorf("refused %v connections, want 4", got)
	}
}

// TestConnectionCapOff: max_conns_per_client 0 leaves the listener as it is.
func TestConnectionCapOff(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if ln := limitConnsPerClient(raw, 0, refusedConns(nil)); ln != raw {
		t.Errorf("a cap of 0 wrapped the listener: %T", ln)
	}
}

// TestClientOf: IPv4 clients count by address, IPv6 clients by their /64.
func TestClientOf(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7:4000":             "192.0.2.7",
		"[::ffff:192.0.2.7]:4000":    "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:443":      "2001:db8:1:2::/64",
		"[2001:db8:1:3::9]:443":      "2001:db8:1:3::/64",
	} {
		a, err := net.ResolveTCPAddr("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientOf(a); got != want {
			t.Errorf("clientOf(%s) = %q, want %q", addr, got, want)
		}
	}
}
