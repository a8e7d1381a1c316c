package paper

import (
	"fmt"
	"io"
	"time"
)

// VotedList writes the list of voters checked in at a polling place up to
// a time, in alphabetical order, with the time and the device or worker of
// each check-in.
func VotedList(w io.Writer, s Stamp, at time.Time, voted []Voted) (int, error) {
	d := newDoc("P")
	cols := []struct {
		title string
		w     float64
	}{{"#", 10}, {"Voter", 70}, {"Voter ID", 28}, {"Precinct / style", 28}, {"Checked in (UTC)", 32}, {"By", 27.9}}
	footer := fmt.Sprintf("%d voters checked in up to %s", len(voted), at.UTC().Format("2006-01-02 15:04 MST"))
	newPage := func() {
		d.AddPage()
		d.stampHeader("VOTED LIST", s)
		d.SetXY(10, 25.5)
		d.font("B", 7.5)
		for _, c := range cols {
			d.cell(c.w, 5, c.title, "L")
		}
		d.pageFooter(footer)
	}
	newPage()
	y := 31.0
	for i, v := range voted {
		if y+6 > 265 {
			newPage()
			y = 31
		}
		d.SetXY(10, y)
		d.font("", 8)
		vals := []string{fmt.Sprint(i + 1), fullName(v.Voter), v.ID, v.Precinct + " / " + v.BallotStyle,
			v.Time.UTC().Format("2006-01-02 15:04:05"), v.Actor}
		for j, c := range cols {
			d.cell(c.w, 5, vals[j], "L")
		}
		y += 6
	}
	if len(voted) == 0 {
		d.SetXY(10, y)
		d.font("I", 9)
		d.cell(190, 6, "No check-ins are recorded for this polling place up to this time.", "L")
	}
	pages := d.PageNo()
	return pages, d.Output(w)
}
