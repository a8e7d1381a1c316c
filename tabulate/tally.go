package tabulate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Dimension is a way to group a tally.
type Dimension uint8

const (
	ByPrecinct      Dimension = iota + 1 // the CVR's precinct (or precinct portion)
	ByBallotStyle                        // the CVR's ballot style
	ByBatch                              // tabulator and batch
	ByCountingGroup                      // election day, mail, …
)

var dimensionNames = [...]string{ByPrecinct: "precinct", ByBallotStyle: "ballot_style", ByBatch: "batch", ByCountingGroup: "counting_group"}

func (d Dimension) String() string {
	if int(d) < len(dimensionNames) && dimensionNames[d] != "" {
		return dimensionNames[d]
	}
	return fmt.Sprintf("dimension(%d)", d)
}

// MarshalText writes the dimension's name, so JSON says "precinct".
func (d Dimension) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText is the inverse of MarshalText.
func (d *Dimension) UnmarshalText(b []byte) error {
	v, err := ParseDimension(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDimensions reads a comma-separated list of dimensions ("precinct",
// "precinct,batch"); an empty string is no grouping. A dimension named
// twice counts once. Errors: Invalid, naming the field "by".
func ParseDimensions(s string) ([]Dimension, error) {
	var out []Dimension
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := ParseDimension(part)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// ParseDimension accepts precinct, ballot_style (or style), batch, counting_group.
func ParseDimension(s string) (Dimension, error) {
	switch s {
	case "style", "ballot-style", "ballotstyle":
		return ByBallotStyle, nil
	case "counting-group", "group":
		return ByCountingGroup, nil
	}
	for d, n := range dimensionNames {
		if n != "" && n == s {
			return Dimension(d), nil
		}
	}
	return 0, vigil.FieldError(opTally, "by", "unknown grouping %q; use precinct, ballot_style, batch or counting_group", s)
}

// count is one contest's totals within one group.
type count struct {
	ballots, over, under int64
	votes                []int64 // by choice index
}

// group is the counts of one precinct, style, batch or counting group.
type group struct {
	counts []count // by contest index
}

// Tally counts cast vote records contest by contest.
//
// Rules, per contest on a ballot (a contest absent from a CVR is not on
// that ballot and is not counted at all):
//
//   - Plurality, vote-for-N and ballot measures: if the scanner reported an
//     overvote or the ballot marks more choices than VoteFor, no choice gets
//     a vote and the contest adds VoteFor to Overvotes; otherwise each mark
//     is one vote and VoteFor minus the marks is added to Undervotes. So
//     Ballots×VoteFor = votes + Overvotes + Undervotes, always.
//   - Ranked choice: the votes are the first round of the instant runoff
//     (see RunIRV); Overvotes counts ballots exhausted by an overvote at
//     their first used rank, Undervotes ballots that rank no one.
type Tally struct {
	e       *vigil.Election
	by      []Dimension
	cidx    map[vigil.ContestID]int
	chidx   []map[vigil.ChoiceID]int
	total   []count
	groups  []map[string]*group
	gs      []*group // scratch: this CVR's groups
	ballots int64
	ranked  map[int]*rankings
	marks   []int   // scratch: choice indexes of one contest's marks
	seq     []int32 // scratch: one ranking
}

// rankings holds the normalised rankings of one ranked-choice contest, all
// ballots in one slice: ballot i is data[offs[i]:offs[i+1]].
type rankings struct {
	data []int32
	offs []uint32
}

// NewTally returns a tally for the contests of e, grouped by the given
// dimensions as well as in total. e may grow while the tally runs (as a
// Reader's learned election does); a CVR that names a contest or choice
// not in e is an error.
func NewTally(e *vigil.Election, by ...Dimension) *Tally {
	t := &Tally{e: e, by: by, cidx: map[vigil.ContestID]int{}, ranked: map[int]*rankings{}}
	t.groups = make([]map[string]*group, len(by))
	for i := range t.groups {
		t.groups[i] = map[string]*group{}
	}
	t.reindex()
	return t
}

func (t *Tally) reindex() {
	for i := len(t.chidx); i < len(t.e.Contests); i++ {
		t.cidx[t.e.Contests[i].ID] = i
		t.chidx = append(t.chidx, map[vigil.ChoiceID]int{})
	}
	for len(t.total) < len(t.e.Contests) {
		t.total = append(t.total, count{})
	}
}

func (t *Tally) contest(id vigil.ContestID) (int, bool) {
	if i, ok := t.cidx[id]; ok {
		return i, true
	}
	t.reindex()
	i, ok := t.cidx[id]
	return i, ok
}

func (t *Tally) choice(ci int, id vigil.ChoiceID) (int, bool) {
	m := t.chidx[ci]
	if j, ok := m[id]; ok {
		return j, true
	}
	chs := t.e.Contests[ci].Choices
	for j := len(m); j < len(chs); j++ {
		if _, dup := m[chs[j].ID]; !dup {
			m[chs[j].ID] = j
		}
	}
	j, ok := m[id]
	return j, ok
}

func groupKey(d Dimension, c *vigil.CastVoteRecord) string {
	switch d {
	case ByPrecinct:
		return string(c.Precinct)
	case ByBallotStyle:
		return string(c.BallotStyle)
	case ByBatch:
		return c.Tabulator + "\x00" + c.Batch
	case ByCountingGroup:
		return c.CountingGroup
	}
	return ""
}

// Add counts one record. Its signature fits Reader.Read.
func (t *Tally) Add(c *vigil.CastVoteRecord) error {
	t.gs = t.gs[:0]
	for i, d := range t.by {
		k := groupKey(d, c)
		g, ok := t.groups[i][k]
		if !ok {
			g = &group{counts: make([]count, len(t.e.Contests))}
			t.groups[i][string([]byte(k))] = g // copy: k may share a CSV row's memory
		}
		t.gs = append(t.gs, g)
	}
	t.ballots++
	for _, cv := range c.Contests {
		ci, ok := t.contest(cv.Contest)
		if !ok {
			return vigil.FieldError(opTally, "contest", "CVR %s names contest %q, which is not in the election definition", c.ID, cv.Contest)
		}
		t.marks = t.marks[:0]
		for _, m := range cv.Marks {
			j, ok := t.choice(ci, m.Choice)
			if !ok {
				return vigil.FieldError(opTally, "choice", "CVR %s names choice %q in contest %q, which is not in the election definition", c.ID, m.Choice, t.e.Contests[ci].Name)
			}
			t.marks = append(t.marks, j)
		}
		con := &t.e.Contests[ci]
		v := ballotVote{first: exhausted, voteFor: max(con.VoteFor, 1), marks: t.marks}
		if con.Kind == vigil.RankedChoice {
			v.ranked = true
			v.first = t.rank(ci, cv)
		} else {
			v.over = cv.Overvoted || len(t.marks) > v.voteFor
		}
		v.apply(&t.total[ci])
		for _, g := range t.gs {
			if ci >= len(g.counts) {
				g.counts = append(g.counts, make([]count, len(t.e.Contests)-len(g.counts))...)
			}
			v.apply(&g.counts[ci])
		}
	}
	return nil
}

// ballotVote is what one contest on one ballot adds to a count.
type ballotVote struct {
	ranked  bool
	first   int32 // ranked: first entry of the ranking
	over    bool
	voteFor int
	marks   []int
}

func (v *ballotVote) apply(n *count) {
	n.ballots++
	if v.ranked {
		switch {
		case v.first >= 0:
			grow(n, int(v.first)).votes[v.first]++
		case v.first == overvote:
			n.over++
		default:
			n.under++
		}
		return
	}
	if v.over {
		n.over += int64(v.voteFor)
		return
	}
	for _, j := range v.marks {
		grow(n, j).votes[j]++
	}
	n.under += int64(v.voteFor - len(v.marks))
}

func grow(n *count, j int) *count {
	if j >= len(n.votes) {
		n.votes = append(n.votes, make([]int64, j+1-len(n.votes))...)
	}
	return n
}

const (
	overvote  = -1 // in a ranking: two or more choices share the next rank
	exhausted = -2 // no continuing choice
)

// rank normalises one ballot's ranking and stores it for the runoff:
// ranks are read from 1 up; a skipped rank is passed over; a choice ranked
// again later is ignored; two choices at one rank (an overvote) end the
// ranking there. It returns the first entry (a choice, overvote, or
// exhausted for a ballot that ranks no one).
func (t *Tally) rank(ci int, cv vigil.ContestVote) int32 {
	seq := t.seq[:0]
	maxRank := 0
	for _, m := range cv.Marks {
		maxRank = max(maxRank, m.Rank)
	}
	if cv.Overvoted && len(cv.Marks) == 0 {
		seq = append(seq, overvote)
	}
	for r := 1; r <= maxRank && (len(seq) == 0 || seq[len(seq)-1] != overvote); r++ {
		at := int32(exhausted)
		for k, m := range cv.Marks {
			if m.Rank != r {
				continue
			}
			j := int32(t.marks[k])
			if at == exhausted || at == j {
				at = j
			} else {
				at = overvote
			}
		}
		if at == exhausted {
			continue // skipped rank
		}
		dup := false
		for _, s := range seq {
			if s == at && at >= 0 {
				dup = true
			}
		}
		if !dup {
			seq = append(seq, at)
		}
	}
	t.seq = seq
	rk := t.ranked[ci]
	if rk == nil {
		rk = &rankings{offs: []uint32{0}}
		t.ranked[ci] = rk
	}
	rk.data = append(rk.data, seq...)
	rk.offs = append(rk.offs, uint32(len(rk.data)))
	if len(seq) == 0 {
		return exhausted
	}
	return seq[0]
}
