package campaign_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

// pdfText extracts a PDF's text with pdftotext (poppler-utils), with runs
// of white space folded to one space.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	cmd := exec.Command("pdftotext", "-layout", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

func TestWriteReport(t *testing.T) {
	c := vigil.Campaign{ID: "C7", Organisation: "Adams for Senate", Candidate: "Ann Adams", Race: "State Senate 4"}
	at := time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC)
	a := vigil.Assessment{Campaign: c.ID, Time: at, Answers: []vigil.ControlAnswer{
		{Control: "ACC-01", Points: vigil.NotDone, Evidence: "only the candidate – not staff – uses MFA"},
		{Control: "PPL-01", Points: vigil.Done, Evidence: "kick-off briefing on 2026-09-01"},
		{Control: "IR-05", Points: vigil.Partial},
	}}
	var buf bytes.Buffer
	if err := campaign.WriteReport(&buf, c, a); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{
		"Adams for Senate (C7)", "Assessed: 2026-10-01T09:30:00Z",
		"rating: At risk", "capped at At risk", "ACC-01",
		"1. ACC-01 (Critical, not done, +10 points) - lifts the At risk cap",
		"only the candidate – not staff – uses MFA", // the en dash is in Windows-1252
		"IR-05 (Low, partly done, +1 points)",
		"kick-off briefing on 2026-09-01",
		"31 controls were not answered",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q:\n%s", want, text)
		}
	}
	t.Run("the same assessment gives the same bytes", func(t *testing.T) {
		var again bytes.Buffer
		campaign.WriteReport(&again, c, a)
		if !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Fatal("two reports of one assessment differ")
		}
	})
	t.Run("an answer to an unknown control is refused", func(t *testing.T) {
		bad := a
		bad.Answers = []vigil.ControlAnswer{{Control: "XYZ-01", Points: 2}}
		if err := campaign.WriteReport(&bytes.Buffer{}, c, bad); vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("error %v", err)
		}
	})
}
