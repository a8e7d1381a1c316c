package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// VerifyOptions configure Verify and Restore.
type VerifyOptions struct {
	Identities []age.Identity
	// VerifierKey is the node's checkpoint verifier key ("name+hash+key")
	// to trust. Empty: the key inside the archive, which proves only that
	// the archive is self-consistent (Report.VerifierFromArchive says so);
	// a Checkpoint kept elsewhere pins the key.
	VerifierKey string
	// Checkpoint is a signed checkpoint kept elsewhere (an observer's, a
	// paper backup's, a newer one from the live node). The archive must be
	// consistent with it: an older or equal one is recomputed from the
	// archived entries; a newer one needs Proof.
	Checkpoint []byte
	// Proof is the consistency proof from the archive's checkpoint to a
	// newer Checkpoint (GET /api/v1/log/proof/consistency?old=N&new=M).
	Proof tlog.TreeProof
	// FetchProof, if set and Proof is nil, is asked for that proof once the
	// archive's size is known (the CLI asks the live node).
	FetchProof func(oldSize, newSize int64) (tlog.TreeProof, error)
	// Progress, if set, is called with the decrypted bytes read so far.
	Progress func(done int64)
}

// Report is what Verify found.
type Report struct {
	Meta                Meta
	Events              int
	Checkpoints         uint64 // notes of the checkpoint stream in the archive
	Root                tlog.Hash
	Parts               int
	Bytes               int64 // decrypted bytes
	VerifierFromArchive bool
	External            string // what the external checkpoint check established
}

// sink receives an archive's content as it is read; Restore writes it out.
type sink interface {
	begin(m Meta, keys map[string][]byte, checkpoint []byte) error
	entry(stream string, seq uint64, subject string, data []byte) error
	database(r io.Reader) error
}

// Verify reads a whole archive and checks the age encryption, the order
// and hash of every part against the signed manifest, the signature, the
// checkpoint against the recomputed Merkle tree, and o.Checkpoint.
// Errors: Invalid (bad options), Permission (wrong identity), Integrity
// (anything damaged, naming the part).
func Verify(ctx context.Context, r io.Reader, o VerifyOptions) (Report, error) {
	return scan(ctx, r, o, nil)
}

// trackingReader remembers the error of the decrypting reader below, so a
// failure is blamed on the encryption layer (damage, truncation) rather
// than on the part being parsed.
type trackingReader struct {
	r    io.Reader
	n    int64
	err  error
	prog func(int64)
}

func (t *trackingReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.n += int64(n)
	if err != nil && err != io.EOF {
		t.err = err
	}
	if t.prog != nil && n > 0 {
		t.prog(t.n)
	}
	return n, err
}

func scan(ctx context.Context, r io.Reader, o VerifyOptions, s sink) (Report, error) {
	const op = "backup.verify"
	var rep Report
	if len(o.Identities) == 0 {
		return rep, vigil.FieldError(op, "identity", "give the age identity (secret key file) of a recipient of the backup")
	}
	dec, err := age.Decrypt(r, o.Identities...)
	if err != nil {
		var noMatch *age.NoIdentityMatchError
		if errors.As(err, &noMatch) {
			return rep, vigil.Errorf(vigil.Permission, op,
				"the backup is not encrypted to this identity (or its age header is damaged): use the secret key of one of the recipients it was made for")
		}
		return rep, vigil.Errorf(vigil.Integrity, op, "this is not a vigil backup, or its age header is damaged: %v", err)
	}
	tr := &trackingReader{r: dec, prog: o.Progress}
	tarR := tar.NewReader(tr)
	part := "(start of the archive)"
	var spans []span
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		if tr.err != nil {
			msg = damageMessage(spans, tr.n, tr.err)
		}
		return &vigil.Error{Op: op, Kind: vigil.Integrity, Message: msg}
	}

	var (
		meta     Meta
		keys     = map[string][]byte{}
		verifier note.Verifier
		ck       ledger.SignedCheckpoint
		ext      *ledger.SignedCheckpoint
		extRoot  tlog.Hash
		hasher   ledger.Hasher
		nextCk   uint64 = 1
		sums     []partSum
		man      *manifest
		sawDB    bool
		began    bool
	)
	wantSeq := uint64(1)
	for {
		if err := ctx.Err(); err != nil {
			return rep, vigil.Wrap(op, vigil.Unavailable, err)
		}
		hdr, err := tarR.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rep, fail("the archive's structure is damaged after part %s: %v", part, err)
		}
		part = hdr.Name
		spans = append(spans, span{name: part, start: tr.n, size: hdr.Size})
		if man != nil {
			return rep, fail("part %s follows the manifest: the archive was altered", part)
		}
		if hdr.Typeflag != tar.TypeReg {
			return rep, fail("part %s is not a regular file", part)
		}
		h := sha256.New()
		body := io.TeeReader(tarR, h)
		small := func() ([]byte, error) {
			if hdr.Size > 1<<16 {
				return nil, fail("part %s is too large (%d bytes)", part, hdr.Size)
			}
			b, err := io.ReadAll(body)
			if err != nil {
				return nil, fail("part %s cannot be read: %v", part, err)
			}
			return b, nil
		}
		expectAfter := func(ok bool) error {
			if !ok {
				return fail("part %s is out of place: the archive was altered or is not a vigil backup", part)
			}
			return nil
		}
		switch {
		case part == partMeta:
			if err := expectAfter(len(sums) == 0); err != nil {
				return rep, err
			}
			b, err := small()
			if err != nil {
				return rep, err
			}
			if err := json.Unmarshal(b, &meta); err != nil {
				return rep, fail("part %s is malformed: %v", part, err)
			}
			if meta.Format != FormatVersion {
				return rep, vigil.Errorf(vigil.Invalid, op, "the backup has format %d; this vigil (%s) reads format %d", meta.Format, vigil.Version, FormatVersion)
			}
			if meta.Origin != "vigil.log/"+meta.LogID {
				return rep, fail("part %s is malformed: origin %q does not name log %q", part, meta.Origin, meta.LogID)
			}
		case part == partNodePub || part == partNodeKey || part == partSecretsKey:
			if err := expectAfter(meta.Format != 0 && keys[part] == nil); err != nil {
				return rep, err
			}
			b, err := small()
			if err != nil {
				return rep, err
			}
			keys[part] = b
			if part == partNodePub {
				vkey := strings.TrimSpace(string(b))
				if vkey != meta.VerifierKey {
					return rep, fail("part %s does not hold the verifier key meta.json names", part)
				}
				trusted := o.VerifierKey
				if trusted == "" {
					trusted, rep.VerifierFromArchive = vkey, true
				} else if strings.TrimSpace(trusted) != vkey {
					return rep, vigil.Errorf(vigil.Integrity, op,
						"the backup was made by node key %s, not the key you gave (%s): it is from another node", vkey, strings.TrimSpace(trusted))
				}
				if verifier, err = note.NewVerifier(strings.TrimSpace(trusted)); err != nil {
					return rep, vigil.FieldError(op, "verifier", "not a verifier key: %v", err)
				}
				if ext, err = openExternal(&o, verifier, meta); err != nil {
					return rep, err
				}
			}
		case part == partCheckpoint:
			if err := expectAfter(verifier != nil && len(keys) == 3 && ck.Note == nil); err != nil {
				return rep, err
			}
			b, err := small()
			if err != nil {
				return rep, err
			}
			if ck, err = ledger.OpenCheckpoint(b, note.VerifierList(verifier)); err != nil {
				return rep, fail("part %s does not verify with the node key: %v", part, err)
			}
			if ck.Origin != meta.Origin || uint64(ck.Size) != meta.Entries {
				return rep, fail("part %s (log %q, %d entries) does not match meta.json (log %q, %d entries)",
					part, ck.Origin, ck.Size, meta.Origin, meta.Entries)
			}
			if s != nil {
				if err := s.begin(meta, keys, b); err != nil {
					return rep, err
				}
				began = true
			}
		case strings.HasPrefix(part, partLog):
			if err := expectAfter(ck.Note != nil && nextCk == 1 && !sawDB && part == chunkName(partLog, chunkIndex(sums, partLog)+1)); err != nil {
				return rep, err
			}
			err := readRecords(bufio.NewReaderSize(body, 1<<16), func(seq uint64, subject string, data []byte) error {
				if seq != wantSeq {
					return fmt.Errorf("entry %d where %d was expected", seq, wantSeq)
				}
				if seq > meta.Entries {
					return fmt.Errorf("entry %d is beyond the checkpoint's %d entries", seq, meta.Entries)
				}
				hasher.Add(data)
				if ext != nil && hasher.Size() == ext.Size {
					extRoot = hasher.Root()
				}
				rep.Events += bytes.Count(data, []byte{'\n'}) + 1
				wantSeq++
				if s != nil {
					return s.entry(vnats.EventsStream, seq, subject, data)
				}
				return nil
			})
			if err != nil {
				if vigil.ErrorKind(err) != vigil.Other {
					return rep, err
				}
				return rep, fail("part %s is malformed: %v", part, err)
			}
		case strings.HasPrefix(part, partCkpts):
			if err := expectAfter(wantSeq == meta.Entries+1 && !sawDB && part == chunkName(partCkpts, chunkIndex(sums, partCkpts)+1)); err != nil {
				return rep, err
			}
			err := readRecords(bufio.NewReader(body), func(seq uint64, subject string, data []byte) error {
				if seq != nextCk {
					return fmt.Errorf("checkpoint %d where %d was expected", seq, nextCk)
				}
				nextCk++
				if s != nil {
					return s.entry(vnats.CheckpointsStream, seq, subject, data)
				}
				return nil
			})
			if err != nil {
				if vigil.ErrorKind(err) != vigil.Other {
					return rep, err
				}
				return rep, fail("part %s is malformed: %v", part, err)
			}
		case part == partDB:
			if err := expectAfter(wantSeq == meta.Entries+1 && !sawDB); err != nil {
				return rep, err
			}
			sawDB = true
			var err error
			if s != nil {
				err = s.database(body)
			} else {
				_, err = io.Copy(io.Discard, body)
			}
			if err != nil {
				if tr.err != nil || vigil.ErrorKind(err) == vigil.Other {
					return rep, fail("part %s cannot be read: %v", part, err)
				}
				return rep, err
			}
		case part == partManifest:
			if err := expectAfter(sawDB); err != nil {
				return rep, err
			}
			b, err := small()
			if err != nil {
				return rep, err
			}
			nt, err := note.Open(b, note.VerifierList(verifier))
			if err != nil {
				return rep, fail("the manifest's signature does not verify with the node key: %v", err)
			}
			m, err := parseManifest(nt.Text)
			if err != nil {
				return rep, fail("%v", err)
			}
			man = &m
			continue // the manifest does not list itself
		default:
			return rep, fail("part %s is not part of a vigil backup", part)
		}
		if _, err := io.Copy(io.Discard, body); err != nil { // the rest, if a reader stopped early
			return rep, fail("part %s cannot be read: %v", part, err)
		}
		sums = append(sums, partSum{Name: part, Size: hdr.Size, SHA256: sum(h)})
	}
	// Read to the end of the age stream: its last chunk proves the file
	// was not truncated at a chunk boundary.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return rep, fail("the archive ends badly: %v", err)
	}
	if man == nil {
		return rep, fail("the archive ends after part %s without a manifest: it is truncated", part)
	}
	if err := checkManifest(*man, sums, meta); err != nil {
		return rep, &vigil.Error{Op: op, Kind: vigil.Integrity, Message: err.Error()}
	}
	if uint64(hasher.Size()) != meta.Entries {
		return rep, vigil.Errorf(vigil.Integrity, op, "the archive holds %d log entries, the checkpoint %d", hasher.Size(), meta.Entries)
	}
	rep.Root = hasher.Root()
	if rep.Root != ck.Root {
		return rep, vigil.Errorf(vigil.Integrity, op,
			"the archived entries do not hash to the signed checkpoint's root: the log in the backup was altered")
	}
	if ext != nil {
		if rep.External, err = checkExternal(*ext, ck, extRoot, o.Proof); err != nil {
			return rep, err
		}
	}
	if s != nil && !began {
		return rep, vigil.Errorf(vigil.Integrity, op, "the archive holds no checkpoint")
	}
	rep.Meta, rep.Checkpoints, rep.Parts, rep.Bytes = meta, nextCk-1, len(sums)+1, tr.n
	return rep, nil
}

// chunkIndex counts the parts with prefix read so far.
func chunkIndex(sums []partSum, prefix string) int {
	n := 0
	for _, s := range sums {
		if strings.HasPrefix(s.Name, prefix) {
			n++
		}
	}
	return n
}

// checkManifest compares what was read with what the signed manifest lists.
func checkManifest(m manifest, got []partSum, meta Meta) error {
	if m.Origin != meta.Origin || m.Entries != meta.Entries || m.Node != meta.NodeName {
		return fmt.Errorf("the manifest (log %q, %d entries) does not match meta.json (log %q, %d entries)",
			m.Origin, m.Entries, meta.Origin, meta.Entries)
	}
	listed := map[string]partSum{}
	for _, p := range m.Parts {
		listed[p.Name] = p
	}
	for _, g := range got {
		p, ok := listed[g.Name]
		switch {
		case !ok:
			return fmt.Errorf("part %s is not listed in the signed manifest: the archive was altered", g.Name)
		case p.Size != g.Size || p.SHA256 != g.SHA256:
			return fmt.Errorf("part %s does not match its SHA-256 in the signed manifest: the part was altered", g.Name)
		}
		delete(listed, g.Name)
	}
	for name := range listed {
		return fmt.Errorf("part %s is listed in the manifest but missing from the archive", name)
	}
	return nil
}

// openExternal verifies the checkpoint kept elsewhere, before the log is read.
func openExternal(o *VerifyOptions, v note.Verifier, meta Meta) (*ledger.SignedCheckpoint, error) {
	const op = "backup.verify"
	if o.Checkpoint == nil {
		return nil, nil
	}
	c, err := ledger.OpenCheckpoint(o.Checkpoint, note.VerifierList(v))
	if err != nil {
		return nil, vigil.Errorf(vigil.Integrity, op,
			"the given checkpoint does not verify with the backup's node key (%v): the backup is from another node or log", err)
	}
	if c.Origin != meta.Origin {
		return nil, vigil.Errorf(vigil.Integrity, op,
			"the backup is of log %q but the given checkpoint is of log %q: the backup is from another election or log", meta.Origin, c.Origin)
	}
	if uint64(c.Size) > meta.Entries && o.Proof == nil && o.FetchProof != nil {
		if o.Proof, err = o.FetchProof(int64(meta.Entries), c.Size); err != nil {
			return nil, vigil.Errorf(vigil.Unavailable, op, "cannot get the consistency proof from %d to %d entries: %v", meta.Entries, c.Size, err)
		}
	}
	if uint64(c.Size) > meta.Entries && o.Proof == nil {
		return nil, vigil.Errorf(vigil.Invalid, op,
			"the given checkpoint (%d entries) is newer than the backup (%d entries): a consistency proof is needed (--node URL fetches it)", c.Size, meta.Entries)
	}
	return &c, nil
}

// checkExternal checks the archive's tree against a checkpoint kept elsewhere.
func checkExternal(ext, ck ledger.SignedCheckpoint, extRoot tlog.Hash, proof tlog.TreeProof) (string, error) {
	const op = "backup.verify"
	if ext.Size <= ck.Size {
		if extRoot != ext.Root {
			return "", vigil.Errorf(vigil.Integrity, op,
				"the first %d archived entries do not match the given checkpoint: the backup holds a different or rewritten history", ext.Size)
		}
		return fmt.Sprintf("the given checkpoint (%d entries) matches the archived entries", ext.Size), nil
	}
	if err := tlog.CheckTree(proof, ext.Size, ext.Root, ck.Size, ck.Root); err != nil {
		return "", vigil.Errorf(vigil.Integrity, op,
			"the backup (%d entries) is not a prefix of the log the given checkpoint (%d entries) commits to: a different or rewritten history (%v)",
			ck.Size, ext.Size, err)
	}
	return fmt.Sprintf("the backup is a prefix of the log of the given checkpoint (%d entries; consistency proof checked)", ext.Size), nil
}

// span is where a part's data lies in the decrypted archive.
type span struct {
	name        string
	start, size int64
}

// ageChunk is age's payload chunk: the unit its authentication covers.
const ageChunk = 64 << 10

// damageMessage names the part an age decryption failure lies in. age
// authenticates 64 KiB chunks, so the damage is somewhere in the chunk that
// starts at the bytes delivered so far; the part holding that chunk's start
// is named, and parts that begin later in the same chunk are mentioned.
func damageMessage(spans []span, delivered int64, err error) string {
	chunk := delivered / ageChunk * ageChunk
	where := "meta.json (the first part)"
	if chunk > 0 && len(spans) > 0 {
		where = "the part after " + spans[len(spans)-1].name
		for _, s := range spans {
			if chunk >= s.start && chunk < s.start+max(s.size, 1) {
				where = s.name
			}
		}
	}
	return fmt.Sprintf("the archive is damaged or truncated in decrypted bytes %d..%d: inside part %s, or a part that begins after it in those bytes (%v)",
		chunk, chunk+ageChunk, where, err)
}
