package voter

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/vigil-elections/vigil"
)

// DuplicateOptions tune FindDuplicates. The zero value is the tested
// configuration.
type DuplicateOptions struct {
	// Threshold is the lowest score reported. Default 0.85, which on the
	// generated benchmark roll gives precision ≥ 0.95 at recall ≥ 0.90.
	Threshold float64
	// MaxBlock skips blocks larger than this (a birth date shared by
	// hundreds of records is a data-entry default, not a lead). Default 1000.
	MaxBlock int
	// Workers scoring in parallel. Default GOMAXPROCS.
	Workers int
}

// DuplicatePair is a candidate duplicate registration: two voters that
// are probably one person. A is the smaller ID. Nothing is merged: a clerk
// decides.
type DuplicatePair struct {
	A, B    vigil.VoterID
	Score   float64  // in [0, 1]
	Reasons []string // why, in words a clerk reads: "nickname (BILL / WILLIAM)"
}

// features are the normalized parts of a voter that matching looks at.
type features struct {
	first, last, middle string
	canon               []string
	sf, sl              string
	dob                 vigil.Date
	addr, zip           string
	suffix, gender      string
}

func featuresOf(v *vigil.Voter) features {
	f := features{
		first:  firstToken(NormalizeName(v.Name.First)),
		last:   nameKey(v.Name.Last),
		middle: nameKey(v.Name.Middle),
		dob:    v.BirthDate,
		addr:   addressKey(v.Residence.Line1),
		zip:    v.Residence.ZIP,
		suffix: normSuffix(v.Name.Suffix),
		gender: v.Gender,
	}
	f.canon = CanonicalNames(f.first)
	f.sf, f.sl = Soundex(f.first), Soundex(f.last)
	return f
}

func normSuffix(s string) string {
	switch n := nameKey(s); n {
	case "JUNIOR":
		return "JR"
	case "SENIOR":
		return "SR"
	case "2ND":
		return "II"
	case "3RD":
		return "III"
	default:
		return n
	}
}

// FindDuplicates finds likely duplicate registrations in a roll.
//
// It does not compare every pair. Voters are grouped into blocks that a
// duplicate almost always shares with its original, and only voters in a
// common block are scored:
//
//	birth date + Soundex of last name       (typo or nickname in the first name; a move)
//	birth date + each canonical first name  (typo in the last name; a move)
//	birth date + the two Soundex codes      (first and last name swapped)
//	last name + canonical first + birth year (a slip in the birth date)
//	last name + canonical first + ZIP        (a slip in the birth date)
//
// Each candidate pair is scored by ScorePair; pairs at or above the
// threshold are returned, best first.
func FindDuplicates(voters []vigil.Voter, opts DuplicateOptions) []DuplicatePair {
	if opts.Threshold == 0 {
		opts.Threshold = 0.85
	}
	if opts.MaxBlock <= 0 {
		opts.MaxBlock = 1000
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	n := len(voters)
	feats := make([]features, n)
	parallel(n, opts.Workers, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			feats[i] = featuresOf(&voters[i])
		}
	})

	// Block keys as 64-bit hashes, sorted so each block is a run.
	type entry struct {
		key uint64
		idx int32
	}
	entries := make([]entry, 0, n*6)
	for i := range feats {
		f := &feats[i]
		add := func(parts ...string) {
			entries = append(entries, entry{hashParts(parts...), int32(i)})
		}
		dob := ""
		if !f.dob.IsZero() {
			dob = f.dob.String()
		}
		if dob != "" {
			if f.sl != "" {
				add("1", dob, f.sl)
			}
			for _, c := range f.canon {
				add("2", dob, c)
			}
			if f.sf != "" && f.sl != "" {
				add("3", dob, min(f.sf, f.sl), max(f.sf, f.sl))
			}
		}
		if f.last != "" {
			for _, c := range f.canon {
				if f.dob.Year != 0 {
					add("4", f.last, c, itoa4(f.dob.Year))
				}
				if f.zip != "" {
					add("5", f.last, c, f.zip)
				}
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	// Blocks as [start, end) runs of entries.
	var blocks [][2]int
	for s := 0; s < len(entries); {
		e := s + 1
		for e < len(entries) && entries[e].key == entries[s].key {
			e++
		}
		if e-s >= 2 && e-s <= opts.MaxBlock {
			blocks = append(blocks, [2]int{s, e})
		}
		s = e
	}

	// Score pairs block by block in parallel. A pair may share several
	// blocks; it is scored once per block (cheaper than remembering every
	// pair seen) and the results are deduplicated.
	type hit struct {
		a, b  int32
		score float64
	}
	var mu sync.Mutex
	var hits []hit
	parallel(len(blocks), opts.Workers, func(lo, hi int) {
		var local []hit
		for _, bl := range blocks[lo:hi] {
			for x := bl[0]; x < bl[1]; x++ {
				for y := x + 1; y < bl[1]; y++ {
					a, b := entries[x].idx, entries[y].idx
					if a == b {
						continue
					}
					if s := scoreFeatures(&feats[a], &feats[b]); s >= opts.Threshold {
						local = append(local, hit{min(a, b), max(a, b), s})
					}
				}
			}
		}
		mu.Lock()
		hits = append(hits, local...)
		mu.Unlock()
	})
	slices.SortFunc(hits, func(x, y hit) int {
		if c := cmp.Compare(x.a, y.a); c != 0 {
			return c
		}
		return cmp.Compare(x.b, y.b)
	})
	hits = slices.CompactFunc(hits, func(x, y hit) bool { return x.a == y.a && x.b == y.b })

	out := make([]DuplicatePair, 0, len(hits))
	for _, h := range hits {
		a, b := &voters[h.a], &voters[h.b]
		if b.ID < a.ID {
			a, b = b, a
		}
		_, reasons := explain(&feats[h.a], &feats[h.b])
		out = append(out, DuplicatePair{A: a.ID, B: b.ID, Score: h.score, Reasons: reasons})
	}
	slices.SortFunc(out, func(x, y DuplicatePair) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		if c := cmp.Compare(x.A, y.A); c != 0 {
			return c
		}
		return cmp.Compare(x.B, y.B)
	})
	return out
}

// parallel runs fn over [0, n) split into chunks.
func parallel(n, workers int, fn func(lo, hi int)) {
	if n < 2048 || workers <= 1 {
		fn(0, n)
		return
	}
	chunk := max(1024, n/(workers*8))
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Go(func() {
			for lo := range next {
				fn(lo, min(n, lo+chunk))
			}
		})
	}
	for lo := 0; lo < n; lo += chunk {
		next <- lo
	}
	close(next)
	wg.Wait()
}

// hashParts is FNV-1a over the parts with separators: deterministic, so
// the blocks (and hence the results) do not depend on a random seed.
func hashParts(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}

// ScorePair scores how likely a and b are one person, in [0, 1], and says
// why in words. FindDuplicates reports pairs scoring 0.85 or more.
func ScorePair(a, b *vigil.Voter) (float64, []string) {
	fa, fb := featuresOf(a), featuresOf(b)
	return explain(&fa, &fb)
}

func scoreFeatures(a, b *features) float64 {
	s, _ := score(a, b, false)
	return s
}

func explain(a, b *features) (float64, []string) {
	return score(a, b, true)
}

// score combines name, birth date and address agreement:
//
//	0.6 × names + 0.3 × birth date + 0.1 × same address
//
// Names count the better of the straight and the swapped reading. A first
// name that is neither close nor a nickname, or a last name that is not
// close, caps the score below any threshold: twins and spouses share a
// birth date or an address, never a name. Different generational suffixes
// (JR and SR) are two people.
func score(a, b *features, why bool) (float64, []string) {
	var reasons []string
	say := func(format string, args ...any) {
		if why {
			reasons = append(reasons, fmt.Sprintf(format, args...))
		}
	}
	last := nameSim(a.last, b.last)
	first := nameSim(a.first, b.first)
	nick := false
	if first < 0.95 && overlaps(a.canon, b.canon) {
		first, nick = 0.95, true
	}
	straight := min(last, first)*0.5 + (0.55*last+0.45*first)*0.5
	swapL, swapF := nameSim(a.last, b.first), nameSim(a.first, b.last)
	swapped := (min(swapL, swapF)*0.5 + (0.55*swapF+0.45*swapL)*0.5) * 0.98
	names := straight
	isSwap := false
	if swapped > straight {
		names, isSwap = swapped, true
		last, first = swapF, swapL
	}
	dob := dobSim(a.dob, b.dob)
	addr := 0.0
	if a.addr != "" && a.addr == b.addr && a.zip == b.zip {
		addr = 1
	}
	s := 0.6*names + 0.3*dob + 0.1*addr
	if a.middle != "" && b.middle != "" && a.middle[0] != b.middle[0] {
		s -= 0.05
		say("middle names differ (%s / %s)", a.middle, b.middle)
	}
	if a.suffix != b.suffix && a.suffix != "" && b.suffix != "" {
		s -= 0.3
		say("suffixes differ (%s / %s)", a.suffix, b.suffix)
	}
	if (a.gender == "M" || a.gender == "F") && (b.gender == "M" || b.gender == "F") && a.gender != b.gender {
		s -= 0.1
		say("genders differ")
	}
	if first < 0.75 || last < 0.75 {
		s = min(s, 0.6)
	}
	if !why {
		return max(s, 0), nil
	}
	switch {
	case isSwap:
		say("first and last names swapped (%s %s / %s %s)", a.first, a.last, b.first, b.last)
	case a.last == b.last && a.first == b.first:
		say("same name")
	default:
		if a.last != b.last {
			say("last names differ slightly (%s / %s)", a.last, b.last)
		}
		if nick {
			say("nickname (%s / %s)", a.first, b.first)
		} else if a.first != b.first {
			say("first names differ slightly (%s / %s)", a.first, b.first)
		}
	}
	switch {
	case dob == 1:
		say("same date of birth")
	case dob >= 0.8:
		say("dates of birth differ by one slip (%s / %s)", a.dob, b.dob)
	case dob > 0:
		say("same year of birth")
	case a.dob.IsZero() || b.dob.IsZero():
		say("date of birth missing")
	default:
		say("different dates of birth")
	}
	if addr == 1 {
		say("same address")
	} else if a.addr != "" && b.addr != "" {
		say("different addresses (moved?)")
	}
	return max(s, 0), reasons
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// DuplicateKey identifies an unordered pair of voters.
func DuplicateKey(a, b vigil.VoterID) string {
	if b < a {
		a, b = b, a
	}
	return string(a) + "\x00" + string(b)
}

// Accuracy is how well found duplicates match the truth.
type Accuracy struct {
	Found, True, Correct int
	Precision, Recall    float64
}

func (a Accuracy) String() string {
	return fmt.Sprintf("precision %.4f recall %.4f (found %d, true %d, correct %d)", a.Precision, a.Recall, a.Found, a.True, a.Correct)
}

// Evaluate scores found pairs against the injected duplicates. A found
// pair is correct when it links a duplicate to its original, or two
// duplicates of the same original (they are one person too).
func Evaluate(found []DuplicatePair, truth []InjectedDuplicate) Accuracy {
	person := map[vigil.VoterID]vigil.VoterID{} // registration → original
	for _, t := range truth {
		person[t.Duplicate] = t.Original
		person[t.Original] = t.Original
	}
	want := map[string]bool{}
	for _, t := range truth {
		want[DuplicateKey(t.Original, t.Duplicate)] = true
	}
	acc := Accuracy{Found: len(found), True: len(want)}
	hit := map[string]bool{}
	for _, p := range found {
		pa, okA := person[p.A]
		pb, okB := person[p.B]
		if okA && okB && pa == pb {
			acc.Correct++
			hit[DuplicateKey(p.A, p.B)] = true
		}
	}
	recalled := 0
	for k := range want {
		if hit[k] {
			recalled++
		}
	}
	if acc.Found > 0 {
		acc.Precision = float64(acc.Correct) / float64(acc.Found)
	} else {
		acc.Precision = 1
	}
	if acc.True > 0 {
		acc.Recall = float64(recalled) / float64(acc.True)
	} else {
		acc.Recall = 1
	}
	return acc
}
