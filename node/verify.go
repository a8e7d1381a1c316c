package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/sqlite"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// LogReport is the outcome of VerifyLog.
type LogReport struct {
	Entries     uint64
	Events      int
	Checkpoints int // checkpoints that verified
	Root        tlog.Hash
	Problems    []string // empty when everything holds
	FirstBad    int64    // 0-based index of the first bad entry, -1 if none
}

// OK reports whether the log verified.
func (r LogReport) OK() bool { return len(r.Problems) == 0 }

type namedCheckpoint struct {
	from string
	ledger.SignedCheckpoint
}

// VerifyLog recomputes the Merkle tree from the stored entries and checks
// every stored checkpoint, the node's own checkpoint file and external (a
// checkpoint note from an observer or a paper backup; may be nil). It
// trusts nothing derived: not the tree file, not the projections.
func (n *Node) VerifyLog(ctx context.Context, external []byte) (LogReport, error) {
	rep := LogReport{FirstBad: -1}
	bad := func(idx int64, format string, args ...any) {
		rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		if idx >= 0 && (rep.FirstBad < 0 || idx < rep.FirstBad) {
			rep.FirstBad = idx
		}
	}
	verifiers := note.VerifierList(n.Signer.Verifier)
	var cps []namedCheckpoint
	own, _ := os.ReadFile(ckptPath(n.Dir))
	ownStored := false
	err := vnats.ReadCheckpoints(ctx, n.JS, func(seq uint64, msg []byte) error {
		ownStored = ownStored || bytes.Equal(msg, own)
		c, err := ledger.OpenCheckpoint(msg, verifiers)
		if err != nil {
			// A note signed only by keys we do not know is another node's
			// checkpoint (note.Open reports UnverifiedNoteError for it);
			// a bad signature by our own key is InvalidSignatureError.
			var unknown *note.UnknownVerifierError
			var unverified *note.UnverifiedNoteError
			if errors.As(err, &unknown) || errors.As(err, &unverified) {
				return nil // signed by another node of the cluster
			}
			bad(-1, "checkpoint %d in the checkpoint stream does not verify: %v", seq, err)
			return nil
		}
		cps = append(cps, namedCheckpoint{fmt.Sprintf("stored checkpoint %d", seq), c})
		return nil
	})
	if err != nil {
		if vigil.ErrorKind(err) == vigil.Integrity {
			bad(-1, "%s", vigil.ErrorMessage(err))
		} else {
			return rep, err
		}
	}
	if len(own) > 0 && !ownStored {
		bad(-1, "the checkpoint stream no longer holds this node's latest checkpoint: checkpoints were lost or removed")
	}
	if b, err := os.ReadFile(ckptPath(n.Dir)); err == nil {
		if c, err := ledger.OpenCheckpoint(b, verifiers); err != nil {
			bad(-1, "the node's checkpoint file does not verify: %v", err)
		} else {
			cps = append(cps, namedCheckpoint{"the node's checkpoint file", c})
		}
	}
	if external != nil {
		c, err := ledger.OpenCheckpoint(external, verifiers)
		if err != nil {
			bad(-1, "the given checkpoint does not verify with this node's key: %v", err)
		} else {
			cps = append(cps, namedCheckpoint{"the given checkpoint", c})
		}
	}
	for _, c := range cps {
		if c.Origin != n.CheckpointOrigin() {
			bad(-1, "%s is for log %q, not this log (%q)", c.from, c.Origin, n.CheckpointOrigin())
		}
	}
	sort.SliceStable(cps, func(i, j int) bool { return cps[i].Size < cps[j].Size })

	damage, err := vnats.Damage(ctx, n.JS)
	if err != nil {
		return rep, err
	}
	for _, d := range damage {
		bad(-1, "%s", d)
	}
	msgs, first, last, err := n.Log.State(ctx)
	if err != nil {
		return rep, err
	}
	rep.Entries = last
	if last > 0 && first != 1 {
		bad(0, "entries 1..%d are missing from the stored log", first-1)
	}
	if last > 0 && msgs != last-first+1 {
		bad(-1, "the stored log holds %d entries for sequences %d..%d: %d are missing", msgs, first, last, last-first+1-msgs)
	}
	tree := n.Tree // nil for a client of the owning process
	var h ledger.Hasher
	next := 0
	err = n.Log.Read(ctx, first, last, func(seq uint64, data []byte) error {
		idx := int64(seq - 1)
		lh := h.Add(data)
		if entry, err := vigil.UnmarshalEntry(data); err != nil {
			bad(idx, "entry %d (index %d) cannot be decoded: %v", seq, idx, err)
		} else {
			rep.Events += len(entry)
		}
		if tree != nil && idx < tree.Size() {
			if stored, err := tree.LeafHash(idx); err == nil && stored != lh {
				bad(idx, "entry %d (index %d) differs from the hash recorded when it was appended", seq, idx)
			}
		}
		for next < len(cps) && cps[next].Size == h.Size() {
			if h.Root() != cps[next].Root {
				// The tree file names the exact entry when it is intact;
				// without it, the damage lies after the last good checkpoint.
				idx := int64(-1)
				if rep.FirstBad < 0 {
					idx = firstBadBefore(cps[:next], h.Size())
				}
				bad(idx, "%s (size %d) does not match the entries stored: history was modified",
					cps[next].from, cps[next].Size)
			} else {
				rep.Checkpoints++
			}
			next++
		}
		return nil
	})
	if err != nil {
		if vigil.ErrorKind(err) != vigil.Integrity {
			return rep, err
		}
		bad(int64(h.Size()), "%s", vigil.ErrorMessage(err))
	}
	for ; next < len(cps); next++ {
		if cps[next].Size > int64(h.Size()) {
			bad(h.Size(), "%s covers %d entries but only %d can be read: entries from index %d on were removed or are unreadable",
				cps[next].from, cps[next].Size, h.Size(), h.Size())
		}
	}
	rep.Root = h.Root()
	return rep, nil
}

// firstBadBefore estimates where a mismatch starts when the tree file could
// not name it: right after the last checkpoint that still matched.
func firstBadBefore(good []namedCheckpoint, size int64) int64 {
	if len(good) == 0 {
		return 0
	}
	return min(good[len(good)-1].Size, size-1)
}

// VerifyProjections rebuilds every projection from the log into a scratch
// database and compares it with the live one at the live cursor.
func (n *Node) VerifyProjections(ctx context.Context, scratchDir string) ([]sqlite.Difference, uint64, error) {
	live, err := n.DB.Snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer live.Rollback()
	var cursor uint64
	if err := live.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM cursors WHERE origin = ?), 0)`, n.origin).Scan(&cursor); err != nil {
		return nil, 0, vigil.Wrap("verify", vigil.Unavailable, err)
	}
	path := filepath.Join(scratchDir, "rebuild.db")
	scratch, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, 0, err
	}
	defer func() { scratch.Close(); os.Remove(path); os.Remove(path + "-wal"); os.Remove(path + "-shm") }()
	proj := sqlite.NewProjector(scratch, n.origin)
	var batch []sqlite.RawEntry
	err = n.Log.Read(ctx, 1, cursor, func(seq uint64, data []byte) error {
		batch = append(batch, sqlite.RawEntry{Seq: seq, Data: append([]byte(nil), data...)})
		if len(batch) >= 2000 {
			_, err := proj.Apply(ctx, batch)
			batch = batch[:0]
			return err
		}
		return nil
	})
	if err == nil && len(batch) > 0 {
		_, err = proj.Apply(ctx, batch)
	}
	if err != nil {
		return nil, cursor, err
	}
	built, err := scratch.Snapshot(ctx)
	if err != nil {
		return nil, cursor, err
	}
	defer built.Rollback()
	diffs, err := sqlite.Compare(ctx, live, built)
	return diffs, cursor, err
}
