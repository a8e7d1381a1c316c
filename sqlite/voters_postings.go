package sqlite

import (
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
)

// Search keys are stored as posting lists: voter_postings holds, for each
// key hash, the sorted IDs of the voters having the key, in chunks
// (migration 0016). A key is shared by about five voters on average, so a
// row per key and chunk writes about a fifth of the B-tree rows that a row
// per (key, voter) did (voter_keys until migration 0016), which was the
// largest part of an import's work.
//
// The layout is canonical: it depends only on the set of (key, voter)
// pairs, never on the order they were added in, so a projection rebuilt
// from the log, one that applied the same events one by one, and one that
// migration 0016 converted hold the same rows (vigil verify compares them).
// A voter ID x starts a chunk of key h if chunkStart(h, x); the chunk
// holds the IDs from x up to the next ID that starts one. The IDs before
// the first such ID are the head chunk, stored with first = ''; the head
// row exists whenever the key has any voter (its ids may then be empty),
// and its n counts all of the key's voters (n is 0 in the other rows), so
// that a search weighs a key with one lookup.
//
// ids is the chunk's IDs, sorted, joined by '\n' (a voter ID is printable
// text: vigil.Voter.Validate); voters whose ID holds a '\n' get no keys.

// chunkStart reports whether id starts a chunk of key h: about one ID in
// 61. Migration 0016 computes the same function in SQL from the last four
// bytes of the ID; the two MUST stay equal (TestMigration0016Layout).
func chunkStart(h int64, id string) bool {
	m := int64(uint64(h)>>8) & 0xFFFFFF
	weights := [4]int64{1, 7, 23, 41}
	for i, w := range weights {
		if len(id) > i {
			m += int64(id[len(id)-1-i]) * w
		}
	}
	return m%61 == 0
}

// posting is one row of voter_postings.
type posting struct {
	first string
	n     int64
	ids   []string
}

func joinIDs(ids []string) string { return strings.Join(ids, "\n") }

// splitIDs reads a chunk's ids column. It never fails: any text is a
// list of IDs; an empty one is none.
func splitIDs(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var errPosting = errors.New("malformed search key posting")

// checkIDs reports whether ids is a valid chunk: sorted, without repeats
// or empty IDs.
func checkIDs(ids []string) bool {
	for i, id := range ids {
		if id == "" || (i > 0 && ids[i-1] >= id) {
			return false
		}
	}
	return true
}

// layoutPostings returns the canonical rows of key h holding ids (sorted,
// distinct): the head first, then one row per chunk start.
func layoutPostings(h int64, ids []string) []posting {
	if len(ids) == 0 {
		return nil
	}
	out := []posting{{first: "", n: int64(len(ids))}}
	start := 0
	for i, id := range ids {
		if !chunkStart(h, id) {
			continue
		}
		if i > start || len(out) == 1 {
			out[len(out)-1].ids = ids[start:i]
		}
		out = append(out, posting{first: id})
		start = i
	}
	out[len(out)-1].ids = ids[start:]
	return out
}

// postingStmts change the postings of single keys: a registration, a
// change, a merge. An import's keys are written in bulk (mergeKeyRuns).
type postingStmts struct {
	at, before, total, put, del *sql.Stmt
}

func preparePostingStmts(tx *Tx) (*postingStmts, error) {
	var s postingStmts
	var err error
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = tx.Prepare(q)
		}
	}
	// The chunk holding (or that would hold) an ID: the last one starting
	// at or before it; and the one before that.
	prep(&s.at, `SELECT first, n, ids FROM voter_postings WHERE h = ? AND first <= ? ORDER BY first DESC LIMIT 1`)
	prep(&s.before, `SELECT first, n, ids FROM voter_postings WHERE h = ? AND first < ? ORDER BY first DESC LIMIT 1`)
	prep(&s.total, `UPDATE voter_postings SET n = n + ? WHERE h = ? AND first = ''`)
	prep(&s.put, `INSERT INTO voter_postings(h, first, n, ids) VALUES (?, ?, ?, ?)
		ON CONFLICT(h, first) DO UPDATE SET n = excluded.n, ids = excluded.ids`)
	prep(&s.del, `DELETE FROM voter_postings WHERE h = ? AND first = ?`)
	if err != nil {
		s.close()
		return nil, err
	}
	return &s, nil
}

func (s *postingStmts) close() {
	for _, st := range []*sql.Stmt{s.at, s.before, s.total, s.put, s.del} {
		if st != nil {
			st.Close()
		}
	}
}

// find returns the chunk of h that holds id (atOrBefore) or the one
// before it; ok is false when there is none.
func (s *postingStmts) find(h int64, id string, atOrBefore bool) (p posting, ok bool, err error) {
	var ids string
	st := s.before
	if atOrBefore {
		st = s.at
	}
	err = st.QueryRow(h, id).Scan(&p.first, &p.n, &ids)
	if err == sql.ErrNoRows {
		return p, false, nil
	}
	if err != nil {
		return p, false, err
	}
	p.ids = splitIDs(ids)
	if !checkIDs(p.ids) {
		return p, false, errPosting
	}
	return p, true, nil
}

func (s *postingStmts) write(h int64, p posting) error {
	_, err := s.put.Exec(h, p.first, p.n, joinIDs(p.ids))
	return err
}

// addTotal changes the voter count in h's head row by d: in head, when
// the caller holds it (and then writes it), else in the table. The head
// row goes when no voter is left.
func (s *postingStmts) addTotal(h int64, d int64, head *posting) error {
	if head == nil {
		_, err := s.total.Exec(d, h)
		return err
	}
	head.n += d
	if head.n <= 0 {
		_, err := s.del.Exec(h, "")
		return err
	}
	return s.write(h, *head)
}

// add gives the voter id the key h; nothing if it has it.
func (s *postingStmts) add(h int64, id string) error {
	if id == "" || strings.Contains(id, "\n") {
		return nil
	}
	c, ok, err := s.find(h, id, true)
	if err != nil {
		return err
	}
	if !ok { // a new key
		if chunkStart(h, id) {
			if err := s.write(h, posting{first: "", n: 1}); err != nil {
				return err
			}
			return s.write(h, posting{first: id, ids: []string{id}})
		}
		return s.write(h, posting{first: "", n: 1, ids: []string{id}})
	}
	i, found := slices.BinarySearch(c.ids, id)
	if found {
		return nil
	}
	if chunkStart(h, id) { // id splits c
		tail := append([]string{id}, c.ids[i:]...)
		c.ids = c.ids[:i]
		if err := s.write(h, posting{first: id, ids: tail}); err != nil {
			return err
		}
	} else {
		c.ids = slices.Insert(c.ids, i, id)
	}
	if c.first == "" {
		c.n++
		return s.write(h, c)
	}
	if err := s.write(h, c); err != nil {
		return err
	}
	return s.addTotal(h, 1, nil)
}

// remove takes the key h from the voter id; nothing if it does not have it.
func (s *postingStmts) remove(h int64, id string) error {
	if id == "" || strings.Contains(id, "\n") {
		return nil
	}
	c, ok, err := s.find(h, id, true)
	if err != nil || !ok {
		return err
	}
	i, found := slices.BinarySearch(c.ids, id)
	if !found {
		return nil
	}
	c.ids = slices.Delete(c.ids, i, i+1)
	if c.first == "" {
		return s.addTotal(h, -1, &c)
	}
	if c.first == id { // c's start goes: its other IDs join the chunk before
		prev, ok, err := s.find(h, id, false)
		if err != nil {
			return err
		}
		if !ok {
			return errPosting // the head row is missing
		}
		if _, err := s.del.Exec(h, c.first); err != nil {
			return err
		}
		prev.ids = append(prev.ids, c.ids...)
		if prev.first == "" {
			return s.addTotal(h, -1, &prev)
		}
		if err := s.write(h, prev); err != nil {
			return err
		}
		return s.addTotal(h, -1, nil)
	}
	if err := s.write(h, c); err != nil {
		return err
	}
	return s.addTotal(h, -1, nil)
}

// postingsPerInsert is how many rows one multi-row INSERT writes.
const postingsPerInsert = 200

// postingWriter writes whole keys' postings in key order: an import's
// keys at its voter.imported event. With fresh set, the caller knows that
// none of the keys has postings yet (an import into an empty roll, or a
// rebuild); otherwise the stored postings of the keys that have some are
// read and merged first (looked up keysPerLookup at a time).
type postingWriter struct {
	tx    *Tx
	fresh bool
	args  []any
	ids   []string // the current key's IDs, in order
	h     int64
	have  bool
	batch []pendingKey // with !fresh: keys waiting for the lookup
}

type pendingKey struct {
	h   int64
	ids []string
}

const keysPerLookup = 500

// add appends (h, id); keys come in (h, id) order, repeats allowed.
func (w *postingWriter) add(h int64, id string) error {
	if id == "" || strings.Contains(id, "\n") {
		return nil
	}
	if w.have && h == w.h {
		if id != w.ids[len(w.ids)-1] {
			w.ids = append(w.ids, id)
		}
		return nil
	}
	if err := w.endKey(); err != nil {
		return err
	}
	w.h, w.have, w.ids = h, true, append(w.ids[:0], id)
	return nil
}

func (w *postingWriter) endKey() error {
	if !w.have {
		return nil
	}
	w.have = false
	if w.fresh {
		return w.emit(w.h, w.ids)
	}
	w.batch = append(w.batch, pendingKey{w.h, slices.Clone(w.ids)})
	if len(w.batch) == keysPerLookup {
		return w.lookup()
	}
	return nil
}

// lookup merges the waiting keys with their stored postings, if any, and
// emits them.
func (w *postingWriter) lookup() error {
	if len(w.batch) == 0 {
		return nil
	}
	hs := make([]any, len(w.batch))
	for i, k := range w.batch {
		hs[i] = k.h
	}
	rows, err := w.tx.Query(`SELECT h FROM voter_postings WHERE first = '' AND h IN (?`+strings.Repeat(",?", len(hs)-1)+`)`, hs...)
	if err != nil {
		return err
	}
	stored := map[int64]bool{}
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return err
		}
		stored[h] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range w.batch {
		ids := k.ids
		if stored[k.h] {
			old, err := readPostings(w.tx, k.h)
			if err != nil {
				return err
			}
			if _, err := w.tx.Exec(`DELETE FROM voter_postings WHERE h = ?`, k.h); err != nil {
				return err
			}
			ids = mergeIDs(old, ids)
		}
		if err := w.emit(k.h, ids); err != nil {
			return err
		}
	}
	w.batch = w.batch[:0]
	return nil
}

// emit queues the canonical rows of key h holding ids.
func (w *postingWriter) emit(h int64, ids []string) error {
	for _, p := range layoutPostings(h, ids) {
		w.args = append(w.args, h, p.first, p.n, joinIDs(p.ids))
		if len(w.args) == 4*postingsPerInsert {
			if err := w.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// close writes what is left.
func (w *postingWriter) close() error {
	if err := w.endKey(); err != nil {
		return err
	}
	if err := w.lookup(); err != nil {
		return err
	}
	return w.flush()
}

func (w *postingWriter) flush() error {
	defer func() { w.args = w.args[:0] }()
	if len(w.args) == 4*postingsPerInsert {
		_, err := w.tx.Exec(insertPostingsSQL, w.args...)
		return err
	}
	for i := 0; i < len(w.args); i += 4 {
		if _, err := w.tx.Exec(`INSERT OR IGNORE INTO voter_postings(h, first, n, ids) VALUES (?,?,?,?)`, w.args[i:i+4]...); err != nil {
			return err
		}
	}
	return nil
}

// insertPostingsSQL: OR IGNORE spares the statement journal (see
// insertVotersSQL); no row can conflict, as each key's rows are written
// once, after any it had were deleted.
var insertPostingsSQL = `INSERT OR IGNORE INTO voter_postings(h, first, n, ids) VALUES ` +
	strings.Repeat("(?,?,?,?),", postingsPerInsert-1) + `(?,?,?,?)`

// readPostings returns every voter ID having key h, sorted.
func readPostings(q interface {
	Query(string, ...any) (*sql.Rows, error)
}, h int64) ([]string, error) {
	rows, err := q.Query(`SELECT ids FROM voter_postings WHERE h = ? ORDER BY first`, h)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, splitIDs(s)...)
	}
	return out, rows.Err()
}

// mergeIDs merges two sorted lists of IDs, without repeats.
func mergeIDs(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		var next string
		switch {
		case len(b) == 0 || (len(a) > 0 && a[0] < b[0]):
			next, a = a[0], a[1:]
		case len(a) == 0 || b[0] < a[0]:
			next, b = b[0], b[1:]
		default:
			next, a, b = a[0], a[1:], b[1:]
		}
		if len(out) == 0 || out[len(out)-1] != next {
			out = append(out, next)
		}
	}
	return out
}

// postingsEmpty reports whether no key has postings.
func postingsEmpty(tx *Tx) (bool, error) {
	var any bool
	err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM voter_postings)`).Scan(&any)
	return !any, err
}

// keyCountSQL counts, for up to n query keys, the voters each has (from
// the head rows): ?1 … ?n are the keys' hashes.
func keyCountSQL(n int) string {
	parts := make([]string, n)
	for i := range parts {
		k := strconv.Itoa(i + 1)
		parts[i] = `SELECT ?` + k + `, COALESCE((SELECT n FROM voter_postings WHERE h = ?` + k + ` AND first = ''), 0)`
	}
	return strings.Join(parts, " UNION ALL ")
}
