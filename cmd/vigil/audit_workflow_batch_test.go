package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// countFor is a board's hand count of the batches on its retrieval list,
// every contest of choices, as the CSV vigil audit count reads, from the
// paper ballots.
func countFor(t *testing.T, retrieval, county string, choices map[string][]string, paper map[string]vigil.CastVoteRecord) string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(retrieval)).ReadAll()
	if err != nil || strings.Join(rows[0], ",") != strings.Join(auditflow.RetrievalHeader, ",") {
		t.Fatalf("%v\n%s", err, retrieval)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(countsHeader)
	for _, r := range rows[1:] {
		if r[3] != "0" {
			t.Fatalf("a batch draw names position %s", r[3])
		}
		for contest, cs := range choices {
			ballots, votes := 0, map[string]int{}
			for key, rec := range paper {
				if !strings.HasPrefix(key, county+"/"+r[1]+"/"+r[2]+"/") {
					continue
				}
				for _, cv := range rec.Contests {
					if string(cv.Contest) == contest {
						ballots++
						if len(cv.Marks) == 1 {
							votes[string(cv.Marks[0].Choice)]++
						}
					}
				}
			}
			for _, ch := range cs {
				w.Write([]string{r[1], r[2], contest, strconv.Itoa(ballots), ch, strconv.Itoa(votes[ch])})
			}
		}
	}
	w.Flush()
	return b.String()
}

func TestAuditWorkflowBatchComparisonEndToEnd(t *testing.T) {
	dir, paper := importSmallElection(t)
	const contest, farming = "Master of Magic", "Minister of Farming"
	choices := map[string][]string{contest: {"Clem Bradley", "Rene Carr", "Blair Atkinson", "Sam Shaw", "Write-In"},
		farming: {"Erin George", "Alex Hall", "Write-In"}}
	boards := map[string]string{"K1": "KENDALL", "W1": "WAURIKA", "H1": "WORTHINGTON"}
	members := map[string][2]string{"K1": {"alice", "bob"}, "W1": {"carol", "dave"}, "H1": {"erin", "frank"}}
	audit := func(args ...string) []string {
		return append([]string{"audit", args[0], "--data", dir, "--audit", "M1"}, args[1:]...)
	}

	// Two contests from one sample of batches (MACRO across contests).
	mustVigil(t, audit("create", "--kind", "batch", "--risk-limit", "10", "--contest", contest, "--contest", farming,
		"--jurisdiction", "KENDALL", "--jurisdiction", "WAURIKA", "--jurisdiction", "WORTHINGTON")...)
	mustVigil(t, audit("seed", "55512345678901234567", "--finish")...)
	for b, j := range boards {
		mustVigil(t, audit("board", "--board", b, "--jurisdiction", j, "--member", members[b][0], "--member", members[b][1])...)
	}

	status, rounds := "", 0
	for rounds < 4 {
		rounds++
		out := mustVigil(t, audit("draw")...)
		if !strings.Contains(out, "round "+strconv.Itoa(rounds)+": ") {
			t.Fatal(out)
		}
		if rounds == 1 {
			t.Run("a count of a batch outside the sample is refused naming the batch", func(t *testing.T) {
				file := filepath.Join(t.TempDir(), "bad.csv")
				os.WriteFile(file, []byte("tabulator,batch,ballots,choice,votes\nTabulator Z,Batch 99,3,Clem Bradley,3\n"), 0o600)
				_, err := runVigil(t, audit("count", "--board", "K1", file)...)
				if exitCode(err) != 2 || !strings.Contains(err.Error(), "batch: batch KENDALL/Tabulator Z/Batch 99 is not in the sample of round 1") {
					t.Fatalf("exit %d: %v", exitCode(err), err)
				}
			})
			t.Run("the round does not close before every drawn batch is counted", func(t *testing.T) {
				_, err := runVigil(t, audit("close")...)
				if exitCode(err) != 4 || !strings.Contains(err.Error(), "not yet counted") {
					t.Fatalf("exit %d: %v", exitCode(err), err)
				}
			})
			t.Run("a count of an unaudited contest is refused naming the field", func(t *testing.T) {
				list := mustVigil(t, audit("retrieval", "--board", "K1")...)
				rows := readCSVString(t, list)
				if len(rows) < 2 {
					t.Skip("board K1 has nothing this round")
				}
				file := filepath.Join(t.TempDir(), "bad.csv")
				os.WriteFile(file, []byte("tabulator,batch,contest,ballots,choice,votes\n"+rows[1][1]+","+rows[1][2]+",Secretary of Treasure,3,Denny Vargas,3\n"), 0o600)
				_, err := runVigil(t, audit("count", "--board", "K1", file)...)
				if exitCode(err) != 2 || !strings.Contains(err.Error(), `contest: contest "Secretary of Treasure" is not audited here`) {
					t.Fatalf("exit %d: %v", exitCode(err), err)
				}
			})
		}
		for b, j := range boards {
			list := mustVigil(t, audit("retrieval", "--board", b)...)
			if strings.Count(list, "\n") < 2 {
				continue
			}
			file := filepath.Join(t.TempDir(), b+".csv")
			os.WriteFile(file, []byte(countFor(t, list, j, choices, paper)), 0o600)
			mustVigil(t, audit("count", "--board", b, file)...)
			for _, m := range members[b] {
				mustVigil(t, audit("signoff", "--board", b, "--member", m, "--all")...)
			}
		}
		out = mustVigil(t, audit("close")...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		status = strings.TrimPrefix(lines[3], "status,")
		if status != vigil.AuditInProgress {
			break
		}
	}
	if status != vigil.AuditComplete {
		t.Fatalf("after %d rounds the audit is %s; counts that equal the reported tallies confirm both contests", rounds, status)
	}

	bundle := filepath.Join(t.TempDir(), "m1.zip")
	mustVigil(t, audit("bundle", "--out", bundle)...)
	t.Run("the bundle verifies", func(t *testing.T) {
		if out := mustVigil(t, "audit", "verify", bundle); !strings.Contains(out, "verified: "+strconv.Itoa(rounds)+" rounds") {
			t.Fatal(out)
		}
	})
	t.Run("the reported batch tallies of both contests equal Arlo's candidate totals by batch", func(t *testing.T) {
		b, _ := os.ReadFile(filepath.Join(unzipTo(t, bundle), "batches.csv"))
		rows, _ := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if strings.Join(rows[0], ",") != "jurisdiction,tabulator,batch,contest,ballots,choice,votes" {
			t.Fatalf("header %v", rows[0])
		}
		ours := map[string]string{} // county/batch/contest/choice → votes
		for _, r := range rows[1:] {
			ours[r[0]+"/"+r[2]+"/"+r[3]+"/"+r[5]] = r[6]
		}
		n := 0
		for _, j := range smallJurisdictions {
			for _, c := range []string{contest, farming} {
				f, err := os.Open(filepath.Join(smallElection, j.name+" - "+c+" - candidate totals by batch.csv"))
				if err != nil {
					t.Fatal(err)
				}
				arlo, _ := csv.NewReader(f).ReadAll()
				f.Close()
				for _, r := range arlo[1:] {
					for i, ch := range arlo[0][1:] {
						if got := ours[j.county+"/"+r[0]+"/"+c+"/"+ch]; got != r[i+1] {
							t.Fatalf("%s %s %s %s: ours %q, Arlo's %q", j.county, r[0], c, ch, got, r[i+1])
						}
						n++
					}
				}
			}
		}
		if n < 200 {
			t.Fatalf("only %d tallies compared", n)
		}
	})
	for _, tt := range []struct{ name, file, part string }{
		{"a reported tally raised past the contest's reported votes is named", "batches.csv", "batches.csv"},
		{"a hand count changed changes the risk", "batch_counts.csv", "audit.json"},
	} {
		t.Run("tampered bundle: "+tt.name, func(t *testing.T) {
			d := unzipTo(t, bundle)
			b, _ := os.ReadFile(filepath.Join(d, tt.file))
			lines := strings.Split(string(b), "\n")
			for i := 1; i < len(lines); i++ {
				f := strings.Split(lines[i], ",")
				if len(f) > 2 && strings.Contains(lines[i], "Rene Carr") {
					f[len(f)-1] = strconv.Itoa(atoiOr(f[len(f)-1]) + 40)
					lines[i] = strings.Join(f, ",")
					break
				}
			}
			os.WriteFile(filepath.Join(d, tt.file), []byte(strings.Join(lines, "\n")), 0o600)
			out, err := runVigil(t, "audit", "verify", d)
			if exitCode(err) != 7 || !strings.Contains(out, "MISMATCH "+tt.part+": ") {
				t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
			}
		})
	}
	t.Run("the report lists the counted batches", func(t *testing.T) {
		out := mustVigil(t, audit("report")...)
		if !strings.Contains(out, "# SAMPLED BATCHES") || !strings.Contains(out, "ballots=") || strings.Contains(out, "(not counted)") {
			t.Fatal(out)
		}
	})
	t.Run("verify rebuilds the audit tables from the log", func(t *testing.T) {
		if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}
