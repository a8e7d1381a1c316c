package tabulate

import (
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Column names a ballot manifest may use, first the ones Arlo documents,
// then those seen in county exports (SF's "Tray #,Tabulator Number,Batch
// Number,Total Ballots").
var (
	manifestContainer = []string{"Container", "Tray #", "Tray", "Box"}
	manifestTabulator = []string{"Tabulator", "Tabulator Number", "Tabulator ID", "TabulatorNum"}
	manifestBatch     = []string{"Batch Name", "Batch Number", "Batch", "Batch ID", "BatchId"}
	manifestBallots   = []string{"Number of Ballots", "Total Ballots", "Ballot Count", "Ballots"}
	manifestCVR       = []string{"CVR"}
)

// maxBatchBallots bounds one manifest line; no real batch comes near it.
const maxBatchBallots = 10_000_000

// ParseManifest reads a ballot manifest CSV: a header row with at least
// "Batch Name" and "Number of Ballots" (or the aliases above), optionally
// "Container", "Tabulator" and "CVR" (Y/N, for hybrid audits). A batch may
// appear only once per tabulator.
func ParseManifest(f File, opt Options) ([]vigil.ManifestBatch, error) {
	if opt.MaxLineBytes <= 0 {
		opt.MaxLineBytes = defaultMaxLine
	}
	c := newCSV(opManifest, f.Name, f.Reader, opt.MaxLineBytes)
	head, err := c.next()
	if err == io.EOF {
		return nil, c.errorf(1, "", "the manifest is empty; it needs a header row (Batch Name, Number of Ballots) and one row per batch")
	}
	if err != nil {
		return nil, err
	}
	head = slices.Clone(head) // the reader reuses its record
	idx := headerIndex(head)
	find := func(names []string) int {
		for _, n := range names {
			for h, i := range idx {
				if strings.EqualFold(h, n) {
					return i
				}
			}
		}
		return -1
	}
	container, tabulator, batch, ballots, cvr := find(manifestContainer), find(manifestTabulator), find(manifestBatch), find(manifestBallots), find(manifestCVR)
	if batch < 0 {
		return nil, c.errorf(1, manifestBatch[0], "missing required column %q in the header row", manifestBatch[0])
	}
	if ballots < 0 {
		return nil, c.errorf(1, manifestBallots[0], "missing required column %q in the header row", manifestBallots[0])
	}
	type key struct{ tab, batch string }
	seen := map[key]int{}
	var out []vigil.ManifestBatch
	for {
		rec, err := c.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		line := c.line()
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return cell(rec[i])
		}
		blank := true
		for _, v := range rec {
			if cell(v) != "" {
				blank = false
				break
			}
		}
		if blank {
			continue
		}
		b := vigil.ManifestBatch{
			Container: get(container),
			Tabulator: get(tabulator),
			Batch:     get(batch),
			CVRs:      true,
		}
		if b.Batch == "" {
			return nil, c.errorf(line, columnName(head, batch), "the batch name is empty")
		}
		n, err := strconv.Atoi(strings.ReplaceAll(get(ballots), ",", ""))
		if err != nil || n < 0 || n > maxBatchBallots {
			return nil, c.errorf(line, columnName(head, ballots), "ballot count %q must be a whole number from 0 to %d", get(ballots), maxBatchBallots)
		}
		b.Ballots = n
		if cvr >= 0 {
			switch strings.ToUpper(get(cvr)) {
			case "Y", "YES":
			case "N", "NO":
				b.CVRs = false
			default:
				return nil, c.errorf(line, columnName(head, cvr), "CVR must be Y or N, not %q", get(cvr))
			}
		}
		k := key{b.Tabulator, b.Batch}
		if prev, dup := seen[k]; dup {
			return nil, c.errorf(line, columnName(head, batch), "batch %q of tabulator %q is listed twice (first on line %d); list each batch once", b.Batch, b.Tabulator, prev)
		}
		seen[k] = line
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, c.errorf(2, "", "the manifest lists no batches")
	}
	return out, nil
}

// BallotRef names one ballot by where it is.
type BallotRef struct {
	CVR       vigil.CVRID // "" for a manifest slot no CVR claims
	Tabulator string
	Batch     string
	Position  int // 0 when unknown
	Reason    string
}

func (b BallotRef) String() string {
	s := fmt.Sprintf("tabulator %q batch %q", b.Tabulator, b.Batch)
	if b.Position > 0 {
		s += fmt.Sprintf(" position %d", b.Position)
	}
	if b.CVR != "" {
		s = fmt.Sprintf("CVR %s (%s)", b.CVR, s)
	}
	if b.Reason != "" {
		s += ": " + b.Reason
	}
	return s
}

// BatchCount compares one batch's manifest count with the CVRs found.
type BatchCount struct {
	Tabulator string
	Batch     string
	Manifest  int
	CVRs      int
}

// ManifestReport is the outcome of checking CVRs against a manifest.
type ManifestReport struct {
	ManifestBallots int          // sum of the manifest's counts for batches with CVRs
	CVRs            int          // records checked
	Mismatched      []BatchCount // batches whose CVR count differs from the manifest
	Missing         []BallotRef  // ballots in the manifest without a CVR
	Extra           []BallotRef  // CVRs the manifest has no place for
	// Unlisted counts missing ballots and extra CVRs past the first
	// MaxListed of each, so that a wildly wrong manifest cannot exhaust memory.
	Unlisted int
}

// MaxListed bounds the Missing and Extra lists of a ManifestReport.
const MaxListed = 100_000

// OK reports whether every ballot has exactly one CVR and every CVR a ballot.
func (r *ManifestReport) OK() bool {
	return len(r.Mismatched) == 0 && len(r.Missing) == 0 && len(r.Extra) == 0 && r.Unlisted == 0
}

// Err returns nil when the report is OK, and otherwise an Invalid error
// that lists the problems (the first 20 of each kind).
func (r *ManifestReport) Err() error {
	if r.OK() && r.Unlisted == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the CVRs do not match the ballot manifest (%d ballots in the manifest, %d CVRs)", r.ManifestBallots, r.CVRs)
	list := func(title string, refs []BallotRef) {
		if len(refs) == 0 {
			return
		}
		fmt.Fprintf(&b, "; %d %s:", len(refs), title)
		for i, x := range refs {
			if i == 20 {
				fmt.Fprintf(&b, " … and %d more", len(refs)-20)
				break
			}
			b.WriteString(" " + x.String() + ";")
		}
	}
	for _, m := range r.Mismatched {
		fmt.Fprintf(&b, "; tabulator %q batch %q: manifest %d, CVRs %d", m.Tabulator, m.Batch, m.Manifest, m.CVRs)
	}
	list("missing ballots", r.Missing)
	list("extra CVRs", r.Extra)
	if r.Unlisted > 0 {
		fmt.Fprintf(&b, "; %d more problems not listed", r.Unlisted)
	}
	b.WriteString(" Check the manifest counts and the CVR export, then import again.")
	return &vigil.Error{Op: "manifest.check", Kind: vigil.Invalid, Field: "manifest", Message: b.String()}
}

type manifestSlot struct {
	b       vigil.ManifestBatch
	cvrs    int
	unknown int      // CVRs without a position
	seen    []uint64 // bitset of positions 1..Ballots
}

// ManifestCheck checks a stream of CVRs against a ballot manifest. Add fits
// Reader.Read, so a check can run while the CVRs are imported.
type ManifestCheck struct {
	slots   []*manifestSlot
	byKey   map[[2]string]*manifestSlot
	byBatch map[string]*manifestSlot // only for batch names unique in the manifest
	rep     ManifestReport
}

// NewManifestCheck prepares a check against the given manifest. A CVR is
// matched to a manifest line by tabulator and batch; when the manifest has
// no tabulator for a batch, or the batch name is unique in the manifest, by
// batch alone.
func NewManifestCheck(manifest []vigil.ManifestBatch) *ManifestCheck {
	m := &ManifestCheck{byKey: map[[2]string]*manifestSlot{}, byBatch: map[string]*manifestSlot{}}
	count := map[string]int{}
	for _, b := range manifest {
		count[b.Batch]++
	}
	for _, b := range manifest {
		s := &manifestSlot{b: b}
		m.slots = append(m.slots, s)
		m.byKey[[2]string{b.Tabulator, b.Batch}] = s
		if count[b.Batch] == 1 {
			m.byBatch[b.Batch] = s
		}
		if b.CVRs {
			m.rep.ManifestBallots += b.Ballots
		}
	}
	return m
}

// Add checks one CVR. It never fails; problems go into the report.
func (m *ManifestCheck) Add(c *vigil.CastVoteRecord) error {
	m.rep.CVRs++
	s := m.byKey[[2]string{c.Tabulator, c.Batch}]
	if s == nil {
		s = m.byBatch[c.Batch]
	}
	if s == nil {
		m.extra(c, "the manifest has no such batch")
		return nil
	}
	if !s.b.CVRs {
		m.extra(c, "the manifest says this batch has no CVRs")
		return nil
	}
	s.cvrs++
	if c.Position <= 0 {
		s.unknown++
		return nil
	}
	if c.Position > s.b.Ballots {
		m.extra(c, fmt.Sprintf("position %d is past the %d ballots the manifest lists for this batch", c.Position, s.b.Ballots))
		return nil
	}
	if s.seen == nil {
		s.seen = make([]uint64, (s.b.Ballots+64)/64)
	}
	i := c.Position
	if s.seen[i/64]&(1<<(i%64)) != 0 {
		m.extra(c, fmt.Sprintf("another CVR already has position %d in this batch", c.Position))
		return nil
	}
	s.seen[i/64] |= 1 << (i % 64)
	return nil
}

func (m *ManifestCheck) extra(c *vigil.CastVoteRecord, reason string) {
	if len(m.rep.Extra) >= MaxListed {
		m.rep.Unlisted++
		return
	}
	m.rep.Extra = append(m.rep.Extra, BallotRef{CVR: vigil.CVRID(strings.Clone(string(c.ID))), Tabulator: strings.Clone(c.Tabulator), Batch: strings.Clone(c.Batch), Position: c.Position, Reason: reason})
}

// Report finishes the check. Missing ballots are listed by position when the
// CVRs carry positions; otherwise as a count shortfall in Mismatched.
func (m *ManifestCheck) Report() ManifestReport {
	rep := m.rep
	rep.Mismatched, rep.Missing = nil, nil
	for _, s := range m.slots {
		if !s.b.CVRs {
			continue
		}
		if s.cvrs != s.b.Ballots {
			rep.Mismatched = append(rep.Mismatched, BatchCount{Tabulator: s.b.Tabulator, Batch: s.b.Batch, Manifest: s.b.Ballots, CVRs: s.cvrs})
		}
		if s.unknown > 0 || s.cvrs == 0 {
			// Positions unknown, or the whole batch is missing: the count
			// comparison in Mismatched says it all.
			continue
		}
		placed := 0
		for _, w := range s.seen {
			placed += bits.OnesCount64(w)
		}
		if placed == s.b.Ballots {
			continue
		}
		for p := 1; p <= s.b.Ballots; p++ {
			if s.seen == nil || s.seen[p/64]&(1<<(p%64)) == 0 {
				if len(rep.Missing) >= MaxListed {
					rep.Unlisted++
					continue
				}
				rep.Missing = append(rep.Missing, BallotRef{Tabulator: s.b.Tabulator, Batch: s.b.Batch, Position: p, Reason: "no CVR"})
			}
		}
	}
	sort.SliceStable(rep.Extra, func(i, j int) bool {
		a, b := rep.Extra[i], rep.Extra[j]
		if a.Tabulator != b.Tabulator {
			return a.Tabulator < b.Tabulator
		}
		if a.Batch != b.Batch {
			return a.Batch < b.Batch
		}
		return a.Position < b.Position
	})
	return rep
}
