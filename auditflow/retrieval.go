package auditflow

import (
	"encoding/csv"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// RetrievalLine is one ballot to fetch: where it is and its tickets.
type RetrievalLine struct {
	vigil.AuditBallot
	Container string
	Tickets   []string
}

// Retrieval is a board's retrieval list for a round: each ballot once,
// with every ticket that drew it, sorted by container, tabulator, batch
// and position, the order a board walks the storage room in.
func Retrieval(draws []vigil.AuditDraw, board string) []RetrievalLine {
	idx := map[string]int{}
	var out []RetrievalLine
	for _, d := range draws {
		if d.Board != board {
			continue
		}
		if i, ok := idx[d.Key()]; ok {
			out[i].Tickets = append(out[i].Tickets, d.Ticket)
			continue
		}
		idx[d.Key()] = len(out)
		out = append(out, RetrievalLine{AuditBallot: d.AuditBallot, Container: d.Container, Tickets: []string{d.Ticket}})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Container != b.Container {
			return a.Container < b.Container
		}
		if a.Tabulator != b.Tabulator {
			return a.Tabulator < b.Tabulator
		}
		if a.Batch != b.Batch {
			return a.Batch < b.Batch
		}
		return a.Position < b.Position
	})
	return out
}

// RetrievalHeader is the header of a retrieval list as CSV.
var RetrievalHeader = []string{"container", "tabulator", "batch", "position", "tickets", "jurisdiction", "board"}

// WriteRetrievalCSV writes a board's retrieval list as CSV; a ballot's
// tickets are separated by spaces.
func WriteRetrievalCSV(w io.Writer, board string, lines []RetrievalLine) error {
	cw := csv.NewWriter(w)
	cw.Write(RetrievalHeader)
	for _, l := range lines {
		cw.Write([]string{l.Container, l.Tabulator, l.Batch, strconv.Itoa(l.Position), strings.Join(l.Tickets, " "), l.Jurisdiction, board})
	}
	cw.Flush()
	return cw.Error()
}
