package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
)

// importHybridElection imports the small election with WORTHINGTON's
// Tabulator C batches marked CVR: N in its manifest and their CVRs left
// out, as a county whose central-count scanner exports none would. It
// returns the data directory, the paper ballots (all of them) and the
// no-CVR batches' keys.
func importHybridElection(t *testing.T) (string, map[string]vigil.CastVoteRecord, map[string]bool) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "hybrid-test")
	paper := paperBallots(t)
	tmp := t.TempDir()
	noCVR := map[string]bool{}
	for _, j := range smallJurisdictions {
		cvrs := filepath.Join(smallElection, j.name+" - cvrs.csv")
		manifest := filepath.Join(smallElection, j.name+" - ballot manifest.csv")
		if j.county == "WORTHINGTON" {
			b, err := os.ReadFile(cvrs)
			if err != nil {
				t.Fatal(err)
			}
			var kept []string
			for i, l := range strings.Split(string(b), "\n") {
				if i < 4 || !strings.Contains(l, ",Tabulator C,") {
					kept = append(kept, l)
				}
			}
			cvrs = filepath.Join(tmp, "worthington-cvrs.csv")
			os.WriteFile(cvrs, []byte(strings.Join(kept, "\n")), 0o600)
			rows := readManifestRows(t, manifest)
			var out bytes.Buffer
			w := csv.NewWriter(&out)
			w.Write(append(rows[0], "CVR"))
			for _, r := range rows[1:] {
				flag := "Y"
				if r[0] == "Tabulator C" {
					flag = "N"
					noCVR["WORTHINGTON/"+r[0]+"/"+r[1]] = true
				}
				w.Write(append(r, flag))
			}
			w.Flush()
			manifest = filepath.Join(tmp, "worthington-manifest.csv")
			os.WriteFile(manifest, out.Bytes(), 0o600)
		}
		mustVigil(t, "cvrs", "import", "--format", "dominion", "--county", j.county, "--data", dir, cvrs)
		mustVigil(t, "manifest", "import", "--county", j.county, "--data", dir, manifest)
	}
	return dir, paper, noCVR
}

func readManifestRows(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// paperTally is the paper's tally of contest in the batches keep selects,
// as the contest,ballots,choice,votes CSV vigil reads.
func paperTally(paper map[string]vigil.CastVoteRecord, contest string, choices []string, keep func(batchKey string) bool, adjust map[string]int) string {
	ballots, votes := 0, map[string]int{}
	for key, rec := range paper {
		if !keep(key[:strings.LastIndex(key, "/")]) {
			continue
		}
		for _, cv := range rec.Contests {
			if string(cv.Contest) == contest {
				ballots++
				if len(cv.Marks) == 1 && !cv.Overvoted {
					votes[string(cv.Marks[0].Choice)]++
				}
			}
		}
	}
	var b strings.Builder
	b.WriteString("contest,ballots,choice,votes\n")
	for _, ch := range choices {
		b.WriteString(contest + "," + strconv.Itoa(ballots) + "," + ch + "," + strconv.Itoa(votes[ch]+adjust[ch]) + "\n")
	}
	return b.String()
}

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var magicChoices = []string{"Clem Bradley", "Rene Carr", "Blair Atkinson", "Sam Shaw", "Write-In"}

func TestAuditWorkflowHybridEndToEnd(t *testing.T) {
	dir, paper, noCVR := importHybridElection(t)
	const contest = "Master of Magic"
	boards := map[string]string{"K1": "KENDALL", "W1": "WAURIKA", "H1": "WORTHINGTON"}
	members := map[string][2]string{"K1": {"alice", "bob"}, "W1": {"carol", "dave"}, "H1": {"erin", "frank"}}
	audit := func(id string, args ...string) []string {
		return append([]string{"audit", args[0], "--data", dir, "--audit", id}, args[1:]...)
	}
	jurisdictions := []string{"--jurisdiction", "KENDALL", "--jurisdiction", "WAURIKA", "--jurisdiction", "WORTHINGTON"}
	tally := writeTemp(t, "nocvr.csv", paperTally(paper, contest, magicChoices, func(k string) bool { return noCVR[k] }, nil))

	t.Run("a hybrid audit without the no-CVR tally is refused naming the contest", func(t *testing.T) {
		_, err := runVigil(t, append(audit("H0", "create", "--kind", "hybrid", "--contest", contest), jurisdictions...)...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `contests[0]: a hybrid audit needs contest "Master of Magic"'s reported result in the ballots without CVRs`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("a no-CVR tally of an unknown choice is refused naming the field", func(t *testing.T) {
		bad := writeTemp(t, "bad.csv", "contest,ballots,choice,votes\nMaster of Magic,10,Nobody,3\n")
		_, err := runVigil(t, append(audit("H0", "create", "--kind", "hybrid", "--contest", contest, "--no-cvr-tally", bad), jurisdictions...)...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `no_cvr[0].votes: choice "Nobody" is not in contest "Master of Magic"`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("a no-CVR tally larger than the no-CVR batches is refused at the draw, and nothing is drawn", func(t *testing.T) {
		bad := writeTemp(t, "big.csv", "contest,ballots,choice,votes\nMaster of Magic,5000,Clem Bradley,3\n")
		mustVigil(t, append(audit("H0", "create", "--kind", "hybrid", "--contest", contest, "--no-cvr-tally", bad), jurisdictions...)...)
		mustVigil(t, audit("H0", "seed", "24680246802468024680", "--finish")...)
		for b, j := range boards {
			mustVigil(t, audit("H0", "board", "--board", b, "--jurisdiction", j, "--member", members[b][0]+"0", "--member", members[b][1]+"0")...)
		}
		_, err := runVigil(t, audit("H0", "draw")...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "no_cvr[0].ballots: stratum mismatch") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if out := mustVigil(t, audit("H0", "report")...); !strings.Contains(out, "status,not started") {
			t.Fatalf("the refused draw changed the audit:\n%s", out)
		}
	})
	t.Run("a hand count before any escalation is refused", func(t *testing.T) {
		_, err := runVigil(t, audit("H0", "hand-count", tally)...)
		if exitCode(err) != 4 || !strings.Contains(err.Error(), "only after the audit escalates to a full hand count") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})

	out := mustVigil(t, append(audit("H1", "create", "--kind", "hybrid", "--risk-limit", "10", "--contest", contest, "--no-cvr-tally", tally), jurisdictions...)...)
	if !strings.Contains(out, "audit H1 created: hybrid") {
		t.Fatal(out)
	}
	mustVigil(t, audit("H1", "seed", "31415926535897932384", "--finish")...)
	for b, j := range boards {
		mustVigil(t, audit("H1", "board", "--board", b, "--jurisdiction", j, "--member", members[b][0], "--member", members[b][1])...)
	}
	status, rounds, noCVRDraws := "", 0, 0
	for rounds < 5 {
		rounds++
		out := mustVigil(t, audit("H1", "draw")...)
		if !strings.Contains(out, "ballots with CVRs (comparison): ") {
			t.Fatal(out)
		}
		for b, j := range boards {
			list := mustVigil(t, audit("H1", "retrieval", "--board", b)...)
			if strings.Count(list, "\n") < 2 {
				continue
			}
			for _, r := range readCSVString(t, list)[1:] {
				if noCVR[j+"/"+r[1]+"/"+r[2]] {
					noCVRDraws++
				}
			}
			file := writeTemp(t, b+".csv", readingsFor(t, list, j, paper, []string{contest}, map[string]int{contest: 1}))
			mustVigil(t, audit("H1", "enter", "--board", b, file)...)
			for _, m := range members[b] {
				mustVigil(t, audit("H1", "signoff", "--board", b, "--member", m, "--all")...)
			}
		}
		out = mustVigil(t, audit("H1", "close")...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		status = strings.TrimPrefix(lines[2], "status,")
		if status != vigil.AuditInProgress {
			break
		}
		if !strings.Contains(out, "next_size_cvr,") || !strings.Contains(out, "next_size_no_cvr,") {
			t.Fatal(out)
		}
	}
	if status != vigil.AuditComplete {
		t.Fatalf("after %d rounds the hybrid audit is %s; ballots that match the reported results of a 700-200 contest confirm it", rounds, status)
	}
	if noCVRDraws == 0 {
		t.Fatal("no ballot of the no-CVR stratum was drawn")
	}
	bundle := filepath.Join(t.TempDir(), "h1.zip")
	mustVigil(t, audit("H1", "bundle", "--out", bundle)...)
	t.Run("the hybrid bundle verifies", func(t *testing.T) {
		if out := mustVigil(t, "audit", "verify", bundle); !strings.Contains(out, "verified: "+strconv.Itoa(rounds)+" rounds") {
			t.Fatal(out)
		}
	})
	t.Run("tampered hybrid bundle: no-CVR batches relabelled as having CVRs change the sample", func(t *testing.T) {
		d := unzipTo(t, bundle)
		b, _ := os.ReadFile(filepath.Join(d, "manifest.csv"))
		edited := strings.ReplaceAll(string(b), ",N\n", ",Y\n")
		if edited == string(b) {
			t.Fatalf("manifest.csv marks no batch N:\n%s", b)
		}
		os.WriteFile(filepath.Join(d, "manifest.csv"), []byte(edited), 0o600)
		out, err := runVigil(t, "audit", "verify", d)
		if exitCode(err) != 7 || !strings.Contains(out, "MISMATCH sample.csv: ") {
			t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
		}
	})
	t.Run("the report shows both strata", func(t *testing.T) {
		out := mustVigil(t, audit("H1", "report")...)
		for _, want := range []string{"# REPORTED RESULTS BY STRATUM", "Master of Magic,without CVRs,", "ballots without CVRs (polling stratum),", "# CONTEST OUTCOMES", "confirmed by the audit"} {
			if !strings.Contains(out, want) {
				t.Fatalf("report lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("verify rebuilds the audit tables from the log", func(t *testing.T) {
		if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}

func readCSVString(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestAuditWorkflowFullHandCount escalates a comparison audit to a full
// hand count (the boards read every sampled ballot for the runner-up, so
// every one is a two-vote overstatement) and records the hand counts: one
// that confirms the reported winner, one that overturns the outcome.
func TestAuditWorkflowFullHandCount(t *testing.T) {
	dir, paper := importSmallElection(t)
	const magic, farming = "Master of Magic", "Minister of Farming"
	boards := map[string]string{"K1": "KENDALL", "W1": "WAURIKA", "H1": "WORTHINGTON"}
	members := map[string][2]string{"K1": {"alice", "bob"}, "W1": {"carol", "dave"}, "H1": {"erin", "frank"}}
	audit := func(args ...string) []string {
		return append([]string{"audit", args[0], "--data", dir, "--audit", "F1"}, args[1:]...)
	}
	mustVigil(t, audit("create", "--kind", "comparison", "--contest", magic, "--opportunistic", farming,
		"--jurisdiction", "KENDALL", "--jurisdiction", "WAURIKA", "--jurisdiction", "WORTHINGTON")...)
	mustVigil(t, audit("seed", "27182818284590452353", "--finish")...)
	for b, j := range boards {
		mustVigil(t, audit("board", "--board", b, "--jurisdiction", j, "--member", members[b][0], "--member", members[b][1])...)
	}
	status := ""
	for round := 1; round <= 4 && status != vigil.AuditFullHandCount; round++ {
		mustVigil(t, audit("draw")...)
		for b := range boards {
			list := mustVigil(t, audit("retrieval", "--board", b)...)
			if strings.Count(list, "\n") < 2 {
				continue
			}
			var in strings.Builder
			in.WriteString("tabulator,batch,position,contest,reading\n")
			for _, r := range readCSVString(t, list)[1:] {
				in.WriteString(r[1] + "," + r[2] + "," + r[3] + "," + magic + ",Rene Carr\n")
				in.WriteString(r[1] + "," + r[2] + "," + r[3] + "," + farming + ",not_on_ballot\n")
			}
			mustVigil(t, audit("enter", "--board", b, writeTemp(t, b+".csv", in.String()))...)
			for _, m := range members[b] {
				mustVigil(t, audit("signoff", "--board", b, "--member", m, "--all")...)
			}
		}
		out := mustVigil(t, audit("close")...)
		status = strings.TrimPrefix(strings.Split(strings.TrimSpace(out), "\n")[3], "status,")
	}
	if status != vigil.AuditFullHandCount {
		t.Fatalf("the audit is %s, not escalated to a full hand count", status)
	}
	all := func(string) bool { return true }
	farmingChoices := []string{"Erin George", "Alex Hall", "Write-In"}

	t.Run("a hand count of an unknown contest is refused naming the field, and nothing is recorded", func(t *testing.T) {
		body := paperTally(paper, magic, magicChoices, all, nil) + "Mayor,10,Someone,3\n"
		_, err := runVigil(t, audit("hand-count", writeTemp(t, "bad.csv", body))...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `contest: contest "Mayor" is not audited here`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		if out := mustVigil(t, audit("report")...); strings.Contains(out, "# FULL HAND COUNTS") {
			t.Fatalf("a refused file recorded a count:\n%s", out)
		}
	})
	t.Run("a hand count missing a choice is refused naming the field", func(t *testing.T) {
		_, err := runVigil(t, audit("hand-count", writeTemp(t, "partial.csv", "contest,ballots,choice,votes\nMaster of Magic,900,Clem Bradley,700\n"))...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), `votes: choice "Rene Carr" of contest "Master of Magic" has no count`) {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("the hand count that matches the paper confirms the outcome; one that elects the runner-up overturns it", func(t *testing.T) {
		// The paper's Minister of Farming tally, with 1,000 votes moved to
		// the reported loser: the count elects Alex Hall.
		farm := paperTally(paper, farming, farmingChoices, all, nil)
		rows := readCSVString(t, farm)
		ballots := atoiOr(rows[1][1])
		moved := map[string]int{}
		for _, r := range rows[1:] {
			moved[r[2]] = atoiOr(r[3])
		}
		top, second := farmingChoices[0], farmingChoices[1]
		if moved[second] > moved[top] {
			top, second = second, top
		}
		// The count swaps the two leaders' votes.
		swap := moved[top] - moved[second]
		body := paperTally(paper, magic, magicChoices, all, nil) +
			strings.TrimPrefix(paperTally(paper, farming, farmingChoices, all, map[string]int{top: -swap, second: swap}), "contest,ballots,choice,votes\n")
		out := mustVigil(t, audit("hand-count", writeTemp(t, "count.csv", body))...)
		if !strings.Contains(out, "contest Master of Magic: confirmed by the full hand count (winners: Clem Bradley)") ||
			!strings.Contains(out, "contest Minister of Farming: OVERTURNED by the full hand count: the winners are "+second) {
			t.Fatalf("ballots %d:\n%s", ballots, out)
		}
		t.Run("a second count of the same contest is refused", func(t *testing.T) {
			_, err := runVigil(t, audit("hand-count", writeTemp(t, "again.csv", paperTally(paper, magic, magicChoices, all, nil)))...)
			if exitCode(err) != 4 || !strings.Contains(err.Error(), "recorded already") {
				t.Fatalf("exit %d: %v", exitCode(err), err)
			}
		})
		t.Run("the report shows each contest's outcome plainly", func(t *testing.T) {
			out := mustVigil(t, audit("report")...)
			for _, want := range []string{"# CONTEST OUTCOMES", "Master of Magic,Clem Bradley,confirmed by the full hand count,Clem Bradley",
				"Minister of Farming," + top + ",OVERTURNED by the full hand count: the hand count's winners stand," + second, "# FULL HAND COUNTS"} {
				if !strings.Contains(out, want) {
					t.Fatalf("report lacks %q:\n%s", want, out)
				}
			}
		})
		bundle := filepath.Join(t.TempDir(), "f1.zip")
		mustVigil(t, audit("bundle", "--out", bundle)...)
		t.Run("the bundle with the hand counts verifies", func(t *testing.T) {
			if out := mustVigil(t, "audit", "verify", bundle); !strings.Contains(out, "verified: the outcomes of 2 full hand counts") {
				t.Fatal(out)
			}
		})
		t.Run("tampered bundle: an overturned outcome relabelled confirmed is named in audit.json", func(t *testing.T) {
			d := unzipTo(t, bundle)
			b, _ := os.ReadFile(filepath.Join(d, "audit.json"))
			edited := strings.Replace(string(b), `"outcome": "overturned"`, `"outcome": "confirmed"`, 1)
			if edited == string(b) {
				t.Fatalf("audit.json has no overturned outcome:\n%s", b)
			}
			os.WriteFile(filepath.Join(d, "audit.json"), []byte(edited), 0o600)
			out, err := runVigil(t, "audit", "verify", d)
			if exitCode(err) != 7 || !strings.Contains(out, "MISMATCH audit.json: hand_counts[1]") {
				t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
			}
		})
		t.Run("verify rebuilds the audit tables from the log", func(t *testing.T) {
			if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
				t.Fatal(out)
			}
		})
	})
}

// TestAuditWorkflowHybridStratumMismatch: a manifest that marks batches
// CVR: N while their CVRs are imported (the import warns and keeps the
// manifest) is refused at the draw, naming the batch, and nothing is drawn.
func TestAuditWorkflowHybridStratumMismatch(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "mismatch")
	mustVigil(t, "cvrs", "import", "--format", "dominion", "--county", "WORTHINGTON", "--data", dir, filepath.Join(smallElection, "Worthington Hills - cvrs.csv"))
	rows := readManifestRows(t, filepath.Join(smallElection, "Worthington Hills - ballot manifest.csv"))
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(append(rows[0], "CVR"))
	for _, r := range rows[1:] {
		flag := "Y"
		if r[0] == "Tabulator C" {
			flag = "N"
		}
		w.Write(append(r, flag))
	}
	w.Flush()
	runVigil(t, "manifest", "import", "--county", "WORTHINGTON", "--data", dir, writeTemp(t, "m.csv", b.String()))
	audit := func(args ...string) []string {
		return append([]string{"audit", args[0], "--data", dir, "--audit", "X"}, args[1:]...)
	}
	mustVigil(t, audit("create", "--kind", "hybrid", "--contest", "Master of Magic", "--jurisdiction", "WORTHINGTON",
		"--no-cvr-tally", writeTemp(t, "t.csv", "contest,ballots,choice,votes\nMaster of Magic,10,Clem Bradley,5\n"))...)
	mustVigil(t, audit("seed", "12345678901234567890", "--finish")...)
	mustVigil(t, audit("board", "--board", "B", "--jurisdiction", "WORTHINGTON", "--member", "ann", "--member", "bob")...)
	_, err := runVigil(t, audit("draw")...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "manifest: stratum mismatch: batch WORTHINGTON/Tabulator C/Batch 3 is marked CVR: N in the manifest but has cast vote records") {
		t.Fatalf("exit %d: %v", exitCode(err), err)
	}
	if out := mustVigil(t, audit("report")...); !strings.Contains(out, "status,not started") {
		t.Fatalf("the refused draw changed the audit:\n%s", out)
	}
}
