package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/sqlite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// startOwner brings the tree and projections up to the end of the log, then
// follows new entries in the background.
func (n *Node) startOwner(ctx context.Context) error {
	const op = "node.start"
	if err := os.MkdirAll(filepath.Dir(treePath(n.Dir)), 0o700); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	var err error
	if n.Tree, err = ledger.OpenTree(treePath(n.Dir)); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	n.proj = sqlite.NewProjector(n.DB, n.origin)
	_, first, last, err := n.Log.State(ctx)
	if err != nil {
		return err
	}
	if last > 0 && first != 1 {
		return vigil.Errorf(vigil.Integrity, op, "the event log starts at entry %d, not 1: entries were removed; run `vigil log verify`", first)
	}
	if size := uint64(n.Tree.Size()); size > last {
		return vigil.Errorf(vigil.Integrity, op,
			"the log holds %d entries but the tree recorded %d: acknowledged entries are missing; run `vigil log verify` and restore from a backup", last, size)
	}
	if err := n.checkTreeTail(ctx); err != nil {
		return err
	}
	ckptSize, err := n.checkStoredCheckpoint()
	if err != nil {
		return err
	}
	cursor, err := n.DB.Cursor(ctx, n.origin)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if cursor > last {
		return vigil.Errorf(vigil.Integrity, op,
			"the projections applied %d entries but the log holds %d; the log lost entries or the database belongs elsewhere", cursor, last)
	}
	n.applied = cursor
	from := min(uint64(n.Tree.Size()), cursor) + 1
	var batch []sqlite.RawEntry
	err = n.Log.Read(ctx, from, last, func(seq uint64, data []byte) error {
		batch = append(batch, sqlite.RawEntry{Seq: seq, Data: bytes.Clone(data)})
		if len(batch) >= 2000 {
			err := n.process(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		err = n.process(ctx, batch)
	}
	if err != nil {
		return err
	}
	size, _ := n.Tree.Root()
	n.lastCkp = ckptSize
	runCtx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(3)
	go n.follow(runCtx, uint64(size)+1)
	go n.checkpointLoop(runCtx)
	go n.verifyInBackground(runCtx)
	return nil
}

// verifyInBackground recomputes the whole tree once after start (the
// start-up checks cover only the tail; see docs/decisions/0005). A failure
// is logged and makes the node report itself unhealthy.
func (n *Node) verifyInBackground(ctx context.Context) {
	defer n.wg.Done()
	rep, err := n.VerifyLog(ctx, nil)
	if ctx.Err() != nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case err != nil:
		n.verifyErr = fmt.Errorf("log verification could not run: %w", err)
	case !rep.OK():
		n.verifyErr = vigil.Errorf(vigil.Integrity, "node.verify", "the stored log FAILED verification: %s", rep.Problems[0])
	default:
		n.verified = true
		return
	}
	n.log.Error("background log verification failed", "err", n.verifyErr)
}

// VerifyStatus reports the background verification: done, and the error
// if it failed.
func (n *Node) VerifyStatus() (done bool, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.verified || n.verifyErr != nil, n.verifyErr
}

// checkTreeTail compares the tree's last leaf with the stored entry: a tree
// file from another log, or a rewritten entry, stops the node.
func (n *Node) checkTreeTail(ctx context.Context) error {
	size := n.Tree.Size()
	if size == 0 {
		return nil
	}
	data, err := n.Log.Get(ctx, uint64(size))
	if err != nil {
		return vigil.Errorf(vigil.Integrity, "node.start", "entry %d cannot be read: %v; run `vigil log verify`", size, err)
	}
	h, err := n.Tree.LeafHash(size - 1)
	if err != nil {
		return vigil.Wrap("node.start", vigil.Other, err)
	}
	if h != tlog.RecordHash(data) {
		return vigil.Errorf(vigil.Integrity, "node.start",
			"entry %d does not match the hash recorded when it was appended: the log was modified; run `vigil log verify`", size)
	}
	return nil
}

// checkStoredCheckpoint checks the last checkpoint this node signed against
// the tree and returns its size. A mismatch means the history was rewritten.
func (n *Node) checkStoredCheckpoint() (int64, error) {
	b, err := os.ReadFile(ckptPath(n.Dir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, vigil.Wrap("node.start", vigil.Other, err)
	}
	c, err := ledger.OpenCheckpoint(b, note.VerifierList(n.Signer.Verifier))
	if err != nil {
		return 0, vigil.Errorf(vigil.Integrity, "node.start", "the stored checkpoint does not verify: %v", err)
	}
	if c.Size > n.Tree.Size() {
		return c.Size, nil // the tree file is behind (rebuilt); checked again at the next checkpoint
	}
	root, err := n.Tree.RootAt(c.Size)
	if err != nil {
		return 0, vigil.Wrap("node.start", vigil.Other, err)
	}
	if root != c.Root {
		return 0, vigil.Errorf(vigil.Integrity, "node.start",
			"the log's first %d entries no longer match the signed checkpoint: history was rewritten; run `vigil log verify`", c.Size)
	}
	return c.Size, nil
}

// process adds entries to the tree and the projections.
func (n *Node) process(ctx context.Context, batch []sqlite.RawEntry) error {
	size := uint64(n.Tree.Size())
	for _, e := range batch {
		if e.Seq <= size {
			continue
		}
		if e.Seq != size+1 {
			return vigil.Errorf(vigil.Integrity, "node.follow", "entry %d arrived after %d: the log has a gap", e.Seq, size)
		}
		if _, err := n.Tree.Append(e.Data); err != nil {
			return vigil.Wrap("node.follow", vigil.Other, err)
		}
		size++
	}
	if err := n.Tree.Flush(); err != nil {
		return vigil.Wrap("node.follow", vigil.Other, err)
	}
	cursor, err := n.proj.Apply(ctx, batch)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.applied = cursor
	n.cond.Broadcast()
	n.mu.Unlock()
	return nil
}

func (n *Node) follow(ctx context.Context, from uint64) {
	defer n.wg.Done()
	ch := make(chan sqlite.RawEntry, 8192)
	go func() {
		defer close(ch)
		err := n.Log.Follow(ctx, from, func(seq uint64, data []byte) error {
			select {
			case ch <- sqlite.RawEntry{Seq: seq, Data: bytes.Clone(data)}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err != nil && ctx.Err() == nil {
			n.fail(err)
		}
	}()
	for e := range ch {
		batch := []sqlite.RawEntry{e}
	drain:
		for len(batch) < 2000 {
			select {
			case e, ok := <-ch:
				if !ok {
					break drain
				}
				batch = append(batch, e)
			default:
				break drain
			}
		}
		if err := n.process(ctx, batch); err != nil {
			if ctx.Err() == nil {
				n.fail(err)
			}
			for range ch {
			}
			return
		}
	}
}

func (n *Node) checkpointLoop(ctx context.Context) {
	defer n.wg.Done()
	t := time.NewTicker(n.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.checkpoint(ctx); err != nil && ctx.Err() == nil {
				n.log.Error("checkpoint failed", "err", err)
			}
		}
	}
}

// checkpoint signs the current tree if it grew since the last checkpoint.
func (n *Node) checkpoint(ctx context.Context) error {
	// One signer at a time: checkpoints are published in size order and the
	// checkpoint file is written whole.
	n.ckMu.Lock()
	defer n.ckMu.Unlock()
	size, root := n.Tree.Root()
	if size == 0 || size <= n.lastCkp {
		return nil
	}
	c := ledger.Checkpoint{Origin: n.CheckpointOrigin(), Size: size, Root: root}
	msg, err := c.Sign(n.Signer)
	if err != nil {
		return err
	}
	if err := vnats.PublishCheckpoint(ctx, n.JS, n.Signer.Name(), msg); err != nil {
		return err
	}
	tmp := ckptPath(n.Dir) + ".tmp"
	if err := os.WriteFile(tmp, msg, 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, ckptPath(n.Dir)); err != nil {
		return err
	}
	n.lastCkp = size
	n.log.Info("checkpoint signed", "size", size)
	return nil
}

// Checkpoint signs a checkpoint now (if the tree grew) and returns the
// latest one.
func (n *Node) Checkpoint(ctx context.Context) ([]byte, error) {
	if n.Tree != nil {
		if err := n.checkpoint(ctx); err != nil {
			return nil, err
		}
	}
	return vnats.LatestCheckpoint(ctx, n.JS, n.Signer.Name())
}
