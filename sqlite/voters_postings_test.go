package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// This file reaches internals: the posting layout is an implementation
// detail that three writers (one key at a time, in bulk, and migration
// 0016) must agree on byte for byte.

func mustPostingsTx(t testing.TB) *Tx {
	t.Helper()
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return mustTx(t, db)
}

// mustTx begins a transaction on db that is rolled back when t ends.
func mustTx(t testing.TB, db *DB) *Tx {
	t.Helper()
	// Not t.Context(): database/sql rolls back a transaction whose context
	// ends on a goroutine of its own, which could still hold the write
	// lock when the next fuzz input begins.
	ctx := context.WithoutCancel(t.Context())
	stx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stx.Rollback() })
	return &Tx{Tx: stx, ctx: ctx, stmts: &stmtCache{db: db, m: map[string]*sql.Stmt{}}}
}

// postingRows lists voter_postings as text, in key order.
func postingRows(t testing.TB, q interface {
	Query(string, ...any) (*sql.Rows, error)
}) []string {
	t.Helper()
	rows, err := q.Query(`SELECT h, first, n, ids FROM voter_postings ORDER BY h, first`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h, n int64
		var first, ids string
		if err := rows.Scan(&h, &first, &n, &ids); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %q %d %q", h, first, n, ids))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// wantRows is postingRows of the canonical layout of model.
func wantRows(model map[int64]map[string]bool) []string {
	hs := make([]int64, 0, len(model))
	for h, ids := range model {
		if len(ids) > 0 {
			hs = append(hs, h)
		}
	}
	slices.Sort(hs)
	var out []string
	for _, h := range hs {
		ids := make([]string, 0, len(model[h]))
		for id := range model[h] {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, p := range layoutPostings(h, ids) {
			out = append(out, fmt.Sprintf("%d %q %d %q", h, p.first, p.n, joinIDs(p.ids)))
		}
	}
	return out
}

// postingOps reads ops as adds and removes of (key, voter) pairs over a
// few keys and IDs, so that chunks split, merge and empty often.
func postingOps(ops []byte, fn func(add bool, h int64, id string)) {
	keys := []int64{0, -1, 1 << 40, -7 << 50, 977}
	for len(ops) >= 2 {
		a, b := ops[0], ops[1]
		ops = ops[2:]
		h := keys[int(a>>1)%len(keys)]
		id := fmt.Sprintf("V%03d", b)
		if b%17 == 0 {
			id = "é" + id[1:] // not ASCII
		}
		if b%29 == 0 {
			id = id[:2] // short
		}
		fn(a&1 == 0, h, id)
	}
}

// FuzzPostings applies a sequence of key additions and removals one at a
// time, and the resulting set in bulk (to an empty table and to one
// holding other voters): every way gives the canonical layout of the set.
func FuzzPostings(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 0, 3, 1, 2, 2, 9, 0, 200, 1, 1})
	seed := make([]byte, 800)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range seed {
		seed[i] = byte(r.IntN(256))
		if i%2 == 0 {
			seed[i] &^= 1 // mostly adds
		}
	}
	f.Add(seed)
	// One database for every input (each runs in a transaction rolled
	// back after it): opening and migrating one per input was most of the
	// fuzzer's time.
	db, err := Open(f.Context(), filepath.Join(f.TempDir(), "p.db"))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 4000 {
			return
		}
		tx := mustTx(t, db)
		st, err := preparePostingStmts(tx)
		if err != nil {
			t.Fatal(err)
		}
		defer st.close()
		model := map[int64]map[string]bool{}
		var added []voterKey
		postingOps(ops, func(add bool, h int64, id string) {
			if model[h] == nil {
				model[h] = map[string]bool{}
			}
			if add {
				model[h][id] = true
				added = append(added, voterKey{h, id})
				err = st.add(h, id)
			} else {
				delete(model[h], id)
				err = st.remove(h, id)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		want := wantRows(model)
		if got := postingRows(t, tx); !slices.Equal(got, want) {
			t.Fatalf("one at a time:\n got %q\nwant %q", got, want)
		}

		// In bulk, into an empty table: the set, sorted, with repeats.
		if _, err := tx.Exec(`DELETE FROM voter_postings`); err != nil {
			t.Fatal(err)
		}
		var set []voterKey
		for _, k := range added {
			if model[k.h][k.id] {
				set = append(set, k, k)
			}
		}
		slices.SortFunc(set, compareKeys)
		w := postingWriter{tx: tx, fresh: true}
		for _, k := range set {
			if err := w.add(k.h, k.id); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.close(); err != nil {
			t.Fatal(err)
		}
		if got := postingRows(t, tx); !slices.Equal(got, want) {
			t.Fatalf("in bulk:\n got %q\nwant %q", got, want)
		}

		// In bulk, half of it onto the other half.
		if _, err := tx.Exec(`DELETE FROM voter_postings`); err != nil {
			t.Fatal(err)
		}
		for i, k := range set {
			if i%4 < 2 {
				if err := st.add(k.h, k.id); err != nil {
					t.Fatal(err)
				}
			}
		}
		w = postingWriter{tx: tx}
		for i, k := range set {
			if i%4 >= 2 || i%3 == 0 {
				if err := w.add(k.h, k.id); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.close(); err != nil {
			t.Fatal(err)
		}
		if got := postingRows(t, tx); !slices.Equal(got, want) {
			t.Fatalf("in bulk onto postings:\n got %q\nwant %q", got, want)
		}
	})
}

func TestChunksAreSmall(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	ids := make([]string, 100000)
	for i := range ids {
		ids[i] = fmt.Sprintf("NC%08d", i*3+r.IntN(3))
	}
	slices.Sort(ids)
	ps := layoutPostings(-12345, ids)
	if avg := len(ids) / len(ps); avg < 30 || avg > 120 {
		t.Fatalf("%d IDs in %d chunks: %d a chunk, want about 61", len(ids), len(ps), avg)
	}
	if ps[0].n != int64(len(ids)) || ps[0].first != "" {
		t.Fatalf("head row %+v", ps[0])
	}
	n := 0
	for _, p := range ps {
		n += len(p.ids)
	}
	if n != len(ids) {
		t.Fatalf("chunks hold %d IDs, want %d", n, len(ids))
	}
}

// TestMigration0016Layout runs migration 0016 on a voter_keys table and
// compares the postings it writes with the canonical layout computed in Go
// (chunkStart in SQL and in Go must agree).
func TestMigration0016Layout(t *testing.T) {
	body, err := migrations.ReadFile("migrations/0016_voter_postings.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE voter_keys (h INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (h, id)) WITHOUT ROWID`); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	model := map[int64]map[string]bool{}
	keys := []int64{0, -1, 1, -1 << 63, 1<<63 - 1, 123456789}
	for range 20 {
		keys = append(keys, int64(r.Uint64()))
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20000 {
		h := keys[r.IntN(len(keys))]
		id := fmt.Sprintf("BN%d", r.IntN(1000000))
		switch i % 50 {
		case 1:
			id = "Ü" + id
		case 2:
			id = id + "ß"
		case 3:
			id = id[:1+r.IntN(3)]
		}
		if model[h] == nil {
			model[h] = map[string]bool{}
		}
		model[h][id] = true
		if _, err := tx.Exec(`INSERT INTO voter_keys(h, id) VALUES (?, ?) ON CONFLICT DO NOTHING`, h, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	want := wantRows(model)
	got := postingRows(t, db)
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("%d rows, want %d; first difference at %d:\n got %s\nwant %s", len(got), len(want), i,
					strings.TrimSpace(got[i]), want[i])
			}
		}
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
}

func TestKeyHashIsFNV1a(t *testing.T) {
	for _, k := range []string{"", "l:SMITH", "fs:JOHN|S530", "i:BN123", "é"} {
		h := fnv.New64a()
		h.Write([]byte(k))
		if got, want := keyHash(k), int64(h.Sum64()); got != want {
			t.Errorf("keyHash(%q) = %d, want %d", k, got, want)
		}
	}
}

func TestSortKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 255, 256, 5000, 60000} {
		keys := make([]voterKey, n)
		for i := range keys {
			switch i % 3 {
			case 0:
				keys[i].h = int64(r.Uint64())
			case 1:
				keys[i].h = int64(r.IntN(50)) - 25 // negative and positive, many equal
			default:
				keys[i].h = -1 << 63
			}
			keys[i].id = fmt.Sprintf("V%d", r.IntN(1000))
		}
		want := slices.Clone(keys)
		slices.SortFunc(want, compareKeys)
		sortKeys(keys)
		if !slices.Equal(keys, want) {
			t.Fatalf("%d keys: not sorted by hash and ID", n)
		}
	}
}

func TestUvarintIsBinaryUvarint(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {1}, {0x7f}, {0x80}, {0x80, 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}} {
		n, w := uvarint(string(b))
		wn, ww := binary.Uvarint(b)
		if n != wn || w != ww {
			t.Errorf("uvarint(%x) = %d, %d; binary.Uvarint %d, %d", b, n, w, wn, ww)
		}
	}
}

// TestStoreKeysMixesTheTwoWays: an event's keys shared by many of its
// voters are merged whole, the others added one by one; onto stored
// postings, both leave the canonical layout.
func TestStoreKeysMixesTheTwoWays(t *testing.T) {
	tx := mustPostingsTx(t)
	st, err := prepareVoterStmts(tx)
	if err != nil {
		t.Fatal(err)
	}
	defer st.close()
	model := map[int64]map[string]bool{}
	put := func(h int64, id string) {
		if model[h] == nil {
			model[h] = map[string]bool{}
		}
		model[h][id] = true
	}
	for i := range 300 { // stored before: every third voter of each key
		for _, h := range []int64{5, -9, 1 << 50} {
			if i%3 == 0 {
				if err := st.keys.add(h, fmt.Sprintf("A%04d", i)); err != nil {
					t.Fatal(err)
				}
				put(h, fmt.Sprintf("A%04d", i))
			}
		}
	}
	var keys []voterKey
	for i := range 300 {
		id := fmt.Sprintf("A%04d", i)
		keys = append(keys, voterKey{5, id}) // many, some stored
		if i%50 == 0 {
			keys = append(keys, voterKey{-9, id}, voterKey{77, id}) // few
		}
		if i < keysMergedWhole {
			keys = append(keys, voterKey{88, id}) // just enough to merge, none stored
		}
	}
	for _, k := range keys {
		put(k.h, k.id)
	}
	if err := storeKeys(tx, st, keys, false); err != nil {
		t.Fatal(err)
	}
	if got, want := postingRows(t, tx), wantRows(model); !slices.Equal(got, want) {
		t.Fatalf("got %d rows %q\nwant %d rows %q", len(got), got, len(want), want)
	}
}
