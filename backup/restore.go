package backup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
)

// RestoreOptions configure Restore.
type RestoreOptions struct {
	VerifyOptions
	// Dir is the new data directory. It must not exist or be empty.
	Dir string
	Now func() time.Time
}

// Restore verifies an archive while it rebuilds a data directory from it
// in a staging directory next to o.Dir, and moves it into place only when
// everything verified and the restored node opened. The log is republished
// entry by entry into a new store encrypted under a new store key; the
// checkpoint and secrets keys come from the archive, so the restored node
// signs as the old one and can open sealed secrets (docs/decisions/0006).
// Errors: Conflict (target not empty), and those of Verify.
func Restore(ctx context.Context, r io.Reader, o RestoreOptions) (Report, error) {
	const op = "backup.restore"
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Dir == "" {
		return Report{}, vigil.FieldError(op, "data", "name the directory to restore into")
	}
	if err := checkEmpty(o.Dir); err != nil {
		return Report{}, err
	}
	parent, base := filepath.Split(filepath.Clean(o.Dir))
	if parent == "" {
		parent = "."
	}
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return Report{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	staging := filepath.Join(parent, "."+base+".restoring-"+hex.EncodeToString(rnd[:]))
	rs := &restoreSink{ctx: ctx, dir: staging, now: o.Now}
	defer rs.abort()
	rep, err := scan(ctx, r, o.VerifyOptions, rs)
	if err != nil {
		return rep, err
	}
	if err := rs.finish(rep); err != nil {
		return rep, err
	}
	// Open the restored node once: its start-up checks run, the projections
	// catch up from the database's cursor to the checkpoint.
	n, err := node.Open(ctx, node.Options{Dir: staging})
	if err != nil {
		return rep, fmt.Errorf("the restored node does not open: %w", err)
	}
	if err := n.WaitApplied(ctx, rep.Meta.Entries); err != nil {
		n.Close()
		return rep, err
	}
	if err := n.Close(); err != nil {
		return rep, vigil.Wrap(op, vigil.Other, err)
	}
	os.RemoveAll(filepath.Join(staging, "run"))
	if err := checkEmpty(o.Dir); err != nil { // someone wrote there meanwhile
		return rep, err
	}
	os.Remove(o.Dir) // an empty target directory
	if err := os.Rename(staging, o.Dir); err != nil {
		return rep, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if d, err := os.Open(parent); err == nil { // make the new name durable
		d.Sync()
		d.Close()
	}
	rs.dir = "" // nothing to clean up
	return rep, nil
}

// checkEmpty refuses a target that holds anything.
func checkEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return vigil.Errorf(vigil.Invalid, "backup.restore", "cannot use %s as the restore target: %v", dir, err)
	}
	if len(entries) > 0 {
		return vigil.Errorf(vigil.Conflict, "backup.restore",
			"%s is not empty; restore into a new or empty directory (a restore never overwrites a node)", dir)
	}
	return nil
}

// restoreSink writes an archive into a staging data directory.
type restoreSink struct {
	ctx  context.Context
	dir  string
	now  func() time.Time
	srv  *vnats.Server
	nc   *natsgo.Conn
	js   jetstream.JetStream
	tree *ledger.Tree

	pending      []pendingAck
	pendingBytes int
}

type pendingAck struct {
	f    jetstream.PubAckFuture
	seq  uint64
	st   string
	size int
}

// The restore keeps at most publishWindow entries or publishBytes bytes
// unacknowledged: memory stays bounded whatever the entries' sizes.
const (
	publishWindow = 1024
	publishBytes  = 32 << 20
)

func (rs *restoreSink) begin(m Meta, keys map[string][]byte, checkpoint []byte) error {
	const op = "backup.restore"
	skey := strings.TrimSpace(string(keys[partNodeKey]))
	vkey, err := ledger.VerifierKey(skey)
	if err != nil || vkey != strings.TrimSpace(string(keys[partNodePub])) {
		return vigil.Errorf(vigil.Integrity, op, "the archived node key does not match its verifier key")
	}
	krDir := filepath.Join(rs.dir, "keyring")
	if err := os.MkdirAll(rs.dir, 0o700); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	// A new keyring (new store key and local token), then the archived
	// identity and secrets keys over it.
	if _, err := keyring.Create(krDir, m.NodeName, strings.TrimSpace(string(keys[partSecretsKey]))); err != nil {
		if vigil.ErrorKind(err) == vigil.Integrity || vigil.ErrorKind(err) == vigil.Invalid {
			return vigil.Errorf(vigil.Integrity, op, "part keyring/secrets.key is not a secrets key (%s): the archive was altered", vigil.ErrorMessage(err))
		}
		return err
	}
	for part, file := range map[string]string{partNodeKey: "node.key", partNodePub: "node.pub"} {
		if err := os.WriteFile(filepath.Join(krDir, file), keys[part], 0o600); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	kr, err := keyring.Load(krDir)
	if err != nil {
		if vigil.ErrorKind(err) == vigil.Integrity {
			return vigil.Errorf(vigil.Integrity, op, "part keyring/secrets.key or the node key is damaged (%s): the archive was altered", vigil.ErrorMessage(err))
		}
		return err
	}
	if m.SecretsFP != "" && kr.SecretsFingerprint() != m.SecretsFP {
		return vigil.Errorf(vigil.Integrity, op, "part keyring/secrets.key is not the log's secrets key (fingerprint %s, the log's is %s): the archive was altered",
			kr.SecretsFingerprint(), m.SecretsFP)
	}
	meta := node.Meta{FormatVersion: vigil.FormatVersion, NodeName: m.NodeName, Created: rs.now().UTC(),
		StoreKeyFingerprint: kr.StoreKeyFingerprint(), Replicas: 1}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	if err := os.WriteFile(filepath.Join(rs.dir, "vigil.json"), append(mb, '\n'), 0o600); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := os.MkdirAll(filepath.Join(rs.dir, "ledger"), 0o700); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := os.WriteFile(filepath.Join(rs.dir, "ledger", "checkpoint"), checkpoint, 0o600); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if rs.tree, err = ledger.OpenTree(node.TreePath(rs.dir)); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	// Without SyncAlways: one fsync per entry would bound a restore of
	// many small entries by the disk's fsync rate (measured 526 entries/s
	// on a busy machine); finish syncs every file once instead, and the
	// directory gets its final name only after that.
	if rs.srv, err = vnats.Start(vnats.Config{Name: m.NodeName, StoreDir: node.StoreDir(rs.dir), Key: kr.StoreKey, NoSync: true}); err != nil {
		return err
	}
	if rs.nc, err = rs.srv.Connect("vigil restore"); err != nil {
		return err
	}
	if rs.js, err = jetstream.New(rs.nc, jetstream.WithPublishAsyncMaxPending(4*publishWindow)); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	return vnats.CreateStreams(rs.ctx, rs.js, vnats.StreamSet{Replicas: 1, LogID: m.LogID, SecretsFP: kr.SecretsFingerprint()})
}

func (rs *restoreSink) entry(stream string, seq uint64, subject string, data []byte) error {
	if stream == vnats.EventsStream {
		if _, err := rs.tree.Append(data); err != nil {
			return vigil.Wrap("backup.restore", vigil.Other, err)
		}
	}
	msg := natsgo.NewMsg(subject)
	msg.Data = bytes.Clone(data) // the reader reuses its buffer
	f, err := rs.js.PublishMsgAsync(msg, jetstream.WithExpectStream(stream))
	if err != nil {
		return vigil.Wrap("backup.restore", vigil.Unavailable, err)
	}
	rs.pending = append(rs.pending, pendingAck{f: f, seq: seq, st: stream, size: len(data)})
	rs.pendingBytes += len(data)
	if len(rs.pending) >= publishWindow || rs.pendingBytes >= publishBytes {
		return rs.drain(publishWindow / 2)
	}
	return nil
}

// drain waits for acknowledgements until at most keep are outstanding.
func (rs *restoreSink) drain(keep int) error {
	const op = "backup.restore"
	for len(rs.pending) > keep || len(rs.pending) > 0 && rs.pendingBytes >= publishBytes/2 {
		p := rs.pending[0]
		select {
		case ack := <-p.f.Ok():
			if ack.Sequence != p.seq {
				return vigil.Errorf(vigil.Other, op, "stream %s stored entry %d as %d; the new store was not empty", p.st, p.seq, ack.Sequence)
			}
		case err := <-p.f.Err():
			return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("storing entry %d of %s: %w", p.seq, p.st, err))
		case <-rs.ctx.Done():
			return vigil.Wrap(op, vigil.Unavailable, rs.ctx.Err())
		}
		rs.pendingBytes -= p.size
		rs.pending = rs.pending[1:]
	}
	return nil
}

func (rs *restoreSink) database(r io.Reader) error {
	f, err := os.OpenFile(node.DBPath(rs.dir), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return vigil.Wrap("backup.restore", vigil.Unavailable, err)
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err // the caller blames the archive or the disk
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return vigil.Wrap("backup.restore", vigil.Unavailable, err)
	}
	return vigil.Wrap("backup.restore", vigil.Unavailable, f.Close())
}

// finish waits for every entry to be stored and closes the engine.
func (rs *restoreSink) finish(rep Report) error {
	const op = "backup.restore"
	if err := rs.drain(0); err != nil {
		return err
	}
	for _, want := range []struct {
		name string
		last uint64
	}{{vnats.EventsStream, rep.Meta.Entries}, {vnats.CheckpointsStream, rep.Checkpoints}} {
		last, _, err := streamState(rs.ctx, rs.js, want.name)
		if err != nil {
			return err
		}
		if last != want.last {
			return vigil.Errorf(vigil.Other, op, "stream %s holds %d entries after the restore, want %d", want.name, last, want.last)
		}
	}
	if err := rs.tree.Flush(); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	if size, root := rs.tree.Root(); size != int64(rep.Meta.Entries) || root != rep.Root {
		return vigil.Errorf(vigil.Other, op, "the rebuilt tree does not match the archive")
	}
	err := rs.tree.Close()
	rs.tree = nil
	rs.closeEngine()
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	return vigil.Wrap(op, vigil.Unavailable, syncTree(rs.dir))
}

// syncTree fsyncs every file and directory under dir.
func syncTree(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		err = f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

func (rs *restoreSink) closeEngine() {
	if rs.nc != nil {
		rs.nc.Close()
		rs.nc = nil
	}
	if rs.srv != nil {
		rs.srv.Shutdown()
		rs.srv = nil
	}
}

// abort removes the staging directory unless the restore moved it into place.
func (rs *restoreSink) abort() {
	if rs.tree != nil {
		rs.tree.Close()
	}
	rs.closeEngine()
	if rs.dir != "" {
		os.RemoveAll(rs.dir)
	}
}
