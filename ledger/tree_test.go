package ledger_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/vigil-elections/vigil/ledger"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// memHashes is tlog's reference layout, built with tlog.StoredHashes.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		out[i] = m[x]
	}
	return out, nil
}

func leaf(i int) []byte { return []byte(fmt.Sprintf(`{"id":"%d"}`, i)) }

func TestTreeMatchesTlogReference(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tree")
	tr, err := ledger.OpenTree(path)
	if err != nil {
		t.Fatal(err)
	}
	var ref memHashes
	for i := 0; i < 300; i++ {
		hs, err := tlog.StoredHashes(int64(i), leaf(i), ref)
		if err != nil {
			t.Fatal(err)
		}
		ref = append(ref, hs...)
		if _, err := tr.Append(leaf(i)); err != nil {
			t.Fatal(err)
		}
		n, root := tr.Root()
		want, _ := tlog.TreeHash(n, ref)
		if root != want {
			t.Fatalf("root at %d differs from tlog", n)
		}
	}
	t.Run("a reopened tree has the same root and proofs verify", func(t *testing.T) {
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
		tr2, err := ledger.OpenTree(path)
		if err != nil {
			t.Fatal(err)
		}
		defer tr2.Close()
		n, root := tr2.Root()
		if n != 300 {
			t.Fatalf("size %d after reopen", n)
		}
		want, _ := tlog.TreeHash(300, ref)
		if root != want {
			t.Fatal("root differs after reopen")
		}
		p, err := tr2.InclusionProof(123, 300)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckRecord(p, 300, root, 123, tlog.RecordHash(leaf(123))); err != nil {
			t.Fatal(err)
		}
		old, _ := tr2.RootAt(77)
		cp, err := tr2.ConsistencyProof(77, 300)
		if err != nil {
			t.Fatal(err)
		}
		if err := tlog.CheckTree(cp, 300, root, 77, old); err != nil {
			t.Fatal(err)
		}
		var h ledger.Hasher
		for i := 0; i < 300; i++ {
			h.Add(leaf(i))
		}
		if h.Root() != root {
			t.Fatal("streaming hasher differs")
		}
	})
	t.Run("a torn tail is cut back to the last whole leaf", func(t *testing.T) {
		tr3, err := ledger.OpenTree(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr3.Truncate(200); err != nil {
			t.Fatal(err)
		}
		_, root := tr3.Root()
		want, _ := tlog.TreeHash(200, ref)
		if root != want {
			t.Fatal("root after truncate differs")
		}
		tr3.Close()
	})
}

func TestCheckpointSignAndOpen(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "node-1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ledger.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	if s.VKey != vkey {
		t.Fatalf("derived verifier key %q, want %q", s.VKey, vkey)
	}
	c := ledger.Checkpoint{Origin: "vigil.test/log", Size: 42, Root: tlog.RecordHash([]byte("x"))}
	msg, err := c.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ledger.OpenCheckpoint(msg, note.VerifierList(s.Verifier))
	if err != nil {
		t.Fatal(err)
	}
	if got.Checkpoint != c {
		t.Fatalf("got %+v", got.Checkpoint)
	}
	t.Run("an edited checkpoint fails its signature", func(t *testing.T) {
		bad := append([]byte(nil), msg...)
		bad[len("vigil.test/log\n")] = '9'
		if _, err := ledger.OpenCheckpoint(bad, note.VerifierList(s.Verifier)); err == nil {
			t.Fatal("edited checkpoint accepted")
		}
	})
}
