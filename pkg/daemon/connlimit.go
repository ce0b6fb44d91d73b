package daemon

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/govwatch/govwatch/pkg/metric"
)

// refusedPerClient is the reason label of a connection refused because its
// client already held http.max_conns_per_client.
const refusedPerClient = "per_client"

// refusedConns is the counter of connections closed as they were accepted,
// registered on reg with the per-client reason at 0.
func refusedConns(reg prometheus.Registerer) prometheus.Counter {
	v := metric.CounterVec(reg, "govwatch_http_connections_refused_total",
		"Connections closed as they were accepted, by reason: per_client (the client address already held http.max_conns_per_client connections).",
		"reason")
	return v.WithLabelValues(refusedPerClient)
}

// limitConnsPerClient returns ln with at most max connections open per
// client address: a connection beyond that is closed as it is accepted and
// counted in refused, and the server never sees it. The timeouts end a slow
// or idle connection; this keeps one client from holding all of them at
// once. max <= 0 returns ln as it is.
func limitConnsPerClient(ln net.Listener, max int, refused prometheus.Counter) net.Listener {
	if max <= 0 {
		return ln
	}
	return &limitListener{Listener: ln, max: max, refused: refused, open: map[string]int{}}
}

type limitListener struct {
	net.Listener
	max     int
	refused prometheus.Counter
	mu      sync.Mutex
	open    map[string]int // connections open by client
}

// Accept returns the next connection of a client under its cap, closing
// those over it on the way.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		client := clientOf(c.RemoteAddr())
		l.mu.Lock()
		if l.open[client] >= l.max {
			l.mu.Unlock()
			l.refused.Inc()
			c.Close()
			continue
		}
		l.open[client]++
		l.mu.Unlock()
		return &limitedConn{Conn: c, release: func() { l.release(client) }}, nil
	}
}

func (l *limitListener) release(client string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[client]--; l.open[client] <= 0 {
		delete(l.open, client)
	}
}

// clientOf is the client a remote address counts for: its IP, or for IPv6
// its /64, which one host has to itself and may pick any address of.
func clientOf(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		host, _, err := net.SplitHostPort(a.String())
		if err != nil {
			return a.String()
		}
		return host
	}
	if ip4 := tcp.IP.To4(); ip4 != nil {
		return ip4.String()
	}
	return tcp.IP.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limitedConn gives its client's place back when it is closed, once.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
