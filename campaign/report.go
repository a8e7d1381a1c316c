package campaign

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/vigil-elections/vigil"
)

// WriteReport writes a self-assessment as a PDF: the campaign, the score
// and rating (with the controls that cap it), the remediation plan with
// the most critical gaps first, and every answer with its evidence note.
// The report holds the campaign's gaps: hand it only to the campaign and
// the firms it engaged.
//
// The PDF uses the standard Helvetica font (Windows-1252); characters it
// cannot show are printed as "?". Its creation date is the assessment's
// time, so the same assessment always gives the same bytes.
func WriteReport(w io.Writer, c vigil.Campaign, a vigil.Assessment) error {
	const op = "campaign.report"
	score, err := Assess(a.Answers)
	if err != nil {
		return err
	}
	plan, err := Remediate(a.Answers)
	if err != nil {
		return err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(a.Time)
	pdf.SetModificationDate(a.Time)
	pdf.SetCatalogSort(true)
	pdf.SetTitle("Campaign security self-assessment: "+c.Organisation, true)
	pdf.SetCreator("vigil "+vigil.Version, true)
	pdf.SetMargins(15, 15, 15)
	pdf.SetAutoPageBreak(true, 15)
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	text := func(s string) string { return tr(s) }
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont("Helvetica", "I", 8)
		pdf.CellFormat(0, 5, text(fmt.Sprintf("%s - confidential: for the campaign and the firms it engaged - page %d", c.ID, pdf.PageNo())), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont("Helvetica", "B", 16)
	pdf.MultiCell(0, 8, text("Campaign security self-assessment"), "", "L", false)
	pdf.SetFont("Helvetica", "", 11)
	for _, line := range []string{
		c.Organisation + " (" + string(c.ID) + ")",
		"Candidate: " + c.Candidate + " - " + c.Race,
		"Assessed: " + a.Time.UTC().Format(time.RFC3339),
	} {
		pdf.MultiCell(0, 6, text(line), "", "L", false)
	}
	pdf.Ln(3)

	pdf.SetFont("Helvetica", "B", 13)
	pdf.MultiCell(0, 7, text(fmt.Sprintf("Score: %d%% (%d of %d points) - rating: %s", score.Percent(), score.Earned, score.Possible, score.Rating)), "", "L", false)
	pdf.SetFont("Helvetica", "", 10)
	if score.Gated {
		ids := make([]string, len(score.GatingControls))
		for i, id := range score.GatingControls {
			ids[i] = string(id)
		}
		pdf.MultiCell(0, 5, text("The rating is capped at At risk because these Critical controls are not done: "+strings.Join(ids, ", ")+"."), "", "L", false)
	}
	if len(score.Unanswered) > 0 {
		pdf.MultiCell(0, 5, text(fmt.Sprintf("%d controls were not answered and count as not done.", len(score.Unanswered))), "", "L", false)
	}
	pdf.Ln(3)

	pdf.SetFont("Helvetica", "B", 13)
	pdf.MultiCell(0, 7, text("Remediation plan, most critical first"), "", "L", false)
	if len(plan) == 0 {
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5, text("Every control is fully done."), "", "L", false)
	}
	for i, st := range plan {
		status := "not done"
		if !st.Answered {
			status = "not answered"
		} else if st.Points == vigil.Partial {
			status = "partly done"
		}
		pdf.SetFont("Helvetica", "B", 10)
		head := fmt.Sprintf("%d. %s (%s, %s, +%d points)", i+1, st.Control.ID, st.Control.Weight, status, st.Gain)
		if st.Gating {
			head += " - lifts the At risk cap"
		}
		pdf.MultiCell(0, 5, text(head), "", "L", false)
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5, text(st.Control.Text+"."), "", "L", false)
		pdf.SetFont("Helvetica", "I", 9)
		pdf.MultiCell(0, 5, text("Evidence that shows it is done: "+st.Control.Evidence), "", "L", false)
		if st.Evidence != "" {
			pdf.MultiCell(0, 5, text("Your note: "+st.Evidence), "", "L", false)
		}
		pdf.Ln(1)
	}

	done := 0
	for _, ans := range a.Answers {
		if ans.Points == vigil.Done {
			done++
		}
	}
	if done > 0 {
		pdf.Ln(2)
		pdf.SetFont("Helvetica", "B", 13)
		pdf.MultiCell(0, 7, text("Done"), "", "L", false)
		for _, ctl := range controls {
			for _, ans := range a.Answers {
				if ans.Control != ctl.ID || ans.Points != vigil.Done {
					continue
				}
				pdf.SetFont("Helvetica", "", 10)
				line := string(ctl.ID) + ": " + ctl.Text
				if ans.Evidence != "" {
					line += " - evidence: " + ans.Evidence
				}
				pdf.MultiCell(0, 5, text(line), "", "L", false)
			}
		}
	}
	if err := pdf.Output(w); err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	return nil
}
