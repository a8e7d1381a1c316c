package node_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/internal/testutil"
	"github.com/vigil-elections/vigil/keyring"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// TestClusterKillStreamLeaderUnderLoad runs two nodes on a 3-server
// JetStream cluster, kills the server leading the EVENTS stream while both
// append from many goroutines, restarts it, and checks that nothing
// acknowledged was lost or doubled, that both nodes kept following, and
// that every node — including one that joins afterwards — derives the same
// verified log and projections.
func TestClusterKillStreamLeaderUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a 3-server NATS cluster and kills one; takes 10-30s")
	}
	ctx := t.Context()
	start := time.Now()
	logf := func(format string, args ...any) {
		t.Helper()
		t.Logf("%5.1fs "+format, append([]any{time.Since(start).Seconds()}, args...)...)
	}
	c := testutil.RunCluster(t, 3)
	logf("cluster up")

	// The second init finds the streams and adopts them.
	dirA := MustInitClusterNode(t, c, "site-a", "")
	a := MustOpenClusterNode(t, dirA)
	b := MustOpenClusterNode(t, MustInitClusterNode(t, c, "site-b", dirA))
	if b.Log.LogID != a.Log.LogID {
		t.Fatalf("node b is on log %s, node a on %s", b.Log.LogID, a.Log.LogID)
	}
	load := startLoad([]*node.Node{a, b}, 4)

	// Let the load run, then kill whichever server leads the stream.
	time.Sleep(1500 * time.Millisecond)
	load.waitAcked(t, 200, 20*time.Second)
	leader := streamLeader(t, a.JS)
	victim := c.Index(leader)
	if victim < 0 {
		t.Fatalf("the EVENTS stream's leader is %q, not a server of the cluster", leader)
	}
	logf("killing %s, the stream leader (a is connected to %s, b to %s), after %d acknowledged events",
		leader, a.NC.ConnectedServerName(), b.NC.ConnectedServerName(), load.count())
	killedAt := time.Now()
	c.Kill(victim)

	// The survivors hold a quorum: appends resume once they elect a leader.
	load.waitAcked(t, load.count()+200, 40*time.Second)
	logf("appends resumed %.1fs after the kill", time.Since(killedAt).Seconds())
	time.Sleep(time.Second)

	// The restarted server catches up while appends continue.
	c.Restart(victim)
	c.WaitJetStreamReady()
	waitStreamCurrent(t, a.JS, 3)
	logf("%s restarted and caught up", leader)
	load.waitAcked(t, load.count()+200, 20*time.Second)
	acked, failed := load.stop()
	logf("load stopped: %d events acknowledged, %d appends not", len(acked), failed)

	last, err := a.Log.LastSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*node.Node{a, b} {
		mustApply(t, n, last)
	}
	seen := readEventIDs(t, a, last)

	t.Run("every acknowledged event is in the log exactly once", func(t *testing.T) {
		for id, ack := range acked {
			if n := len(seen[id]); n != 1 {
				t.Errorf("event %s (acknowledged as entry %d) is stored %d times", id, ack, n)
			}
		}
	})
	t.Run("every acknowledgement names the entry that holds the event", func(t *testing.T) {
		for id, ack := range acked {
			if got := seen[id]; len(got) > 0 && got[0] != ack {
				t.Errorf("event %s was acknowledged as entry %d but is in entry %d", id, ack, got[0])
			}
		}
	})
	t.Run("no event is stored twice, acknowledged or not", func(t *testing.T) {
		for id, seqs := range seen {
			if len(seqs) > 1 {
				t.Errorf("event %s is stored in entries %v", id, seqs)
			}
		}
	})
	var roots []string
	for _, n := range []*node.Node{a, b} {
		t.Run(n.Origin()+" kept following the log and verifies it", func(t *testing.T) {
			if err := n.Err(); err != nil {
				t.Fatalf("the follower stopped: %v", err)
			}
			if got := countCounties(t, n); got != len(seen) {
				t.Errorf("%d counties projected, %d events in the log", got, len(seen))
			}
			roots = append(roots, mustVerify(t, n, last, len(seen)))
		})
	}
	t.Run("a node that joins afterwards adopts the log and sees every event", func(t *testing.T) {
		late := MustOpenClusterNode(t, MustInitClusterNode(t, c, "site-late", dirA))
		mustApply(t, late, last)
		if got := countCounties(t, late); got != len(seen) {
			t.Errorf("%d counties projected, %d events in the log", got, len(seen))
		}
		roots = append(roots, mustVerify(t, late, last, len(seen)))
		for _, r := range roots[1:] {
			if r != roots[0] {
				t.Fatalf("the nodes compute different roots for the same %d entries: %v", last, roots)
			}
		}
	})
	logf("checked %d entries", last)
}

// MustInitClusterNode runs the equivalent of
// `vigil init --data DIR --nats URLS --nats-token T --replicas 3
// [--secrets-key JOIN/keyring/secrets.key]`: join names a node of the log
// when the log exists already.
func MustInitClusterNode(t *testing.T, c *testutil.Cluster, name, join string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	secrets := ""
	if join != "" {
		var err error
		if secrets, err = keyring.ReadSecretsKey(filepath.Join(join, "keyring", "secrets.key")); err != nil {
			t.Fatal(err)
		}
	}
	_, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: name, Replicas: 3, SecretsKey: secrets,
		NATS: vnats.ClientOptions{URL: c.URLs(), Token: c.Token, Name: "vigil init"}})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// MustOpenClusterNode opens dir as its owner and closes it at cleanup.
func MustOpenClusterNode(t *testing.T, dir string) *node.Node {
	t.Helper()
	var n *node.Node
	retryUnavailable(t, "open "+dir, func() (err error) {
		n, err = node.Open(t.Context(), node.Options{Dir: dir, CheckpointEvery: time.Second,
			Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))})
		return err
	})
	t.Cleanup(func() { n.Close() })
	return n
}

// load appends county events from several goroutines per node and records
// which events were acknowledged, and as which entry.
type load struct {
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	acked  map[string]uint64 // event id → entry sequence
	failed int
}

func startLoad(nodes []*node.Node, workersPerNode int) *load {
	l := &load{done: make(chan struct{}), acked: map[string]uint64{}}
	for w := range len(nodes) * workersPerNode {
		n := nodes[w%len(nodes)]
		actor := vigil.Actor{Name: "load", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.done:
					return
				default:
				}
				// Every fourth append carries two events in one call.
				size := 1
				if i%4 == 3 {
					size = 2
				}
				var events []vigil.Event
				for k := range size {
					id := fmt.Sprintf("W%02d-%06d-%d", w, i, k)
					ev, err := vigil.NewEvent(actor, vigil.EventCountyDefined, id, n.Now(), vigil.County{ID: id, Name: "County " + id})
					if err != nil {
						panic(err)
					}
					events = append(events, ev)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				seq, err := n.Append(ctx, events, vigil.AppendOptions{})
				cancel()
				l.mu.Lock()
				if err == nil {
					for _, ev := range events {
						l.acked[ev.ID] = seq
					}
				} else {
					l.failed++
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.acked)
}

// waitAcked waits until at least n events were acknowledged in all.
func (l *load) waitAcked(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for l.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d events acknowledged after %s", l.count(), n, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the load and returns what was acknowledged and how many
// appends failed.
func (l *load) stop() (map[string]uint64, int) {
	close(l.done)
	l.wg.Wait()
	return l.acked, l.failed
}

func streamLeader(t *testing.T, js jetstream.JetStream) string {
	t.Helper()
	st, err := js.Stream(t.Context(), vnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Cluster == nil {
		t.Fatal("the EVENTS stream has no cluster information")
	}
	return info.Cluster.Leader
}

// waitStreamCurrent waits until the EVENTS stream has a leader and all its
// replicas are current.
func waitStreamCurrent(t *testing.T, js jetstream.JetStream, replicas int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var state string
		st, err := js.Stream(t.Context(), vnats.EventsStream)
		if err == nil {
			var info *jetstream.StreamInfo
			if info, err = st.Info(t.Context()); err == nil && info.Cluster == nil {
				t.Fatal("the EVENTS stream has no cluster information")
			}
			if err == nil {
				current := 0
				if info.Cluster.Leader != "" {
					current = 1
				}
				for _, r := range info.Cluster.Replicas {
					if r.Current && !r.Offline {
						current++
					}
				}
				if current == replicas {
					return
				}
				state = fmt.Sprintf("leader %q, %d of %d replicas current", info.Cluster.Leader, current, replicas)
			}
		}
		if err != nil {
			state = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the EVENTS stream is not fully replicated after 30s: %s", state)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustApply waits until n's projections include entry last.
func mustApply(t *testing.T, n *node.Node, last uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := n.WaitApplied(ctx, last); err != nil {
		t.Fatalf("%s did not apply the log up to entry %d: %v", n.Origin(), last, err)
	}
}

// readEventIDs reads entries 1..last and returns, for each event id, the
// entries it is stored in.
func readEventIDs(t *testing.T, n *node.Node, last uint64) map[string][]uint64 {
	t.Helper()
	seen := map[string][]uint64{}
	retryUnavailable(t, "read the log", func() error {
		clear(seen)
		return n.Log.Read(t.Context(), 1, last, func(seq uint64, data []byte) error {
			entry, err := vigil.UnmarshalEntry(data)
			if err != nil {
				return err
			}
			for _, ev := range entry {
				seen[ev.ID] = append(seen[ev.ID], seq)
			}
			return nil
		})
	})
	return seen
}

// retryUnavailable runs f until it returns an error other than
// Unavailable, which vigil documents as "retry": a read opens a consumer,
// which a cluster that is still settling after a restart may not answer
// at once. Any other error fails the test.
func retryUnavailable(t *testing.T, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := f()
		if err == nil {
			return
		}
		if vigil.ErrorKind(err) != vigil.Unavailable || time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		t.Logf("%s: %v; retrying", what, err)
		time.Sleep(500 * time.Millisecond)
	}
}

func countCounties(t *testing.T, n *node.Node) int {
	t.Helper()
	var count int
	if err := n.DB.QueryRow(`SELECT COUNT(*) FROM counties`).Scan(&count); err != nil {
		t.Fatal(err)
	}
	return count
}

// mustVerify checks the log from outside and the projections against a
// rebuild, and returns the log's root hash.
func mustVerify(t *testing.T, n *node.Node, entries uint64, events int) string {
	t.Helper()
	var rep node.LogReport
	retryUnavailable(t, n.Origin()+": verify the log", func() (err error) {
		rep, err = n.VerifyLog(t.Context(), nil)
		return err
	})
	if !rep.OK() {
		t.Errorf("%s: log verification failed: %v", n.Origin(), rep.Problems)
	}
	if rep.Entries != entries || rep.Events != events {
		t.Errorf("%s: verified %d entries with %d events, want %d with %d", n.Origin(), rep.Entries, rep.Events, entries, events)
	}
	var diffs []sqlite.Difference
	retryUnavailable(t, n.Origin()+": verify the projections", func() (err error) {
		diffs, _, err = n.VerifyProjections(t.Context(), t.TempDir())
		return err
	})
	if len(diffs) != 0 {
		t.Errorf("%s: projections differ from a rebuild: %v", n.Origin(), diffs)
	}
	return rep.Root.String()
}
