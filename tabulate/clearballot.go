package tabulate

import (
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Clear Ballot's CVR CSV has one header row: metadata columns (RowNumber,
// BoxID, BoxPosition, BallotID, PrecinctID, BallotStyleID, ...,
// ScanComputerName, ...) and then one column per choice, named
//
//	Choice_<id>_1:<contest>:Vote For <n>:<choice>:<party>
//
// Cells are 1, 0 or empty (contest not on the ballot), as in Dominion's.
func (r *Reader) readClearBallot(f File, fn func(*vigil.CastVoteRecord) error) error {
	c := newCSV(opImport, f.Name, f.Reader, r.opt.MaxLineBytes)
	head, err := c.next()
	if err == io.EOF {
		return c.errorf(1, "", "the file is empty; a Clear Ballot CVR export starts with a header row")
	}
	if err != nil {
		return err
	}
	head = slices.Clone(head)
	idx := headerIndex(head)
	need := func(name string) (int, error) {
		i, ok := idx[name]
		if !ok {
			return 0, c.errorf(1, name, "missing required column %s; is this a Clear Ballot CVR export?", name)
		}
		return i, nil
	}
	var id, box, pos, ballot, scanner int
	for _, x := range []struct {
		p    *int
		name string
	}{{&id, "RowNumber"}, {&box, "BoxID"}, {&pos, "BoxPosition"}, {&ballot, "BallotID"}, {&scanner, "ScanComputerName"}} {
		if *x.p, err = need(x.name); err != nil {
			return err
		}
	}
	precinct, style := -1, -1
	if i, ok := idx["PrecinctID"]; ok {
		precinct = i
	}
	if i, ok := idx["BallotStyleID"]; ok {
		style = i
	}
	v := voteColumns{first: -1}
	byName := map[string]int{}
	for i, h := range head {
		if !strings.HasPrefix(cell(h), "Choice_") {
			continue
		}
		if v.first < 0 {
			v.first = i
		} else if i != v.first+len(v.cols) {
			return c.errorf(1, columnName(head, i), "choice columns must come last and together")
		}
		name, voteFor, choice, party, ok := parseClearBallotHeader(normSpace(cell(h)))
		if !ok {
			return c.errorf(1, columnName(head, i), "a choice column must be named Choice_<id>_1:<contest>:Vote For <n>:<choice>:<party>")
		}
		k, seen := byName[name]
		if !seen {
			ci, err := r.def.contest(name, vigil.Contest{Name: name, VoteFor: voteFor})
			if err != nil {
				return c.errorf(1, columnName(head, i), "%v", err)
			}
			k = len(v.contests)
			byName[name] = k
			v.contests = append(v.contests, domContest{id: r.def.e.Contests[ci].ID, first: len(v.cols), end: len(v.cols)})
		} else if v.contests[k].end != len(v.cols) {
			return c.errorf(1, columnName(head, i), "the columns of contest %q are not next to each other", name)
		}
		v.contests[k].end = len(v.cols) + 1
		ci := r.contestIndex(v.contests[k].id)
		chID, err := r.def.choice(ci, choice, vigil.Choice{Party: party, WriteIn: isWriteIn(choice)})
		if err != nil {
			return c.errorf(1, columnName(head, i), "%v", err)
		}
		v.cols = append(v.cols, domColumn{contest: k, choice: chID, writeIn: isWriteIn(choice), name: name + ": " + choice})
	}
	if v.first < 0 {
		return c.errorf(1, "", "no Choice_ columns found; is this a Clear Ballot CVR export?")
	}
	if r.def.learn {
		for _, dc := range v.contests {
			markBallotMeasure(&r.def.e.Contests[r.contestIndex(dc.id)])
		}
	}
	need2 := v.first + len(v.cols)
	var cvr vigil.CastVoteRecord
	buf := make([]vigil.ContestVote, len(v.contests))
	for {
		rec, err := c.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line := c.line()
		if len(rec) == 1 && cell(rec[0]) == "" {
			continue
		}
		if len(rec) < need2 {
			return c.errorf(line, "", "the row has %d columns but the header has %d; the file may be cut short", len(rec), need2)
		}
		get := func(i int) string {
			if i < 0 {
				return ""
			}
			return cell(rec[i])
		}
		cvr = vigil.CastVoteRecord{
			ID:          vigil.CVRID(get(id)),
			Tabulator:   get(scanner),
			Batch:       get(box),
			ImprintedID: get(ballot),
			Precinct:    vigil.PrecinctID(get(precinct)),
			BallotStyle: vigil.BallotStyleID(get(style)),
		}
		for _, x := range []struct{ v, name string }{{string(cvr.ID), "RowNumber"}, {cvr.Batch, "BoxID"}, {cvr.Tabulator, "ScanComputerName"}} {
			if x.v == "" {
				return c.errorf(line, x.name, "%s is empty; every ballot needs one", x.name)
			}
		}
		p, err := strconv.Atoi(get(pos))
		if err != nil || p < 0 {
			return c.errorf(line, "BoxPosition", "BoxPosition %q is not a whole number", get(pos))
		}
		cvr.Position = p
		if cvr.Contests, err = v.read(c, rec, buf); err != nil {
			return err
		}
		if err := r.emit(c.name, line, &cvr, fn); err != nil {
			return err
		}
	}
}

// parseClearBallotHeader splits "Choice_1_1:Contest 1:Vote For 1:Choice 1-1:Non-Partisan".
func parseClearBallotHeader(h string) (contest string, voteFor int, choice, party string, ok bool) {
	const marker = ":Vote For "
	i := strings.Index(h, marker)
	if i < 0 {
		return
	}
	pre, post := h[:i], h[i+len(marker):]
	_, contest, found := strings.Cut(pre, ":")
	if !found || strings.TrimSpace(contest) == "" {
		return
	}
	n, rest, found := strings.Cut(post, ":")
	if !found {
		return
	}
	voteFor, err := strconv.Atoi(strings.TrimSpace(n))
	if err != nil || voteFor < 1 || voteFor > 1000 {
		return
	}
	j := strings.LastIndex(rest, ":")
	if j < 0 {
		choice = rest
	} else {
		choice, party = rest[:j], rest[j+1:]
	}
	choice = strings.TrimSpace(choice)
	if choice == "" {
		return
	}
	return strings.TrimSpace(contest), voteFor, choice, strings.TrimSpace(party), true
}
