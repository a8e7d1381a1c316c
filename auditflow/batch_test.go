package auditflow_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/rla"
)

// Reported tallies of Mayor in the test manifest's batches; J1/T1/B1 can
// hide the most error, J2/T1/B1 none (it lacks the contest).
var batchTallies = []vigil.AuditBatchTally{
	{Jurisdiction: "J1", Tabulator: "T1", Batch: "B1", Ballots: 40, Votes: map[vigil.ChoiceID]int{"A": 35, "B": 5}},
	{Jurisdiction: "J1", Tabulator: "T1", Batch: "B2", Ballots: 30, Votes: map[vigil.ChoiceID]int{"A": 10, "B": 20}},
	{Jurisdiction: "J1", Tabulator: "T2", Batch: "B1", Ballots: 30, Votes: map[vigil.ChoiceID]int{"A": 15, "B": 15}},
	{Jurisdiction: "J2", Tabulator: "T1", Batch: "B1", Ballots: 0, Votes: map[vigil.ChoiceID]int{}},
}

func TestPPEBDrawsFollowTheErrorBounds(t *testing.T) {
	c := reported
	all, err := auditflow.DrawBatches(seed, manifest, batchTallies, c, boards, 0, 3000)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := auditflow.DrawBatches(seed, manifest, batchTallies, c, boards, 1000, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range rest {
		if d != all[1000+i] {
			t.Fatalf("round continuation: draw %d is %+v, not %+v", 1001+i, d, all[1000+i])
		}
	}
	rc := rla.Contest{Name: "Mayor", Ballots: 200, Tally: mayorTally}
	var u float64
	up := map[string]float64{}
	for _, b := range batchTallies {
		x := rla.MACROMaxError(rc, rla.BatchResult{Batch: b.BatchKey(), Ballots: b.Ballots, Votes: map[string]int{"A": b.Votes["A"], "B": b.Votes["B"]}})
		up[b.BatchKey()] = x
		u += x
	}
	n := map[string]int{}
	for _, d := range all {
		if d.Position != 0 {
			t.Fatalf("a batch draw names a ballot: %+v", d)
		}
		n[d.BatchKey()]++
	}
	if n["J2/T1/B1"] != 0 {
		t.Fatal("a batch without the contest was drawn")
	}
	for k, x := range up {
		want := 3000 * x / u
		if math.Abs(float64(n[k])-want) > 4*math.Sqrt(want+1) {
			t.Errorf("batch %s drawn %d times, expected about %.0f", k, n[k], want)
		}
	}
}

func TestMeasureBatchComparisonIsMACRO(t *testing.T) {
	r := record(vigil.AuditBatch)
	r.Batches = batchTallies
	draws, err := auditflow.DrawBatches(seed, manifest, batchTallies, reported, boards, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	r.Rounds = []auditflow.Round{{Round: 1, Size: 6, Draws: draws, Counts: map[string]vigil.AuditBatchCount{}}}
	if _, err := auditflow.Measure(r, 1); vigil.ErrorKind(err) != vigil.Conflict {
		t.Fatalf("measured with uncounted batches: %v", err)
	}
	var rep, got []rla.BatchResult
	for _, b := range batchTallies {
		rep = append(rep, rla.BatchResult{Batch: b.BatchKey(), Ballots: b.Ballots, Votes: map[string]int{"A": b.Votes["A"], "B": b.Votes["B"]}})
	}
	for _, d := range draws {
		// Every count finds one A vote fewer than reported.
		var t0 vigil.AuditBatchTally
		for _, b := range batchTallies {
			if b.BatchKey() == d.BatchKey() {
				t0 = b
			}
		}
		cnt := vigil.AuditBatchCount{Round: 1, AuditBatchTally: vigil.AuditBatchTally{Jurisdiction: d.Jurisdiction, Tabulator: d.Tabulator, Batch: d.Batch,
			Ballots: t0.Ballots, Votes: map[vigil.ChoiceID]int{"A": t0.Votes["A"] - 1, "B": t0.Votes["B"]}}}
		r.Rounds[0].Counts[auditflow.CountKey(d.BatchKey(), "Mayor")] = cnt
		got = append(got, rla.BatchResult{Batch: d.BatchKey(), Ballots: cnt.Ballots, Votes: map[string]int{"A": cnt.Votes["A"], "B": cnt.Votes["B"]}})
	}
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, ok, err := rla.MACRO(rla.Contest{Name: "Mayor", Ballots: 200, Tally: mayorTally}, 0.1, rep, got)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.Results[0].Risk-p) > 1e-12 || res.Results[0].Confirmed != ok {
		t.Fatalf("got %+v, MACRO gives %v %v", res.Results[0], p, ok)
	}
	if err := auditflow.CheckCount(reported[0], 30, vigil.AuditBatchCount{AuditBatchTally: vigil.AuditBatchTally{Ballots: 31}}); vigil.ErrorField(err) != "ballots" {
		t.Fatal(err)
	}
	if err := auditflow.CheckCount(reported[0], 30, vigil.AuditBatchCount{AuditBatchTally: vigil.AuditBatchTally{Ballots: 3, Votes: map[vigil.ChoiceID]int{"A": 4}}}); vigil.ErrorField(err) != "votes" {
		t.Fatal(err)
	}
}

// clerkTallies: a second contest, Clerk (C 60, D 30), in J1's batches.
var clerkTallies = []vigil.AuditBatchTally{
	{Jurisdiction: "J1", Tabulator: "T1", Batch: "B1", Contest: "Clerk", Ballots: 40, Votes: map[vigil.ChoiceID]int{"C": 20, "D": 18}},
	{Jurisdiction: "J1", Tabulator: "T1", Batch: "B2", Contest: "Clerk", Ballots: 30, Votes: map[vigil.ChoiceID]int{"C": 25, "D": 2}},
	{Jurisdiction: "J1", Tabulator: "T2", Batch: "B1", Contest: "Clerk", Ballots: 30, Votes: map[vigil.ChoiceID]int{"C": 15, "D": 10}},
	{Jurisdiction: "J2", Tabulator: "T1", Batch: "B1", Contest: "Clerk", Ballots: 0, Votes: map[vigil.ChoiceID]int{}},
}

// twoContestBatchRecord is a batch comparison of Mayor (targeted) and
// Clerk (opportunistic) whose round 1 counts find one vote fewer for each
// contest's winner in every drawn batch.
func twoContestBatchRecord(t *testing.T) *auditflow.Record {
	t.Helper()
	r := record(vigil.AuditBatch)
	r.Settings.Contests = append(r.Settings.Contests, vigil.AuditContest{ID: "Clerk"})
	r.Reported = append(append([]vigil.AuditReportedContest(nil), reported...), vigil.AuditReportedContest{ID: "Clerk", Winners: 1, Ballots: 100,
		Choices: []vigil.AuditReportedChoice{{ID: "C", Votes: 60}, {ID: "D", Votes: 30}}})
	for _, b := range batchTallies {
		b.Contest = "Mayor"
		r.Batches = append(r.Batches, b)
	}
	r.Batches = append(r.Batches, clerkTallies...)
	draws, err := auditflow.DrawBatches(seed, manifest, r.Batches, r.Reported, boards, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	rd := auditflow.Round{Round: 1, Size: 5, Draws: draws, Counts: map[string]vigil.AuditBatchCount{}}
	for _, d := range draws {
		for _, b := range r.Batches {
			if b.BatchKey() != d.BatchKey() {
				continue
			}
			cnt := vigil.AuditBatchCount{Round: 1, Board: d.Board, AuditBatchTally: b}
			cnt.Votes = map[vigil.ChoiceID]int{}
			for ch, v := range b.Votes {
				cnt.Votes[ch] = v
			}
			if w := map[vigil.ContestID]vigil.ChoiceID{"Mayor": "A", "Clerk": "C"}[b.Contest]; cnt.Votes[w] > 0 {
				cnt.Votes[w]--
			}
			rd.Counts[auditflow.CountKey(d.BatchKey(), b.Contest)] = cnt
		}
	}
	r.Rounds = []auditflow.Round{rd}
	return r
}

func TestBatchComparisonOfTwoContests(t *testing.T) {
	r := twoContestBatchRecord(t)
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("each contest's risk is rla.MACROMulti's on the one sample", func(t *testing.T) {
		cs := []rla.Contest{{Name: "Mayor", Ballots: 200, Winners: 1, Tally: mayorTally},
			{Name: "Clerk", Ballots: 100, Winners: 1, Tally: []rla.Choice{{Name: "C", Votes: 60}, {Name: "D", Votes: 30}}}}
		byBatch := map[string]rla.MultiBatch{}
		var rep []rla.MultiBatch
		for _, b := range r.Batches {
			m, ok := byBatch[b.BatchKey()]
			if !ok {
				m = rla.MultiBatch{Batch: b.BatchKey(), Results: map[string]rla.BatchResult{}}
			}
			m.Results[string(b.Contest)] = rla.BatchResult{Batch: b.BatchKey(), Ballots: b.Ballots, Votes: map[string]int{"A": b.Votes["A"], "B": b.Votes["B"], "C": b.Votes["C"], "D": b.Votes["D"]}}
			byBatch[b.BatchKey()] = m
		}
		for _, k := range []string{"J1/T1/B1", "J1/T1/B2", "J1/T2/B1", "J2/T1/B1"} {
			rep = append(rep, byBatch[k])
		}
		var draws []rla.MultiBatch
		for _, d := range r.Rounds[0].Draws {
			m := rla.MultiBatch{Batch: d.BatchKey(), Results: map[string]rla.BatchResult{}}
			for _, c := range []vigil.ContestID{"Mayor", "Clerk"} {
				cnt := r.Rounds[0].Counts[auditflow.CountKey(d.BatchKey(), c)]
				m.Results[string(c)] = rla.BatchResult{Batch: d.BatchKey(), Ballots: cnt.Ballots, Votes: map[string]int{"A": cnt.Votes["A"], "B": cnt.Votes["B"], "C": cnt.Votes["C"], "D": cnt.Votes["D"]}}
			}
			draws = append(draws, m)
		}
		risks, ok, err := rla.MACROMulti(cs, 0.1, rep, draws)
		if err != nil {
			t.Fatal(err)
		}
		for i := range cs {
			if res.Results[i].Risk != risks[i] || res.Results[i].Confirmed != ok[i] {
				t.Fatalf("%s: measured %+v, MACROMulti says %v %v", cs[i].Name, res.Results[i], risks[i], ok[i])
			}
		}
	})
	t.Run("a batch missing one contest's count keeps the round open", func(t *testing.T) {
		r2 := twoContestBatchRecord(t)
		for k := range r2.Rounds[0].Counts {
			if strings.HasSuffix(k, "#Clerk") {
				delete(r2.Rounds[0].Counts, k)
				break
			}
		}
		if _, err := auditflow.Measure(r2, 1); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("got %v", err)
		}
	})
	r.Rounds[0].Close = &res
	files, err := auditflow.BundleFiles(r)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("the bundle verifies", func(t *testing.T) {
		if v, err := auditflow.Verify(files); err != nil || !v.OK() {
			t.Fatalf("%v %v", err, v.Mismatches)
		}
	})
	t.Run("a count moved to the other contest is refused", func(t *testing.T) {
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		f["batch_counts.csv"] = []byte(strings.Replace(string(f["batch_counts.csv"]), ",Clerk,", ",Sheriff,", 1))
		v, err := auditflow.Verify(f)
		if err != nil || v.OK() || v.Mismatches[0].Part != "batch_counts.csv" {
			t.Fatalf("%v %v", err, v.Mismatches)
		}
	})
}

func TestBundleOfOneContestWithoutTheContestColumnVerifies(t *testing.T) {
	// Bundles written before batch audits of several contests have no
	// contest column in batches.csv and batch_counts.csv.
	r := record(vigil.AuditBatch)
	r.Batches = batchTallies
	draws, err := auditflow.DrawBatches(seed, manifest, batchTallies, reported, boards, 0, 4)
	if err != nil {
		t.Fatal(err)
	}
	rd := auditflow.Round{Round: 1, Size: 4, Draws: draws, Counts: map[string]vigil.AuditBatchCount{}}
	for _, d := range draws {
		for _, b := range batchTallies {
			if b.BatchKey() == d.BatchKey() {
				rd.Counts[auditflow.CountKey(d.BatchKey(), "Mayor")] = vigil.AuditBatchCount{Round: 1, Board: d.Board, AuditBatchTally: b}
			}
		}
	}
	r.Rounds = []auditflow.Round{rd}
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Rounds[0].Close = &res
	files, err := auditflow.BundleFiles(r)
	if err != nil {
		t.Fatal(err)
	}
	drop := func(data []byte, col int) []byte {
		var out []string
		for _, l := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
			f := strings.Split(l, ",")
			out = append(out, strings.Join(append(f[:col:col], f[col+1:]...), ","))
		}
		return []byte(strings.Join(out, "\n") + "\n")
	}
	files["batches.csv"] = drop(files["batches.csv"], 3)
	files["batch_counts.csv"] = drop(files["batch_counts.csv"], 5)
	if !strings.HasPrefix(string(files["batches.csv"]), "jurisdiction,tabulator,batch,ballots,choice,votes\n") {
		t.Fatalf("%s", files["batches.csv"])
	}
	if v, err := auditflow.Verify(files); err != nil || !v.OK() {
		t.Fatalf("%v %v", err, v.Mismatches)
	}
}
