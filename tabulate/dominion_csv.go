package tabulate

import (
	"io"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Dominion's tabular "CVR Export" has four header rows:
//
//	1. election name, EMS version
//	2. one contest header per vote column: "Mayor (Vote For=1)", or for
//	   ranked choice "MAYOR (Number of positions=1, Number of ranks=6)"
//	3. one choice per vote column; ranked choice adds the rank: "JANE DOE(2)"
//	4. metadata column names (CvrNumber, TabulatorNum, BatchId, RecordId,
//	   ImprintedId, [CountingGroup], PrecinctPortion, BallotType, ...) and
//	   then each choice's party
//
// and one row per ballot after that. A vote cell is 1 (marked), 0 (not
// marked) or empty (the contest is not on this ballot).

// domColumn is one vote column of a Dominion CSV.
type domColumn struct {
	contest int // index into domCSV.contests
	choice  vigil.ChoiceID
	rank    int
	writeIn bool
	name    string // "Contest: Choice" for error messages
}

type domContest struct {
	id         vigil.ContestID
	first, end int // vote columns [first, end) relative to the first vote column
}

type domCSV struct {
	c                                  *csvFile
	firstVote                          int
	nCols                              int
	votes                              voteColumns
	cvrNumber, tabulator, batch, recID int
	imprinted, uvi, group, precinct    int
	style                              int
}

func (r *Reader) readDominion(f File, fn func(*vigil.CastVoteRecord) error) error {
	c := newCSV(opImport, f.Name, f.Reader, r.opt.MaxLineBytes)
	d, err := r.dominionHeader(c)
	if err != nil {
		return err
	}
	return d.rows(r, fn)
}

func (r *Reader) dominionHeader(c *csvFile) (*domCSV, error) {
	var head [4][]string
	for i := range head {
		rec, err := c.next()
		if err == io.EOF {
			return nil, c.errorf(i+1, "", "the file ends inside the header; a Dominion CVR export starts with four header rows (election, contests, choices, columns)")
		}
		if err != nil {
			return nil, err
		}
		head[i] = append([]string(nil), rec...)
	}
	contests, choices, columns := head[1], head[2], head[3]
	d := &domCSV{c: c, firstVote: -1}
	for i, h := range contests {
		if cell(h) != "" {
			d.firstVote = i
			break
		}
	}
	if d.firstVote < 0 {
		return nil, c.errorf(2, "", "no contest headers found on the second row; is this a Dominion CVR export?")
	}
	idx := headerIndex(columns[:min(d.firstVote, len(columns))])
	need := func(name string) (int, error) {
		i, ok := idx[name]
		if !ok {
			return 0, c.errorf(4, name, "missing required column %s in the fourth header row", name)
		}
		return i, nil
	}
	opt := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	var err error
	if d.cvrNumber, err = need("CvrNumber"); err != nil {
		return nil, err
	}
	if d.tabulator, err = need("TabulatorNum"); err != nil {
		return nil, err
	}
	if d.batch, err = need("BatchId"); err != nil {
		return nil, err
	}
	if d.recID, err = need("RecordId"); err != nil {
		return nil, err
	}
	d.imprinted, d.uvi = opt("ImprintedId"), opt("UniqueVotingIdentifier")
	d.group, d.precinct, d.style = opt("CountingGroup"), opt("PrecinctPortion"), opt("BallotType")

	d.nCols = len(contests) - d.firstVote
	byName := map[string]int{}        // contest header → index into d.votes.contests
	names := map[int]map[string]int{} // contest → "rank|choice" → occurrences
	label := map[int]string{}         // contest → name as the file spells it
	for j := 0; j < d.nCols; j++ {
		col := d.firstVote + j
		header := normSpace(cell(contests[col]))
		if header == "" {
			return nil, c.errorf(2, columnName(contests, col), "vote column %d has no contest header", col+1)
		}
		k, ok := byName[header]
		if !ok {
			proto, err := parseDominionContest(header)
			if err != nil {
				return nil, c.errorf(2, header, "%v", err)
			}
			label[len(d.votes.contests)] = proto.Name
			ci, err := r.def.contest(proto.Name, proto)
			if err != nil {
				return nil, c.errorf(2, header, "%v", err)
			}
			k = len(d.votes.contests)
			byName[header] = k
			d.votes.contests = append(d.votes.contests, domContest{id: r.def.e.Contests[ci].ID, first: j, end: j})
			names[k] = map[string]int{}
		} else if d.votes.contests[k].end != j {
			return nil, c.errorf(2, header, "the columns of contest %q are not next to each other", header)
		}
		d.votes.contests[k].end = j + 1

		choice := ""
		if col < len(choices) {
			choice = normSpace(cell(choices[col]))
		}
		if choice == "" {
			return nil, c.errorf(3, label[k], "vote column %d has no choice name", col+1)
		}
		rank := 0
		ci := r.contestIndex(d.votes.contests[k].id)
		if r.def.e.Contests[ci].Kind == vigil.RankedChoice {
			name, n, ok := splitRank(choice)
			if !ok {
				return nil, c.errorf(3, label[k]+": "+choice, "a ranked-choice column must end with its rank, as in \"JANE DOE(1)\"")
			}
			choice, rank = name, n
		}
		// A contest may list the same name twice (two write-in lines).
		// Keep them apart: the second is "Write-in (2)".
		seenKey := strconv.Itoa(rank) + "|" + key(choice)
		names[k][seenKey]++
		if n := names[k][seenKey]; n > 1 {
			choice += " (" + strconv.Itoa(n) + ")"
		}
		party := ""
		if col < len(columns) {
			party = cell(columns[col])
		}
		id, err := r.def.choice(ci, choice, vigil.Choice{Party: party, WriteIn: isWriteIn(choice)})
		if err != nil {
			return nil, c.errorf(3, label[k]+": "+choice, "%v", err)
		}
		ch := r.def.e.Contests[ci].Choice(id)
		d.votes.cols = append(d.votes.cols, domColumn{contest: k, choice: id, rank: rank, writeIn: ch != nil && ch.WriteIn, name: label[k] + ": " + choice})
	}
	if !r.def.learn {
		// The export lists every choice of a contest; one the definition has
		// and the file lacks means the two disagree.
		for _, dc := range d.votes.contests {
			ci := r.contestIndex(dc.id)
			have := map[vigil.ChoiceID]bool{}
			for _, col := range d.votes.cols[dc.first:dc.end] {
				have[col.choice] = true
			}
			for _, ch := range r.def.e.Contests[ci].Choices {
				if !have[ch.ID] {
					return nil, c.errorf(3, r.def.e.Contests[ci].Name, "choice %q of contest %q has no column in this file; the export and the election definition disagree", ch.Name, r.def.e.Contests[ci].Name)
				}
			}
		}
	} else {
		for _, dc := range d.votes.contests {
			markBallotMeasure(&r.def.e.Contests[r.contestIndex(dc.id)])
		}
	}
	d.votes.first = d.firstVote
	return d, nil
}

// contestIndex is the index of contest id in the definition.
func (r *Reader) contestIndex(id vigil.ContestID) int {
	return r.def.contests[string(id)]
}

// markBallotMeasure turns a learned vote-for-1 Yes/No contest into a ballot measure.
func markBallotMeasure(c *vigil.Contest) {
	if c.Kind != vigil.Plurality || c.VoteFor != 1 || len(c.Choices) != 2 {
		return
	}
	a, b := key(c.Choices[0].Name), key(c.Choices[1].Name)
	if (a == "yes" && b == "no") || (a == "no" && b == "yes") {
		c.Kind = vigil.BallotMeasure
	}
}

// parseDominionContest reads "Name (Vote For=N)" or
// "Name (Number of positions=P, Number of ranks=R)".
func parseDominionContest(h string) (vigil.Contest, error) {
	open := strings.LastIndex(h, "(")
	if open <= 0 || !strings.HasSuffix(h, ")") {
		return vigil.Contest{}, errorString("a contest header must look like \"Contest Name (Vote For=1)\"")
	}
	name := strings.TrimSpace(h[:open])
	inner := h[open+1 : len(h)-1]
	c := vigil.Contest{Name: name, ID: vigil.ContestID(name), Kind: vigil.Plurality}
	if v, ok := strings.CutPrefix(inner, "Vote For="); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1000 {
			return c, errorString("the number after \"Vote For=\" must be a whole number from 1 to 1000")
		}
		c.VoteFor = n
		return c, nil
	}
	for part := range strings.SplitSeq(inner, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || n < 1 || n > 1000 {
			return c, errorString("a ranked-choice header must look like \"Name (Number of positions=1, Number of ranks=3)\"")
		}
		switch strings.TrimSpace(k) {
		case "Number of positions":
			c.VoteFor = n
		case "Number of ranks":
			c.Ranks = n
		default:
			return c, errorString("unknown setting " + strconv.Quote(k) + " in the contest header")
		}
	}
	if c.VoteFor == 0 || c.Ranks == 0 {
		return c, errorString("a ranked-choice header must give both the number of positions and of ranks")
	}
	c.Kind = vigil.RankedChoice
	return c, nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// splitRank splits "JANE DOE(2)" into "JANE DOE" and 2.
func splitRank(s string) (string, int, bool) {
	if !strings.HasSuffix(s, ")") {
		return s, 0, false
	}
	open := strings.LastIndex(s, "(")
	if open <= 0 {
		return s, 0, false
	}
	n, err := strconv.Atoi(s[open+1 : len(s)-1])
	if err != nil || n < 1 || n > 1000 {
		return s, 0, false
	}
	return strings.TrimSpace(s[:open]), n, true
}

// voteColumns maps the vote columns of a Dominion or Clear Ballot CSV
// to contests and choices.
type voteColumns struct {
	first    int // index of the first vote column in a record
	cols     []domColumn
	contests []domContest
}

// read fills buf with the contests on the ballot in rec: a contest whose
// cells are all empty is not on the ballot; 0 is an unmarked target, any
// other whole number a mark.
func (v *voteColumns) read(c *csvFile, rec []string, buf []vigil.ContestVote) ([]vigil.ContestVote, error) {
	n := 0
	for k := range v.contests {
		dc := &v.contests[k]
		cv := &buf[n]
		cv.Contest, cv.Overvoted, cv.Undervotes = dc.id, false, 0
		cv.Marks = cv.Marks[:0]
		present := false
		for j := dc.first; j < dc.end; j++ {
			val := rec[v.first+j]
			switch val {
			case "":
				continue
			case "0":
				present = true
				continue
			case "1":
			default:
				val = cell(val)
				if val == "" {
					continue
				}
				x, err := strconv.Atoi(val)
				if err != nil || x < 0 {
					return nil, c.errorf(c.lineOf(v.first+j), v.cols[j].name, "vote cell %q must be 0, 1 or empty", val)
				}
				present = true
				if x == 0 {
					continue
				}
			}
			present = true
			col := &v.cols[j]
			cv.Marks = append(cv.Marks, vigil.Mark{Choice: col.choice, Rank: col.rank, WriteIn: col.writeIn})
		}
		if present {
			n++
		}
	}
	return buf[:n], nil
}

func (d *domCSV) rows(r *Reader, fn func(*vigil.CastVoteRecord) error) error {
	c := d.c
	var cvr vigil.CastVoteRecord
	contests := make([]vigil.ContestVote, len(d.votes.contests))
	need := d.firstVote + d.nCols
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
			continue // blank line
		}
		if len(rec) < need {
			return c.errorf(line, "", "the row has %d columns but the header has %d; the file may be cut short", len(rec), need)
		}
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return cell(rec[i])
		}
		cvr = vigil.CastVoteRecord{
			ID:            vigil.CVRID(get(d.cvrNumber)),
			Tabulator:     get(d.tabulator),
			Batch:         get(d.batch),
			ImprintedID:   get(d.imprinted),
			CountingGroup: get(d.group),
			Precinct:      vigil.PrecinctID(get(d.precinct)),
			BallotStyle:   vigil.BallotStyleID(get(d.style)),
		}
		if cvr.ID == "" {
			return c.errorf(line, "CvrNumber", "CvrNumber is empty; every ballot needs one")
		}
		if cvr.Tabulator == "" {
			return c.errorf(line, "TabulatorNum", "TabulatorNum is empty; every ballot needs one")
		}
		if cvr.Batch == "" {
			return c.errorf(line, "BatchId", "BatchId is empty; every ballot needs one")
		}
		if cvr.ImprintedID == "" {
			cvr.ImprintedID = get(d.uvi)
		}
		pos, err := strconv.Atoi(get(d.recID))
		if err != nil || pos < 0 {
			return c.errorf(line, "RecordId", "RecordId %q is not a whole number", get(d.recID))
		}
		cvr.Position = pos

		if cvr.Contests, err = d.votes.read(c, rec, contests); err != nil {
			return err
		}
		if err := r.emit(c.name, line, &cvr, fn); err != nil {
			return err
		}
	}
}
