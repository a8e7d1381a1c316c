package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/tabulate"
)

// smallElection is Arlo's generated multi-jurisdiction election (Dominion
// CVRs and manifests per jurisdiction).
const smallElection = "../../../shared/data/cvr/arlo-fixtures/small-election"

var smallJurisdictions = []struct{ name, county string }{
	{"Kendall Park", "KENDALL"}, {"Waurika", "WAURIKA"}, {"Worthington Hills", "WORTHINGTON"},
}

// paperBallots reads the jurisdictions' CVRs: in this test the paper
// ballots say exactly what the scanners recorded, keyed by
// county/tabulator/batch/position.
func paperBallots(t *testing.T) map[string]vigil.CastVoteRecord {
	t.Helper()
	out := map[string]vigil.CastVoteRecord{}
	for _, j := range smallJurisdictions {
		f, err := os.Open(filepath.Join(smallElection, j.name+" - cvrs.csv"))
		if err != nil {
			t.Skipf("the small-election sample is missing: %v", err)
		}
		err = tabulate.NewReader(tabulate.Dominion, tabulate.Options{}).Read([]tabulate.File{{Name: j.name, Reader: f}}, func(c *vigil.CastVoteRecord) error {
			out[vigil.AuditBallot{Jurisdiction: j.county, Tabulator: c.Tabulator, Batch: c.Batch, Position: c.Position}.Key()] = copyCVR(c)
			return nil
		})
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// readingsFor is what a board writes down for the ballots of its
// retrieval list, as the CSV vigil audit enter reads.
func readingsFor(t *testing.T, retrieval string, county string, paper map[string]vigil.CastVoteRecord, contests []string, voteFor map[string]int) string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(retrieval)).ReadAll()
	if err != nil || len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(auditflow.RetrievalHeader, ",") {
		t.Fatalf("retrieval list: %v\n%s", err, retrieval)
	}
	var b strings.Builder
	b.WriteString(strings.Join(readingsHeader, ",") + "\n")
	w := csv.NewWriter(&b)
	for _, r := range rows[1:] {
		pos, _ := strconv.Atoi(r[3])
		ballot := paper[vigil.AuditBallot{Jurisdiction: county, Tabulator: r[1], Batch: r[2], Position: pos}.Key()]
		for _, c := range contests {
			reading := vigil.AuditNotOnBallot
			for _, cv := range ballot.Contests {
				if string(cv.Contest) != c {
					continue
				}
				var marks []string
				for _, m := range cv.Marks {
					marks = append(marks, string(m.Choice))
				}
				switch {
				case cv.Overvoted || len(marks) > voteFor[c]:
					reading = vigil.AuditOvervote
				case len(marks) == 0:
					reading = vigil.AuditBlank
				default:
					reading = strings.Join(marks, "|")
				}
			}
			w.Write([]string{r[1], r[2], r[3], c, reading})
		}
	}
	w.Flush()
	return b.String()
}

// importSmallElection imports three jurisdictions of the small election
// into a new data directory.
func importSmallElection(t *testing.T) (string, map[string]vigil.CastVoteRecord) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "audit-test")
	paper := paperBallots(t)
	for _, j := range smallJurisdictions {
		mustVigil(t, "cvrs", "import", "--format", "dominion", "--county", j.county, "--data", dir, filepath.Join(smallElection, j.name+" - cvrs.csv"))
		mustVigil(t, "manifest", "import", "--county", j.county, "--data", dir, filepath.Join(smallElection, j.name+" - ballot manifest.csv"))
	}
	return dir, paper
}

func TestAuditWorkflowBallotPollingEndToEnd(t *testing.T) {
	for _, kind := range []string{"bravo", "minerva"} {
		t.Run(kind, func(t *testing.T) { ballotPollingEndToEnd(t, kind) })
	}
}

// ballotPollingEndToEnd drives a ballot-polling audit of three
// jurisdictions through a deliberately small first round, an escalation,
// the report, the bundle and its verification.
func ballotPollingEndToEnd(t *testing.T, kind string) {
	dir, paper := importSmallElection(t)
	contests := []string{"Master of Magic", "Minister of Farming"}
	voteFor := map[string]int{"Master of Magic": 1, "Minister of Farming": 1}
	boards := map[string]string{"K1": "KENDALL", "W1": "WAURIKA", "H1": "WORTHINGTON", "H2": "WORTHINGTON"}
	members := map[string][2]string{"K1": {"alice", "bob"}, "W1": {"carol", "dave"}, "H1": {"erin", "frank"}, "H2": {"gina", "hank"}}
	audit := func(args ...string) []string {
		return append([]string{"audit", args[0], "--data", dir, "--audit", "A1"}, args[1:]...)
	}

	t.Run("an unknown contest is refused naming the field", func(t *testing.T) {
		_, err := runVigil(t, "audit", "create", "--data", dir, "--audit", "A1", "--contest", "Mayor", "--jurisdiction", "KENDALL")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `contests[0]: unknown contest "Mayor"`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("a jurisdiction without a manifest is refused at the draw, naming it", func(t *testing.T) {
		mustVigil(t, "audit", "create", "--data", dir, "--audit", "NOMAN", "--contest", "Master of Magic", "--jurisdiction", "SILETZ")
		mustVigil(t, "audit", "seed", "--data", dir, "--audit", "NOMAN", "98765432109876543210", "--finish")
		mustVigil(t, "audit", "board", "--data", dir, "--audit", "NOMAN", "--board", "S1", "--jurisdiction", "SILETZ", "--member", "sam", "--member", "sue")
		_, err := runVigil(t, "audit", "draw", "--data", dir, "--audit", "NOMAN")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "jurisdiction SILETZ has no ballot manifest") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("jurisdictions that do not cover a contest are refused at the draw", func(t *testing.T) {
		part := func(args ...string) []string {
			return append([]string{"audit", args[0], "--data", dir, "--audit", "PART"}, args[1:]...)
		}
		mustVigil(t, part("create", "--kind", kind, "--contest", "Master of Magic", "--jurisdiction", "KENDALL", "--jurisdiction", "WAURIKA")...)
		mustVigil(t, part("seed", "13579135791357913579", "--finish")...)
		mustVigil(t, part("board", "--board", "P1", "--jurisdiction", "KENDALL", "--member", "pia", "--member", "pete")...)
		mustVigil(t, part("board", "--board", "P2", "--jurisdiction", "WAURIKA", "--member", "pam", "--member", "phil")...)
		_, err := runVigil(t, part("draw")...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `jurisdictions: contest "Master of Magic" is on 694 counted ballots outside the audit's jurisdictions`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("create an audit of three jurisdictions", func(t *testing.T) {
		out := mustVigil(t, "audit", "create", "--data", dir, "--audit", "A1", "--name", "Small Election RLA", "--kind", kind, "--risk-limit", "10",
			"--contest", "Master of Magic", "--opportunistic", "Minister of Farming",
			"--jurisdiction", "KENDALL", "--jurisdiction", "WAURIKA", "--jurisdiction", "WORTHINGTON")
		if !strings.Contains(out, "audit A1 created: "+kind+", risk limit 10%, 2 contests") {
			t.Fatal(out)
		}
	})
	t.Run("the draw waits for the seed", func(t *testing.T) {
		_, err := runVigil(t, audit("draw")...)
		if exitCode(err) != 4 || !strings.Contains(err.Error(), "seed ceremony") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("a seed of 19 digits is refused naming the seed", func(t *testing.T) {
		out, err := runVigil(t, audit("seed", "1827364554637281920", "--finish")...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "seed: the seed has 19 digits; roll at least 20") || !strings.Contains(out, "digit 19: 0") {
			t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
		}
	})
	t.Run("the twentieth die finishes the ceremony", func(t *testing.T) {
		out := mustVigil(t, audit("seed", "7", "--finish")...)
		if !strings.Contains(out, "digit 20: 7") || !strings.Contains(out, "seed: 18273645546372819207") {
			t.Fatal(out)
		}
		if _, err := runVigil(t, audit("seed", "1")...); exitCode(err) != 4 {
			t.Fatalf("a digit after the seed was finished: %v", err)
		}
	})
	t.Run("boards of two members per jurisdiction", func(t *testing.T) {
		for b, j := range boards {
			mustVigil(t, audit("board", "--board", b, "--jurisdiction", j, "--member", members[b][0], "--member", members[b][1])...)
		}
		_, err := runVigil(t, audit("board", "--board", "X", "--jurisdiction", "KENDALL", "--member", "alice", "--member", "zoe")...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "members: alice is on board K1 already") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})

	// playRound has every board read its list from the paper ballots, sign
	// off, and closes the round.
	playRound := func(t *testing.T) string {
		t.Helper()
		for b, j := range boards {
			list := mustVigil(t, audit("retrieval", "--board", b)...)
			if strings.Count(list, "\n") < 2 {
				continue // nothing for this board this round
			}
			file := filepath.Join(t.TempDir(), b+".csv")
			os.WriteFile(file, []byte(readingsFor(t, list, j, paper, contests, voteFor)), 0o600)
			mustVigil(t, audit("enter", "--board", b, file)...)
		}
		_, err := runVigil(t, audit("close")...)
		if exitCode(err) != 4 || !strings.Contains(err.Error(), "not signed off by both board members") {
			t.Fatalf("closed before the sign-offs: exit %d: %v", exitCode(err), err)
		}
		for b := range boards {
			list := mustVigil(t, audit("retrieval", "--board", b)...)
			if strings.Count(list, "\n") < 2 {
				continue
			}
			mustVigil(t, audit("signoff", "--board", b, "--member", members[b][0], "--all")...)
			if b == "K1" {
				_, err := runVigil(t, audit("close")...)
				if exitCode(err) != 4 {
					t.Fatalf("closed with one member's signature: %v", err)
				}
			}
			mustVigil(t, audit("signoff", "--board", b, "--member", members[b][1], "--all")...)
		}
		return mustVigil(t, audit("close")...)
	}

	var nextSize int
	t.Run("round 1, too small on purpose, escalates with the next round's size", func(t *testing.T) {
		out := mustVigil(t, audit("draw", "--size", "3")...)
		if !strings.Contains(out, "round 1: 3 draws") {
			t.Fatal(out)
		}
		t.Run("a round never closes on partial data", func(t *testing.T) {
			_, err := runVigil(t, audit("close")...)
			if exitCode(err) != 4 || !strings.Contains(err.Error(), "round 1 has 3 ballots not yet read") {
				t.Fatalf("exit %d: %v", exitCode(err), err)
			}
		})
		t.Run("an interpretation for a ballot outside the sample is refused naming it", func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "bad.csv")
			os.WriteFile(file, []byte("tabulator,batch,position,contest,reading\nTabulator A,Batch 1,9999,Master of Magic,Clem Bradley\nTabulator A,Batch 1,9999,Minister of Farming,blank\n"), 0o600)
			_, err := runVigil(t, audit("enter", "--board", "K1", file)...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), "ballot: ballot KENDALL/Tabulator A/Batch 1/9999 is not in the sample of round 1") {
				t.Fatalf("exit %d: %v", exitCode(err), err)
			}
		})
		out = playRound(t)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if lines[0] != "round,contest,targeted,risk,confirmed" || !strings.HasPrefix(lines[1], "1,Master of Magic,true,") ||
			!strings.HasSuffix(lines[1], ",false") || !strings.HasPrefix(lines[2], "1,Minister of Farming,false,") || lines[3] != "status,in_progress" {
			t.Fatal(out)
		}
		var err error
		if nextSize, err = strconv.Atoi(strings.TrimPrefix(lines[4], "next_size,")); err != nil || nextSize < 1 {
			t.Fatal(out)
		}
	})
	t.Run("round 2 draws the escalation size and confirms the outcome", func(t *testing.T) {
		out := mustVigil(t, audit("draw")...)
		if !strings.Contains(out, fmt.Sprintf("round 2: %d draws", nextSize)) {
			t.Fatalf("want %d draws:\n%s", nextSize, out)
		}
		out = playRound(t)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if !strings.HasPrefix(lines[1], "2,Master of Magic,true,") || !strings.HasSuffix(lines[1], ",true") || lines[3] != "status,complete" {
			t.Fatal(out)
		}
		if _, err := runVigil(t, audit("draw")...); exitCode(err) != 4 {
			t.Fatalf("drew after the audit ended: %v", err)
		}
	})

	bundle := filepath.Join(t.TempDir(), "bundle.zip")
	t.Run("the report names settings, seed, rounds and risk measures", func(t *testing.T) {
		out := mustVigil(t, audit("report", "--format", "csv")...)
		for _, want := range []string{"# AUDIT SETTINGS", "random seed,18273645546372819207", "risk limit,10%", "# RISK MEASURES", "2,Master of Magic,", "# SAMPLED BALLOTS", "status,complete"} {
			if !strings.Contains(out, want) {
				t.Fatalf("report lacks %q:\n%s", want, out)
			}
		}
		pdf := filepath.Join(t.TempDir(), "report.pdf")
		mustVigil(t, audit("report", "--format", "pdf", "--out", pdf)...)
		if _, err := exec.LookPath("pdftotext"); err != nil {
			t.Skip("pdftotext (poppler-utils) is not installed")
		}
		text, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"RISK-LIMITING AUDIT REPORT: Small Election RLA", "18273645546372819207", "Risk measures", "Master of Magic", "complete", "Page 1 of"} {
			if !strings.Contains(string(text), want) {
				t.Fatalf("PDF lacks %q:\n%s", want, text)
			}
		}
	})
	t.Run("the bundle verifies from itself alone", func(t *testing.T) {
		mustVigil(t, audit("bundle", "--out", bundle)...)
		out := mustVigil(t, "audit", "verify", bundle)
		if !strings.Contains(out, fmt.Sprintf("verified: 2 rounds, %d draws and the risk measures of 2 contests match", 3+nextSize)) {
			t.Fatal(out)
		}
	})
	tamper := []struct {
		name, file, part string
		edit             func(string) string
	}{
		{"an edited seed changes the sample", "audit.json", "sample.csv", func(s string) string {
			return strings.Replace(s, "18273645546372819207", "18273645546372819208", 1)
		}},
		{"a moved ballot is named in sample.csv", "sample.csv", "sample.csv", func(s string) string {
			lines := strings.Split(s, "\n")
			f := strings.Split(lines[1], ",")
			f[6] = strconv.Itoa(atoiOr(f[6]) + 1)
			lines[1] = strings.Join(f, ",")
			return strings.Join(lines, "\n")
		}},
		{"a lowered risk measure is named in audit.json", "audit.json", "audit.json", func(s string) string {
			i := strings.Index(s, `"risk": `)
			j := i + strings.IndexAny(s[i:], ",\n")
			return s[:i] + `"risk": 0.0001` + s[j:]
		}},
		{"a changed interpretation no longer gives the recorded risk", "interpretations.csv", "audit.json", func(s string) string {
			return strings.Replace(s, ",Master of Magic,Clem Bradley,", ",Master of Magic,Rene Carr,", 1)
		}},
	}
	for _, tt := range tamper {
		t.Run("tampered bundle: "+tt.name, func(t *testing.T) {
			dir := unzipTo(t, bundle)
			b, _ := os.ReadFile(filepath.Join(dir, tt.file))
			edited := tt.edit(string(b))
			if edited == string(b) {
				t.Fatal("the edit changed nothing")
			}
			os.WriteFile(filepath.Join(dir, tt.file), []byte(edited), 0o600)
			out, err := runVigil(t, "audit", "verify", dir)
			if exitCode(err) != 7 || !strings.Contains(out, "MISMATCH "+tt.part+": ") || !strings.Contains(err.Error(), tt.part) {
				t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
			}
		})
	}
	t.Run("verify rebuilds the audit tables from the log", func(t *testing.T) {
		if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}

func atoiOr(s string) int { n, _ := strconv.Atoi(s); return n }

func unzipTo(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range zr.File {
		rc, _ := f.Open()
		var buf bytes.Buffer
		buf.ReadFrom(rc)
		rc.Close()
		os.WriteFile(filepath.Join(dir, f.Name), buf.Bytes(), 0o600)
	}
	return dir
}

// copyCVR copies a record the reader will reuse for the next one.
func copyCVR(c *vigil.CastVoteRecord) vigil.CastVoteRecord {
	out := *c
	out.Contests = make([]vigil.ContestVote, len(c.Contests))
	for i, cv := range c.Contests {
		cv.Marks = append([]vigil.Mark(nil), cv.Marks...)
		out.Contests[i] = cv
	}
	return out
}
