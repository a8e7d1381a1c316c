package backup_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/backup"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
	"golang.org/x/mod/sumdb/tlog"
)

// MustNode creates a node in a temporary directory holding a small demo
// county and a few claimed events.
func MustNode(t *testing.T, voters int) *node.Node {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "node")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "test-node"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(t.Context(), node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	c := demo.Generate(demo.Options{Seed: 7, Voters: voters, Today: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)})
	loadCounty(t, n, c)
	AppendClaims(t, n, 0, 5)
	return n
}

// AppendClaims appends single claimed events (each on its own subject).
func AppendClaims(t *testing.T, n *node.Node, from, count int) {
	t.Helper()
	actor := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	var zero uint64
	for i := from; i < from+count; i++ {
		ev, err := vigil.NewEvent(actor, "test.claimed", fmt.Sprintf("k%d", i), n.Now(), map[string]int{"i": i})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := n.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
			t.Fatal(err)
		}
	}
}

func MustIdentity(t *testing.T) *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func MustBackup(t *testing.T, n *node.Node, rs ...age.Recipient) ([]byte, backup.Result) {
	t.Helper()
	var buf bytes.Buffer
	res, err := backup.Write(t.Context(), n, &buf, backup.Options{Recipients: rs, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res
}

// entries reads the stored log of a node: subject-free bytes per entry.
func entries(t *testing.T, n *node.Node, upTo uint64) [][]byte {
	t.Helper()
	var out [][]byte
	if err := n.Log.Read(t.Context(), 1, upTo, func(seq uint64, data []byte) error {
		out = append(out, bytes.Clone(data))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBackupVerifyRestoreRoundTrip(t *testing.T) {
	n := MustNode(t, 800)
	id := MustIdentity(t)
	pq, err := age.GenerateHybridIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		rcpt age.Recipient
		id   age.Identity
	}{{"x25519 recipient", id.Recipient(), id}, {"hybrid post-quantum recipient", pq.Recipient(), pq}} {
		t.Run(tc.name, func(t *testing.T) {
			archive, res := MustBackup(t, n, tc.rcpt)
			// Writes after the backup are not in it.
			AppendClaims(t, n, 1000+len(tc.name), 3)
			rep, err := backup.Verify(t.Context(), bytes.NewReader(archive), backup.VerifyOptions{Identities: []age.Identity{tc.id}})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Meta.Entries != res.Meta.Entries || rep.Events != res.Events || !rep.VerifierFromArchive {
				t.Fatalf("verify report %+v, backup result %+v", rep, res)
			}
			target := filepath.Join(t.TempDir(), "restored")
			if _, err := backup.Restore(t.Context(), bytes.NewReader(archive), backup.RestoreOptions{
				VerifyOptions: backup.VerifyOptions{Identities: []age.Identity{tc.id}}, Dir: target}); err != nil {
				t.Fatal(err)
			}
			r, err := node.Open(t.Context(), node.Options{Dir: target})
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			want := entries(t, n, res.Meta.Entries)
			last, err := r.Log.LastSeq(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if last != res.Meta.Entries {
				t.Fatalf("restored log holds %d entries, the backup's checkpoint %d", last, res.Meta.Entries)
			}
			got := entries(t, r, last)
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("entry %d differs after restore", i+1)
				}
			}
			lr, err := r.VerifyLog(t.Context(), res.Checkpoint)
			if err != nil || !lr.OK() {
				t.Fatalf("log verify of the restored node: %v %v", err, lr.Problems)
			}
			diffs, _, err := r.VerifyProjections(t.Context(), t.TempDir())
			if err != nil || len(diffs) > 0 {
				t.Fatalf("verify of the restored node: %v %v", err, diffs)
			}
			if r.Keys.StoreKey == n.Keys.StoreKey {
				t.Error("the restored store is encrypted under the old store key")
			}
			if r.Signer.VKey != n.Signer.VKey {
				t.Error("the restored node signs with another key")
			}
			// Claims made before the backup still hold after the restore.
			var zero uint64
			ev, _ := vigil.NewEvent(vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: r.Origin()},
				"test.claimed", "k0", r.Now(), nil)
			if _, err := r.Append(t.Context(), []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); vigil.ErrorKind(err) != vigil.Conflict {
				t.Fatalf("a second claim of k0 after restore: %v, want Conflict", err)
			}
		})
	}
}

func TestVerifyAgainstCheckpoints(t *testing.T) {
	n := MustNode(t, 100)
	id := MustIdentity(t)
	older, err := n.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	AppendClaims(t, n, 100, 3)
	archive, res := MustBackup(t, n, id.Recipient())
	AppendClaims(t, n, 200, 3)
	newer, err := n.Checkpoint(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	size, _ := n.Tree.Root()
	proof, err := n.Tree.ConsistencyProof(int64(res.Meta.Entries), size)
	if err != nil {
		t.Fatal(err)
	}
	other := MustNode(t, 10)
	otherCk, _ := other.Checkpoint(t.Context())
	otherArchive, _ := MustBackup(t, other, id.Recipient())

	ids := []age.Identity{id}
	tests := []struct {
		name    string
		archive []byte
		o       backup.VerifyOptions
		want    string // "" for success
	}{
		{"an older checkpoint is recomputed from the archive", archive, backup.VerifyOptions{Checkpoint: older}, ""},
		{"a newer checkpoint with a consistency proof", archive, backup.VerifyOptions{Checkpoint: newer, Proof: proof}, ""},
		{"a newer checkpoint without a proof", archive, backup.VerifyOptions{Checkpoint: newer}, "consistency proof"},
		{"a newer checkpoint with a wrong proof", archive, backup.VerifyOptions{Checkpoint: newer, Proof: proof[1:]}, "rewritten"},
		{"a checkpoint of another log", archive, backup.VerifyOptions{Checkpoint: otherCk}, "another node"},
		{"an archive of another log against this log's checkpoint", otherArchive, backup.VerifyOptions{Checkpoint: older}, "another node"},
		{"an archive of another node with this node's key pinned", otherArchive, backup.VerifyOptions{VerifierKey: n.Signer.VKey}, "another node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Identities = ids
			_, err := backup.Verify(t.Context(), bytes.NewReader(tt.archive), tt.o)
			switch {
			case tt.want == "" && err != nil:
				t.Fatal(err)
			case tt.want != "" && err == nil:
				t.Fatal("verified")
			case tt.want != "" && !strings.Contains(vigil.ErrorMessage(err), tt.want):
				t.Fatalf("error %q does not mention %q", vigil.ErrorMessage(err), tt.want)
			}
		})
	}
}

func TestBadArchivesFailAndWriteNothing(t *testing.T) {
	n := MustNode(t, 1500)
	id := MustIdentity(t)
	archive, _ := MustBackup(t, n, id.Recipient())
	wrong := MustIdentity(t)

	parts := partOffsets(t, archive, id)
	tampered := func(part string) []byte {
		return reencrypt(t, archive, id, func(name string, b []byte) []byte {
			if name == part {
				b = bytes.Clone(b)
				b[len(b)/2] ^= 1
			}
			return b
		})
	}
	type bad struct {
		name    string
		archive []byte
		id      age.Identity
		kind    vigil.Kind
		want    string
	}
	tests := []bad{
		{"a wrong identity", archive, wrong, vigil.Permission, "not encrypted to this identity"},
		{"a file that is not a backup", []byte("hello\n"), id, vigil.Integrity, "not a vigil backup"},
		{"a truncated file", archive[:len(archive)*2/3], id, vigil.Integrity, "truncated"},
		{"a file cut at the end", archive[:len(archive)-1], id, vigil.Integrity, "truncated"},
		{"a flipped byte in the age header", flip(archive, 40), id, anyKind, "header is damaged"},
		{"a re-encrypted archive with a changed log chunk", tampered("log/000001"), id, vigil.Integrity, "part log/000001"},
		{"a re-encrypted archive with a changed database", tampered("vigil.db"), id, vigil.Integrity, "part vigil.db"},
		{"a re-encrypted archive with a changed manifest", tampered("manifest"), id, vigil.Integrity, "manifest"},
		{"a re-encrypted archive with a changed secrets key", tampered("keyring/secrets.key"), id, vigil.Integrity, "part keyring/secrets.key"},
	}
	// One flipped byte in the encrypted payload of every part.
	for _, p := range parts {
		tests = append(tests, bad{"a flipped byte inside " + p.name, flip(archive, p.cipherOffset), id, vigil.Integrity, "part " + p.blamed})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backup.Verify(t.Context(), bytes.NewReader(tt.archive), backup.VerifyOptions{Identities: []age.Identity{tt.id}})
			check := func(what string, err error) {
				if err == nil {
					t.Fatalf("%s succeeded", what)
				}
				if tt.kind != anyKind && vigil.ErrorKind(err) != tt.kind || !strings.Contains(vigil.ErrorMessage(err), tt.want) {
					t.Fatalf("%s: %v (kind %v), want kind %v mentioning %q", what, err, vigil.ErrorKind(err), tt.kind, tt.want)
				}
			}
			check("verify", err)
			parent := t.TempDir()
			target := filepath.Join(parent, "restored")
			_, err = backup.Restore(t.Context(), bytes.NewReader(tt.archive), backup.RestoreOptions{
				VerifyOptions: backup.VerifyOptions{Identities: []age.Identity{tt.id}}, Dir: target})
			check("restore", err)
			if left, _ := os.ReadDir(parent); len(left) != 0 {
				t.Fatalf("a failed restore left %v behind", left)
			}
		})
	}
	t.Run("a non-empty target is refused", func(t *testing.T) {
		target := t.TempDir()
		os.WriteFile(filepath.Join(target, "x"), []byte("x"), 0o600)
		_, err := backup.Restore(t.Context(), bytes.NewReader(archive), backup.RestoreOptions{
			VerifyOptions: backup.VerifyOptions{Identities: []age.Identity{id}}, Dir: target})
		if vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("restore into a non-empty directory: %v", err)
		}
	})
}

// anyKind accepts any error kind: a damaged age header may read as a
// wrong identity (a damaged recipient stanza) or as malformed.
const anyKind = vigil.Kind(255)

func flip(b []byte, i int) []byte {
	b = bytes.Clone(b)
	b[i] ^= 0x10
	return b
}

type partAt struct {
	name         string
	start, size  int64
	cipherOffset int
	blamed       string // the part the error names
}

// partOffsets finds, for every part, an offset in the encrypted file that
// lies inside the part's plaintext: age encrypts 64 KiB chunks, each 16
// bytes longer once sealed, after a header and a 16-byte nonce.
func partOffsets(t *testing.T, archive []byte, id age.Identity) []partAt {
	t.Helper()
	hdr, err := age.ExtractHeader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	payload := len(hdr) + 16
	dec, err := age.Decrypt(bytes.NewReader(archive), id)
	if err != nil {
		t.Fatal(err)
	}
	cr := &countReader{r: dec}
	tr := tar.NewReader(cr)
	var spans []partAt
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		start := cr.n // the tar reader has read the header block(s) of this part
		io.Copy(io.Discard, tr)
		spans = append(spans, partAt{name: h.Name, start: start, size: h.Size})
	}
	// Damage is reported for the 64 KiB chunk it lies in, by the part that
	// holds the chunk's start.
	const chunk = 64 << 10
	for i, p := range spans {
		mid := p.start + p.size/2
		c := mid / chunk * chunk
		spans[i].cipherOffset = payload + int(mid/chunk)*(chunk+16) + int(mid%chunk)
		spans[i].blamed = "meta.json"
		for _, q := range spans {
			if c >= q.start && c < q.start+q.size && c > 0 {
				spans[i].blamed = q.name
			}
		}
	}
	return spans
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// reencrypt decrypts an archive, lets edit change parts, and encrypts it
// again to the same identity: what someone holding the key could do.
func reencrypt(t *testing.T, archive []byte, id *age.X25519Identity, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	dec, err := age.Decrypt(bytes.NewReader(archive), id)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, _ := age.Encrypt(&out, id.Recipient())
	tw := tar.NewWriter(w)
	tr := tar.NewReader(dec)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		b = edit(h.Name, b)
		h.Size = int64(len(b))
		tw.WriteHeader(h)
		tw.Write(b)
	}
	tw.Close()
	w.Close()
	return out.Bytes()
}

var _ = context.Background

// loadCounty appends a demo county's events, without its accounts (their
// password hashing is slow on a busy machine).
func loadCounty(t *testing.T, n *node.Node, c demo.County) {
	t.Helper()
	actor := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	if err := demo.LoadRoll(t.Context(), n, actor, c, n.Now(), nil); err != nil {
		t.Fatal(err)
	}
}

func TestAForkedHistoryFailsAgainstTheOtherBranch(t *testing.T) {
	dirA := filepath.Join(t.TempDir(), "a")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dirA, Name: "fork-test"}); err != nil {
		t.Fatal(err)
	}
	a, err := node.Open(t.Context(), node.Options{Dir: dirA})
	if err != nil {
		t.Fatal(err)
	}
	AppendClaims(t, a, 0, 5)
	base, _ := a.Checkpoint(t.Context())
	a.Close()
	// The same node, keys and log copied: then the copies diverge, as a
	// history rewritten by someone holding the node key would.
	dirB := filepath.Join(t.TempDir(), "b")
	if err := os.CopyFS(dirB, os.DirFS(dirA)); err != nil {
		t.Fatal(err)
	}
	open := func(dir string) *node.Node {
		n, err := node.Open(t.Context(), node.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() })
		return n
	}
	a, b := open(dirA), open(dirB)
	AppendClaims(t, a, 100, 3)
	AppendClaims(t, b, 200, 3)
	sameSize, _ := a.Checkpoint(t.Context())
	AppendClaims(t, a, 300, 3)
	newer, _ := a.Checkpoint(t.Context())
	id := MustIdentity(t)
	archive, res := MustBackup(t, b, id.Recipient())
	size, _ := a.Tree.Root()
	proof, err := a.Tree.ConsistencyProof(int64(res.Meta.Entries), size)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(ck []byte, proof tlog.TreeProof) error {
		_, err := backup.Verify(t.Context(), bytes.NewReader(archive), backup.VerifyOptions{
			Identities: []age.Identity{id}, Checkpoint: ck, Proof: proof})
		return err
	}
	if err := verify(base, nil); err != nil {
		t.Fatalf("against the common past: %v", err)
	}
	for name, err := range map[string]error{
		"the other branch's checkpoint of the same size": verify(sameSize, nil),
		"the other branch's newer checkpoint and proof":  verify(newer, proof),
	} {
		if vigil.ErrorKind(err) != vigil.Integrity || !strings.Contains(vigil.ErrorMessage(err), "rewritten history") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
