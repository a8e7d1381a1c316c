// Package node opens a vigil data directory and runs what every command
// needs on it: the keyring, the NATS engine (embedded or external), the
// event log, the Merkle tree and checkpoints, and the SQLite projections.
//
// One process owns a directory (an exclusive lock on DIR/lock). The owner
// runs the embedded server, follows the log into the tree and projections,
// and signs checkpoints. Any other process on the same directory — a CLI
// command while `vigil serve` runs — is a client: it reaches the owner's
// NATS listener with the local token and reads the projections read-only.
package node

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/sqlite"
)

// Options configure Open.
type Options struct {
	Dir    string
	Listen bool   // owner only: open a loopback NATS listener for local commands
	Host   string // listener host (default 127.0.0.1)
	Port   int
	Logger *slog.Logger
	Now    func() time.Time
	// CheckpointEvery is how often a growing log is checkpointed (default 5s).
	CheckpointEvery time.Duration
	// Inspect opens the directory for verification only: no start-up checks
	// (a damaged log must still open so that verify can name the damage),
	// no following, no checkpoints.
	Inspect bool
	// Mirror runs a mirror's directory: the embedded server links to the
	// hub and mirrors its streams (node/mirror.go).
	Mirror bool
	// Site (with Mirror) runs a polling-place site's directory: a mirror
	// that also writes, through the hub or, cut off, in its own log
	// (node/site.go).
	Site bool
}

// Node is an open data directory.
type Node struct {
	Dir    string
	Meta   Meta
	Keys   *keyring.Keyring
	Signer *ledger.Signer
	Owner  bool

	server *vnats.Server
	NC     *natsgo.Conn
	JS     jetstream.JetStream
	Log    *vnats.Log
	Tree   *ledger.Tree // owner only
	DB     *sqlite.DB
	proj   *sqlite.Projector

	log    *slog.Logger
	now    func() time.Time
	lock   *os.File
	every  time.Duration
	origin string

	mu        sync.Mutex
	applied   uint64
	verified  bool  // background verification passed
	verifyErr error // background verification failed
	cond      *sync.Cond
	runErr    error

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	ckMu    sync.Mutex // serializes checkpoint signing; guards lastCkp
	lastCkp int64

	mirror     *mirrorConfig // an unpromoted mirror (node/mirror.go)
	site       *siteLink     // a running polling-place site (node/site.go)
	siteHub    *siteHub      // a hub serving polling-place sites (node/site_hub.go)
	hubMirrors *hubMirrors   // a hub admitting mirrors
	links      *admitted     // what it admits now (node/links.go)
}

// Paths inside a data directory.
func storeDir(dir string) string   { return filepath.Join(dir, "nats") }
func keyringDir(dir string) string { return filepath.Join(dir, "keyring") }
func treePath(dir string) string   { return filepath.Join(dir, "ledger", "tree") }
func ckptPath(dir string) string   { return filepath.Join(dir, "ledger", "checkpoint") }
func dbPath(dir string) string     { return filepath.Join(dir, "vigil.db") }
func runPath(dir string) string    { return filepath.Join(dir, "run", "node.json") }

// DBPath returns the projection database path of a data directory.
func DBPath(dir string) string { return dbPath(dir) }

// TreePath returns the hash-file path of a data directory.
func TreePath(dir string) string { return treePath(dir) }

// StoreDir returns the JetStream store of a data directory.
func StoreDir(dir string) string { return storeDir(dir) }

// Open opens dir. If no other process owns it, this process becomes the
// owner and starts the engine; otherwise it connects to the owner.
func Open(ctx context.Context, o Options) (*Node, error) {
	const op = "node.open"
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckpointEvery == 0 {
		o.CheckpointEvery = 5 * time.Second
	}
	meta, err := readMeta(o.Dir)
	if err != nil {
		return nil, err
	}
	keys, err := keyring.Load(keyringDir(o.Dir))
	if err != nil {
		return nil, err
	}
	if keys.StoreKeyFingerprint() != meta.StoreKeyFingerprint {
		return nil, vigil.Errorf(vigil.Integrity, op,
			"the store key in %s is not the key this directory was created with (fingerprint %s, expected %s); restore the right keyring — vigil will not start with an empty log",
			keyringDir(o.Dir), keys.StoreKeyFingerprint(), meta.StoreKeyFingerprint)
	}
	signer, err := ledger.NewSigner(keys.SignerKey)
	if err != nil {
		return nil, vigil.Errorf(vigil.Integrity, op, "node.key is malformed: %v", err)
	}
	n := &Node{Dir: o.Dir, Meta: meta, Keys: keys, Signer: signer, log: o.Logger, now: o.Now,
		every: o.CheckpointEvery, origin: vnats.EventsStream}
	n.cond = sync.NewCond(&n.mu)
	if err := n.acquireLock(); err != nil {
		return nil, err
	}
	if err := n.openMirror(o); err != nil {
		n.Close()
		return nil, err
	}
	if err := n.connect(ctx, o); err != nil {
		n.Close()
		return nil, err
	}
	if n.Log, err = vnats.OpenLog(ctx, n.JS); err != nil {
		n.Close()
		return nil, err
	}
	if fp, err := vnats.SecretsFingerprint(ctx, n.JS); err != nil {
		n.Close()
		return nil, err
	} else if fp != "" && fp != keys.SecretsFingerprint() {
		n.Close()
		return nil, vigil.Errorf(vigil.Integrity, op,
			"keyring/secrets.key is not this log's secrets key (fingerprint %s, the log's is %s); copy it from a node of this log", keys.SecretsFingerprint(), fp)
	}
	if n.DB, err = sqlite.Open(ctx, dbPath(o.Dir)); err != nil {
		n.Close()
		return nil, err
	}
	if n.Owner && o.Inspect {
		if n.Tree, err = ledger.OpenTree(treePath(o.Dir)); err != nil {
			n.Close()
			return nil, vigil.Wrap(op, vigil.Other, err)
		}
	} else if n.Owner {
		if err := n.startOwner(ctx); err != nil {
			n.Close()
			return nil, err
		}
		if err := n.startMirrorHub(ctx); err != nil {
			n.Close()
			return nil, err
		}
		if err := n.startSites(ctx, o); err != nil {
			n.Close()
			return nil, err
		}
	}
	return n, nil
}

func (n *Node) acquireLock() error {
	f, err := os.OpenFile(filepath.Join(n.Dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return vigil.Wrap("node.lock", vigil.Unavailable, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		n.Owner = false
		return nil
	}
	n.lock, n.Owner = f, true
	return nil
}

func (n *Node) connect(ctx context.Context, o Options) error {
	const op = "node.connect"
	var err error
	switch {
	case n.Meta.NATSURL != "":
		n.NC, err = vnats.Dial(vnats.ClientOptions{URL: n.Meta.NATSURL, Token: n.Meta.NATSToken,
			CredsFile: n.Meta.NATSCreds, CAFile: n.Meta.NATSCA, CertFile: n.Meta.NATSCert, KeyFile: n.Meta.NATSKey,
			Name: "vigil " + n.Meta.NodeName})
	case n.Owner:
		cfg := vnats.Config{Name: n.Meta.NodeName, StoreDir: storeDir(n.Dir), Key: n.Keys.StoreKey,
			Listen: o.Listen, Host: o.Host, Port: o.Port, Token: n.Keys.Token}
		if err := n.natsMirrorConfig(&cfg, o); err != nil {
			return err
		}
		n.server, err = vnats.Start(cfg)
		if err == nil {
			n.NC, err = n.server.Connect("vigil " + n.Meta.NodeName)
		}
		if err == nil && o.Listen {
			err = n.writeRunInfo(runInfo{PID: os.Getpid(), NATSURL: n.server.ClientURL()})
		}
	default:
		var ri runInfo
		b, rerr := os.ReadFile(runPath(n.Dir))
		if rerr == nil {
			rerr = json.Unmarshal(b, &ri)
		}
		if rerr != nil || ri.NATSURL == "" {
			return vigil.Errorf(vigil.Unavailable, op,
				"another vigil process holds %s but publishes no address; wait for it to finish or stop it", n.Dir)
		}
		n.NC, err = vnats.Dial(vnats.ClientOptions{URL: ri.NATSURL, Token: n.Keys.Token, Name: "vigil cli"})
	}
	if err != nil {
		return err
	}
	n.JS, err = jetstream.New(n.NC)
	return vigil.Wrap(op, vigil.Unavailable, err)
}

func (n *Node) writeRunInfo(ri runInfo) error {
	if err := os.MkdirAll(filepath.Dir(runPath(n.Dir)), 0o700); err != nil {
		return err
	}
	b, _ := json.Marshal(ri)
	return os.WriteFile(runPath(n.Dir), b, 0o600)
}

// SetHTTPAddr records the node's HTTP address for local tools.
func (n *Node) SetHTTPAddr(addr string) error {
	if !n.Owner || n.server == nil {
		return nil
	}
	return n.writeRunInfo(runInfo{PID: os.Getpid(), NATSURL: n.server.ClientURL(), HTTP: addr})
}

// NATSClientURL is the owner's loopback NATS listener ("" if none).
func (n *Node) NATSClientURL() string {
	if n.server == nil {
		return ""
	}
	return n.server.ClientURL()
}

// Now is the node's clock.
func (n *Node) Now() time.Time { return n.now() }

// Origin names this node in events.
func (n *Node) Origin() string { return n.Meta.NodeName }

// Append stores events and waits until this node's projections include
// them, so the caller reads its own writes. Errors: see nats.Log.Append.
func (n *Node) Append(ctx context.Context, events []vigil.Event, o vigil.AppendOptions) (uint64, error) {
	if n.site != nil {
		return n.site.append(ctx, events, o)
	}
	if n.mirror != nil {
		return 0, n.errReadOnly()
	}
	seq, err := n.Log.Append(ctx, events, o)
	if err != nil {
		return 0, err
	}
	return seq, n.WaitApplied(ctx, seq)
}

// WaitApplied blocks until the projections have applied entry seq.
func (n *Node) WaitApplied(ctx context.Context, seq uint64) error {
	if !n.Owner {
		// The owner applies; poll its projection's cursor.
		for {
			cur, err := n.DB.Cursor(ctx, n.origin)
			if err != nil {
				return vigil.Wrap("node.wait", vigil.Unavailable, err)
			}
			if cur >= seq {
				return nil
			}
			select {
			case <-ctx.Done():
				return vigil.Wrap("node.wait", vigil.Unavailable, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	stop := context.AfterFunc(ctx, func() {
		n.mu.Lock()
		n.cond.Broadcast()
		n.mu.Unlock()
	})
	defer stop()
	n.mu.Lock()
	defer n.mu.Unlock()
	for n.applied < seq && n.runErr == nil {
		if ctx.Err() != nil {
			return vigil.Wrap("node.wait", vigil.Unavailable, ctx.Err())
		}
		n.cond.Wait()
	}
	return n.runErr
}

// CatchUp waits (up to 5 s) until the projections hold every entry the
// log holds now: after a lost claim, so that the winner can be read.
func (n *Node) CatchUp(ctx context.Context) error {
	last, err := n.Log.LastSeq(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return n.WaitApplied(ctx, last)
}

// background runs fn on its own goroutine until the node closes.
func (n *Node) background(fn func(ctx context.Context)) {
	ctx, cancel := context.WithCancel(context.Background())
	prev := n.cancel
	n.cancel = func() {
		cancel()
		if prev != nil {
			prev()
		}
	}
	n.wg.Add(1)
	go func() { defer n.wg.Done(); fn(ctx) }()
}

// Applied returns the last entry applied to the projections.
func (n *Node) Applied() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.applied
}

// Err returns the error that stopped the follower, if any.
func (n *Node) Err() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.runErr
}

// Close signs a final checkpoint (owner) and releases everything.
func (n *Node) Close() error {
	var errs []error
	if n.cancel != nil {
		n.cancel()
		n.wg.Wait()
		if n.Tree != nil && n.runErr == nil && n.mirror == nil {
			errs = append(errs, n.checkpoint(context.Background()))
		}
	}
	if n.Log != nil {
		n.Log.Close()
	}
	if n.Tree != nil {
		errs = append(errs, n.Tree.Close())
	}
	if n.DB != nil {
		errs = append(errs, n.DB.Close())
	}
	if n.NC != nil {
		n.NC.Drain()
		n.NC.Close()
	}
	if n.server != nil {
		n.server.Shutdown()
		os.Remove(runPath(n.Dir))
	}
	if n.lock != nil {
		n.lock.Close()
	}
	return errors.Join(errs...)
}

func (n *Node) fail(err error) {
	n.mu.Lock()
	if n.runErr == nil {
		n.runErr = err
	}
	n.cond.Broadcast()
	n.mu.Unlock()
	n.log.Error("node stopped following the log", "err", err)
}

// Origin of the log in checkpoints: the log id fixed at creation.
func (n *Node) CheckpointOrigin() string { return "vigil.log/" + n.Log.LogID }
