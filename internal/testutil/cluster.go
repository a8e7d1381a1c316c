// Package testutil holds helpers shared by vigil's tests. Nothing here is
// used by the binary.
package testutil

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// ClusterToken is the client token of every cluster RunCluster starts.
const ClusterToken = "vigil-test-cluster-token"

// Cluster is a JetStream cluster of in-process nats-server instances on
// loopback, for tests of vigil against an external NATS deployment.
//
// Routes between servers do not connect directly: every ordered pair of
// servers talks through a small TCP relay owned by the Cluster. Kill cuts
// the relays of the victim before shutting it down, so the survivors see a
// server vanish mid-stream — no leader hand-off, no goodbye — and must
// notice the silence and elect new leaders, as after kill -9 or a pulled
// cable. (nats-server has no in-process crash: Server.Shutdown steps its
// raft leaders down first, which would make "kill the leader" the easy
// case. The victim's own store is still flushed by Shutdown; the survivors'
// view is what the relay makes abrupt.)
//
// Methods report failures with Fatalf on the t given to RunCluster, so call
// them from that test's goroutine.
type Cluster struct {
	t     testing.TB
	Token string
	nodes []*clusterNode
	links []*link

	mu sync.Mutex // guards up
	up []bool
}

type clusterNode struct {
	name        string
	opts        *server.Options // kept so Restart reuses ports and store
	srv         *server.Server
	clusterPort int
}

// RunCluster starts n servers named n0, n1, … with JetStream (file store in
// t.TempDir()), a client token (Cluster.Token) and fixed loopback ports, and
// waits until JetStream has a meta leader. Everything stops at t's cleanup.
func RunCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t, Token: ClusterToken, up: make([]bool, n)}
	root := t.TempDir() // before Cleanup(c.stop): cleanups run last-in first-out
	t.Cleanup(c.stop)
	clientPorts, clusterPorts := freePorts(t, n), freePorts(t, n)
	// One relay per ordered pair (i dials j). A server advertises a
	// closed port for gossip so that no route ever bypasses the relays.
	relays := make([][]*link, n)
	for i := range n {
		relays[i] = make([]*link, n)
		for j := range n {
			if i != j {
				relays[i][j] = c.newLink(i, j, clusterPorts[j])
			}
		}
	}
	nowhere := closedPort(t)
	for i := range n {
		name := fmt.Sprintf("n%d", i)
		opts := &server.Options{
			ServerName:         name,
			Host:               "127.0.0.1",
			Port:               clientPorts[i],
			Authorization:      c.Token,
			JetStream:          true,
			StoreDir:           filepath.Join(root, name),
			JetStreamMaxMemory: 64 << 20,
			JetStreamMaxStore:  1 << 30,
			MaxPayload:         8 << 20,
			NoSigs:             true,
			NoLog:              true,
		}
		opts.Cluster.Name = "vigil-test"
		opts.Cluster.Host = "127.0.0.1"
		opts.Cluster.Port = clusterPorts[i]
		opts.Cluster.Advertise = nowhere
		for j := range n {
			if i != j {
				opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats", Host: relays[i][j].addr})
			}
		}
		c.nodes = append(c.nodes, &clusterNode{name: name, opts: opts, clusterPort: clusterPorts[i]})
	}
	for i := range n {
		c.start(i)
	}
	c.WaitJetStreamReady()
	return c
}

// URLs is the comma-separated list of client URLs, for --nats.
func (c *Cluster) URLs() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", n.opts.Port))
	}
	return strings.Join(urls, ",")
}

// Name is server i's name, as JetStream reports it (e.g. as a leader).
func (c *Cluster) Name(i int) string { return c.nodes[i].name }

// Index returns the index of the server named name, or -1.
func (c *Cluster) Index(name string) int {
	for i, n := range c.nodes {
		if n.name == name {
			return i
		}
	}
	return -1
}

// Connect opens a client connection to the whole cluster; it is closed at
// cleanup.
func (c *Cluster) Connect() *natsgo.Conn {
	c.t.Helper()
	nc, err := natsgo.Connect(c.URLs(), natsgo.Token(c.Token), natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(100*time.Millisecond))
	if err != nil {
		c.t.Fatalf("connect to the test cluster: %v", err)
	}
	c.t.Cleanup(nc.Close)
	return nc
}

// Kill cuts server i off from its peers at once, then shuts it down, which
// closes its client connections (see Cluster for what is and is not
// abrupt). Its store stays for Restart.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.mu.Lock()
	if !c.up[i] {
		c.mu.Unlock()
		c.t.Fatalf("kill n%d: it is not running", i)
	}
	c.up[i] = false
	c.mu.Unlock()
	for _, l := range c.links {
		if l.from == i || l.to == i {
			l.cut()
		}
	}
	srv := c.nodes[i].srv
	srv.Shutdown()
	srv.WaitForShutdown()
}

// Restart starts server i again on the same ports and store directory.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	c.mu.Lock()
	running := c.up[i]
	c.mu.Unlock()
	if running {
		c.t.Fatalf("restart n%d: it is running", i)
	}
	c.start(i)
}

// WaitJetStreamReady waits until the running servers agree on a JetStream
// meta leader and each of them is current with it.
func (c *Cluster) WaitJetStreamReady() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		leaders, current, running := 0, 0, 0
		for i, n := range c.nodes {
			if !c.isUp(i) {
				continue
			}
			running++
			if n.srv.JetStreamIsLeader() {
				leaders++
			}
			if n.srv.JetStreamIsCurrent() {
				current++
			}
		}
		if leaders == 1 && current == running {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("JetStream not ready after 30s: %d meta leaders, %d of %d servers current", leaders, current, running)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *Cluster) isUp(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.up[i]
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	srv, err := server.NewServer(n.opts.Clone())
	if err != nil {
		c.t.Fatalf("start %s: %v", n.name, err)
	}
	if os.Getenv("VIGIL_TEST_NATS_LOG") != "" {
		srv.SetLoggerV2(tbLogger{c.t, n.name}, false, false, false)
	}
	srv.Start()
	if !srv.ReadyForConnections(20 * time.Second) {
		srv.Shutdown()
		c.t.Fatalf("start %s: not ready for connections after 20s", n.name)
	}
	n.srv = srv
	c.mu.Lock()
	c.up[i] = true
	c.mu.Unlock()
}

func (c *Cluster) stop() {
	for i, n := range c.nodes {
		if c.isUp(i) {
			n.srv.Shutdown()
		}
	}
	for i, n := range c.nodes {
		if c.isUp(i) {
			n.srv.WaitForShutdown()
		}
	}
	for _, l := range c.links {
		l.close()
	}
}

// link relays route connections from server from to server to's cluster
// port. While either end is down it refuses to relay.
type link struct {
	c        *Cluster
	from, to int
	target   string
	ln       net.Listener
	addr     string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (c *Cluster) newLink(from, to, targetPort int) *link {
	c.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatalf("route relay: %v", err)
	}
	l := &link{c: c, from: from, to: to, target: fmt.Sprintf("127.0.0.1:%d", targetPort), ln: ln,
		addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	c.links = append(c.links, l)
	go l.serve()
	return l
}

func (l *link) serve() {
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		if !l.c.isUp(l.from) || !l.c.isUp(l.to) {
			in.Close()
			continue
		}
		out, err := net.DialTimeout("tcp", l.target, 2*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		if !l.track(in, out) {
			continue
		}
		go l.pipe(in, out)
		go l.pipe(out, in)
	}
}

// track records a relayed pair unless an end went down meanwhile.
func (l *link) track(in, out net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.c.isUp(l.from) || !l.c.isUp(l.to) {
		in.Close()
		out.Close()
		return false
	}
	l.conns[in], l.conns[out] = struct{}{}, struct{}{}
	return true
}

func (l *link) pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	l.mu.Lock()
	delete(l.conns, dst)
	delete(l.conns, src)
	l.mu.Unlock()
}

// cut drops every relayed connection at once.
func (l *link) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for conn := range l.conns {
		conn.Close()
	}
	clear(l.conns)
}

func (l *link) close() {
	l.ln.Close()
	l.cut()
}

// freePorts reserves n distinct loopback ports and releases them for the
// servers to bind. Routes and Restart need ports known in advance.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var lns []net.Listener
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pick a free port: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

// closedPort returns host:port of a listener that hangs up on every
// connection: gossip pointing there makes no route.
func closedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a port: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}()
	return ln.Addr().String()
}

// tbLogger sends a server's log to the test log (VIGIL_TEST_NATS_LOG=1).
type tbLogger struct {
	t    testing.TB
	name string
}

func (l tbLogger) Noticef(format string, v ...any) { l.t.Logf(l.name+": "+format, v...) }
func (l tbLogger) Warnf(format string, v ...any)   { l.t.Logf(l.name+" WARN: "+format, v...) }
func (l tbLogger) Fatalf(format string, v ...any)  { l.t.Logf(l.name+" FATAL: "+format, v...) }
func (l tbLogger) Errorf(format string, v ...any)  { l.t.Logf(l.name+" ERROR: "+format, v...) }
func (l tbLogger) Debugf(format string, v ...any)  {}
func (l tbLogger) Tracef(format string, v ...any)  {}
