package paper_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil/paper"
	"github.com/vigil-elections/vigil/tabulate"
)

// tallySample counts a real sample export.
func tallySample(t *testing.T, format tabulate.Format, path string, by ...tabulate.Dimension) *tabulate.Results {
	t.Helper()
	f, err := os.Open(filepath.Join("../../shared/data/cvr", path))
	if err != nil {
		t.Skipf("sample missing: %v", err)
	}
	defer f.Close()
	r := tabulate.NewReader(format, tabulate.Options{})
	tl := tabulate.NewTally(r.Election(), by...)
	if err := r.Read([]tabulate.File{{Name: filepath.Base(path), Reader: f}}, tl.Add); err != nil {
		t.Fatal(err)
	}
	return tl.Results()
}

func TestResultsReport(t *testing.T) {
	const checkpoint = "vigil.log/test-node 1234 3q2+7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	printed := time.Date(2026, 11, 4, 1, 2, 3, 0, time.UTC)

	t.Run("every contest, choice and vote count is in the PDF, and every page names the checkpoint", func(t *testing.T) {
		res := tallySample(t, tabulate.Dominion, "arlo-vendor-formats/dominion/TEST_CVRS.csv", tabulate.ByPrecinct, tabulate.ByBatch)
		res.Checkpoint = checkpoint
		var buf bytes.Buffer
		if err := paper.Results(&buf, res, paper.ResultsStamp{County: "ADAMS", Published: "2026-11-04 by admin", Printed: printed}); err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, buf.Bytes())
		pages := strings.Split(strings.TrimRight(text, "\f"), "\f")
		for i, p := range pages {
			for _, w := range []string{"RESULTS", "county ADAMS", "14 ballots counted", "Computed at log checkpoint:", "vigil.log/test-node 1234", "Page"} {
				if !strings.Contains(p, w) {
					t.Fatalf("page %d of %d lacks %q:\n%s", i+1, len(pages), w, p)
				}
			}
		}
		// The totals, as the CSV gives them, each on one line of the PDF.
		var csv strings.Builder
		res.WriteCSV(&csv)
		for _, line := range strings.Split(strings.TrimSpace(csv.String()), "\n")[1:] {
			f := strings.Split(line, ",")
			re := regexp.MustCompile(regexp.QuoteMeta(f[1]) + `\s+` + f[2] + `\s`)
			if !re.MatchString(pages[0]) {
				t.Fatalf("page 1 lacks %s with %s votes:\n%s", f[1], f[2], pages[0])
			}
		}
		if !strings.Contains(text, "Results by precinct") || !strings.Contains(text, "Results by batch") || !strings.Contains(text, "tabulator TABULATOR1, batch BATCH1") {
			t.Fatalf("no groups:\n%s", text)
		}
	})
	t.Run("a ranked-choice contest prints every round and the winner", func(t *testing.T) {
		res := tallySample(t, tabulate.NIST, "hiltonroscoe-cdfprototype/CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml")
		res.Checkpoint = checkpoint
		var buf bytes.Buffer
		if err := paper.Results(&buf, res, paper.ResultsStamp{Printed: printed}); err != nil {
			t.Fatal(err)
		}
		text := pdfText(t, buf.Bytes())
		if !strings.Contains(text, "UNOFFICIAL COUNT (NOT PUBLISHED)") || !strings.Contains(text, "Round 1") || !strings.Contains(text, "all counties") {
			t.Fatal(text)
		}
		for _, c := range res.Contests {
			if c.IRV != nil && c.IRV.Winner != "" && !strings.Contains(text, "Winner: ") {
				t.Fatalf("no winner line:\n%s", text)
			}
		}
	})
	t.Run("results without a checkpoint are refused", func(t *testing.T) {
		res := tallySample(t, tabulate.Dominion, "arlo-vendor-formats/dominion/TEST_CVRS.csv")
		if err := paper.Results(&bytes.Buffer{}, res, paper.ResultsStamp{Printed: printed}); err == nil || !strings.Contains(err.Error(), "checkpoint") {
			t.Fatalf("got %v", err)
		}
	})
}
