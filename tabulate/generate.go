package tabulate

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// DominionContests are the ten contests of the generated export: name,
// vote for, choices. Contests 9 and 10 are only on ballot styles 2 and 3,
// so some ballots lack them.
var DominionContests = []struct {
	Name    string
	VoteFor int
	Choices []string
}{
	{"President", 1, []string{"Ada Lovelace", "Grace Hopper", "Write-in"}},
	{"Governor", 1, []string{"Alan Turing", "Edsger Dijkstra", "Barbara Liskov", "Write-in"}},
	{"Proposition 1", 1, []string{"Yes", "No"}},
	{"City Council", 2, []string{"Ken Thompson", "Dennis Ritchie", "Rob Pike", "Robert Griesemer", "Write-in"}},
	{"Sheriff", 1, []string{"Donald Knuth", "Leslie Lamport", "Write-in"}},
	{"Proposition 2", 1, []string{"Yes", "No"}},
	{"School Board", 3, []string{"Frances Allen", "John Backus", "Niklaus Wirth", "Tony Hoare"}},
	{"Treasurer", 1, []string{"Radia Perlman", "Vint Cerf", "Write-in"}},
	{"Water District", 1, []string{"Yes", "No"}},
	{"Judge", 1, []string{"Margaret Hamilton", "Hedy Lamarr", "Katherine Johnson", "Dorothy Vaughan", "Mary Jackson", "Write-in"}},
}

// WriteDominionCVRs writes n ballots in Dominion's CSV export shape (four
// header rows), deterministically: 10,000 ballots per tabulator, batches of
// 200, 137 precincts, mostly valid votes with a few undervotes and
// overvotes.
func WriteDominionCVRs(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	meta := []string{"CvrNumber", "TabulatorNum", "BatchId", "RecordId", "ImprintedId", "CountingGroup", "PrecinctPortion", "BallotType"}
	cw := csv.NewWriter(bw)
	var row1, row2, row3, row4 []string
	row1 = append(row1, "Benchmark General Election", "5.10.50.85")
	for range meta {
		row2, row3 = append(row2, ""), append(row3, "")
	}
	row4 = append(row4, meta...)
	for _, c := range DominionContests {
		for _, ch := range c.Choices {
			row2 = append(row2, fmt.Sprintf("%s (Vote For=%d)", c.Name, c.VoteFor))
			row3 = append(row3, ch)
			row4 = append(row4, "NP")
		}
	}
	for len(row1) < len(row2) {
		row1 = append(row1, "")
	}
	for _, r := range [][]string{row1, row2, row3, row4} {
		if err := cw.Write(r); err != nil {
			return err
		}
	}
	rng := rand.New(rand.NewPCG(2024, 11))
	rec := make([]string, 0, len(row2))
	for i := range n {
		tab, batch, pos := 1+i/10_000, 1+(i/200)%50, 1+i%200
		style := rng.IntN(4)
		rec = append(rec[:0], strconv.Itoa(i+1), strconv.Itoa(tab), strconv.Itoa(batch), strconv.Itoa(pos),
			fmt.Sprintf("%d-%d-%d", tab, batch, pos), [2]string{"Election Day", "Mail"}[rng.IntN(2)],
			"Precinct "+strconv.Itoa(1+i%137), "Style "+strconv.Itoa(style))
		for k, c := range DominionContests {
			if k >= 8 && style < 2 {
				for range c.Choices {
					rec = append(rec, "")
				}
				continue
			}
			marks := c.VoteFor
			switch x := rng.IntN(100); {
			case x < 4:
				marks = 0
			case x < 5:
				marks = len(c.Choices)
			}
			chosen := rng.Perm(len(c.Choices))[:marks]
			start := len(rec)
			for range c.Choices {
				rec = append(rec, "0")
			}
			for _, j := range chosen {
				rec[start+j] = "1"
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}
