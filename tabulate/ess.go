package tabulate

import (
	"bufio"
	"cmp"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// An ES&S export is a CVR file (one row per ballot: "Cast Vote Record",
// Precinct, Ballot Style, then one column per contest whose cell holds the
// chosen name, "undervote" or "overvote"; a vote-for-N contest repeats its
// column N times) and, from older software, one or more "Ballots" files
// that give each CVR number its batch and "Tabulator CVR".
//
// Tabulator CVR is either ten digits (four of tabulator, six of ballot
// number) or a sixteen-digit hex id printed on the ballot, in which case the
// ballots file has a Machine column naming the tabulator. A ballot's
// position in its batch is its rank by that number among the batch's
// ballots, since the scanner numbers ballots in the order it reads them.

// essBallot is one row of a Ballots file.
type essBallot struct {
	tabulator, batch, imprinted string
	seq                         uint64 // ballot number or hex id, for ordering within the batch
	position                    int
	file                        string
	line                        int
	used                        bool
}

// essMeta are the metadata column names the CVR file may carry; contest
// columns start after the last of them.
var essMeta = []string{"Election ID", "Audit Number", "Tabulator CVR", "Cast Vote Record", "Batch", "Batch Name", "Ballot Status", "Precinct", "Ballot Style", "Precinct ID", "Machine"}

func (r *Reader) readESS(files []File, fn func(*vigil.CastVoteRecord) error) error {
	var ballotFiles, cvrFiles []File
	for _, f := range files {
		br := bufio.NewReaderSize(f.Reader, 64<<10)
		first, _ := br.Peek(min(br.Size(), 4096))
		line, _, _ := strings.Cut(string(first), "\n")
		line = strings.TrimPrefix(line, "\ufeff")
		nf := File{Name: f.Name, Reader: br}
		if strings.HasPrefix(line, "Ballots") || strings.Contains(line, "Ballot Status") {
			ballotFiles = append(ballotFiles, nf)
		} else {
			cvrFiles = append(cvrFiles, nf)
		}
	}
	if len(cvrFiles) == 0 {
		return vigil.FieldError(opImport, "files", "no ES&S CVR file among %d files (all look like Ballots exports); add the CVR export", len(files))
	}
	var ballots map[string]*essBallot
	if len(ballotFiles) > 0 {
		ballots = map[string]*essBallot{}
		for _, f := range ballotFiles {
			if err := r.readESSBallots(f, ballots); err != nil {
				return err
			}
		}
		essPositions(ballots)
	}
	for _, f := range cvrFiles {
		if err := r.readESSCVRs(f, ballots, fn); err != nil {
			return err
		}
	}
	for id, b := range ballots {
		if !b.used {
			return parseErr(opImport, b.file, b.line, "Cast Vote Record", "ballot %q is in the ballots file but not in the CVR file; export both from the same election", id)
		}
	}
	return nil
}

func (r *Reader) readESSBallots(f File, ballots map[string]*essBallot) error {
	c := newCSV(opImport, f.Name, f.Reader, r.opt.MaxLineBytes)
	head, err := c.next()
	if err == io.EOF {
		return c.errorf(1, "", "the ballots file is empty")
	}
	if err != nil {
		return err
	}
	if cell(head[0]) == "Ballots" {
		// Title, election, county, date and a blank row precede the header.
		for {
			head, err = c.next()
			if err == io.EOF {
				return c.errorf(0, "", "no header row with a Cast Vote Record column found")
			}
			if err != nil {
				return err
			}
			if cell(head[0]) == "Cast Vote Record" {
				break
			}
			if c.line() > 20 {
				return c.errorf(c.line(), "", "no header row with a Cast Vote Record column in the first 20 lines")
			}
		}
	}
	head = slices.Clone(head)
	idx := headerIndex(head)
	col := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	cvrCol, batchCol, tabCVR, machine := col("Cast Vote Record"), col("Batch"), col("Tabulator CVR"), col("Machine")
	for _, x := range []struct {
		i    int
		name string
	}{{cvrCol, "Cast Vote Record"}, {batchCol, "Batch"}, {tabCVR, "Tabulator CVR"}} {
		if x.i < 0 {
			return c.errorf(c.line(), x.name, "missing required column %s in the ballots file header", x.name)
		}
	}
	for {
		rec, err := c.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line := c.line()
		get := func(i int) string {
			if i < 0 || i >= len(rec) {
				return ""
			}
			return cell(rec[i])
		}
		if strings.HasPrefix(get(0), "Total") || strings.Join(rec, "") == "" {
			continue
		}
		id := get(cvrCol)
		if id == "" {
			return c.errorf(line, "Cast Vote Record", "Cast Vote Record is empty")
		}
		b := &essBallot{batch: get(batchCol), imprinted: get(tabCVR), file: f.Name, line: line}
		if b.batch == "" {
			return c.errorf(line, "Batch", "Batch is empty for Cast Vote Record %s", id)
		}
		tc := b.imprinted
		switch {
		case machine >= 0:
			b.tabulator = get(machine)
			if len(tc) == 10 && allDigits(tc) {
				b.seq, _ = strconv.ParseUint(tc[4:], 10, 64)
			} else if v, err := strconv.ParseUint(tc, 16, 64); err == nil && len(tc) <= 16 {
				b.seq = v
			} else {
				return c.errorf(line, "Tabulator CVR", "Tabulator CVR %q should be ten digits or sixteen hex digits; a spreadsheet may have changed it", tc)
			}
		case len(tc) == 10 && allDigits(tc):
			b.tabulator = tc[:4]
			b.seq, _ = strconv.ParseUint(tc[4:], 10, 64)
		default:
			return c.errorf(line, "Tabulator CVR", "Tabulator CVR %q should be ten digits (tabulator and ballot number) when there is no Machine column; check that leading zeros were kept", tc)
		}
		if prev, dup := ballots[id]; dup {
			if prev.batch != b.batch || prev.imprinted != b.imprinted || prev.tabulator != b.tabulator {
				return c.errorf(line, "Cast Vote Record", "Cast Vote Record %s is listed again with a different batch or Tabulator CVR (first at %s, line %d)", id, prev.file, prev.line)
			}
			continue
		}
		ballots[strings.Clone(id)] = b
	}
}

// essPositions numbers the ballots of each batch 1, 2, … in scan order.
func essPositions(ballots map[string]*essBallot) {
	type key struct{ tab, batch string }
	groups := map[key][]*essBallot{}
	for _, b := range ballots {
		k := key{b.tabulator, b.batch}
		groups[k] = append(groups[k], b)
	}
	for _, g := range groups {
		slices.SortFunc(g, func(a, b *essBallot) int { return cmp.Compare(a.seq, b.seq) })
		for i, b := range g {
			b.position = i + 1
		}
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

type essColumn struct {
	contest int // index into the per-file contest list
	name    string
}

func (r *Reader) readESSCVRs(f File, ballots map[string]*essBallot, fn func(*vigil.CastVoteRecord) error) error {
	c := newCSV(opImport, f.Name, f.Reader, r.opt.MaxLineBytes)
	head, err := c.next()
	if err == io.EOF {
		return c.errorf(1, "", "the CVR file is empty")
	}
	if err != nil {
		return err
	}
	head = slices.Clone(head)
	idx := headerIndex(head)
	col := func(name string) int {
		if i, ok := idx[name]; ok {
			return i
		}
		return -1
	}
	cvrCol := col("Cast Vote Record")
	if cvrCol < 0 {
		return c.errorf(1, "Cast Vote Record", "missing required column Cast Vote Record; is this an ES&S CVR export?")
	}
	batchCol, tabCVR, precinct, style := col("Batch"), col("Tabulator CVR"), col("Precinct"), col("Ballot Style")
	if batchCol < 0 {
		batchCol = col("Batch Name")
	}
	first := 0
	for i, h := range head {
		if slices.Contains(essMeta, normSpace(cell(h))) {
			first = i + 1
		}
	}
	if first >= len(head) {
		return c.errorf(1, "", "no contest columns after the metadata columns")
	}
	// Contest columns; a contest's name repeated N times is vote for N.
	type fileContest struct {
		ci   int
		id   vigil.ContestID
		cols []int
	}
	var contests []fileContest
	byName := map[string]int{}
	var order []string // contest names in column order
	for i := first; i < len(head); i++ {
		name := normSpace(cell(head[i]))
		if name == "" {
			return c.errorf(1, columnName(head, i), "contest column %d has no name", i+1)
		}
		k, ok := byName[name]
		if !ok {
			k = len(contests)
			byName[name] = k
			contests = append(contests, fileContest{})
			order = append(order, name)
		}
		contests[k].cols = append(contests[k].cols, i)
	}
	for k, name := range order {
		ci, err := r.def.contest(name, vigil.Contest{Name: name, VoteFor: len(contests[k].cols)})
		if err != nil {
			return c.errorf(1, name, "%v", err)
		}
		contests[k].ci, contests[k].id = ci, r.def.e.Contests[ci].ID
	}
	var cvr vigil.CastVoteRecord
	buf := make([]vigil.ContestVote, len(contests))
	for {
		rec, err := c.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		line := c.line()
		if strings.Join(rec, "") == "" {
			continue
		}
		if len(rec) < len(head) {
			return c.errorf(line, "", "the row has %d columns but the header has %d; the file may be cut short", len(rec), len(head))
		}
		get := func(i int) string {
			if i < 0 {
				return ""
			}
			return cell(rec[i])
		}
		cvr = vigil.CastVoteRecord{ID: vigil.CVRID(get(cvrCol)), Precinct: vigil.PrecinctID(get(precinct)), BallotStyle: vigil.BallotStyleID(get(style))}
		if cvr.ID == "" {
			return c.errorf(line, "Cast Vote Record", "Cast Vote Record is empty; every ballot needs one")
		}
		if ballots != nil {
			b := ballots[string(cvr.ID)]
			if b == nil {
				return c.errorf(line, "Cast Vote Record", "CVR %s is not in any ballots file, so its batch is unknown; add the Ballots export that lists it", cvr.ID)
			}
			b.used = true
			cvr.Tabulator, cvr.Batch, cvr.ImprintedID, cvr.Position = b.tabulator, b.batch, b.imprinted, b.position
		} else {
			cvr.Batch, cvr.ImprintedID = get(batchCol), get(tabCVR)
			if tc := cvr.ImprintedID; len(tc) == 10 && allDigits(tc) {
				cvr.Tabulator = tc[:4]
			}
		}
		n := 0
		for k := range contests {
			fc := &contests[k]
			cv := &buf[n]
			cv.Contest, cv.Overvoted, cv.Undervotes, cv.Marks = fc.id, false, 0, cv.Marks[:0]
			present := false
			for _, i := range fc.cols {
				v := normSpace(cell(rec[i]))
				switch strings.ToLower(v) {
				case "":
					continue
				case "undervote":
					present = true
					continue
				case "overvote":
					present, cv.Overvoted = true, true
					continue
				}
				present = true
				id, err := r.def.choice(fc.ci, v, vigil.Choice{WriteIn: isWriteIn(v)})
				if err != nil {
					return c.errorf(line, columnName(head, i), "%v", err)
				}
				cv.Marks = append(cv.Marks, vigil.Mark{Choice: id, WriteIn: isWriteIn(v)})
			}
			if present {
				n++
			}
		}
		cvr.Contests = buf[:n]
		if err := r.emit(c.name, line, &cvr, fn); err != nil {
			return err
		}
	}
}
