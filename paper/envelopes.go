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
		if err := d.envelope(s, EnvelopeNumber(s.PlaceID, i), Filled{}); err != nil {
			return err
		}
	}
	return d.Output(w)
}

// Filled is what the pollbook already knows when it issues a provisional
// ballot: printed on the envelope so the voter only checks and signs.
type Filled struct {
	LastName, FirstName, BirthDate, Address, VoterID string
	Reason                                           string // one of the reason lines, as printed
	BallotStyle, Issuer                              string
}

// Reasons are the provisional reasons printed on every envelope.
var Reasons = []string{
	"Not on the roll of this polling place",
	"Required identification not provided",
	"Already marked as voted or as having received a mail ballot",
	"Voting after the polls' official closing time by court order",
	"Other:",
}

// FilledEnvelope writes one envelope, numbered num, with the voter's
// details and the reason already printed.
func FilledEnvelope(w io.Writer, s Stamp, num string, f Filled) error {
	d := newDoc("P")
	if err := d.envelope(s, num, f); err != nil {
		return err
	}
	return d.Output(w)
}

func (d *doc) envelope(s Stamp, num string, f Filled) error {
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
	field := func(label string, width float64, value string) {
		d.SetXY(10, y)
		d.font("", 8)
		d.cell(45, 5, label, "L")
		if value != "" {
			d.SetXY(56, y)
			d.font("B", 10)
			d.cell(width, 5, value, "L")
		}
		d.SetDrawColor(0, 0, 0)
		d.SetLineWidth(0.2)
		d.Line(55, y+5, 55+width, y+5)
		y += 9
	}
	box := func(label string, checked bool) {
		d.SetDrawColor(0, 0, 0)
		d.Rect(12, y+0.8, 3.2, 3.2, "D")
		if checked {
			d.Line(12, y+0.8, 15.2, y+4)
			d.Line(12, y+4, 15.2, y+0.8)
		}
		d.SetXY(17, y)
		d.font("", 8)
		d.cell(180, 5, label, "L")
		y += 6
	}
	section("1. Voter (print clearly)")
	field("Last name", 140, f.LastName)
	field("First and middle name", 140, f.FirstName)
	field("Date of birth", 60, f.BirthDate)
	field("Residence address", 140, f.Address)
	field("City, ZIP", 140, "")
	field("Voter ID, driver's licence or last 4 of SSN", 100, f.VoterID)
	d.SetXY(10, y)
	d.font("I", 9)
	d.MultiCell(195.9, 4.5, d.tr(Affirmation), "", "L", false)
	y = d.GetY() + 6
	field("Signature of voter", 110, "")
	field("Date", 60, "")
	section("2. Poll worker")
	d.SetXY(10, y)
	d.font("", 8)
	d.cell(180, 5, "Reason for provisional ballot:", "L")
	y += 6
	for _, r := range Reasons {
		box(r, f.Reason == r)
	}
	field("Ballot style issued", 50, f.BallotStyle)
	field("Poll worker initials", 50, f.Issuer)
	section("3. Election office only")
	box("Counted in full", false)
	box("Counted in part (races the voter was eligible for)", false)
	box("Not counted. Reason:", false)
	field("Reviewed by / date", 100, "")
	return nil
}
