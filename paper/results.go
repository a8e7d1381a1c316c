package paper

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

// ResultsStamp says what a results report is: whose count, whether it was
// published, and when it was printed. The log checkpoint the count was
// computed at is the Results' own (tabulate.Results.Checkpoint).
type ResultsStamp struct {
	County    string // "" for every county
	Published string // when and by whom it was published; "" for an unpublished count
	Printed   time.Time
}

// Results writes a results report: every contest with its choices, votes
// and shares, over- and undervotes and, for ranked-choice contests, every
// round of the runoff; then the counts by group (precinct, ballot style,
// batch) that res carries. Every page names the election, the county and
// the log checkpoint the count was computed at, so a printed page can be
// checked against the log.
func Results(w io.Writer, res *tabulate.Results, s ResultsStamp) error {
	if res.Checkpoint == "" {
		return vigil.Errorf(vigil.Invalid, "paper.results", "the results name no log checkpoint; count them on a node")
	}
	d := newDoc("P")
	title := "RESULTS"
	if s.Published == "" {
		title = "UNOFFICIAL COUNT (NOT PUBLISHED)"
	}
	county := "all counties"
	if s.County != "" {
		county = "county " + s.County
	}
	d.SetAutoPageBreak(true, 18)
	d.SetHeaderFunc(func() {
		d.font("B", 13)
		d.cell(0, 7, title+" - "+res.Election, "L")
		d.Ln(7)
		d.font("", 8)
		d.cell(0, 4, fmt.Sprintf("%s · %d ballots counted · printed %s", county, res.Ballots, s.Printed.UTC().Format("2006-01-02 15:04:05 MST")), "L")
		d.Ln(4)
		if s.Published != "" {
			d.cell(0, 4, "published "+s.Published, "L")
			d.Ln(4)
		}
		d.Ln(2)
	})
	d.SetFooterFunc(func() {
		d.SetY(-16)
		d.font("", 7)
		d.MultiCell(0, 3.2, d.tr("Computed at log checkpoint: "+res.Checkpoint), "T", "L", false)
		d.cell(0, 3.5, fmt.Sprintf("Page %d of {nb}", d.PageNo()), "R")
	})
	d.AddPage()
	for _, c := range res.Contests {
		contestTable(d, c, true)
	}
	var dim tabulate.Dimension
	for _, g := range res.Groups {
		if g.By != dim {
			dim = g.By
			d.AddPage()
			d.font("B", 12)
			d.cell(0, 7, "Results by "+strings.ReplaceAll(dim.String(), "_", " "), "L")
			d.Ln(8)
		}
		name := g.Name
		if g.Tabulator != "" {
			name = "tabulator " + g.Tabulator + ", batch " + g.Name
		}
		if d.GetY() > 230 {
			d.AddPage()
		}
		d.font("B", 10)
		d.cell(0, 6, strings.ReplaceAll(dim.String(), "_", " ")+" "+name, "L")
		d.Ln(6)
		for _, c := range g.Contests {
			contestTable(d, c, false)
		}
	}
	return d.Output(w)
}

// contestTable prints one contest: name, kind, choices with votes and
// shares, over- and undervotes; with rounds, the runoff too.
func contestTable(d *doc, c tabulate.ContestResult, rounds bool) {
	need := 14 + 5*float64(len(c.Choices)+2)
	if d.GetY()+need > 260 && need < 200 {
		d.AddPage()
	}
	d.font("B", 10)
	d.cell(0, 6, c.Name, "L")
	d.Ln(6)
	d.font("", 8)
	kind := fmt.Sprintf("vote for %d", c.VoteFor)
	switch c.Kind {
	case vigil.RankedChoice:
		kind = "ranked choice, instant runoff (first round shown)"
	case vigil.BallotMeasure:
		kind = "ballot measure"
	}
	d.cell(0, 4, fmt.Sprintf("%s · on %d ballots", kind, c.Ballots), "L")
	d.Ln(5)
	var total int64
	for _, ch := range c.Choices {
		total += ch.Votes
	}
	row := func(name, votes, share string, bold bool) {
		style := ""
		if bold {
			style = "B"
		}
		d.font(style, 9)
		d.cell(110, 5, name, "L")
		d.cell(30, 5, votes, "R")
		d.cell(30, 5, share, "R")
		d.Ln(5)
	}
	row("Choice", "Votes", "Share", true)
	for _, ch := range c.Choices {
		row(ch.Name, fmt.Sprint(ch.Votes), share(ch.Votes, total), false)
	}
	row("Overvotes", fmt.Sprint(c.Overvotes), "", false)
	row("Undervotes", fmt.Sprint(c.Undervotes), "", false)
	if rounds && c.IRV != nil {
		names := map[vigil.ChoiceID]string{}
		for _, ch := range c.Choices {
			names[ch.ID] = ch.Name
		}
		for i, rd := range c.IRV.Rounds {
			d.font("B", 8)
			d.cell(0, 5, fmt.Sprintf("Round %d", i+1), "L")
			d.Ln(5)
			for _, ch := range rd.Votes {
				row("  "+ch.Name, fmt.Sprint(ch.Votes), share(ch.Votes, rd.Continuing), false)
			}
			row("  Exhausted", fmt.Sprint(rd.Exhausted), "", false)
			if rd.Eliminated != "" {
				row("  Eliminated: "+names[rd.Eliminated], "", "", false)
			}
			if rd.Tie != "" {
				d.font("", 8)
				d.MultiCell(0, 4, d.tr("  Tie: "+rd.Tie), "", "L", false)
			}
		}
		winner := "no winner: every ballot was exhausted"
		if c.IRV.Winner != "" {
			winner = "Winner: " + names[c.IRV.Winner]
		}
		row(winner, "", "", true)
	}
	d.Ln(3)
}

func share(n, of int64) string {
	if of == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}
