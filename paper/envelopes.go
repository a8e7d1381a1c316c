package paper

import (
	"fmt"
	"io"
)

// Affirmation is the provisional voter's affirmation (52 U.S.C. 21082(a)(2)).
const Affirmation = "I do solemnly swear (or affirm) that I am a registered voter in the jurisdiction in which " +
	"I am voting and that I am eligible to vote in this election."

// EnvelopeNumber is the number printed on envelope i (1-based) of a place.
func EnvelopeNumber(placeID string, i int) string { return fmt.Sprintf("PV-%s-%05d", placeID, i) }

// Envelopes writes count provisional ballot envelopes for a polling place,
// one per page, numbered from first: each with the envelope number as text
// and Code 128 barcode, the voter's section with the affirmation, the poll
// worker's section and the election office's determination.
func Envelopes(w io.Writer, s Stamp, first, count int) error {
	d := newDoc("P")
	for i := first; i < first+count; i++ {
		num := EnvelopeNumber(s.PlaceID, i)
		d.AddPage()
		d.stampHeader("PROVISIONAL BALLOT ENVELOPE", s)
		d.pageFooter("Seal the voted provisional ballot inside. Do not put it in the ballot box or scanner.")
		d.SetXY(10, 28)
		d.font("B", 14)
		d.cell(100, 8, "Envelope "+num, "L")
		if err := d.code128(num, 120, 27, 80, 12); err != nil {
			return err
		}
		y := 44.0
		section := func(title string) {
			d.SetXY(10, y)
			d.font("B", 10)
			d.SetFillColor(230, 230, 230)
			d.CellFormat(195.9, 6, d.tr(title), "", 0, "L", true, 0, "")
			y += 8
		}
		field := func(label string, width float64) {
			d.SetXY(10, y)
			d.font("", 8)
			d.cell(45, 5, label, "L")
			d.SetDrawColor(0, 0, 0)
			d.SetLineWidth(0.2)
			d.Line(55, y+5, 55+width, y+5)
			y += 9
		}
		box := func(label string) {
			d.SetDrawColor(0, 0, 0)
			d.Rect(12, y+0.8, 3.2, 3.2, "D")
			d.SetXY(17, y)
			d.font("", 8)
			d.cell(180, 5, label, "L")
			y += 6
		}
		section("1. Voter (print clearly)")
		field("Last name", 140)
		field("First and middle name", 140)
		field("Date of birth", 60)
		field("Residence address", 140)
		field("City, ZIP", 140)
		field("Voter ID, driver's licence or last 4 of SSN", 100)
		d.SetXY(10, y)
		d.font("I", 9)
		d.MultiCell(195.9, 4.5, d.tr(Affirmation), "", "L", false)
		y = d.GetY() + 6
		field("Signature of voter", 110)
		field("Date", 60)
		section("2. Poll worker")
		d.SetXY(10, y)
		d.font("", 8)
		d.cell(180, 5, "Reason for provisional ballot:", "L")
		y += 6
		box("Not on the roll of this polling place")
		box("Required identification not provided")
		box("Already marked as voted or as having received a mail ballot")
		box("Voting after the polls' official closing time by court order")
		box("Other:")
		field("Ballot style issued", 50)
		field("Poll worker initials", 50)
		section("3. Election office only")
		box("Counted in full")
		box("Counted in part (races the voter was eligible for)")
		box("Not counted. Reason:")
		field("Reviewed by / date", 100)
	}
	return d.Output(w)
}
