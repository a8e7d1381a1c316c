package auditflow

import (
	"errors"
	"math"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/rla"
)

// Hybrid (SUITE) audits: the manifest's batches marked CVR: N form the
// no-CVR stratum, audited by ballot polling; the others the CVR stratum,
// audited by ballot comparison. Each stratum is drawn without replacement
// by the consistent sampler from its own batches (a ballot's ticket
// depends only on the seed and the ballot, so each stratum's sample is its
// ballots with the smallest tickets); a round draws the CVR stratum's
// share first, then the no-CVR stratum's. The risk is rla.SUITERisk.

func manifestKey(b vigil.AuditManifestBatch) string {
	return vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey()
}

// Strata splits the manifest into the batches with CVRs and those without.
func Strata(m []vigil.AuditManifestBatch) (cvr, noCVR []vigil.AuditManifestBatch) {
	for _, b := range m {
		if b.NoCVR {
			noCVR = append(noCVR, b)
		} else {
			cvr = append(cvr, b)
		}
	}
	return cvr, noCVR
}

// StratumBallots counts the manifest's ballots in each stratum.
func StratumBallots(m []vigil.AuditManifestBatch) (cvr, noCVR int) {
	for _, b := range m {
		if b.NoCVR {
			noCVR += b.Ballots
		} else {
			cvr += b.Ballots
		}
	}
	return cvr, noCVR
}

func noCVRBatches(m []vigil.AuditManifestBatch) map[string]bool {
	out := map[string]bool{}
	for _, b := range m {
		if b.NoCVR {
			out[manifestKey(b)] = true
		}
	}
	return out
}

// DrawnByStratum counts the draws of the rounds before round (1-based) in
// each stratum.
func (r *Record) DrawnByStratum(before int) (cvr, noCVR int) {
	no := noCVRBatches(r.Manifest)
	for _, rd := range r.Rounds {
		if rd.Round >= before {
			continue
		}
		for _, d := range rd.Draws {
			if no[d.BatchKey()] {
				noCVR++
			} else {
				cvr++
			}
		}
	}
	return cvr, noCVR
}

// DrawHybrid returns a hybrid round's draws: draws prevCVR+1 ..
// prevCVR+cvrSize of the CVR stratum, then prevNoCVR+1 .. prevNoCVR+noCVRSize
// of the no-CVR stratum, both without replacement. Errors: Invalid
// (naming the size), Conflict (no board).
func DrawHybrid(seed string, m []vigil.AuditManifestBatch, boards []vigil.AuditBoard, prevCVR, prevNoCVR, cvrSize, noCVRSize int) ([]vigil.AuditDraw, error) {
	const op = "audit.draw"
	if cvrSize < 0 || noCVRSize < 0 || cvrSize+noCVRSize < 1 {
		return nil, vigil.FieldError(op, "size", "a round draws at least one ballot, and no stratum a negative number")
	}
	cvrM, noM := Strata(m)
	var out []vigil.AuditDraw
	for _, s := range []struct {
		name       string
		m          []vigil.AuditManifestBatch
		prev, size int
	}{{"cvr_size", cvrM, prevCVR, cvrSize}, {"no_cvr_size", noM, prevNoCVR, noCVRSize}} {
		if s.size == 0 {
			continue
		}
		ballots := 0
		for _, b := range s.m {
			ballots += b.Ballots
		}
		if s.prev+s.size > ballots {
			return nil, vigil.FieldError(op, s.name, "the stratum holds %d ballots, %d drawn already: %d more cannot be drawn", ballots, s.prev, s.size)
		}
		d, err := Draw(seed, s.m, boards, false, s.prev, s.size)
		if err != nil {
			return nil, err
		}
		out = append(out, d...)
	}
	return out, nil
}

// HybridSplit splits a round of n ballots between the strata in
// proportion to their ballots (the CVR stratum's share rounded up, as
// Arlo's n_ratio), within what each stratum has left to draw.
func HybridSplit(r *Record, round, n int) (cvr, noCVR int) {
	cb, nb := StratumBallots(r.Manifest)
	if cb+nb == 0 {
		return 0, 0
	}
	dc, dn := r.DrawnByStratum(round)
	cvr = min(int(math.Ceil(float64(n)*float64(cb)/float64(cb+nb))), cb-dc)
	noCVR = min(n-cvr, nb-dn)
	return max(cvr, 0), max(noCVR, 0)
}

// hybridContest is a reported contest as rla.SUITERisk tests it. Each
// stratum's ballots are all the manifest's ballots of the stratum (the
// sampling frame), so ballots without the contest count as votes for
// neither candidate of a pair.
func hybridContest(rc vigil.AuditReportedContest, cvrBallots, noCVRBallots int) (rla.HybridContest, error) {
	if rc.CVR == nil || rc.NoCVR == nil {
		return rla.HybridContest{}, vigil.Errorf(vigil.Invalid, "audit.measure", "contest %s has no reported result per stratum", rc.ID)
	}
	h := rla.HybridContest{
		Contest: rla.Contest{Name: string(rc.ID), Ballots: cvrBallots + noCVRBallots, Winners: max(rc.Winners, 1)},
		CVR:     rla.Stratum{Ballots: cvrBallots, Votes: map[string]int{}},
		NoCVR:   rla.Stratum{Ballots: noCVRBallots, Votes: map[string]int{}},
	}
	for _, ch := range rc.Choices {
		c, n := rc.CVR.Votes[ch.ID], rc.NoCVR.Votes[ch.ID]
		h.Tally = append(h.Tally, rla.Choice{Name: string(ch.ID), Votes: c + n})
		h.CVR.Votes[string(ch.ID)], h.NoCVR.Votes[string(ch.ID)] = c, n
	}
	h.Winners = min(h.Winners, len(h.Tally))
	return h, nil
}

// pairDiscrepancy is the overstatement of the pair's margin w − l by the
// CVR against the reading, in votes (−2..2). A ballot not found or
// without a CVR is a two-vote overstatement.
func pairDiscrepancy(w, l string, allowed int, cvr []vigil.ChoiceID, hasCVR bool, in vigil.AuditInterpretation) int {
	if in.NotFound || !hasCVR {
		return 2
	}
	if len(cvr) > allowed {
		cvr = nil
	}
	rep := map[string]int{}
	for _, ch := range cvr {
		rep[string(ch)]++
	}
	got := map[string]int{}
	for _, rd := range in.Contests {
		if rd.Result != "" {
			continue
		}
		for _, ch := range rd.Choices {
			got[string(ch)]++
		}
	}
	return max(min((rep[w]-rep[l])-(got[w]-got[l]), 2), -2)
}

// readingFor keeps only the reading of contest c.
func readingFor(in vigil.AuditInterpretation, c vigil.ContestID) vigil.AuditInterpretation {
	out := in
	out.Contests = nil
	for _, rd := range in.Contests {
		if rd.Contest == c {
			out.Contests = append(out.Contests, rd)
		}
	}
	return out
}

// hybridSample collects contest rc's sample in both strata after rounds.
// shown counts the CVR stratum's discrepancies on the closest pair, as a
// comparison audit reports them; the risk uses every pair's own counts
// and, as Arlo, only their overstatements.
func hybridSample(r *Record, rounds []Round, rc vigil.AuditReportedContest, h rla.HybridContest) (s rla.HybridSample, shown rla.Discrepancies) {
	no := noCVRBatches(r.Manifest)
	s = rla.HybridSample{Misstatements: map[rla.Pair]rla.Discrepancies{}, NoCVRVotes: map[string]int{}}
	winners, losers := h.Outcome()
	for _, rd := range rounds {
		for _, d := range rd.Draws {
			in, _ := r.Reading(rd.Round, d.Key())
			in = readingFor(in, rc.ID)
			if no[d.BatchKey()] {
				s.NoCVRSampled++
				if in.NotFound {
					s.NoCVRNotFound++
					continue
				}
				for ch, v := range votes(rc, in) {
					s.NoCVRVotes[ch] += v
				}
				continue
			}
			s.CVRSampled++
			cvr, has := rd.CVRs[d.Key()]
			var marks []vigil.ChoiceID
			if has {
				marks = cvr[rc.ID]
			}
			for _, w := range winners {
				for _, l := range losers {
					p := rla.Pair{Winner: w.Name, Loser: l.Name}
					m := s.Misstatements[p]
					switch pairDiscrepancy(w.Name, l.Name, h.Winners, marks, has, in) {
					case 1:
						m.O1++
					case 2:
						m.O2++
					}
					s.Misstatements[p] = m
				}
			}
			switch discrepancy(h.Contest, marks, has, in) {
			case 1:
				shown.O1++
			case 2:
				shown.O2++
			case -1:
				shown.U1++
			case -2:
				shown.U2++
			}
		}
	}
	return s, shown
}

// measureHybrid measures every contest with SUITE and sizes the next
// round: for each stratum the largest total any unconfirmed targeted
// contest needs, less what is drawn. 0 means a full hand count.
func measureHybrid(r *Record, rounds []Round, out *vigil.AuditRoundClose) (int, error) {
	cb, nb := StratumBallots(r.Manifest)
	var wantCVR, wantNo int
	done := true
	for _, rc := range r.Reported {
		h, err := hybridContest(rc, cb, nb)
		if err != nil {
			return 0, err
		}
		s, shown := hybridSample(r, rounds, rc, h)
		risk, err := rla.SUITERisk(h, r.Alpha(), s)
		if err != nil {
			return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "contest %s cannot be audited: %v", rc.ID, err)
		}
		v := map[vigil.ChoiceID]int{}
		for ch, n := range s.NoCVRVotes {
			v[vigil.ChoiceID(ch)] = n
		}
		out.Results = append(out.Results, vigil.AuditContestResult{Contest: rc.ID, Targeted: rc.Targeted, Risk: risk.Max, Confirmed: risk.Confirmed,
			O1: shown.O1, O2: shown.O2, U1: shown.U1, U2: shown.U2, Votes: v, CVRSampled: s.CVRSampled, NoCVRSampled: s.NoCVRSampled})
		if !rc.Targeted || risk.Confirmed {
			continue
		}
		done = false
		c, n, err := rla.SUITESampleSize(h, r.Alpha(), s)
		if errors.Is(err, rla.ErrFullCount) {
			return 0, nil
		}
		if err != nil {
			return 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s: cannot size the next round: %v", rc.ID, err)
		}
		wantCVR, wantNo = max(wantCVR, c), max(wantNo, n)
	}
	if done {
		return 0, nil
	}
	last := rounds[len(rounds)-1].Round
	dc, dn := r.DrawnByStratum(last + 1)
	out.NextCVR, out.NextNoCVR = max(wantCVR-dc, 0), max(wantNo-dn, 0)
	if out.NextCVR+out.NextNoCVR == 0 {
		// The projection says the sample suffices, the risk says not yet:
		// grow by a tenth, at least 5 ballots (Arlo's smallest sample).
		out.NextCVR, out.NextNoCVR = HybridSplit(r, last+1, max(5, (dc+dn)/10))
	}
	return out.NextCVR + out.NextNoCVR, nil
}

// FirstHybridSizes is round 1's draw in each stratum: for each stratum the
// largest size a targeted contest needs. Errors: Invalid (the contests
// cannot be audited), Conflict (a stratum would have to be counted whole).
func FirstHybridSizes(r *Record) (cvr, noCVR int, err error) {
	cb, nb := StratumBallots(r.Manifest)
	for _, rc := range r.Reported {
		if !rc.Targeted {
			continue
		}
		h, err := hybridContest(rc, cb, nb)
		if err != nil {
			return 0, 0, err
		}
		c, n, err := rla.SUITESampleSize(h, r.Alpha(), rla.HybridSample{})
		if errors.Is(err, rla.ErrFullCount) {
			return 0, 0, vigil.Errorf(vigil.Conflict, "audit.size", "contest %s is too close to audit by sampling: count all %d ballots by hand", rc.ID, cb+nb)
		}
		if err != nil {
			return 0, 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s cannot be audited: %v", rc.ID, err)
		}
		cvr, noCVR = max(cvr, c), max(noCVR, n)
	}
	if cvr+noCVR <= 0 {
		return 0, 0, vigil.Errorf(vigil.Conflict, "audit.size", "no targeted contest needs a sample")
	}
	return cvr, noCVR, nil
}
