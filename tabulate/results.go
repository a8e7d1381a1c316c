package tabulate

import (
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/vigil-elections/vigil"
)

// Results are a finished count.
type Results struct {
	Election string
	// Checkpoint is the event-log checkpoint the count was computed at, as
	// the log prints it; the caller sets it. WriteNISTXML and WriteNISTJSON
	// carry it so that anyone can check the results against the log.
	Checkpoint string
	Ballots    int64 // CVRs counted
	Contests   []ContestResult
	Groups     []GroupResult // one per group per dimension, sorted by dimension then name
}

// ContestResult is one contest's count.
type ContestResult struct {
	ID         vigil.ContestID
	Name       string
	Kind       vigil.ContestKind
	VoteFor    int
	Ballots    int64 // ballots the contest was on
	Overvotes  int64
	Undervotes int64
	Choices    []ChoiceResult // in contest order; ranked choice: first round
	IRV        *IRVResult     // ranked-choice contests, in the total only
}

// ChoiceResult is one choice's votes.
type ChoiceResult struct {
	ID    vigil.ChoiceID
	Name  string
	Votes int64
}

// GroupResult is the count of one precinct, ballot style, batch or
// counting group.
type GroupResult struct {
	By        Dimension
	Name      string // precinct, style, batch or counting group name
	Tabulator string // ByBatch only
	Contests  []ContestResult
}

// Results returns the count so far. Ranked-choice contests are run off now.
func (t *Tally) Results() *Results {
	t.reindex()
	r := &Results{Election: t.e.Name, Ballots: t.ballots}
	r.Contests = t.contestResults(t.total, true)
	for i, d := range t.by {
		for k, g := range t.groups[i] {
			gr := GroupResult{By: d, Name: k, Contests: t.contestResults(g.counts, false)}
			if d == ByBatch {
				gr.Tabulator, gr.Name, _ = strings.Cut(k, "\x00")
			}
			r.Groups = append(r.Groups, gr)
		}
	}
	sort.Slice(r.Groups, func(i, j int) bool {
		a, b := r.Groups[i], r.Groups[j]
		if a.By != b.By {
			return a.By < b.By
		}
		if a.Tabulator != b.Tabulator {
			return a.Tabulator < b.Tabulator
		}
		return a.Name < b.Name
	})
	return r
}

func (t *Tally) contestResults(counts []count, withIRV bool) []ContestResult {
	var out []ContestResult
	for ci := range t.e.Contests {
		con := &t.e.Contests[ci]
		var n count
		if ci < len(counts) {
			n = counts[ci]
		}
		if !withIRV && n.ballots == 0 {
			continue // a group lists only the contests on its ballots
		}
		cr := ContestResult{ID: con.ID, Name: con.Name, Kind: con.Kind, VoteFor: con.VoteFor, Ballots: n.ballots, Overvotes: n.over, Undervotes: n.under}
		for j, ch := range con.Choices {
			var v int64
			if j < len(n.votes) {
				v = n.votes[j]
			}
			cr.Choices = append(cr.Choices, ChoiceResult{ID: ch.ID, Name: ch.Name, Votes: v})
		}
		if withIRV && con.Kind == vigil.RankedChoice {
			irv := runIRV(con, t.ranked[ci])
			cr.IRV = &irv
		}
		out = append(out, cr)
	}
	return out
}

// WriteCSV writes the totals, one row per contest and choice, under the
// header contest,choice,votes. Contest and choice are names. Ranked-choice
// contests give first-round votes; WriteText shows every round.
func (r *Results) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"contest", "choice", "votes"})
	for _, c := range r.Contests {
		for _, ch := range c.Choices {
			cw.Write([]string{c.Name, ch.Name, fmt.Sprint(ch.Votes)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteGroupsCSV writes the counts grouped by d, one row per group,
// contest and choice, under the header <d>,contest,choice,votes (for
// ByBatch: tabulator,batch,contest,choice,votes).
func (r *Results) WriteGroupsCSV(w io.Writer, d Dimension) error {
	cw := csv.NewWriter(w)
	if d == ByBatch {
		cw.Write([]string{"tabulator", "batch", "contest", "choice", "votes"})
	} else {
		cw.Write([]string{d.String(), "contest", "choice", "votes"})
	}
	for _, g := range r.Groups {
		if g.By != d {
			continue
		}
		for _, c := range g.Contests {
			for _, ch := range c.Choices {
				if d == ByBatch {
					cw.Write([]string{g.Tabulator, g.Name, c.Name, ch.Name, fmt.Sprint(ch.Votes)})
				} else {
					cw.Write([]string{g.Name, c.Name, ch.Name, fmt.Sprint(ch.Votes)})
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes a report for people: each contest with its choices,
// votes and shares, over- and undervotes, and the rounds of every runoff.
func (r *Results) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n%d ballots counted\n", r.Election, r.Ballots)
	for _, c := range r.Contests {
		fmt.Fprintf(tw, "\n%s\n", c.Name)
		switch c.Kind {
		case vigil.RankedChoice:
			fmt.Fprintf(tw, "ranked choice, instant runoff; %d ballots\n", c.Ballots)
		case vigil.BallotMeasure:
			fmt.Fprintf(tw, "ballot measure; %d ballots\n", c.Ballots)
		default:
			fmt.Fprintf(tw, "vote for %d; %d ballots\n", c.VoteFor, c.Ballots)
		}
		var total int64
		for _, ch := range c.Choices {
			total += ch.Votes
		}
		for _, ch := range c.Choices {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t\n", ch.Name, ch.Votes, pct(ch.Votes, total))
		}
		fmt.Fprintf(tw, "  overvotes\t%d\t\t\n  undervotes\t%d\t\t\n", c.Overvotes, c.Undervotes)
		if c.IRV != nil {
			for i, rd := range c.IRV.Rounds {
				fmt.Fprintf(tw, "  round %d\t\t\t\n", i+1)
				for _, ch := range rd.Votes {
					fmt.Fprintf(tw, "    %s\t%d\t%s\t\n", ch.Name, ch.Votes, pct(ch.Votes, rd.Continuing))
				}
				fmt.Fprintf(tw, "    exhausted\t%d\t\t\n", rd.Exhausted)
				if rd.Eliminated != "" {
					fmt.Fprintf(tw, "    eliminated: %s\t\t\t\n", choiceName(c, rd.Eliminated))
				}
				if rd.Tie != "" {
					fmt.Fprintf(tw, "    note: %s\t\t\t\n", rd.Tie)
				}
			}
			if c.IRV.Winner != "" {
				fmt.Fprintf(tw, "  winner: %s\t\t\t\n", choiceName(c, c.IRV.Winner))
			} else {
				fmt.Fprintf(tw, "  no winner: every ballot was exhausted\t\t\t\n")
			}
		}
	}
	return tw.Flush()
}

func choiceName(c ContestResult, id vigil.ChoiceID) string {
	for _, ch := range c.Choices {
		if ch.ID == id {
			return ch.Name
		}
	}
	return string(id)
}

func pct(n, of int64) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}
