package sqlite

import (
	"cmp"
	"database/sql"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
)

// An import's search keys wait until its voter.imported event, then go
// into voter_keys in index order: inserting millions of random hashes
// batch by batch would rewrite most of the key index at every batch.
//
// They wait as sorted runs: each event's keys are sorted here, in Go, and
// stored packed in voter_key_runs (a few rows of blobs per event); the
// voter.imported event merges the runs and inserts the keys in order.
// Sorting them inside SQLite instead (INSERT … SELECT … ORDER BY from a
// table of pending keys, as vigil did before) was a third of an import's
// CPU: its sorter merges linked lists of records, 15 times slower than
// sorting the integers here. Memory stays small: the merge holds one part
// (keysPerPart keys) of each run.
//
// The table is created by the first event that needs it and dropped by the
// merge, so a projection without an unfinished import has none; a rebuild
// from the log creates and drops it at the same events. Keys that older
// versions left in voter_keys_pending are merged too.

// keysPerPart is how many keys one row of voter_key_runs packs.
const keysPerPart = 2048

func ensureKeyRuns(tx *Tx) error {
	_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS voter_key_runs (
		run  INTEGER NOT NULL,
		part INTEGER NOT NULL,
		keys BLOB NOT NULL,
		PRIMARY KEY (run, part)
	) WITHOUT ROWID`)
	return err
}

func compareKeys(a, b voterKey) int {
	if c := cmp.Compare(a.h, b.h); c != 0 {
		return c
	}
	return strings.Compare(a.id, b.id)
}

// writeKeyRun stores keys, sorted, as the next run.
func writeKeyRun(tx *Tx, keys []voterKey) error {
	if len(keys) == 0 {
		return nil
	}
	if err := ensureKeyRuns(tx); err != nil {
		return err
	}
	if !slices.IsSortedFunc(keys, compareKeys) {
		slices.SortFunc(keys, compareKeys)
	}
	var run int64
	if err := tx.QueryRow(`SELECT COALESCE(MAX(run), 0) + 1 FROM voter_key_runs`).Scan(&run); err != nil {
		return err
	}
	var buf []byte
	for part := 0; len(keys) > 0; part++ {
		n := min(keysPerPart, len(keys))
		buf = buf[:0]
		for _, k := range keys[:n] {
			buf = binary.BigEndian.AppendUint64(buf, uint64(k.h))
			buf = binary.AppendUvarint(buf, uint64(len(k.id)))
			buf = append(buf, k.id...)
		}
		if _, err := tx.Exec(`INSERT INTO voter_key_runs(run, part, keys) VALUES (?, ?, ?)`, run, part, buf); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

var errKeyRun = errors.New("malformed search key run")

// runCursor reads one run, a part at a time.
type runCursor struct {
	run, part int64
	buf       []byte
	cur       voterKey
}

// next moves to the run's next key; false at its end.
func (c *runCursor) next(tx *Tx) (bool, error) {
	if len(c.buf) == 0 {
		err := tx.QueryRow(`SELECT keys FROM voter_key_runs WHERE run = ? AND part = ?`, c.run, c.part).Scan(&c.buf)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		c.part++
		if len(c.buf) == 0 {
			return false, errKeyRun
		}
	}
	if len(c.buf) < 9 {
		return false, errKeyRun
	}
	c.cur.h = int64(binary.BigEndian.Uint64(c.buf))
	n, w := binary.Uvarint(c.buf[8:])
	if w <= 0 || n > uint64(len(c.buf)-8-w) {
		return false, errKeyRun
	}
	c.cur.id = string(c.buf[8+w : 8+w+int(n)])
	c.buf = c.buf[8+w+int(n):]
	return true, nil
}

// mergeKeyRuns inserts every run's keys into voter_keys in index order and
// drops the runs. A second goroutine reads the runs and merges them into
// batches of statement arguments while this one executes the inserts;
// both use tx, which database/sql serializes.
func mergeKeyRuns(tx *Tx) error {
	if err := ensureKeyRuns(tx); err != nil {
		return err
	}
	batches := make(chan keyBatch, 4)
	done := make(chan struct{})
	go mergeRuns(tx, batches, done)
	err := func() error {
		for b := range batches {
			if b.err != nil {
				return b.err
			}
			if len(b.args) == 2*keysPerInsert {
				if _, err := tx.Exec(`INSERT INTO voter_keys(h, id) VALUES (?,?)`+strings.Repeat(",(?,?)", keysPerInsert-1)+
					` ON CONFLICT DO NOTHING`, b.args...); err != nil {
					return err
				}
				continue
			}
			for i := 0; i < len(b.args); i += 2 {
				if _, err := tx.Exec(`INSERT INTO voter_keys(h, id) VALUES (?,?) ON CONFLICT DO NOTHING`, b.args[i], b.args[i+1]); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	close(done)
	for range batches { // wait for the merging goroutine to stop using tx
	}
	if err != nil {
		return err
	}
	_, err = tx.Exec(`DROP TABLE voter_key_runs`)
	return err
}

// keyBatch is the (h, id) arguments of up to keysPerInsert keys, in order.
type keyBatch struct {
	args []any
	err  error
}

// mergeRuns merges the runs of voter_key_runs into out, leaving out keys
// equal to the one before, until done.
func mergeRuns(tx *Tx, out chan<- keyBatch, done <-chan struct{}) {
	defer close(out)
	send := func(b keyBatch) bool {
		select {
		case out <- b:
			return b.err == nil
		case <-done:
			return false
		}
	}
	rows, err := tx.Query(`SELECT DISTINCT run FROM voter_key_runs ORDER BY run`)
	if err != nil {
		send(keyBatch{err: err})
		return
	}
	var heap []*runCursor
	for rows.Next() {
		c := &runCursor{}
		if err := rows.Scan(&c.run); err != nil {
			rows.Close()
			send(keyBatch{err: err})
			return
		}
		heap = append(heap, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		send(keyBatch{err: err})
		return
	}
	// A binary min-heap of the runs by their current key.
	live := heap[:0]
	for _, c := range heap {
		ok, err := c.next(tx)
		if err != nil {
			send(keyBatch{err: err})
			return
		}
		if ok {
			live = append(live, c)
		}
	}
	heap = live
	less := func(i, j int) bool { return compareKeys(heap[i].cur, heap[j].cur) < 0 }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(heap) {
				return
			}
			m := l
			if r := l + 1; r < len(heap) && less(r, l) {
				m = r
			}
			if !less(m, i) {
				return
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	for i := len(heap)/2 - 1; i >= 0; i-- {
		down(i)
	}
	args := make([]any, 0, 2*keysPerInsert)
	var prev voterKey
	first := true
	for len(heap) > 0 {
		c := heap[0]
		if first || c.cur != prev {
			args = append(args, c.cur.h, c.cur.id)
			prev, first = c.cur, false
			if len(args) == 2*keysPerInsert {
				if !send(keyBatch{args: args}) {
					return
				}
				args = make([]any, 0, 2*keysPerInsert)
			}
		}
		ok, err := c.next(tx)
		if err != nil {
			send(keyBatch{err: err})
			return
		}
		if !ok {
			heap[0] = heap[len(heap)-1]
			heap = heap[:len(heap)-1]
		}
		down(0)
	}
	if len(args) > 0 {
		send(keyBatch{args: args})
	}
}

// keyInserter inserts keys keysPerInsert per statement.
type keyInserter struct {
	tx    *Tx
	table string
	args  []any
}

func (k *keyInserter) add(key voterKey) error {
	k.args = append(k.args, key.h, key.id)
	if len(k.args) == 2*keysPerInsert {
		return k.flush()
	}
	return nil
}

// flush inserts the keys added so far: a full statement's worth in one,
// fewer one by one (one statement text per size would fill the cache of
// prepared statements).
func (k *keyInserter) flush() error {
	defer func() { k.args = k.args[:0] }()
	if len(k.args) == 2*keysPerInsert {
		_, err := k.tx.Exec(`INSERT INTO `+k.table+`(h, id) VALUES (?,?)`+strings.Repeat(",(?,?)", keysPerInsert-1)+
			` ON CONFLICT DO NOTHING`, k.args...)
		return err
	}
	for i := 0; i < len(k.args); i += 2 {
		if _, err := k.tx.Exec(`INSERT INTO `+k.table+`(h, id) VALUES (?,?) ON CONFLICT DO NOTHING`, k.args[i], k.args[i+1]); err != nil {
			return err
		}
	}
	return nil
}
