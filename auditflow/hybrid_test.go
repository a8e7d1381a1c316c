package auditflow_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/rla"
)

// hybridManifest: J1's batches have CVRs, J2's 100 ballots do not.
var hybridManifest = func() []vigil.AuditManifestBatch {
	m := append([]vigil.AuditManifestBatch(nil), manifest...)
	m[3].NoCVR = true
	return m
}()

// paperVote is what ballot pos of a batch says in the Mayor contest:
// 12 of 20 positions A, 7 B, 1 blank.
func paperVote(pos int) vigil.ChoiceID {
	switch r := pos % 20; {
	case r < 12:
		return "A"
	case r < 19:
		return "B"
	}
	return ""
}

// hybridRecord is a hybrid audit whose reported results are exactly the
// paper ballots', split by stratum.
func hybridRecord() *auditflow.Record {
	cvr := &vigil.AuditStratumTally{Contest: "Mayor", Votes: map[vigil.ChoiceID]int{}}
	no := &vigil.AuditStratumTally{Contest: "Mayor", Votes: map[vigil.ChoiceID]int{}}
	for _, b := range hybridManifest {
		s := cvr
		if b.NoCVR {
			s = no
		}
		s.Ballots += b.Ballots
		for p := 1; p <= b.Ballots; p++ {
			if v := paperVote(p); v != "" {
				s.Votes[v]++
			}
		}
	}
	rc := vigil.AuditReportedContest{ID: "Mayor", Targeted: true, Winners: 1, Ballots: cvr.Ballots + no.Ballots, CVR: cvr, NoCVR: no,
		Choices: []vigil.AuditReportedChoice{{ID: "A", Votes: cvr.Votes["A"] + no.Votes["A"]}, {ID: "B", Votes: cvr.Votes["B"] + no.Votes["B"]}}}
	r := record(vigil.AuditHybrid)
	r.Settings.NoCVR = []vigil.AuditStratumTally{*no}
	r.Manifest, r.Reported = hybridManifest, []vigil.AuditReportedContest{rc}
	return r
}

// drawHybridRound draws a round and has the boards read it from paper;
// the CVRs say what the paper says unless cvr overrides a ballot.
func drawHybridRound(t *testing.T, r *auditflow.Record, cvrSize, noSize int, cvr map[string]vigil.ChoiceID) {
	t.Helper()
	n := len(r.Rounds) + 1
	pc, pn := r.DrawnByStratum(n)
	draws, err := auditflow.DrawHybrid(r.Seed, r.Manifest, r.Boards, pc, pn, cvrSize, noSize)
	if err != nil {
		t.Fatal(err)
	}
	rd := auditflow.Round{Round: n, Size: cvrSize + noSize, CVRSize: cvrSize, NoCVRSize: noSize, Draws: draws,
		CVRs: map[string]map[vigil.ContestID][]vigil.ChoiceID{}, Readings: map[string]vigil.AuditInterpretation{}}
	for _, d := range draws {
		v := paperVote(d.Position)
		reading := vigil.AuditContestReading{Contest: "Mayor", Result: vigil.AuditBlank}
		if v != "" {
			reading = vigil.AuditContestReading{Contest: "Mayor", Choices: []vigil.ChoiceID{v}}
		}
		rd.Readings[d.Key()] = vigil.AuditInterpretation{Audit: "T", Round: n, Board: d.Board, Ballot: d.AuditBallot, Contests: []vigil.AuditContestReading{reading}}
		if d.Jurisdiction == "J2" {
			continue // no CVR
		}
		marks := []vigil.ChoiceID{}
		if x, ok := cvr[d.Key()]; ok {
			v = x
		}
		if v != "" {
			marks = append(marks, v)
		}
		rd.CVRs[d.Key()] = map[vigil.ContestID][]vigil.ChoiceID{"Mayor": marks}
	}
	r.Rounds = append(r.Rounds, rd)
}

func TestDrawHybrid(t *testing.T) {
	r := hybridRecord()
	first, err := auditflow.DrawHybrid(seed, hybridManifest, boards, 0, 0, 6, 4)
	if err != nil {
		t.Fatal(err)
	}
	second, err := auditflow.DrawHybrid(seed, hybridManifest, boards, 6, 4, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	cvrM, noM := auditflow.Strata(r.Manifest)
	t.Run("each stratum's draws are its ballots in ticket order, continued from round to round", func(t *testing.T) {
		wantCVR, err := rla.Sample(seed, auditflow.SamplerManifest(cvrM), 9, false)
		if err != nil {
			t.Fatal(err)
		}
		wantNo, err := rla.Sample(seed, auditflow.SamplerManifest(noM), 6, false)
		if err != nil {
			t.Fatal(err)
		}
		got := append(append(append(append([]vigil.AuditDraw(nil), first[:6]...), second[:3]...), first[6:]...), second[3:]...)
		want := append(wantCVR, wantNo...)
		for i, w := range want {
			if got[i].Ticket != w.Ticket || got[i].BatchKey() != w.Ballot.Batch || got[i].Position != w.Ballot.Position {
				t.Fatalf("draw %d: %+v, the sampler says %+v", i+1, got[i], w)
			}
		}
	})
	t.Run("a stratum's draws come from its own batches only", func(t *testing.T) {
		for i, d := range append(first, second...) {
			noCVR := d.Jurisdiction == "J2"
			if inNo := (i >= 6 && i < 10) || i >= 13; noCVR != inNo {
				t.Fatalf("draw %d (%s) is in the wrong stratum", i+1, d.Key())
			}
		}
	})
	t.Run("a stratum cannot give more ballots than it holds", func(t *testing.T) {
		_, err := auditflow.DrawHybrid(seed, hybridManifest, boards, 0, 99, 1, 2)
		if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), "no_cvr_size") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("the round's size is split by the strata's ballots, the CVR share rounded up", func(t *testing.T) {
		if c, n := auditflow.HybridSplit(r, 1, 11); c != 6 || n != 5 {
			t.Fatalf("got %d + %d, want 6 + 5 (100 of 200 ballots have CVRs)", c, n)
		}
	})
}

func TestMeasureHybrid(t *testing.T) {
	t.Run("a hybrid audit of ballots that match the reported results confirms the outcome", func(t *testing.T) {
		r := hybridRecord()
		c, n, err := auditflow.FirstHybridSizes(r)
		if err != nil {
			t.Fatal(err)
		}
		status := ""
		for round := 1; round <= 5; round++ {
			drawHybridRound(t, r, c, n, nil)
			res, err := auditflow.Measure(r, round)
			if err != nil {
				t.Fatal(err)
			}
			r.Rounds[round-1].Close = &res
			status = res.Status
			if status != vigil.AuditInProgress {
				break
			}
			c, n = res.NextCVR, res.NextNoCVR
			if c+n != res.NextSize {
				t.Fatalf("the strata's next sizes %d + %d do not add up to %d", c, n, res.NextSize)
			}
		}
		if status != vigil.AuditComplete {
			t.Fatalf("status %s", status)
		}
		t.Run("the bundle verifies", func(t *testing.T) {
			files, err := auditflow.BundleFiles(r)
			if err != nil {
				t.Fatal(err)
			}
			v, err := auditflow.Verify(files)
			if err != nil || !v.OK() {
				t.Fatalf("%v %v", err, v.Mismatches)
			}
			if !strings.Contains(string(files["manifest.csv"]), "J2,,T1,B1,100,N\n") {
				t.Fatalf("manifest.csv does not mark the no-CVR batch:\n%s", files["manifest.csv"])
			}
		})
		t.Run("the risk is rla.SUITERisk of the strata's samples", func(t *testing.T) {
			// An independent tally of the same sample: count the no-CVR
			// stratum's votes from the paper, and no misstatements.
			res := r.Rounds[0].Close.Results[0]
			var s rla.HybridSample
			s.NoCVRVotes = map[string]int{}
			for _, d := range r.Rounds[0].Draws {
				if d.Jurisdiction != "J2" {
					s.CVRSampled++
					continue
				}
				s.NoCVRSampled++
				if v := paperVote(d.Position); v != "" {
					s.NoCVRVotes[string(v)]++
				}
			}
			rc := r.Reported[0]
			h := rla.HybridContest{Contest: rla.Contest{Name: "Mayor", Ballots: 200, Winners: 1,
				Tally: []rla.Choice{{Name: "A", Votes: rc.Choices[0].Votes}, {Name: "B", Votes: rc.Choices[1].Votes}}},
				CVR:   rla.Stratum{Ballots: 100, Votes: map[string]int{"A": rc.CVR.Votes["A"], "B": rc.CVR.Votes["B"]}},
				NoCVR: rla.Stratum{Ballots: 100, Votes: map[string]int{"A": rc.NoCVR.Votes["A"], "B": rc.NoCVR.Votes["B"]}}}
			want, err := rla.SUITERisk(h, 0.1, s)
			if err != nil {
				t.Fatal(err)
			}
			if res.Risk != want.Max || res.CVRSampled != s.CVRSampled || res.NoCVRSampled != s.NoCVRSampled {
				t.Fatalf("measured %+v, rla says %g for %+v", res, want.Max, s)
			}
		})
	})
	t.Run("a CVR that overstates the winner raises the risk", func(t *testing.T) {
		clean, dirty := hybridRecord(), hybridRecord()
		drawHybridRound(t, clean, 20, 20, nil)
		over := map[string]vigil.ChoiceID{}
		for _, d := range clean.Rounds[0].Draws {
			if d.Jurisdiction != "J2" && paperVote(d.Position) == "B" {
				over[d.Key()] = "A" // the CVR says A, the paper B
				break
			}
		}
		drawHybridRound(t, dirty, 20, 20, over)
		a, err := auditflow.Measure(clean, 1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := auditflow.Measure(dirty, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(over) != 1 || b.Results[0].O2 != 1 || !(b.Results[0].Risk > a.Results[0].Risk) {
			t.Fatalf("clean %+v, with a two-vote overstatement %+v", a.Results[0], b.Results[0])
		}
	})
	t.Run("a round with an unread ballot does not close", func(t *testing.T) {
		r := hybridRecord()
		drawHybridRound(t, r, 3, 3, nil)
		for k := range r.Rounds[0].Readings {
			delete(r.Rounds[0].Readings, k)
			break
		}
		if _, err := auditflow.Measure(r, 1); vigil.ErrorKind(err) != vigil.Conflict {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("a contest without its strata's results is refused", func(t *testing.T) {
		r := hybridRecord()
		r.Reported[0].NoCVR = nil
		drawHybridRound(t, r, 3, 3, nil)
		if _, err := auditflow.Measure(r, 1); vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("got %v", err)
		}
	})
}

func TestHybridBundleTampering(t *testing.T) {
	r := hybridRecord()
	drawHybridRound(t, r, 10, 10, nil)
	res, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Rounds[0].Close = &res
	files, err := auditflow.BundleFiles(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, file, from, to, part string }{
		{"a batch moved to the other stratum changes the sample", "manifest.csv", "J2,,T1,B1,100,N", "J2,,T1,B1,100,Y", "sample.csv"},
		{"a split of the round changed changes the sample", "audit.json", `"cvr_size": 10`, `"cvr_size": 11`, "sample.csv"},
		{"a recorded stratum sample changed is refused", "audit.json", `"no_cvr_sampled": 10`, `"no_cvr_sampled": 9`, "audit.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := map[string][]byte{}
			for k, v := range files {
				f[k] = v
			}
			if !strings.Contains(string(f[tc.file]), tc.from) {
				t.Fatalf("%q is not in %s:\n%s", tc.from, tc.file, f[tc.file])
			}
			f[tc.file] = []byte(strings.Replace(string(f[tc.file]), tc.from, tc.to, 1))
			v, err := auditflow.Verify(f)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range v.Mismatches {
				found = found || m.Part == tc.part
			}
			if !found {
				t.Fatalf("no mismatch in %s: %v", tc.part, v.Mismatches)
			}
		})
	}
	t.Run("a stratum's reported votes that no longer add up are refused", func(t *testing.T) {
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		var a map[string]any
		if err := json.Unmarshal(f["audit.json"], &a); err != nil {
			t.Fatal(err)
		}
		rc := a["reported"].([]any)[0].(map[string]any)
		rc["no_cvr"].(map[string]any)["votes"].(map[string]any)["A"] = 70
		f["audit.json"], _ = json.Marshal(a)
		v, err := auditflow.Verify(f)
		if err != nil {
			t.Fatal(err)
		}
		var sum, settings bool
		for _, m := range v.Mismatches {
			sum = sum || strings.Contains(m.Detail, "the strata give A 138 votes, not the 128 reported")
			settings = settings || strings.Contains(m.Detail, "differs from the one the settings reported")
		}
		if !sum || !settings {
			t.Fatalf("%v", v.Mismatches)
		}
	})
	t.Run("a no-CVR reading changed changes the risk", func(t *testing.T) {
		f := map[string][]byte{}
		for k, v := range files {
			f[k] = v
		}
		lines := strings.Split(string(f["interpretations.csv"]), "\n")
		changed := false
		for i, l := range lines {
			if strings.HasPrefix(l, "1,J2,") && strings.HasSuffix(l, ",Mayor,A,") {
				lines[i] = strings.TrimSuffix(l, ",Mayor,A,") + ",Mayor,B,"
				changed = true
				break
			}
		}
		if !changed {
			t.Fatalf("no no-CVR reading of A:\n%s", f["interpretations.csv"])
		}
		f["interpretations.csv"] = []byte(strings.Join(lines, "\n"))
		v, err := auditflow.Verify(f)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range v.Mismatches {
			found = found || strings.Contains(m.Detail, "risk measure")
		}
		if !found {
			t.Fatalf("%v", v.Mismatches)
		}
	})
}

func TestHandCountOutcome(t *testing.T) {
	rc := reported[0] // A 120, B 70 reported
	for _, tc := range []struct {
		name    string
		votes   map[vigil.ChoiceID]int
		winners string
		outcome string
	}{
		{"a count that elects the reported winner confirms it", map[vigil.ChoiceID]int{"A": 118, "B": 71}, "[A]", vigil.HandCountConfirmed},
		{"a count that elects a reported loser overturns the outcome", map[vigil.ChoiceID]int{"A": 90, "B": 100}, "[B]", vigil.HandCountOverturned},
		{"a count tied for the seat is neither", map[vigil.ChoiceID]int{"A": 95, "B": 95}, "[A]", vigil.HandCountTied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, o := auditflow.HandCountOutcome(rc, vigil.AuditHandCount{Contest: "Mayor", Ballots: 200, Votes: tc.votes})
			if o != tc.outcome || "["+fmtIDs(w)+"]" != tc.winners {
				t.Fatalf("got %v %s, want %s %s", w, o, tc.winners, tc.outcome)
			}
		})
	}
	t.Run("bad counts are refused naming the field", func(t *testing.T) {
		r := record(vigil.AuditBRAVO)
		for _, tc := range []struct {
			hc    vigil.AuditHandCount
			field string
		}{
			{vigil.AuditHandCount{Contest: "Dogcatcher", Ballots: 1, Votes: map[vigil.ChoiceID]int{}}, "contest"},
			{vigil.AuditHandCount{Contest: "Mayor", Ballots: 201, Votes: map[vigil.ChoiceID]int{"A": 1, "B": 1}}, "ballots"},
			{vigil.AuditHandCount{Contest: "Mayor", Ballots: 200, Votes: map[vigil.ChoiceID]int{"A": 1, "C": 1}}, "votes"},
			{vigil.AuditHandCount{Contest: "Mayor", Ballots: 200, Votes: map[vigil.ChoiceID]int{"A": 1}}, "votes"},
			{vigil.AuditHandCount{Contest: "Mayor", Ballots: 10, Votes: map[vigil.ChoiceID]int{"A": 8, "B": 8}}, "votes"},
			{vigil.AuditHandCount{Contest: "Mayor", Ballots: 10, Votes: map[vigil.ChoiceID]int{"A": -1, "B": 8}}, "votes"},
		} {
			_, err := auditflow.CheckHandCount(r, tc.hc)
			if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("%+v: got %v, want a %s error", tc.hc, err, tc.field)
			}
		}
	})
}

func fmtIDs(ids []vigil.ChoiceID) string {
	s := make([]string, len(ids))
	for i, x := range ids {
		s[i] = string(x)
	}
	return strings.Join(s, " ")
}
