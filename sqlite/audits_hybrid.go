package sqlite

import (
	"context"
	"fmt"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// Hybrid (SUITE) audits and full hand counts: the reported results split
// by stratum that the first draw freezes, and the hand-counted tallies an
// audit records after it escalated to a full hand count.

// checkHybridSettings checks a hybrid audit's contests against the
// election: vote-for-1 contests, and no-CVR tallies of their choices.
func checkHybridSettings(e *vigil.Election, set vigil.AuditSettings) error {
	const op = "audit.create"
	if set.Kind != vigil.AuditHybrid {
		return nil
	}
	for i, c := range set.Contests {
		if ec := e.Contest(c.ID); ec != nil && ec.VoteFor > 1 {
			return vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "contest %q is vote for %d; a hybrid audit tests vote-for-1 contests only", c.ID, ec.VoteFor)
		}
	}
	for i, t := range set.NoCVR {
		ec := e.Contest(t.Contest)
		if ec == nil {
			return vigil.FieldError(op, fmt.Sprintf("no_cvr[%d].contest", i), "unknown contest %q", t.Contest)
		}
		for ch := range t.Votes {
			known := false
			for _, x := range ec.Choices {
				known = known || x.ID == ch
			}
			if !known {
				return vigil.FieldError(op, fmt.Sprintf("no_cvr[%d].votes", i), "choice %q is not in contest %q", ch, t.Contest)
			}
		}
	}
	return nil
}

// hybridReported is the reported result of each audited contest split by
// stratum: the CVR stratum counted from the CVRs of the manifest's batches
// with CVRs, the no-CVR stratum as the settings report it. A CVR in a
// batch the manifest marks CVR: N, or a no-CVR tally larger than the
// no-CVR batches, is a stratum mismatch and refused.
func (s *AuditService) hybridReported(ctx context.Context, set vigil.AuditSettings, m []vigil.AuditManifestBatch) ([]vigil.AuditReportedContest, error) {
	const op = "audit.draw"
	e, err := s.tab.Election(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkHybridSettings(e, set); err != nil {
		return nil, err
	}
	type key struct{ j, t, b string }
	inManifest := map[key]vigil.AuditManifestBatch{}
	for _, b := range m {
		inManifest[key{b.Jurisdiction, b.Tabulator, b.Batch}] = b
	}
	_, noBallots := auditflow.StratumBallots(m)
	out := make([]vigil.AuditReportedContest, len(set.Contests))
	index := map[vigil.ContestID]int{}
	for i, c := range set.Contests {
		ec := e.Contest(c.ID)
		if ec == nil {
			return nil, vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "contest %q is no longer in the election", c.ID)
		}
		index[c.ID] = i
		out[i] = vigil.AuditReportedContest{ID: c.ID, Name: ec.Name, Targeted: c.Targeted, Winners: ec.VoteFor,
			CVR: &vigil.AuditStratumTally{Contest: c.ID, Votes: map[vigil.ChoiceID]int{}}}
		for _, ch := range ec.Choices {
			out[i].Choices = append(out[i].Choices, vigil.AuditReportedChoice{ID: ch.ID, Name: ch.Name})
		}
		for k, t := range set.NoCVR {
			if t.Contest != c.ID {
				continue
			}
			if t.Ballots > noBallots {
				return nil, vigil.FieldError(op, fmt.Sprintf("no_cvr[%d].ballots", k), "stratum mismatch: contest %q is reported on %d ballots without CVRs, but the manifests' batches marked CVR: N hold %d",
					c.ID, t.Ballots, noBallots)
			}
			nt := vigil.AuditStratumTally{Contest: c.ID, Ballots: t.Ballots, Votes: map[vigil.ChoiceID]int{}}
			for ch, v := range t.Votes {
				nt.Votes[ch] = v
			}
			out[i].NoCVR = &nt
		}
		if out[i].NoCVR == nil {
			return nil, vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "contest %q has no reported result for the ballots without CVRs", c.ID)
		}
	}
	for _, j := range set.Jurisdictions {
		err := s.tab.InCounty(j).eachCVR(ctx, nil, func(r *vigil.CastVoteRecord) error {
			b, ok := inManifest[key{j, r.Tabulator, r.Batch}]
			if !ok {
				return nil // not in the manifest: the manifest check reports it
			}
			if b.NoCVR {
				return vigil.FieldError(op, "manifest", "stratum mismatch: batch %s is marked CVR: N in the manifest but has cast vote records; import the manifest again with CVR: Y for it",
					vigil.AuditBallot{Jurisdiction: j, Tabulator: r.Tabulator, Batch: r.Batch}.BatchKey())
			}
			for _, cv := range r.Contests {
				i, ok := index[cv.Contest]
				if !ok {
					continue
				}
				out[i].CVR.Ballots++
				if cv.Overvoted || len(cv.Marks) > 1 {
					continue
				}
				for _, mk := range cv.Marks {
					out[i].CVR.Votes[mk.Choice]++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	all, _, err := s.tab.InCounty("").Tally(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		c := &out[i]
		c.Ballots = c.CVR.Ballots + c.NoCVR.Ballots
		for k := range c.Choices {
			c.Choices[k].Votes = c.CVR.Votes[c.Choices[k].ID] + c.NoCVR.Votes[c.Choices[k].ID]
		}
		if c.Ballots == 0 {
			return nil, vigil.FieldError(op, fmt.Sprintf("contests[%d]", i), "no ballot of the audit's jurisdictions holds contest %q", c.ID)
		}
		for _, cr := range all.Contests {
			if cr.ID == c.ID && int(cr.Ballots) > c.CVR.Ballots {
				return nil, vigil.FieldError(op, "jurisdictions", "contest %q is on %d ballots with CVRs outside the audit's jurisdictions (contests[%d]); add every county whose ballots hold it",
					c.ID, int(cr.Ballots)-c.CVR.Ballots, i)
			}
		}
	}
	return out, nil
}

// hybridRound fills in a hybrid round's sizes and draws. size 0 takes
// the computed sizes (round 1) or those the previous round closed with;
// an explicit size is split by the strata's ballots.
func (s *AuditService) hybridRound(ctx context.Context, st *AuditState, r *vigil.AuditRound, size int) error {
	var err error
	switch cur := st.Current(); {
	case size > 0:
		r.CVRSize, r.NoCVRSize = auditflow.HybridSplit(&st.Record, r.Round, size)
	case cur == nil:
		if r.CVRSize, r.NoCVRSize, err = auditflow.FirstHybridSizes(&st.Record); err != nil {
			return err
		}
	default:
		r.CVRSize, r.NoCVRSize = cur.Close.NextCVR, cur.Close.NextNoCVR
	}
	r.Size = r.CVRSize + r.NoCVRSize
	pc, pn := st.DrawnByStratum(r.Round)
	if r.Draws, err = auditflow.DrawHybrid(st.Seed, st.Manifest, st.Boards, pc, pn, r.CVRSize, r.NoCVRSize); err != nil {
		return err
	}
	cvrM, _ := auditflow.Strata(st.Manifest)
	withCVR := map[string]bool{}
	for _, b := range cvrM {
		withCVR[vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey()] = true
	}
	var draws []vigil.AuditDraw
	for _, d := range r.Draws {
		if withCVR[d.BatchKey()] {
			draws = append(draws, d)
		}
	}
	r.CVRs, err = s.cvrsFor(ctx, draws, st.Reported)
	return err
}

// RecordHandCount records a contest's full hand count after the audit
// escalated to one; the count's outcome (confirmed, overturned or tied) is
// computed against the reported result and stored with it. Errors:
// Invalid (naming the field), Conflict (the audit has not escalated, or
// the contest's count is recorded already), NotFound.
func (s *AuditService) RecordHandCount(ctx context.Context, a vigil.Actor, hc vigil.AuditHandCount) (vigil.AuditHandCount, error) {
	const op = "audit.hand_count"
	st, seq, err := s.state(ctx, hc.Audit)
	if err != nil {
		return hc, err
	}
	if hc.Votes == nil {
		hc.Votes = map[vigil.ChoiceID]int{}
	}
	if err := CheckHandCounts(st, []vigil.AuditHandCount{hc}); err != nil {
		return hc, err
	}
	rc, _ := auditflow.CheckHandCount(&st.Record, hc)
	hc.Winners, hc.Outcome = auditflow.HandCountOutcome(*rc, hc)
	return hc, s.append(ctx, a, vigil.EventAuditHandCounted, hc.Audit, seq, hc)
}

// CheckHandCounts checks hand counts before any is recorded: the audit
// escalated to a full hand count, each count is valid and names a
// contest not yet counted, once. Errors: Conflict, Invalid (naming the
// field and, for a list, the contest).
func CheckHandCounts(st *AuditState, counts []vigil.AuditHandCount) error {
	const op = "audit.hand_count"
	if st.Status != vigil.AuditFullHandCount {
		return vigil.Errorf(vigil.Conflict, op, "audit %s is %s: a hand count is recorded only after the audit escalates to a full hand count", st.Settings.ID, st.Status)
	}
	seen := map[vigil.ContestID]bool{}
	for _, done := range st.HandCounts {
		seen[done.Contest] = true
	}
	for _, hc := range counts {
		if _, err := auditflow.CheckHandCount(&st.Record, hc); err != nil {
			return err
		}
		if seen[hc.Contest] {
			return vigil.Errorf(vigil.Conflict, op, "the hand count of contest %s is recorded already", hc.Contest)
		}
		seen[hc.Contest] = true
	}
	return nil
}
