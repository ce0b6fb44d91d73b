package daemon

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/govwatch/govwatch/pkg/bus"
)

// natsCluster is nats-server processes with JetStream clustered together,
// built from the nats-server module govwatch embeds, so a node can be
// killed as an operator's would die.
type natsCluster struct {
	nodes []*natsNode
}

type natsNode struct {
	name   string
	client string // nats://127.0.0.1:port
	cmd    *exec.Cmd
	done   chan struct{}
	log    lockedLog
}

// startNATSCluster builds nats-server and starts n nodes routed to each
// other, each with its own JetStream directory, and returns once a
// connection can create streams with n replicas.
func startNATSCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "nats-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2").CombinedOutput(); err != nil {
		t.Fatalf("go build nats-server: %v\n%s", err, out)
	}
	clients, routes := freePorts(t, n), freePorts(t, n)
	var all []string
	for _, p := range routes {
		all = append(all, "nats://127.0.0.1:"+p)
	}
	c := &natsCluster{}
	for i := range n {
		nd := &natsNode{name: fmt.Sprint("n", i+1), client: "nats://127.0.0.1:" + clients[i], done: make(chan struct{})}
		nd.cmd = exec.Command(bin, "-a", "127.0.0.1", "-p", clients[i], "-n", nd.name, "-js",
			"-sd", filepath.Join(dir, nd.name), "--cluster_name", "govwatch",
			"--cluster", "nats://127.0.0.1:"+routes[i], "--routes", strings.Join(all, ","))
		nd.cmd.Stdout, nd.cmd.Stderr = &nd.log, &nd.log
		if err := nd.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { nd.cmd.Wait(); close(nd.done) }()
		c.nodes = append(c.nodes, nd)
	}
	t.Cleanup(func() {
		for _, nd := range c.nodes {
			nd.kill(syscall.SIGTERM)
			if t.Failed() {
				t.Logf("nats-server %s log:\n%s", nd.name, tail(nd.log.String(), 30))
			}
		}
	})
	// The cluster serves JetStream once its nodes elected a meta leader.
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, err := bus.Open(context.Background(), bus.Options{URLs: c.URLs(), Replicas: n, Name: "cluster-check"})
		if err == nil {
			b.Close()
			return c
		}
		for _, nd := range c.nodes {
			select {
			case <-nd.done:
				t.Fatalf("nats-server %s exited:\n%s", nd.name, nd.log.String())
			default:
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the NATS cluster did not serve JetStream within 60s: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// URLs are the nodes' client URLs.
func (c *natsCluster) URLs() []string {
	var out []string
	for _, nd := range c.nodes {
		out = append(out, nd.client)
	}
	return out
}

// node returns the node called name.
func (c *natsCluster) node(t *testing.T, name string) *natsNode {
	t.Helper()
	for _, nd := range c.nodes {
		if nd.name == name {
			return nd
		}
	}
	t.Fatalf("no NATS node %q", name)
	return nil
}

// kill signals the node and waits until it exited.
func (nd *natsNode) kill(sig syscall.Signal) {
	select {
	case <-nd.done:
		return
	default:
	}
	_ = nd.cmd.Process.Signal(sig)
	select {
	case <-nd.done:
	case <-time.After(20 * time.Second):
		_ = nd.cmd.Process.Kill()
		<-nd.done
	}
}

// freePorts returns n distinct free TCP ports on the loopback address.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	var ls []net.Listener
	var out []string
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}

// TestDistributedNATSNodeKill runs the three daemons against a 3-node NATS
// cluster whose streams keep 3 replicas, kills the node that leads the
// posts stream with SIGKILL while the analyzer works through them, and
// checks that every alert reached the receiver exactly once.
func TestDistributedNATSNodeKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server and the daemons as processes")
	}
	nc := startNATSCluster(t, 3)
	d := startDistributed(t, nc.URLs(), 3, distSize)
	d.startAnalyzer(t)
	acked := d.underWay(t, 50)
	s, err := d.b.JetStream().Stream(context.Background(), d.b.Stream(bus.KindPost))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil || info.Cluster.Leader == "" || len(info.Cluster.Replicas) != 2 {
		t.Fatalf("the posts stream is not replicated on 3 nodes: %+v", info.Cluster)
	}
	leader := nc.node(t, info.Cluster.Leader)
	leader.kill(syscall.SIGKILL)
	t.Logf("killed %s, the posts stream's leader, after %d of %d posts; %d alerts delivered so far",
		leader.name, acked, d.total, len(d.hook.firing()))
	d.everyAlertOnce(t, 3*time.Minute)
}

// lockedLog is a process's output, written by its pipe and read by the test.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
