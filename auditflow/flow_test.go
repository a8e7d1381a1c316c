package auditflow_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/rla"
)

const seed = "12345678901234567890"

var manifest = []vigil.AuditManifestBatch{
	{Jurisdiction: "J1", Container: "C2", Tabulator: "T1", Batch: "B1", Ballots: 40},
	{Jurisdiction: "J1", Container: "C1", Tabulator: "T1", Batch: "B2", Ballots: 30},
	{Jurisdiction: "J1", Container: "C1", Tabulator: "T2", Batch: "B1", Ballots: 30},
	{Jurisdiction: "J2", Tabulator: "T1", Batch: "B1", Ballots: 100},
}

var boards = []vigil.AuditBoard{
	{Board: "A", Jurisdiction: "J1", Members: []string{"ann", "art"}},
	{Board: "B", Jurisdiction: "J1", Members: []string{"bea", "ben"}},
	{Board: "Z", Jurisdiction: "J2", Members: []string{"zoe", "zak"}},
}

// reported: 200 ballots, A 120, B 70, 10 blank.
var reported = []vigil.AuditReportedContest{{ID: "Mayor", Targeted: true, Winners: 1, Ballots: 200,
	Choices: []vigil.AuditReportedChoice{{ID: "A", Votes: 120}, {ID: "B", Votes: 70}}}}

func record(kind vigil.AuditKind) *auditflow.Record {
	return &auditflow.Record{
		Settings: vigil.AuditSettings{ID: "T", Name: "T", Kind: kind, RiskLimit: 10,
			Contests: []vigil.AuditContest{{ID: "Mayor", Targeted: true}}, Jurisdictions: []string{"J1", "J2"}},
		Seed: seed, Boards: boards, Manifest: manifest, Reported: reported,
	}
}

func TestDrawContinuesTheConsistentSample(t *testing.T) {
	first, err := auditflow.Draw(seed, manifest, boards, true, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	second, err := auditflow.Draw(seed, manifest, boards, true, 7, 5)
	if err != nil {
		t.Fatal(err)
	}
	all, err := rla.Sample(seed, auditflow.SamplerManifest(manifest), 12, true)
	if err != nil {
		t.Fatal(err)
	}
	got := append(first, second...)
	for i, d := range all {
		g := got[i]
		if g.Ticket != d.Ticket || g.BatchKey() != d.Ballot.Batch || g.Position != d.Ballot.Position || g.Times != d.Times {
			t.Fatalf("draw %d: %+v, the sampler says %+v", i+1, g, d)
		}
	}
	t.Run("a batch goes to one board of its jurisdiction", func(t *testing.T) {
		byBatch := map[string]string{}
		for _, d := range got {
			if b, ok := byBatch[d.BatchKey()]; ok && b != d.Board {
				t.Fatalf("batch %s on boards %s and %s", d.BatchKey(), b, d.Board)
			}
			byBatch[d.BatchKey()] = d.Board
			if (d.Jurisdiction == "J2") != (d.Board == "Z") {
				t.Fatalf("%+v went to the wrong jurisdiction's board", d)
			}
		}
	})
	t.Run("a jurisdiction without a board is refused", func(t *testing.T) {
		_, err := auditflow.Draw(seed, manifest, boards[:2], true, 0, 50)
		if vigil.ErrorKind(err) != vigil.Conflict || !strings.Contains(err.Error(), "J2 has no audit board") {
			t.Fatal(err)
		}
	})
}

func TestRetrievalListIsSortedAndListsEachBallotOnce(t *testing.T) {
	draws := []vigil.AuditDraw{
		{Ticket: "0.3", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T1", Batch: "B1", Position: 9}, Container: "C2", Board: "A"},
		{Ticket: "0.1", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T2", Batch: "B1", Position: 4}, Container: "C1", Board: "A"},
		{Ticket: "0.2", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T1", Batch: "B2", Position: 12}, Container: "C1", Board: "A"},
		{Ticket: "0.4", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T1", Batch: "B2", Position: 3}, Container: "C1", Board: "A"},
		{Ticket: "0.5", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T1", Batch: "B2", Position: 12}, Container: "C1", Board: "A", Times: 2},
		{Ticket: "0.6", AuditBallot: vigil.AuditBallot{Jurisdiction: "J1", Tabulator: "T9", Batch: "B9", Position: 1}, Board: "B"},
	}
	l := auditflow.Retrieval(draws, "A")
	var got []string
	for _, x := range l {
		got = append(got, x.Container+" "+x.Tabulator+" "+x.Batch+" "+strings.Join(x.Tickets, "+"))
	}
	want := "C1 T1 B2 0.4|C1 T1 B2 0.2+0.5|C1 T2 B1 0.1|C2 T1 B1 0.3"
	if strings.Join(got, "|") != want {
		t.Fatalf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

// readAll gives every draw of the last round the same reading.
func readAll(r *auditflow.Record, reading func(i int) vigil.AuditInterpretation) {
	rd := &r.Rounds[len(r.Rounds)-1]
	rd.Readings = map[string]vigil.AuditInterpretation{}
	for i, d := range rd.Draws {
		in := reading(i)
		in.Ballot = d.AuditBallot
		rd.Readings[d.Key()] = in
	}
}

func vote(ch vigil.ChoiceID) vigil.AuditInterpretation {
	return vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Choices: []vigil.ChoiceID{ch}}}}
}

func TestMeasureBallotPolling(t *testing.T) {
	r := record(vigil.AuditBRAVO)
	draws, err := auditflow.Draw(seed, manifest, boards, true, 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	r.Rounds = []auditflow.Round{{Round: 1, Size: 20, Draws: draws}}
	t.Run("a round with an unread ballot does not close", func(t *testing.T) {
		if _, err := auditflow.Measure(r, 1); vigil.ErrorKind(err) != vigil.Conflict || !strings.Contains(err.Error(), "ballots not yet read") {
			t.Fatal(err)
		}
	})
	// Mostly A, some B, a blank and a ballot not found.
	readAll(r, func(i int) vigil.AuditInterpretation {
		switch {
		case i < 16:
			return vote("A")
		case i < 18:
			return vote("B")
		case i == 18:
			return vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Result: vigil.AuditBlank}}}
		}
		return vigil.AuditInterpretation{NotFound: true}
	})
	got, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	// A ballot drawn twice counts twice; a ballot not found counts for
	// the loser. The expected risk is BRAVO on the same counts.
	a, b := 0, 0
	for _, d := range draws {
		in := r.Rounds[0].Readings[d.Key()]
		switch {
		case in.NotFound:
			b++
		case in.Contests[0].Result == "":
			if in.Contests[0].Choices[0] == "A" {
				a++
			} else {
				b++
			}
		}
	}
	if a == 0 || b == 0 {
		t.Fatalf("the test needs votes for both: A %d, B %d", a, b)
	}
	want, err := rla.BRAVO(rla.Contest{Name: "Mayor", Ballots: 200, Tally: mayorTally}, 0.1, map[string]int{"A": a, "B": b})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Results[0]
	if math.Abs(c.Risk-want.Max) > 1e-12 || c.Confirmed != want.Confirmed || c.Votes["A"] != a || c.Votes["B"] != b {
		t.Fatalf("got %+v, want risk %v (A %d, B %d)", c, want.Max, a, b)
	}
	if got.Status != vigil.AuditInProgress || got.NextSize < 1 {
		t.Fatalf("%+v", got)
	}

	t.Run("Minerva measures the same round", func(t *testing.T) {
		m := *r
		m.Settings.Kind = vigil.AuditMinerva
		res, err := auditflow.Measure(&m, 1)
		if err != nil {
			t.Fatal(err)
		}
		want, err := rla.MinervaRisk(rla.Contest{Name: "Mayor", Ballots: 200, Tally: mayorTally}, 0.1, []map[string]int{{"A": a, "B": b}})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(res.Results[0].Risk-want.Max) > 1e-12 {
			t.Fatalf("got %v want %v", res.Results[0].Risk, want.Max)
		}
	})
	t.Run("an overwhelming sample completes the audit", func(t *testing.T) {
		more, err := auditflow.Draw(seed, manifest, boards, true, 20, got.NextSize)
		if err != nil {
			t.Fatal(err)
		}
		r.Rounds = append(r.Rounds, auditflow.Round{Round: 2, Size: got.NextSize, Draws: more})
		readAll(r, func(int) vigil.AuditInterpretation { return vote("A") })
		res, err := auditflow.Measure(r, 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != vigil.AuditComplete || !res.Results[0].Confirmed || res.NextSize != 0 {
			t.Fatalf("%+v", res)
		}
	})
}

func TestTiedContestGoesToAFullHandCount(t *testing.T) {
	r := record(vigil.AuditBRAVO)
	r.Reported = []vigil.AuditReportedContest{{ID: "Mayor", Targeted: true, Winners: 1, Ballots: 200,
		Choices: []vigil.AuditReportedChoice{{ID: "A", Votes: 95}, {ID: "B", Votes: 95}}}}
	if _, err := auditflow.FirstRoundSize(r); vigil.ErrorKind(err) != vigil.Conflict || !strings.Contains(err.Error(), "count all 200 ballots by hand") {
		t.Fatal(err)
	}
	draws, _ := auditflow.Draw(seed, manifest, boards, true, 0, 10)
	r.Rounds = []auditflow.Round{{Round: 1, Size: 10, Draws: draws}}
	readAll(r, func(int) vigil.AuditInterpretation { return vote("A") })
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != vigil.AuditFullHandCount || res.NextSize != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestComparisonDiscrepancies(t *testing.T) {
	r := record(vigil.AuditComparison)
	draws, err := auditflow.Draw(seed, manifest, boards, false, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	cvrs := map[string]map[vigil.ContestID][]vigil.ChoiceID{}
	for _, d := range draws {
		cvrs[d.Key()] = map[vigil.ContestID][]vigil.ChoiceID{"Mayor": {"A"}}
	}
	delete(cvrs, draws[9].Key()) // no CVR: a two-vote overstatement
	r.Rounds = []auditflow.Round{{Round: 1, Size: 10, Draws: draws, CVRs: cvrs}}
	readAll(r, func(i int) vigil.AuditInterpretation {
		switch i {
		case 0: // the CVR says A, the paper is blank: one-vote overstatement
			return vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Result: vigil.AuditBlank}}}
		case 1: // the paper says B: two-vote overstatement
			return vote("B")
		case 2: // not found: two-vote overstatement
			return vigil.AuditInterpretation{NotFound: true}
		}
		return vote("A")
	})
	cvrs[draws[3].Key()] = map[vigil.ContestID][]vigil.ChoiceID{"Mayor": {"B"}} // the paper says A: two-vote understatement
	cvrs[draws[4].Key()] = map[vigil.ContestID][]vigil.ChoiceID{"Mayor": {}}    // the paper says A: one-vote understatement
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Results[0]
	if c.O1 != 1 || c.O2 != 3 || c.U1 != 1 || c.U2 != 1 {
		t.Fatalf("%+v", c)
	}
	p, _, err := rla.SuperSimpleRisk(rla.Contest{Name: "Mayor", Ballots: 200, Tally: mayorTally}, 0.1, 10, rla.Discrepancies{O1: 1, O2: 3, U1: 1, U2: 1})
	if err != nil || math.Abs(p-c.Risk) > 1e-12 {
		t.Fatalf("risk %v, want %v (%v)", c.Risk, p, err)
	}
}

func TestCheckReadingNamesTheField(t *testing.T) {
	for _, tt := range []struct {
		name  string
		in    vigil.AuditInterpretation
		field string
	}{
		{"unknown contest", vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Sheriff", Choices: []vigil.ChoiceID{"A"}}}}, "contests[0].contest"},
		{"unknown choice", vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Choices: []vigil.ChoiceID{"Q"}}}}, "contests[0].choices"},
		{"too many votes", vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Choices: []vigil.ChoiceID{"A", "B"}}}}, "contests[0].choices"},
		{"no reading at all", vigil.AuditInterpretation{}, "contests"},
		{"unknown result", vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Result: "smudged"}}}, "contests[0].result"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := auditflow.CheckReading(reported, tt.in)
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != tt.field {
				t.Fatalf("got %v (field %q), want field %q", err, vigil.ErrorField(err), tt.field)
			}
		})
	}
}

var mayorTally = []rla.Choice{{Name: "A", Votes: 120}, {Name: "B", Votes: 70}}
