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
// into voter_postings in key order: inserting millions of random hashes
// batch by batch would rewrite most of the postings at every batch.
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

// sortKeys sorts keys by hash and ID. An event's 50,000 keys are sorted
// by hash with a radix sort (eight passes over bytes; slices.SortFunc
// compares through a function call, three times slower here), then each
// run of equal hashes by ID.
func sortKeys(keys []voterKey) {
	if len(keys) < 256 {
		slices.SortFunc(keys, compareKeys)
		return
	}
	tmp := make([]voterKey, len(keys))
	src, dst := keys, tmp
	for shift := uint(0); shift < 64; shift += 8 {
		var count [256]int
		for i := range src {
			count[byte((uint64(src[i].h)^(1<<63))>>shift)]++
		}
		if count[byte((uint64(src[0].h)^(1<<63))>>shift)] == len(src) {
			continue // every key has this byte
		}
		pos := 0
		for b, n := range count {
			count[b] = pos
			pos += n
		}
		for i := range src {
			b := byte((uint64(src[i].h) ^ (1 << 63)) >> shift)
			dst[count[b]] = src[i]
			count[b]++
		}
		src, dst = dst, src
	}
	if &src[0] != &keys[0] {
		copy(keys, src)
	}
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].h == keys[i].h {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(keys[i:j], compareKeys)
		}
		i = j
	}
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
		sortKeys(keys)
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

// runCursor reads one run, a part at a time. Each key's ID is a copy: a
// substring would keep its whole part in memory (40 KB) for as long as
// the key waits to be written, and the merge interleaves a thousand runs.
type runCursor struct {
	run, part int64
	buf       string
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
	c.cur.h = int64(binary.BigEndian.Uint64([]byte(c.buf[:8])))
	n, w := uvarint(c.buf[8:])
	if w <= 0 || n > uint64(len(c.buf)-8-w) {
		return false, errKeyRun
	}
	c.cur.id = strings.Clone(c.buf[8+w : 8+w+int(n)])
	c.buf = c.buf[8+w+int(n):]
	return true, nil
}

// uvarint is binary.Uvarint for a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1) // overflow
		}
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<shift, i + 1
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

// mergeKeyRuns adds every run's keys to the postings in key order and
// drops the runs. A second goroutine reads the runs and merges them into
// batches while this one writes the postings; both use tx, which
// database/sql serializes.
func mergeKeyRuns(tx *Tx) error {
	if err := ensureKeyRuns(tx); err != nil {
		return err
	}
	fresh, err := postingsEmpty(tx)
	if err != nil {
		return err
	}
	w := postingWriter{tx: tx, fresh: fresh}
	batches := make(chan keyBatch, 4)
	done := make(chan struct{})
	go mergeRuns(tx, batches, done)
	err = func() error {
		for b := range batches {
			if b.err != nil {
				return b.err
			}
			for _, k := range b.keys {
				if err := w.add(k.h, k.id); err != nil {
					return err
				}
			}
		}
		return w.close()
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

// keyBatch is up to keysPerBatch keys, in order.
type keyBatch struct {
	keys []voterKey
	err  error
}

const keysPerBatch = 1000

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
	keys := make([]voterKey, 0, keysPerBatch)
	var prev voterKey
	first := true
	for len(heap) > 0 {
		c := heap[0]
		if first || c.cur != prev {
			keys = append(keys, c.cur)
			prev, first = c.cur, false
			if len(keys) == keysPerBatch {
				if !send(keyBatch{keys: keys}) {
					return
				}
				keys = make([]voterKey, 0, keysPerBatch)
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
	if len(keys) > 0 {
		send(keyBatch{keys: keys})
	}
}
