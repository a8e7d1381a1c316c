package paper

import (
	"fmt"
	"io"
	"strings"
)

// Pollbook writes the paper pollbook of one polling place: every voter in
// alphabetical order with address, birth year, precinct and ballot style,
// a Code 128 barcode of the voter ID, and a box to sign in. It returns the
// number of pages.
func Pollbook(w io.Writer, s Stamp, voters []Voter) (int, error) {
	d := newDoc("P")
	const (
		top    = 31.0
		rowH   = 11.5
		bottom = 265.0
	)
	cols := []struct {
		title string
		w     float64
	}{{"#", 10}, {"Voter", 62}, {"Born", 11}, {"Precinct / style", 22}, {"Voter ID", 42}, {"Signature of voter", 48.9}}
	header := func() {
		d.stampHeader("PAPER POLLBOOK", s)
		d.SetXY(10, 25.5)
		d.font("B", 7.5)
		for _, c := range cols {
			d.cell(c.w, 5, c.title, "L")
		}
	}
	footer := fmt.Sprintf("%d voters · sign only on your own line · if a voter is not listed, issue a provisional ballot", len(voters))
	newPage := func() {
		d.AddPage()
		header()
		d.pageFooter(footer)
	}
	newPage()
	y := top
	for i, v := range voters {
		if y+rowH > bottom {
			newPage()
			y = top
		}
		x := 10.0
		d.SetDrawColor(160, 160, 160)
		d.SetLineWidth(0.1)
		d.Line(10, y+rowH, 205.9, y+rowH)
		d.SetXY(x, y+1)
		d.font("", 7)
		d.cell(cols[0].w, 4, fmt.Sprint(i+1), "L")
		x += cols[0].w
		d.SetXY(x, y+1)
		d.font("B", 8.5)
		d.cell(cols[1].w, 4.5, fullName(v), "L")
		d.SetXY(x, y+5.5)
		d.font("", 7)
		addr := strings.TrimSpace(v.Street + ", " + v.City + " " + v.Zip)
		if v.Status == "inactive" {
			addr = "INACTIVE: confirm address · " + addr
		}
		d.cell(cols[1].w, 4, addr, "L")
		x += cols[1].w
		d.SetXY(x, y+1)
		d.font("", 8)
		d.cell(cols[2].w, 4.5, birthYear(v.BirthDate), "L")
		x += cols[2].w
		d.SetXY(x, y+1)
		d.cell(cols[3].w, 4.5, v.Precinct, "L")
		d.SetXY(x, y+5.5)
		d.font("B", 8)
		d.cell(cols[3].w, 4, v.BallotStyle, "L")
		x += cols[3].w
		if err := d.code128(v.ID, x, y+1, cols[4].w-4, 6.5); err != nil {
			return 0, err
		}
		d.SetXY(x, y+7.5)
		d.font("", 6.5)
		d.cell(cols[4].w-4, 3.5, v.ID, "C")
		x += cols[4].w
		d.SetDrawColor(0, 0, 0)
		d.Rect(x, y+1, cols[5].w, rowH-2, "D")
		y += rowH
	}
	pages := d.PageNo()
	if err := d.Output(w); err != nil {
		return 0, err
	}
	return pages, nil
}

func fullName(v Voter) string {
	n := v.Last + ", " + v.First
	if v.Middle != "" {
		n += " " + v.Middle
	}
	if v.Suffix != "" {
		n += " " + v.Suffix
	}
	return n
}

func birthYear(d string) string {
	if len(d) >= 4 {
		return d[:4]
	}
	return d
}
