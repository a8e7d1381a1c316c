package sqlite

import (
	"context"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// Batch comparison audits: the reported batch tallies the first draw
// freezes, and the boards' hand counts.

// batchTallies computes the reported tally of contest c in every manifest
// batch from the CVRs: ballots holding the contest and each choice's
// votes (an overvote counts none). A batch without any CVR is reported as
// all its manifest ballots with no votes, the largest error it could hide.
func (s *AuditService) batchTallies(ctx context.Context, m []vigil.AuditManifestBatch, c vigil.AuditReportedContest) ([]vigil.AuditBatchTally, error) {
	type key struct{ j, t, b string }
	tallies := map[key]*vigil.AuditBatchTally{}
	seen := map[key]bool{}
	var out []vigil.AuditBatchTally
	for _, b := range m {
		k := key{b.Jurisdiction, b.Tabulator, b.Batch}
		tallies[k] = &vigil.AuditBatchTally{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch, Contest: c.ID, Votes: map[vigil.ChoiceID]int{}}
	}
	done := map[string]bool{}
	for _, b := range m {
		if done[b.Jurisdiction] {
			continue
		}
		done[b.Jurisdiction] = true
		j := b.Jurisdiction
		err := s.tab.InCounty(j).eachCVR(ctx, nil, func(r *vigil.CastVoteRecord) error {
			k := key{j, r.Tabulator, r.Batch}
			t := tallies[k]
			if t == nil {
				return nil // not in the manifest: the manifest check reports it
			}
			seen[k] = true
			for _, cv := range r.Contests {
				if cv.Contest != c.ID {
					continue
				}
				t.Ballots++
				if cv.Overvoted || len(cv.Marks) > max(c.Winners, 1) {
					continue
				}
				for _, mk := range cv.Marks {
					t.Votes[mk.Choice]++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for _, b := range m {
		k := key{b.Jurisdiction, b.Tabulator, b.Batch}
		t := tallies[k]
		if !seen[k] {
			t.Ballots = b.Ballots
		}
		out = append(out, *t)
	}
	return out, nil
}

// CountBatch records a board's hand count of a batch drawn in the open
// round of a batch comparison audit. Errors: Invalid (naming the field;
// a batch not on the board's list), Permission, Conflict, NotFound.
func (s *AuditService) CountBatch(ctx context.Context, a vigil.Actor, c vigil.AuditBatchCount) error {
	const op = "audit.count"
	st, seq, err := s.state(ctx, c.Audit)
	if err != nil {
		return err
	}
	if st.Settings.Kind != vigil.AuditBatch {
		return vigil.Errorf(vigil.Conflict, op, "audit %s is not a batch comparison: read the sampled ballots instead", c.Audit)
	}
	b := st.Board(c.Board)
	if b == nil {
		return vigil.FieldError(op, "board", "audit %s has no board %q", c.Audit, c.Board)
	}
	if !member(a, b) {
		return vigil.Errorf(vigil.Permission, op, "%s is not a member of board %s", a.Name, c.Board)
	}
	cur := st.Current()
	if cur == nil || cur.Close != nil {
		return vigil.Errorf(vigil.Conflict, op, "no round is open")
	}
	c.Round = cur.Round
	c.Jurisdiction = b.Jurisdiction
	onList := false
	for _, d := range cur.Draws {
		if d.BatchKey() == c.BatchKey() {
			if d.Board != c.Board {
				return vigil.FieldError(op, "batch", "batch %s is on board %s's list, not %s's", c.BatchKey(), d.Board, c.Board)
			}
			onList = true
		}
	}
	if !onList {
		return vigil.FieldError(op, "batch", "batch %s is not in the sample of round %d; counts are only for drawn batches", c.BatchKey(), cur.Round)
	}
	manifestBallots := 0
	for _, mb := range st.Manifest {
		if mb.Jurisdiction == c.Jurisdiction && mb.Tabulator == c.Tabulator && mb.Batch == c.Batch {
			manifestBallots = mb.Ballots
		}
	}
	if c.Votes == nil {
		c.Votes = map[vigil.ChoiceID]int{}
	}
	c.Contest = auditflow.TallyContest(st.Reported, c.AuditBatchTally)
	var rc *vigil.AuditReportedContest
	for i := range st.Reported {
		if st.Reported[i].ID == c.Contest {
			rc = &st.Reported[i]
		}
	}
	if rc == nil {
		return vigil.FieldError(op, "contest", "contest %q is not audited here; name the contest each count is for", c.Contest)
	}
	if err := auditflow.CheckCount(*rc, manifestBallots, c); err != nil {
		return err
	}
	if len(st.SignOffs[cur.Round][c.Board][c.BatchKey()]) > 0 {
		return vigil.Errorf(vigil.Conflict, op, "batch %s is signed off already; its count is final", c.BatchKey())
	}
	return s.append(ctx, a, vigil.EventAuditBatchCounted, c.Audit, seq, c)
}
