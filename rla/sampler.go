package rla

import (
	"container/heap"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// TicketDigits is how many significant digits of a ticket number Arlo
// shows (after any leading run of 9s), and so how many Sample shows.
const TicketDigits = 18

// MinSeedDigits is the fewest decimal digits a seed for an audit ceremony
// may have. Twenty rolls of a ten-sided die give about 66 bits of
// entropy, the amount that state guidance (and Arlo) asks for.
const MinSeedDigits = 20

// Batch is one line of a ballot manifest: a named container of ballots,
// numbered 1..Ballots in the order they are stored.
type Batch struct {
	Name    string
	Ballots int
}

// BallotID names one ballot the way Arlo names it: its batch and its
// 1-based position in that batch.
type BallotID struct {
	Batch    string
	Position int
}

// Draw is one draw of the sample.
type Draw struct {
	// Ticket is the ticket number as Arlo prints it: "0." followed by
	// TicketDigits digits (after any leading 9s), truncated, not rounded.
	Ticket string
	Ballot BallotID
	// Times counts how often this ballot has been drawn so far, this draw
	// included (the ticket's "generation"). It is always 1 without
	// replacement.
	Times int
}

// Sampling errors. Messages name the problem; callers add where it is.
var (
	ErrSeedTooShort   = fmt.Errorf("the seed must contain at least %d decimal digits", MinSeedDigits)
	ErrEmptyManifest  = errors.New("the manifest has no ballots")
	ErrBatchName      = errors.New("a batch name must be non-empty valid UTF-8")
	ErrBatchDuplicate = errors.New("a batch name appears twice in the manifest")
	ErrBatchCount     = errors.New("a batch must hold at least one ballot")
	ErrCount          = errors.New("the number of ballots to draw must be at least 1")
)

// CheckSeed reports whether seed is fit for an audit ceremony: it must
// contain at least MinSeedDigits decimal digits. Sample itself accepts any
// seed, so that it can reproduce any published sample.
func CheckSeed(seed string) error {
	n := 0
	for _, r := range seed {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if n < MinSeedDigits {
		return ErrSeedTooShort
	}
	return nil
}

// CheckManifest reports whether m can be sampled: batch names are
// distinct, non-empty and valid UTF-8, and every batch holds a ballot.
func CheckManifest(m []Batch) error {
	if len(m) == 0 {
		return ErrEmptyManifest
	}
	seen := make(map[string]bool, len(m))
	for _, b := range m {
		if b.Name == "" || !utf8.ValidString(b.Name) {
			return fmt.Errorf("batch %q: %w", b.Name, ErrBatchName)
		}
		if seen[b.Name] {
			return fmt.Errorf("batch %q: %w", b.Name, ErrBatchDuplicate)
		}
		seen[b.Name] = true
		if b.Ballots < 1 || b.Ballots > maxBatchBallots {
			return fmt.Errorf("batch %q: %w", b.Name, ErrBatchCount)
		}
	}
	return nil
}

// maxBatchBallots keeps positions within int32 and far beyond any real
// batch.
const maxBatchBallots = 1 << 30

// Sample draws count ballots from manifest m with Rivest's consistent
// sampler, seeded by seed, and returns them in draw order.
//
// With replacement (ballot polling) a ballot may be drawn more than once;
// each later draw has a larger ticket and a larger Times. Without
// replacement (ballot comparison) every ballot appears at most once, and
// a count larger than the manifest yields every ballot once, as the
// reference sampler does.
//
// The result equals, draw for draw and digit for digit, Arlo's
// sampler.draw_sample(seed, manifest, count) where Arlo's manifest maps
// each batch name to positions 1..Ballots. The order of batches in m does
// not matter.
func Sample(seed string, m []Batch, count int, withReplacement bool) ([]Draw, error) {
	if err := CheckManifest(m); err != nil {
		return nil, err
	}
	if count < 1 {
		return nil, ErrCount
	}
	s := newSampler(seed, m)
	if !withReplacement && int64(count) > s.total {
		count = int(s.total)
	}
	cands := s.smallest(count)
	h := make(ticketHeap, len(cands))
	for i, c := range cands {
		h[i] = ticket{num: s.fullTicket(c.index), ballot: s.ballotAt(c.index), gen: 1}
	}
	heap.Init(&h)
	out := make([]Draw, 0, count)
	for len(out) < count && len(h) > 0 {
		t := h[0]
		out = append(out, Draw{Ticket: trimTicket(t.num, TicketDigits), Ballot: t.ballot, Times: t.gen})
		if withReplacement {
			h[0] = ticket{num: nextFraction(t.num), ballot: t.ballot, gen: t.gen + 1}
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
	return out, nil
}

// sampler holds what every ticket computation shares.
type sampler struct {
	batches []Batch
	starts  []int64  // starts[i] is the global index of batch i's first ballot
	prefix  [][]byte // "(" + repr(name) + ", ": the id up to the position
	seedHex string   // hex SHA-256 of the seed, the first 64 bytes hashed
	total   int64
}

func newSampler(seed string, m []Batch) *sampler {
	sum := sha256.Sum256([]byte(seed))
	s := &sampler{batches: m, seedHex: hex.EncodeToString(sum[:])}
	s.starts = make([]int64, len(m))
	s.prefix = make([][]byte, len(m))
	for i, b := range m {
		s.starts[i] = s.total
		s.total += int64(b.Ballots)
		s.prefix[i] = []byte("(" + pyRepr(b.Name) + ", ")
	}
	return s
}

func (s *sampler) ballotAt(index int64) BallotID {
	i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > index }) - 1
	return BallotID{Batch: s.batches[i].Name, Position: int(index-s.starts[i]) + 1}
}

// digestAt hashes the first-generation input for one ballot:
// sha256_hex(seed) + str((batch, position)), as first_fraction does.
func (s *sampler) digestAt(index int64) [32]byte {
	b := s.ballotAt(index)
	i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > index }) - 1
	buf := make([]byte, 0, 128)
	buf = append(buf, s.seedHex...)
	buf = append(buf, s.prefix[i]...)
	buf = strconv.AppendInt(buf, int64(b.Position), 10)
	buf = append(buf, ')')
	return sha256.Sum256(buf)
}

func (s *sampler) fullTicket(index int64) string {
	d := s.digestAt(index)
	return uniformFromDigest(d)
}

type candidate struct {
	key   uint64 // the ticket's first 19 digits, as a number
	index int64  // global ballot index
}

// smallest returns the ballots whose first-generation tickets are among
// the k smallest (more if the 19-digit keys tie at the boundary).
//
// Only these ballots can appear in the first k draws, with or without
// replacement: later-generation tickets of a ballot exceed its first, and
// k first-generation tickets lie at or below the k-th smallest. So the
// expensive exact tickets are needed for at most about k ballots, and the
// scan of the whole manifest only compares 64-bit keys.
func (s *sampler) smallest(k int) []candidate {
	workers := runtime.GOMAXPROCS(0)
	if s.total < 1<<14 {
		workers = 1
	}
	per := (s.total + int64(workers) - 1) / int64(workers)
	type result struct {
		heap       keyHeap
		minDropped uint64 // the least key a worker discarded
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := int64(w)*per, min(int64(w+1)*per, s.total)
		wg.Go(func() {
			h, dropped := s.scan(lo, hi, k)
			results[w] = result{h, dropped}
		})
	}
	wg.Wait()

	var all []candidate
	minDropped := ^uint64(0)
	for _, r := range results {
		all = append(all, r.heap...)
		minDropped = min(minDropped, r.minDropped)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].key < all[j].key })
	if len(all) <= k {
		return all
	}
	limit := all[k-1].key
	if minDropped <= limit {
		// A worker discarded a key that ties the boundary. Vanishingly
		// rare (two tickets agreeing in 19 digits), but exactness
		// matters more than speed: rescan for every key at or below it.
		return s.atOrBelow(limit)
	}
	n := k
	for n < len(all) && all[n].key == limit {
		n++
	}
	return all[:n]
}

// scan keeps the k smallest keys among ballots [lo, hi).
func (s *sampler) scan(lo, hi int64, k int) (keyHeap, uint64) {
	h := make(keyHeap, 0, min(int64(k), hi-lo))
	dropped := ^uint64(0)
	// Keys whose first four digits exceed those of the largest kept key
	// are skipped before the full key is computed. They exceed every key
	// that can end up at the boundary, so they cannot tie it and need not
	// count as dropped.
	skip := uint64(1 << 63)
	s.eachKey(lo, hi, &skip, func(index int64, key uint64) {
		switch {
		case len(h) < k:
			heap.Push(&h, candidate{key, index})
		case key < h[0].key:
			dropped = min(dropped, h[0].key)
			h[0] = candidate{key, index}
			heap.Fix(&h, 0)
		default:
			dropped = min(dropped, key)
		}
		if len(h) == k {
			skip = h[0].key / 1e15
		}
	})
	return h, dropped
}

func (s *sampler) atOrBelow(limit uint64) []candidate {
	var out []candidate
	never := uint64(1 << 63)
	s.eachKey(0, s.total, &never, func(index int64, key uint64) {
		if key <= limit {
			out = append(out, candidate{key, index})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

// eachKey calls f with the 19-digit key of every ballot in [lo, hi)
// whose first four digits are at most *skip.
//
// The hash input always starts with the 64-byte hex seed hash, exactly
// one SHA-256 block, so the state after that block is computed once and
// restored for every ballot: one compression per ballot instead of two.
func (s *sampler) eachKey(lo, hi int64, skip *uint64, f func(index int64, key uint64)) {
	if lo >= hi {
		return
	}
	base := sha256.New()
	base.Write([]byte(s.seedHex))
	state, err := base.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("rla: sha256 state cannot be saved: " + err.Error())
	}
	h := sha256.New()
	restore := h.(encoding.BinaryUnmarshaler)
	var sum [32]byte
	buf := make([]byte, 0, 128)
	i := sort.Search(len(s.starts), func(i int) bool { return s.starts[i] > lo }) - 1
	for index := lo; index < hi; {
		end := s.total
		if i+1 < len(s.starts) {
			end = s.starts[i+1]
		}
		for pos := index - s.starts[i] + 1; index < min(end, hi); index, pos = index+1, pos+1 {
			if err := restore.UnmarshalBinary(state); err != nil {
				panic("rla: sha256 state cannot be restored: " + err.Error())
			}
			buf = append(buf[:0], s.prefix[i]...)
			buf = strconv.AppendInt(buf, pos, 10)
			buf = append(buf, ')')
			h.Write(buf)
			h.Sum(sum[:0])
			if keyPrefix(&sum) > *skip {
				continue
			}
			f(index, keyFromDigest(&sum))
		}
		i++
	}
}

const pow19 = 10_000_000_000_000_000_000 // 10^19 < 2^64

// keyFromDigest returns the first 19 decimal digits of the ticket for a
// SHA-256 digest, read as a number. The reference sampler writes the
// digest as a decimal integer and reverses the digits, so the ticket's
// leading digits are the integer's trailing ones: the key is the integer
// modulo 10^19, digits reversed.
func keyFromDigest(d *[32]byte) uint64 {
	var r uint64
	for i := 0; i < 32; i += 8 {
		limb := uint64(d[i])<<56 | uint64(d[i+1])<<48 | uint64(d[i+2])<<40 | uint64(d[i+3])<<32 |
			uint64(d[i+4])<<24 | uint64(d[i+5])<<16 | uint64(d[i+6])<<8 | uint64(d[i+7])
		_, r = bits.Div64(r, limb, pow19)
	}
	var key uint64
	for range 19 {
		key = key*10 + r%10
		r /= 10
	}
	return key
}

// keyPrefix is the first four digits of the key, keyFromDigest(d)/10^15,
// computed without long division: the integer modulo 10^4 from its
// 64-bit limbs and the residues of 2^64, 2^128 and 2^192 modulo 10^4.
func keyPrefix(d *[32]byte) uint64 {
	var r uint64
	for i, w := range [4]uint64{2896, 1456, 1616, 1} {
		limb := uint64(d[8*i])<<56 | uint64(d[8*i+1])<<48 | uint64(d[8*i+2])<<40 | uint64(d[8*i+3])<<32 |
			uint64(d[8*i+4])<<24 | uint64(d[8*i+5])<<16 | uint64(d[8*i+6])<<8 | uint64(d[8*i+7])
		r += limb % 10_000 * w
	}
	r %= 10_000
	return r%10*1000 + r/10%10*100 + r/100%10*10 + r/1000
}

// uniformFromDigest is the reference sampler's sha256_uniform: "0."
// followed by the digest's decimal digits (zero-padded to at least 64)
// in reverse order. Reversing puts the unbiased low-order digits first.
func uniformFromDigest(d [32]byte) string {
	var limbs [4]uint64
	for i := range limbs {
		for j := range 8 {
			limbs[i] = limbs[i]<<8 | uint64(d[i*8+j])
		}
	}
	// Repeatedly divide the 256-bit number by 10^19, collecting 19
	// decimal digits (least significant first) each time.
	digits := make([]byte, 0, 80)
	for limbs != [4]uint64{} {
		var r uint64
		for i := range limbs {
			limbs[i], r = bits.Div64(r, limbs[i], pow19)
		}
		for range 19 {
			digits = append(digits, byte('0'+r%10))
			r /= 10
		}
	}
	// The last chunk was zero-filled to 19 digits; drop the fill
	// (leading zeros of the number) but keep at least 64 digits.
	for len(digits) > 64 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	for len(digits) < 64 {
		digits = append(digits, '0')
	}
	return "0." + string(digits)
}

// nextFraction is the reference sampler's next_fraction: a pseudo-random
// ticket in (x, 1), derived from x alone.
func nextFraction(x string) string {
	x0 := x + "0" // in case x's digits are all 9s
	p := firstNon9(x0)
	y := "0."
	for i := 1; y <= x0; i++ {
		d := sha256.Sum256([]byte(x + ":" + strconv.Itoa(i)))
		y = x0[:p] + uniformFromDigest(d)[2:]
	}
	return y
}

// firstNon9 returns the index of the first digit after "0." that is not 9.
func firstNon9(x0 string) int {
	for i := 2; i < len(x0); i++ {
		if x0[i] < '9' {
			return i
		}
	}
	return len(x0)
}

// trimTicket is the reference sampler's trim: keep n digits after any
// leading run of 9s, truncating.
func trimTicket(x string, n int) string {
	return x[:min(len(x), firstNon9(x+"0")+n)]
}

// pyRepr returns Python 3's repr of a str, which is how the reference
// sampler turns an id tuple into the bytes it hashes: str(("b", 1)) is
// "('b', 1)". Getting this byte-exact is what makes tickets match.
func pyRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}
	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < ' ' || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x7f:
			b.WriteRune(r)
		case !unicode.IsPrint(r):
			// Python escapes the same classes Go calls unprintable:
			// controls, format characters, separators other than space.
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}

// keyHeap is a max-heap of candidates by key: its top is the largest of
// the smallest keys seen, the one to evict.
type keyHeap []candidate

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].key > h[j].key }
func (h keyHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyHeap) Push(x any)        { *h = append(*h, x.(candidate)) }
func (h *keyHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ticket is one ticket in the draw: Python orders its (number, id,
// generation) tuples, so ties in number fall back to the id.
type ticket struct {
	num    string
	ballot BallotID
	gen    int
}

type ticketHeap []ticket

func (h ticketHeap) Len() int { return len(h) }
func (h ticketHeap) Less(i, j int) bool {
	a, b := h[i], h[j]
	if a.num != b.num {
		return a.num < b.num
	}
	if a.ballot.Batch != b.ballot.Batch {
		return a.ballot.Batch < b.ballot.Batch
	}
	return a.ballot.Position < b.ballot.Position
}
func (h ticketHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *ticketHeap) Push(x any)   { *h = append(*h, x.(ticket)) }
func (h *ticketHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
