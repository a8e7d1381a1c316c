package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil/demo"
)

const cvrSamples = "../../../shared/data/cvr"

func TestTabulationCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "tabulation-test")
	dominion := func(name string) string { return filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", name) }

	t.Run("a tally before any import says what to import", func(t *testing.T) {
		_, err := runVigil(t, "tally", "--data", dir)
		if err == nil || !strings.Contains(err.Error(), "import") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dominion CVRs import and define the election", func(t *testing.T) {
		out := mustVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS.csv"))
		if !strings.Contains(out, "imported 14 CVRs in 1 entries") {
			t.Fatal(out)
		}
	})
	t.Run("tally as csv prints contest,choice,votes rows", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "csv", "--data", dir)
		want := "contest,choice,votes\nContest 1,Choice 1-1,7\nContest 1,Choice 1-2,3\nContest 2,Choice 2-1,12\nContest 2,Choice 2-2,5\nContest 2,Choice 2-3,7\n"
		if out != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("tally of one contest names the checkpoint it was computed at", func(t *testing.T) {
		out := mustVigil(t, "tally", "--contest", "Contest 2", "--data", dir)
		if strings.Contains(out, "Choice 1-1") || !strings.Contains(out, "Choice 2-3") || !strings.Contains(out, "checkpoint: vigil.log/") {
			t.Fatal(out)
		}
	})
	t.Run("tally as nist is an SP 1500-100 report carrying the checkpoint", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "nist", "--data", dir)
		d := xml.NewDecoder(strings.NewReader(out))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("not XML: %v", err)
			}
		}
		if !strings.Contains(out, "ElectionReport") || !strings.Contains(out, "vigil.log/") {
			t.Fatal(out[:min(len(out), 600)])
		}
	})
	t.Run("a duplicate ballot id stores nothing", func(t *testing.T) {
		_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS.csv"))
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "TEST_CVRS.csv, record 1, ballot id") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("an unknown choice is named by file, line and column and stores nothing", func(t *testing.T) {
		_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS_WITH_EXTRA_CHOICE.csv"))
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "TEST_CVRS_WITH_EXTRA_CHOICE.csv, line 3, column Contest 1") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		out := mustVigil(t, "tally", "--format", "json", "--data", dir)
		if !strings.Contains(out, `"Ballots": 14`) {
			t.Fatal(out)
		}
	})
	t.Run("the manifest import lists the ballot the CVRs lack", func(t *testing.T) {
		out := mustVigil(t, "manifest", "import", "--data", dir, filepath.Join(cvrSamples, "arlo-fixtures", "manifest-for-TEST_CVRS.csv"))
		if !strings.Contains(out, "manifest: 4 batches, 15 ballots") || !strings.Contains(out, `missing: tabulator "TABULATOR2" batch "BATCH2" position 3`) {
			t.Fatal(out)
		}
	})
	t.Run("reconcile lists precincts whose ballots have no check-ins", func(t *testing.T) {
		out := mustVigil(t, "reconcile", "--threshold", "0", "--data", dir)
		if !strings.Contains(out, "DISCREPANCY") || !strings.Contains(out, "recorded 1 new") {
			t.Fatal(out)
		}
		out = mustVigil(t, "reconcile", "--threshold", "0", "--data", dir)
		if !strings.Contains(out, "already recorded") {
			t.Fatalf("recorded the same discrepancies twice:\n%s", out)
		}
	})
	t.Run("publish, then verify rebuilds every tabulation table", func(t *testing.T) {
		out := mustVigil(t, "results", "publish", "--data", dir)
		if !strings.Contains(out, "published 14 ballots at checkpoint vigil.log/") {
			t.Fatal(out)
		}
		if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}

func TestElectionImportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "election-test")
	out := mustVigil(t, "election", "import", "--data", dir,
		filepath.Join(cvrSamples, "..", "nist", "err-v2-samples", "hiltonroscoe_validation_target.xml"))
	if !strings.Contains(out, "contests") {
		t.Fatal(out)
	}
	_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir,
		filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"))
	if exitCode(err) != 2 {
		t.Fatalf("CVRs of another election were accepted: %v", err)
	}
}

func TestTallyByGroupCountyAndPDF(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "tally-by-test")
	sample := filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv")
	mustVigil(t, "cvrs", "import", "--format", "dominion", "--county", "ADAMS", "--data", dir, sample)

	t.Run("the same ballot ids import in another county", func(t *testing.T) {
		out := mustVigil(t, "cvrs", "import", "--format", "dominion", "--county", "BOONE", "--data", dir, sample)
		if !strings.Contains(out, "imported 14 CVRs") {
			t.Fatal(out)
		}
	})
	t.Run("csv by precinct adds the precinct column; one county or all", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "csv", "--by", "precinct", "--county", "ADAMS", "--data", dir)
		want := "precinct,contest,choice,votes\n12345,Contest 1,Choice 1-1,7\n12345,Contest 1,Choice 1-2,3\n12345,Contest 2,Choice 2-1,12\n12345,Contest 2,Choice 2-2,5\n12345,Contest 2,Choice 2-3,7\n"
		if out != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
		out = mustVigil(t, "tally", "--format", "csv", "--by", "precinct", "--data", dir)
		if !strings.Contains(out, "12345,Contest 1,Choice 1-1,14\n") {
			t.Fatal(out)
		}
		out = mustVigil(t, "tally", "--format", "csv", "--data", dir)
		if !strings.HasPrefix(out, "contest,choice,votes\nContest 1,Choice 1-1,14\n") {
			t.Fatal(out)
		}
	})
	t.Run("csv by style and by batch", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "csv", "--by", "style", "--county", "BOONE", "--data", dir)
		if !strings.HasPrefix(out, "ballot_style,contest,choice,votes\nCITY,Contest 2,Choice 2-1,2\n") || !strings.Contains(out, "COUNTY,Contest 1,Choice 1-1,7\n") {
			t.Fatal(out)
		}
		out = mustVigil(t, "tally", "--format", "csv", "--by", "batch", "--contest", "Contest 1", "--county", "ADAMS", "--data", dir)
		if !strings.HasPrefix(out, "tabulator,batch,contest,choice,votes\nTABULATOR1,BATCH1,Contest 1,Choice 1-1,") || strings.Contains(out, "Contest 2") {
			t.Fatal(out)
		}
	})
	t.Run("a bad grouping or county is named", func(t *testing.T) {
		_, err := runVigil(t, "tally", "--format", "csv", "--by", "ward", "--data", dir)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "by") || !strings.Contains(err.Error(), "ward") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		_, err = runVigil(t, "tally", "--format", "csv", "--by", "precinct,batch", "--data", dir)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "one grouping") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		_, err = runVigil(t, "tally", "--county", "../x", "--data", dir)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "county") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("json carries the groups", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "json", "--by", "precinct,batch", "--county", "ADAMS", "--data", dir)
		if !strings.Contains(out, `"By": "precinct"`) || !strings.Contains(out, `"By": "batch"`) || !strings.Contains(out, `"Tabulator": "TABULATOR2"`) {
			t.Fatal(out)
		}
	})
	t.Run("pdf writes a report naming the county and the checkpoint", func(t *testing.T) {
		_, err := runVigil(t, "tally", "--format", "pdf", "--data", dir)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "--out") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		pdf := filepath.Join(t.TempDir(), "results.pdf")
		out := mustVigil(t, "tally", "--format", "pdf", "--out", pdf, "--by", "precinct", "--county", "ADAMS", "--data", dir)
		if !strings.Contains(out, "wrote "+pdf+": 14 ballots at checkpoint vigil.log/") {
			t.Fatal(out)
		}
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"UNOFFICIAL COUNT", "county ADAMS", "14 ballots counted", "Choice 1-1", "Results by precinct", "Computed at log checkpoint: vigil.log/"} {
			if !strings.Contains(string(text), w) {
				t.Fatalf("PDF lacks %q:\n%s", w, text)
			}
		}
	})
	t.Run("a county's publication and reconciliation are its own", func(t *testing.T) {
		out := mustVigil(t, "results", "publish", "--county", "BOONE", "--data", dir)
		if !strings.Contains(out, "county BOONE: published 14 ballots at checkpoint vigil.log/") {
			t.Fatal(out)
		}
		out = mustVigil(t, "reconcile", "--county", "ADAMS", "--record=false", "--data", dir)
		if !strings.Contains(out, "12345") || !strings.Contains(out, "+14") {
			t.Fatal(out)
		}
	})
}

// The live reconciliation page, in a real browser, shows new ballots when a
// tabulator imports CVRs, without a reload.
func TestBrowserReconciliationIsLive(t *testing.T) {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser test needs Debian's chromium: apt-get install -y chromium (.ci/run installs it)")
	}
	base := startDemo(t, t.TempDir())
	browser := startBrowser(t, chromium)
	p := openSession(t, browser, base)
	p.signIn("tabulator", demo.Password)
	if status := p.navigate("/tabulation/reconciliation?threshold=3"); status != http.StatusOK {
		t.Fatalf("GET /tabulation/reconciliation: %d", status)
	}
	p.wantText("#live-status", "live · updated")
	if strings.Contains(p.text("#rec-precincts tbody"), "12345") {
		t.Fatal("precinct 12345 has ballots before any import")
	}
	_, county, ok := strings.Cut(p.text("h1"), "county ")
	if !ok {
		t.Fatalf("the page names no county: %q", p.text("h1"))
	}

	// The tabulator imports through the API, from another client.
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Post(base+"/api/v1/session", "application/json",
		strings.NewReader(`{"username":"tabulator","password":"`+demo.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	var login struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "TEST_CVRS.csv")
	b, err := os.ReadFile(filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"))
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(b)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/v1/tabulation/cvrs?format=dominion&county="+url.QueryEscape(strings.TrimSpace(county)), &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("X-CSRF-Token", login.CSRF)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("import: %d %s", resp.StatusCode, rb)
	}
	// No check-ins in precinct 12345: 14 ballots, a difference above 3.
	p.wantText("#rec-precincts tbody tr.warn td:nth-child(1)", "12345")
	for col, want := range map[int]string{2: "0", 4: "14", 6: "14 discrepancy"} {
		if got := strings.TrimSpace(p.text(fmt.Sprintf("#rec-precincts tbody tr.warn td:nth-child(%d)", col))); got != want {
			t.Fatalf("column %d: %q, want %q", col, got, want)
		}
	}
	p.wantText("#rec-flagged", "1")
}
