package ledger

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"golang.org/x/mod/sumdb/tlog"
)

// Tree is a Merkle tree whose stored hashes live in a file. It is safe for
// concurrent use: one appender, many readers.
type Tree struct {
	mu    sync.RWMutex
	f     *os.File
	w     *bufio.Writer
	n     int64       // leaves
	count int64       // stored hashes written (== tlog.StoredHashCount(n))
	stack []stackItem // perfect subtrees covering leaves [0,n), largest first
}

type stackItem struct {
	level int
	hash  tlog.Hash
}

// OpenTree opens or creates the hash file at path. A torn tail (from a crash
// mid-append) is cut back to the last complete leaf.
func OpenTree(path string) (*Tree, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	avail := st.Size() / tlog.HashSize
	// Largest n whose stored-hash count fits in the file.
	n := int64(0)
	for lo, hi := int64(0), avail; lo <= hi; {
		mid := (lo + hi) / 2
		if tlog.StoredHashCount(mid) <= avail {
			n, lo = mid, mid+1
		} else {
			hi = mid - 1
		}
	}
	t := &Tree{f: f}
	if err := t.reset(n); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

// reset truncates the tree to n leaves and rebuilds the in-memory stack.
func (t *Tree) reset(n int64) error {
	count := tlog.StoredHashCount(n)
	if err := t.f.Truncate(count * tlog.HashSize); err != nil {
		return err
	}
	if _, err := t.f.Seek(count*tlog.HashSize, io.SeekStart); err != nil {
		return err
	}
	t.n, t.count = n, count
	t.w = bufio.NewWriterSize(t.f, 1<<16)
	t.stack = t.stack[:0]
	// The subtrees covering [0,n) are given by n's bits, largest first.
	var start int64
	for level := 62; level >= 0; level-- {
		if n&(1<<level) == 0 {
			continue
		}
		idx := (start >> level)
		hs, err := t.readHashes([]int64{tlog.StoredHashIndex(level, idx)})
		if err != nil {
			return err
		}
		t.stack = append(t.stack, stackItem{level: level, hash: hs[0]})
		start += 1 << level
	}
	return nil
}

// Truncate cuts the tree back to n leaves (n <= Size).
func (t *Tree) Truncate(n int64) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n > t.n {
		return fmt.Errorf("ledger: cannot truncate %d leaves to %d", t.n, n)
	}
	if err := t.w.Flush(); err != nil {
		return err
	}
	return t.reset(n)
}

// Size returns the number of leaves.
func (t *Tree) Size() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}

// Append adds leaves (entry bytes) and returns the new size.
func (t *Tree) Append(leaves ...[]byte) (int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, data := range leaves {
		if err := t.appendHash(tlog.RecordHash(data)); err != nil {
			return t.n, err
		}
	}
	return t.n, nil
}

// appendHash writes the leaf hash and every interior hash the leaf completes,
// which is exactly tlog.StoredHashes' order.
func (t *Tree) appendHash(h tlog.Hash) error {
	if _, err := t.w.Write(h[:]); err != nil {
		return err
	}
	t.count++
	t.stack = append(t.stack, stackItem{level: 0, hash: h})
	for len(t.stack) >= 2 {
		a, b := t.stack[len(t.stack)-2], t.stack[len(t.stack)-1]
		if a.level != b.level {
			break
		}
		p := tlog.NodeHash(a.hash, b.hash)
		if _, err := t.w.Write(p[:]); err != nil {
			return err
		}
		t.count++
		t.stack = t.stack[:len(t.stack)-2]
		t.stack = append(t.stack, stackItem{level: a.level + 1, hash: p})
	}
	t.n++
	return nil
}

// Root returns the tree hash of the current tree.
func (t *Tree) Root() (int64, tlog.Hash) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n, foldStack(t.stack)
}

func foldStack(stack []stackItem) tlog.Hash {
	if len(stack) == 0 {
		return tlog.Hash{}
	}
	h := stack[len(stack)-1].hash
	for i := len(stack) - 2; i >= 0; i-- {
		h = tlog.NodeHash(stack[i].hash, h)
	}
	return h
}

// RootAt returns the tree hash of the first n leaves.
func (t *Tree) RootAt(n int64) (tlog.Hash, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n > t.n {
		return tlog.Hash{}, fmt.Errorf("ledger: tree has %d leaves, not %d", t.n, n)
	}
	if err := t.w.Flush(); err != nil {
		return tlog.Hash{}, err
	}
	return tlog.TreeHash(n, t)
}

// LeafHash returns the stored hash of leaf i.
func (t *Tree) LeafHash(i int64) (tlog.Hash, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= t.n {
		return tlog.Hash{}, fmt.Errorf("ledger: no leaf %d in a tree of %d", i, t.n)
	}
	if err := t.w.Flush(); err != nil {
		return tlog.Hash{}, err
	}
	hs, err := t.readHashes([]int64{tlog.StoredHashIndex(0, i)})
	if err != nil {
		return tlog.Hash{}, err
	}
	return hs[0], nil
}

// InclusionProof proves leaf i is in the tree of size n.
func (t *Tree) InclusionProof(i, n int64) (tlog.RecordProof, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if i < 0 || i >= n || n > t.n {
		return nil, fmt.Errorf("ledger: no leaf %d in a tree of %d (have %d)", i, n, t.n)
	}
	if err := t.w.Flush(); err != nil {
		return nil, err
	}
	return tlog.ProveRecord(n, i, t)
}

// ConsistencyProof proves the tree of size n extends the tree of size m.
func (t *Tree) ConsistencyProof(m, n int64) (tlog.TreeProof, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if m < 0 || m > n || n > t.n {
		return nil, fmt.Errorf("ledger: cannot prove %d extends %d (have %d)", n, m, t.n)
	}
	if err := t.w.Flush(); err != nil {
		return nil, err
	}
	return tlog.ProveTree(n, m, t)
}

// ReadHashes implements tlog.HashReader. Callers hold t.mu.
func (t *Tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	return t.readHashes(indexes)
}

func (t *Tree) readHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		if idx < 0 || idx >= t.count {
			return nil, fmt.Errorf("ledger: stored hash %d not present (have %d)", idx, t.count)
		}
		if _, err := t.f.ReadAt(out[i][:], idx*tlog.HashSize); err != nil {
			return nil, fmt.Errorf("ledger: reading stored hash %d: %w", idx, err)
		}
	}
	return out, nil
}

// Flush writes buffered hashes to the file (no fsync: the file is derived).
func (t *Tree) Flush() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.w.Flush()
}

// Close flushes and closes the file.
func (t *Tree) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.w.Flush()
	return errors.Join(err, t.f.Close())
}

// Hasher computes tree hashes over a stream of leaves without storage; the
// offline verifier uses it.
type Hasher struct {
	n     int64
	stack []stackItem
}

// Add appends one leaf and returns its leaf hash.
func (h *Hasher) Add(data []byte) tlog.Hash {
	lh := tlog.RecordHash(data)
	h.stack = append(h.stack, stackItem{hash: lh})
	for len(h.stack) >= 2 {
		a, b := h.stack[len(h.stack)-2], h.stack[len(h.stack)-1]
		if a.level != b.level {
			break
		}
		h.stack = append(h.stack[:len(h.stack)-2], stackItem{level: a.level + 1, hash: tlog.NodeHash(a.hash, b.hash)})
	}
	h.n++
	return lh
}

// Size is the number of leaves added.
func (h *Hasher) Size() int64 { return h.n }

// Root is the tree hash of the leaves added so far.
func (h *Hasher) Root() tlog.Hash { return foldStack(h.stack) }
