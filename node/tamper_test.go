package node_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/keyring"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
)

// MustLog builds a node with n single-event entries and closes it (which
// signs a final checkpoint).
func MustLog(t *testing.T, n int) string {
	t.Helper()
	dir := MustInit(t)
	nd := MustOpen(t, dir)
	for i := 0; i < n; i++ {
		var zero uint64 // one entry per event: claims are never grouped
		if _, err := nd.Append(t.Context(), []vigil.Event{county(t, fmt.Sprintf("C%03d", i))}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
			t.Fatal(err)
		}
	}
	if err := nd.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// rewriteStore replaces the JetStream store with one holding transform's
// entries — what an attacker holding the store key could do. Checkpoints
// are copied unchanged; the tree file is left alone.
func rewriteStore(t *testing.T, dir string, transform func([][]byte) [][]byte) {
	t.Helper()
	ctx := context.Background()
	n, err := node.Open(ctx, node.Options{Dir: dir, Inspect: true})
	if err != nil {
		t.Fatal(err)
	}
	var entries, ckpts [][]byte
	last, _ := n.Log.LastSeq(ctx)
	if err := n.Log.Read(ctx, 1, last, func(seq uint64, data []byte) error {
		entries = append(entries, append([]byte(nil), data...))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	vnats.ReadCheckpoints(ctx, n.JS, func(seq uint64, note []byte) error {
		ckpts = append(ckpts, note)
		return nil
	})
	logID := n.Log.LogID
	n.Close()
	if err := os.RemoveAll(node.StoreDir(dir)); err != nil {
		t.Fatal(err)
	}
	keys, err := keyring.Load(filepath.Join(dir, "keyring"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := vnats.Start(vnats.Config{Name: "attacker", StoreDir: node.StoreDir(dir), Key: keys.StoreKey})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, _ := srv.Connect("attacker")
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := vnats.CreateStreams(ctx, js, vnats.StreamSet{Replicas: 1, LogID: logID}); err != nil {
		t.Fatal(err)
	}
	for i, e := range transform(entries) {
		if _, err := js.Publish(ctx, fmt.Sprintf("ev.county.x%d", i), e); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range ckpts {
		if err := vnats.PublishCheckpoint(ctx, js, "test-node", c); err != nil {
			t.Fatal(err)
		}
	}
}

func verify(t *testing.T, dir string) node.LogReport {
	t.Helper()
	n, err := node.Open(t.Context(), node.Options{Dir: dir, Inspect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	rep, err := n.VerifyLog(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestLogVerifyNamesTheFirstBadEntry(t *testing.T) {
	tests := []struct {
		name      string
		transform func([][]byte) [][]byte
		firstBad  int64
	}{
		{"an edited event", func(es [][]byte) [][]byte {
			es[4] = []byte(strings.Replace(string(es[4]), "County C004", "County XXXX", 1))
			return es
		}, 4},
		{"a removed event", func(es [][]byte) [][]byte { return append(es[:7:7], es[8:]...) }, 7},
		{"two events swapped", func(es [][]byte) [][]byte { es[10], es[11] = es[11], es[10]; return es }, 10},
		{"the newest events dropped", func(es [][]byte) [][]byte { return es[:15] }, 15},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is found and named", func(t *testing.T) {
			dir := MustLog(t, 20)
			if rep := verify(t, dir); !rep.OK() {
				t.Fatalf("untouched log fails: %v", rep.Problems)
			}
			rewriteStore(t, dir, tt.transform)
			rep := verify(t, dir)
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			if rep.FirstBad != tt.firstBad {
				t.Fatalf("first bad index %d, want %d; problems %v", rep.FirstBad, tt.firstBad, rep.Problems)
			}
			// Start-up checks only the tail against the tree and the last
			// signed checkpoint (it must be fast); a rewritten tail stops it.
			if tt.firstBad == 15 {
				if _, err := node.Open(t.Context(), node.Options{Dir: dir}); vigil.ErrorKind(err) != vigil.Integrity {
					t.Fatalf("a serving node started on a log that lost its newest entries: %v", err)
				}
			}
		})
	}
	t.Run("a rewritten history without the tree file still fails the checkpoints", func(t *testing.T) {
		dir := MustLog(t, 20)
		rewriteStore(t, dir, func(es [][]byte) [][]byte {
			es[3] = []byte(strings.Replace(string(es[3]), "C003", "C999", -1))
			return es
		})
		os.Remove(node.TreePath(dir))
		rep := verify(t, dir)
		if rep.OK() || rep.FirstBad < 0 || rep.FirstBad > 3 {
			t.Fatalf("report %+v", rep)
		}
	})
}

func TestFlippedByteInAnyBlockFileFailsVerify(t *testing.T) {
	dir := MustLog(t, 50)
	var blocks []string
	filepath.Walk(node.StoreDir(dir), func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".blk") {
			blocks = append(blocks, p)
		}
		return nil
	})
	if len(blocks) < 2 {
		t.Fatalf("found block files %v", blocks)
	}
	for _, b := range blocks {
		orig, err := os.ReadFile(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(orig) == 0 {
			continue
		}
		for _, off := range []int{0, len(orig) / 3, len(orig) / 2, len(orig) - 1} {
			name := fmt.Sprintf("%s byte %d", filepath.Base(filepath.Dir(filepath.Dir(b))), off)
			t.Run(name, func(t *testing.T) {
				copyDir := filepath.Join(t.TempDir(), "copy")
				if err := os.CopyFS(copyDir, os.DirFS(dir)); err != nil {
					t.Fatal(err)
				}
				target := filepath.Join(copyDir, strings.TrimPrefix(b, dir))
				mod := append([]byte(nil), orig...)
				mod[off] ^= 0x20
				if err := os.WriteFile(target, mod, 0o600); err != nil {
					t.Fatal(err)
				}
				n, err := node.Open(t.Context(), node.Options{Dir: copyDir, Inspect: true})
				if err != nil {
					return // refusing to open is a failure of verification too
				}
				defer n.Close()
				rep, err := n.VerifyLog(t.Context(), nil)
				if err == nil && rep.OK() {
					t.Fatalf("a flipped byte went unnoticed")
				}
			})
		}
	}
}

func TestProjectionVerifyNamesAnEditedRow(t *testing.T) {
	dir := MustLog(t, 5)
	n := MustOpen(t, dir)
	defer n.Close()
	if _, err := n.DB.Exec(`UPDATE counties SET name = 'Edited County' WHERE id = 'C002'`); err != nil {
		t.Fatal(err)
	}
	if _, err := n.DB.Exec(`DELETE FROM counties WHERE id = 'C003'`); err != nil {
		t.Fatal(err)
	}
	diffs, _, err := n.VerifyProjections(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range diffs {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	if len(diffs) != 2 || !strings.Contains(all, "table counties, row id=C002, column name") ||
		!strings.Contains(all, "row id=C003: missing from the live projection") {
		t.Fatalf("differences:\n%s", all)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Run("a data directory from a newer format version, untouched", func(t *testing.T) {
		dir := MustLog(t, 1)
		meta := filepath.Join(dir, "vigil.json")
		b, _ := os.ReadFile(meta)
		newer := strings.Replace(string(b), `"format_version": 1`, `"format_version": 99`, 1)
		os.WriteFile(meta, []byte(newer), 0o600)
		before := snapshot(t, dir)
		_, err := node.Open(t.Context(), node.Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), "version 99") {
			t.Fatalf("opened: %v", err)
		}
		if after := snapshot(t, dir); after != before {
			t.Fatal("the directory was modified")
		}
	})
	t.Run("a wrong store key, loudly", func(t *testing.T) {
		dir := MustLog(t, 1)
		os.WriteFile(filepath.Join(dir, "keyring", "store.key"), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		_, err := node.Open(t.Context(), node.Options{Dir: dir})
		if vigil.ErrorKind(err) != vigil.Integrity || !strings.Contains(err.Error(), "store key") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a missing store key, loudly", func(t *testing.T) {
		dir := MustLog(t, 1)
		os.Remove(filepath.Join(dir, "keyring", "store.key"))
		_, err := node.Open(t.Context(), node.Options{Dir: dir})
		if vigil.ErrorKind(err) != vigil.Integrity || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a store that lost its streams never starts empty", func(t *testing.T) {
		dir := MustLog(t, 1)
		os.RemoveAll(filepath.Join(node.StoreDir(dir), "jetstream"))
		_, err := node.Open(t.Context(), node.Options{Dir: dir})
		if vigil.ErrorKind(err) != vigil.Integrity || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("got %v", err)
		}
	})
}

// snapshot summarizes every file's name, size and modification time.
func snapshot(t *testing.T, dir string) string {
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			fmt.Fprintf(&b, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
		}
		return nil
	})
	return b.String()
}
