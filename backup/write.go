package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"time"

	"filippo.io/age"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
	"golang.org/x/mod/sumdb/note"
	msqlite "modernc.org/sqlite"
)

// Options configure Write.
type Options struct {
	// Recipients the archive is encrypted to; at least one.
	Recipients []age.Recipient
	// Progress, if set, is called as bytes are archived; total is an
	// estimate (stored stream bytes plus the database).
	Progress func(done, total int64)
	// TempDir holds the database snapshot while it is archived
	// (default os.TempDir()).
	TempDir string
	// CheckpointWait bounds the wait for a signed checkpoint that covers
	// the database snapshot when another process owns the node (default 30s;
	// the owner signs every few seconds).
	CheckpointWait time.Duration
	Now            func() time.Time
}

// Result describes a written archive.
type Result struct {
	Meta       Meta
	Checkpoint []byte // the signed checkpoint the log was cut at
	Events     int
	Bytes      int64 // plaintext bytes in the tar (before encryption)
	Parts      int
}

// Write writes a backup of n to w. It works on a node this process owns
// and, as a client, on a node that `vigil serve` is running: entries are
// immutable, so the archive is exactly the log up to a signed checkpoint
// taken after the database snapshot, whatever is appended meanwhile.
// Errors: Invalid (no recipients, mixed key kinds), NotFound (empty log),
// Unavailable, Integrity (the stored log has a gap).
func Write(ctx context.Context, n *node.Node, w io.Writer, o Options) (Result, error) {
	const op = "backup.write"
	var res Result
	if len(o.Recipients) == 0 {
		return res, vigil.FieldError(op, "recipient", "give at least one age recipient (age1… or age1pq1…)")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CheckpointWait == 0 {
		o.CheckpointWait = 30 * time.Second
	}
	// 1. The projection database, consistent at some cursor C: the live
	// file itself when it can be pinned, else a copy.
	dbFile, cursor, release, err := pinDB(ctx, n.DB)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("pinning the projection database: %w", err))
	}
	if release != nil {
		defer release()
	} else {
		tmp, err := os.MkdirTemp(o.TempDir, "vigil-backup-")
		if err != nil {
			return res, vigil.Wrap(op, vigil.Unavailable, err)
		}
		defer os.RemoveAll(tmp)
		dbFile = filepath.Join(tmp, "vigil.db")
		if err := snapshotDB(ctx, n.DB.DB, dbFile); err != nil {
			return res, vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("snapshot of the projection database: %w", err))
		}
		if cursor, err = snapshotCursor(ctx, dbFile); err != nil {
			return res, err
		}
	}
	// 2. A signed checkpoint N ≥ C: the log is cut there.
	ckNote, ck, err := checkpointCovering(ctx, n, cursor, o.CheckpointWait)
	if err != nil {
		return res, err
	}
	dbInfo, err := os.Stat(dbFile)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Other, err)
	}
	_, evBytes, err := streamState(ctx, n.JS, vnats.EventsStream)
	if err != nil {
		return res, err
	}
	aw, err := age.Encrypt(w, o.Recipients...)
	if err != nil {
		return res, vigil.FieldError(op, "recipient", "%v (post-quantum age1pq1… keys cannot be mixed with age1… keys)", err)
	}
	a := &archiver{tw: tar.NewWriter(aw), now: o.Now().UTC(), progress: o.Progress,
		total: int64(evBytes) + dbInfo.Size()}
	secretsFP, err := vnats.SecretsFingerprint(ctx, n.JS)
	if err != nil {
		return res, err
	}
	meta := Meta{SecretsFP: secretsFP, Format: FormatVersion, NodeName: n.Meta.NodeName, LogID: n.Log.LogID, Origin: n.CheckpointOrigin(),
		Created: a.now, Entries: uint64(ck.Size), DBCursor: cursor, VerifierKey: n.Signer.VKey, VigilVersion: vigil.Version}
	mb, _ := json.MarshalIndent(meta, "", "  ")
	if err := a.putBytes(partMeta, append(mb, '\n')); err != nil {
		return res, err
	}
	for _, kf := range []struct{ part, file string }{
		{partNodePub, "node.pub"}, {partNodeKey, "node.key"}, {partSecretsKey, "secrets.key"}} {
		b, err := os.ReadFile(filepath.Join(n.Keys.Dir, kf.file))
		if err != nil {
			return res, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if err := a.putBytes(kf.part, b); err != nil {
			return res, err
		}
	}
	if err := a.putBytes(partCheckpoint, ckNote); err != nil {
		return res, err
	}
	// 3. The log, entries 1..N, in bounded chunks.
	err = a.chunks(partLog, func(add func(seq uint64, subject string, data []byte) error) error {
		return readStream(ctx, n.JS, vnats.EventsStream, 1, uint64(ck.Size), func(seq uint64, subject string, data []byte) error {
			res.Events += bytes.Count(data, []byte{'\n'}) + 1
			return add(seq, subject, data)
		})
	})
	if err != nil {
		return res, err
	}
	// 4. The checkpoint stream, up to the cut: notes of larger trees (this
	// node's later ones, or another cluster node's) would name entries the
	// archive does not hold.
	ckLast, _, err := streamState(ctx, n.JS, vnats.CheckpointsStream)
	if err != nil {
		return res, err
	}
	var kept uint64
	err = a.chunks(partCkpts, func(add func(seq uint64, subject string, data []byte) error) error {
		return readStream(ctx, n.JS, vnats.CheckpointsStream, 1, ckLast, func(seq uint64, subject string, data []byte) error {
			if size, ok := noteSize(data); ok && size > ck.Size {
				return nil
			}
			kept++
			return add(kept, subject, data)
		})
	})
	if err != nil {
		return res, err
	}
	// 5. The database snapshot.
	f, err := os.Open(dbFile)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Other, err)
	}
	err = a.put(partDB, dbInfo.Size(), f)
	f.Close()
	if err != nil {
		return res, err
	}
	// 6. The signed manifest, then close the tar and the age stream.
	m := manifest{Origin: meta.Origin, Node: meta.NodeName, Created: a.now, Entries: meta.Entries, Parts: a.sums}
	signed, err := m.sign(n.Signer)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Other, err)
	}
	if err := a.putBytes(partManifest, signed); err != nil {
		return res, err
	}
	if err := a.tw.Close(); err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := aw.Close(); err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	return Result{Meta: meta, Checkpoint: ckNote, Events: res.Events, Bytes: a.done, Parts: len(a.sums)}, nil
}

// pinDB makes the live database file a consistent snapshot without copying
// it (a copy doubled the backup's disk traffic). It opens a read
// transaction, then lets a passive checkpoint (which never waits and never
// blocks the writer) copy log frames into the file: the checkpoint cannot
// copy a frame the open reader does not see, so when it reports every
// frame copied, the file holds exactly the reader's snapshot, and keeps
// holding it until release while the node goes on writing into the log.
// It returns the file, the snapshot's projection cursor and release;
// release is nil when the checkpoint could not catch up (a busy moment),
// and the caller copies the database instead.
func pinDB(ctx context.Context, db *sqlite.DB) (path string, cursor uint64, release func(), err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return "", 0, nil, err
	}
	end := func() { conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`) }
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := conn.ExecContext(ctx, `BEGIN`); err != nil {
			conn.Close()
			return "", 0, nil, err
		}
		err := conn.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM cursors WHERE origin = ?), 0)`, vnats.EventsStream).Scan(&cursor)
		if err != nil {
			end()
			conn.Close()
			return "", 0, nil, err
		}
		var busy, frames, copied int
		if err := db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied); err != nil {
			end()
			conn.Close()
			return "", 0, nil, err
		}
		if busy == 0 && frames >= 0 && frames == copied {
			return db.Path, cursor, func() {
				end()
				conn.Close()
			}, nil
		}
		end()
	}
	conn.Close()
	return "", 0, nil, nil
}

// snapshotDB copies the projection database to path with SQLite's online
// backup API in one step: one read transaction, so the copy is consistent
// while the node keeps applying entries (WAL readers do not block the
// writer). It copies pages, which is about twice as fast as VACUUM INTO
// (measured: 0.6 s against 1.3 s for 61 MB), because indexes are not rebuilt.
func snapshotDB(ctx context.Context, db *sql.DB, path string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		bc, ok := dc.(interface {
			NewBackup(string) (*msqlite.Backup, error)
		})
		if !ok {
			_, err := conn.ExecContext(ctx, `VACUUM INTO ?`, path)
			return err
		}
		b, err := bc.NewBackup(path)
		if err != nil {
			return err
		}
		if _, err := b.Step(-1); err != nil {
			b.Finish()
			return err
		}
		return b.Finish()
	})
}

// snapshotCursor reads the projection cursor of a database snapshot.
func snapshotCursor(ctx context.Context, path string) (uint64, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return 0, vigil.Wrap("backup.write", vigil.Other, err)
	}
	defer db.Close()
	var c uint64
	err = db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM cursors WHERE origin = ?), 0)`, vnats.EventsStream).Scan(&c)
	if err != nil {
		return 0, vigil.Wrap("backup.write", vigil.Other, fmt.Errorf("reading the snapshot's cursor: %w", err))
	}
	return c, nil
}

// checkpointCovering returns this node's newest signed checkpoint, waiting
// (as a client of a serving node) until it covers at least min entries.
func checkpointCovering(ctx context.Context, n *node.Node, min uint64, wait time.Duration) ([]byte, ledger.Checkpoint, error) {
	const op = "backup.checkpoint"
	deadline := time.Now().Add(wait)
	st, err := n.JS.Stream(ctx, vnats.CheckpointsStream)
	if err != nil {
		return nil, ledger.Checkpoint{}, vigil.Wrap(op, vigil.Unavailable, err)
	}
	for {
		if n.Owner {
			if _, err := n.Checkpoint(ctx); err != nil { // signs now if the tree grew
				return nil, ledger.Checkpoint{}, err
			}
		}
		m, err := st.GetLastMsgForSubject(ctx, "ckpt."+vnats.SubjectToken(n.Signer.Name()))
		if err == nil {
			c, err := ledger.OpenCheckpoint(m.Data, note.VerifierList(n.Signer.Verifier))
			if err != nil {
				return nil, ledger.Checkpoint{}, vigil.Errorf(vigil.Integrity, op, "the node's latest checkpoint does not verify: %v", err)
			}
			if c.Origin != n.CheckpointOrigin() {
				return nil, ledger.Checkpoint{}, vigil.Errorf(vigil.Integrity, op, "the node's latest checkpoint is for log %q, not %q", c.Origin, n.CheckpointOrigin())
			}
			if uint64(c.Size) >= min && c.Size > 0 {
				return bytes.Clone(m.Data), c.Checkpoint, nil
			}
		} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
			return nil, ledger.Checkpoint{}, vigil.Wrap(op, vigil.Unavailable, err)
		}
		// The owner has just signed whatever its tree holds: waiting would
		// not change the answer.
		if n.Owner || time.Now().After(deadline) {
			if min == 0 {
				return nil, ledger.Checkpoint{}, vigil.Errorf(vigil.NotFound, op, "the log is empty: there is nothing to back up")
			}
			return nil, ledger.Checkpoint{}, vigil.Errorf(vigil.Unavailable, op,
				"no signed checkpoint covers the %d entries in the projection database after %v; is `vigil serve` signing checkpoints?", min, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ledger.Checkpoint{}, vigil.Wrap(op, vigil.Unavailable, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// noteSize reads the tree size of a checkpoint note without verifying it.
func noteSize(msg []byte) (int64, bool) {
	text, _, ok := bytes.Cut(msg, []byte("\n\n"))
	if !ok {
		return 0, false
	}
	c, err := ledger.ParseCheckpoint(string(text) + "\n")
	if err != nil {
		return 0, false
	}
	return c.Size, true
}

// archiver writes parts into the tar and records their sums.
type archiver struct {
	tw       *tar.Writer
	now      time.Time
	sums     []partSum
	done     int64
	total    int64
	progress func(done, total int64)
	buf      []byte
}

func (a *archiver) putBytes(name string, b []byte) error {
	return a.put(name, int64(len(b)), bytes.NewReader(b))
}

func (a *archiver) put(name string, size int64, r io.Reader) error {
	const op = "backup.write"
	hdr := &tar.Header{Name: name, Mode: 0o600, Size: size, ModTime: a.now, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(a.tw, h, progressWriter{a}), r)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, fmt.Errorf("writing %s: %w", name, err))
	}
	if n != size {
		return vigil.Errorf(vigil.Other, op, "%s changed size while it was archived", name)
	}
	a.sums = append(a.sums, partSum{Name: name, Size: size, SHA256: sum(h)})
	return nil
}

type progressWriter struct{ a *archiver }

func (p progressWriter) Write(b []byte) (int, error) {
	p.a.done += int64(len(b))
	if p.a.progress != nil {
		p.a.progress(p.a.done, max(p.a.total, p.a.done))
	}
	return len(b), nil
}

// chunks writes records produced by fill into parts prefix000001, … of
// about chunkTarget bytes each.
func (a *archiver) chunks(prefix string, fill func(add func(seq uint64, subject string, data []byte) error) error) error {
	i := 0
	flush := func() error {
		if len(a.buf) == 0 {
			return nil
		}
		i++
		err := a.putBytes(chunkName(prefix, i), a.buf)
		a.buf = a.buf[:0]
		return err
	}
	err := fill(func(seq uint64, subject string, data []byte) error {
		a.buf = appendRecord(a.buf, seq, subject, data)
		if len(a.buf) >= chunkTarget {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

func sum(h hash.Hash) (s [32]byte) {
	copy(s[:], h.Sum(nil))
	return s
}
