package auditflow_test

import (
	"math"
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
	c := reported[0]
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
	draws, err := auditflow.DrawBatches(seed, manifest, batchTallies, reported[0], boards, 0, 6)
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
		r.Rounds[0].Counts[d.BatchKey()] = cnt
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
