package auditflow

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/rla"
)

// Batch comparison (MACRO): whole batches are drawn with probability
// proportional to their error bound u_p (PPEB) and counted by hand, and
// each count is compared with the batch's reported tally.
//
// The PPEB draw is vigil's own, reproducible from the bundle alone: draw
// k (1, 2, … across rounds) takes the first 8 bytes of
// SHA-256(seed + "," + k) as a number x in [0, 1) (the top 53 bits over
// 2^53) and picks the first batch, in batch-key order, whose cumulative
// u_p exceeds x·U. It is not Arlo's draw (Arlo feeds the seed to numpy's
// PCG64), so a batch sample is checked with vigil audit verify.

// rlaBatch is one batch's tally as rla takes it.
func rlaBatch(t vigil.AuditBatchTally) rla.BatchResult {
	b := rla.BatchResult{Batch: t.BatchKey(), Ballots: t.Ballots, Votes: map[string]int{}}
	for ch, v := range t.Votes {
		b.Votes[string(ch)] = v
	}
	return b
}

// sortedBatches returns the tallies in batch-key order.
func sortedBatches(batches []vigil.AuditBatchTally) []vigil.AuditBatchTally {
	out := append([]vigil.AuditBatchTally(nil), batches...)
	sort.Slice(out, func(i, j int) bool { return out[i].BatchKey() < out[j].BatchKey() })
	return out
}

// ppebUniform is draw k's number in [0, 1).
func ppebUniform(seed string, k int) float64 {
	d := sha256.Sum256([]byte(seed + "," + strconv.Itoa(k)))
	return float64(binary.BigEndian.Uint64(d[:8])>>11) / (1 << 53)
}

// DrawBatches returns draws prev+1 .. prev+size of a batch comparison
// audit of contest c, each batch assigned to a board of its jurisdiction.
// Errors: Invalid (no batch can hold an error), Conflict (no board).
func DrawBatches(seed string, m []vigil.AuditManifestBatch, batches []vigil.AuditBatchTally, c vigil.AuditReportedContest, boards []vigil.AuditBoard, prev, size int) ([]vigil.AuditDraw, error) {
	const op = "audit.draw"
	if size < 1 {
		return nil, vigil.FieldError(op, "size", "a round draws at least one batch")
	}
	contest := rlaContest(c, 0)
	list := sortedBatches(batches)
	cum := make([]float64, len(list))
	u := 0.0
	for i, b := range list {
		up := rla.MACROMaxError(contest, rlaBatch(b))
		if up > 1e300 {
			return nil, vigil.Errorf(vigil.Conflict, op, "contest %s is tied: count every batch by hand", c.ID)
		}
		u += up
		cum[i] = u
	}
	if u == 0 {
		return nil, vigil.Errorf(vigil.Invalid, op, "no batch holds contest %s", c.ID)
	}
	containers := map[string]string{}
	for _, b := range m {
		containers[vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey()] = b.Container
	}
	assign := boardAssignment(m, boards)
	times := map[string]int{}
	var out []vigil.AuditDraw
	for k := 1; k <= prev+size; k++ {
		x := ppebUniform(seed, k)
		i := sort.Search(len(cum), func(i int) bool { return cum[i] > x*u })
		if i == len(cum) {
			i = len(cum) - 1
		}
		b := list[i]
		times[b.BatchKey()]++
		if k <= prev {
			continue
		}
		board := assign[b.BatchKey()]
		if board == "" {
			return nil, vigil.Errorf(vigil.Conflict, op, "jurisdiction %s has no audit board: create one before the draw", b.Jurisdiction)
		}
		out = append(out, vigil.AuditDraw{Ticket: strconv.FormatFloat(x, 'f', 16, 64),
			AuditBallot: vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch},
			Container:   containers[b.BatchKey()], Times: times[b.BatchKey()], Board: board})
	}
	return out, nil
}

// Count returns the hand count of a batch drawn in round: the one entered
// in that round or, for a batch drawn again, in the latest earlier round.
func (r *Record) Count(round int, batchKey string) (vigil.AuditBatchCount, bool) {
	for i := min(round, len(r.Rounds)) - 1; i >= 0; i-- {
		if c, ok := r.Rounds[i].Counts[batchKey]; ok {
			return c, true
		}
	}
	return vigil.AuditBatchCount{}, false
}

// CheckCount validates a board's hand count of a batch against the
// contest and the manifest. Errors: Invalid, naming the field.
func CheckCount(c vigil.AuditReportedContest, manifestBallots int, in vigil.AuditBatchCount) error {
	const op = "audit.count"
	if in.Ballots < 0 || in.Ballots > manifestBallots {
		return vigil.FieldError(op, "ballots", "batch %s holds %d ballots in the manifest; the count says %d", in.BatchKey(), manifestBallots, in.Ballots)
	}
	total := 0
	for ch, v := range in.Votes {
		known := false
		for _, x := range c.Choices {
			known = known || x.ID == ch
		}
		if !known {
			return vigil.FieldError(op, "votes", "choice %q is not in contest %q", ch, c.ID)
		}
		if v < 0 {
			return vigil.FieldError(op, "votes", "choice %q has a negative count %d", ch, v)
		}
		total += v
	}
	if total > in.Ballots*max(c.Winners, 1) {
		return vigil.FieldError(op, "votes", "%d votes cannot fit on %d ballots of a vote-for-%d contest", total, in.Ballots, max(c.Winners, 1))
	}
	return nil
}

// missingCounts lists the batches drawn in round without a count.
func (r *Record) missingCounts(round int) []vigil.AuditDraw {
	var out []vigil.AuditDraw
	seen := map[string]bool{}
	for _, d := range r.Rounds[round-1].Draws {
		if _, ok := r.Count(round, d.BatchKey()); !ok && !seen[d.BatchKey()] {
			seen[d.BatchKey()] = true
			out = append(out, d)
		}
	}
	return out
}

// withContest counts the batches that hold the contest.
func withContest(batches []vigil.AuditBatchTally) int {
	n := 0
	for _, b := range batches {
		if b.Ballots > 0 {
			n++
		}
	}
	return n
}

func measureBatch(r *Record, rounds []Round, out *vigil.AuditRoundClose) (int, error) {
	if len(r.Reported) != 1 {
		return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "a batch comparison audit measures one contest, not %d", len(r.Reported))
	}
	rc := r.Reported[0]
	c := rlaContest(rc, 0)
	var reported []rla.BatchResult
	for _, b := range sortedBatches(r.Batches) {
		reported = append(reported, rlaBatch(b))
	}
	var draws []rla.BatchResult
	counted := map[string]rla.BatchResult{}
	for _, rd := range rounds {
		for _, d := range rd.Draws {
			cnt, _ := r.Count(rd.Round, d.BatchKey())
			b := rlaBatch(cnt.AuditBatchTally)
			b.Batch = d.BatchKey()
			draws = append(draws, b)
			counted[b.Batch] = b
		}
	}
	p, ok, err := rla.MACRO(c, r.Alpha(), reported, draws)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "contest %s cannot be audited: %v", rc.ID, err)
	}
	out.Results = append(out.Results, vigil.AuditContestResult{Contest: rc.ID, Targeted: rc.Targeted, Risk: p, Confirmed: ok})
	if ok {
		return 0, nil
	}
	n, err := rla.MACROSampleSize(c, r.Alpha(), reported, counted)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s: cannot size the next round: %v", rc.ID, err)
	}
	if n >= withContest(r.Batches) {
		return 0, nil // a full hand count
	}
	return max(n-len(draws), 1), nil
}

// firstBatchSize is round 1's number of batch draws.
func firstBatchSize(r *Record) (int, error) {
	if len(r.Reported) != 1 {
		return 0, vigil.FieldError("audit.size", "contests", "a batch comparison audit measures one contest")
	}
	var reported []rla.BatchResult
	for _, b := range r.Batches {
		reported = append(reported, rlaBatch(b))
	}
	n, err := rla.MACROSampleSize(rlaContest(r.Reported[0], 0), r.Alpha(), reported, nil)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s cannot be audited: %v", r.Reported[0].ID, err)
	}
	if all := withContest(r.Batches); n >= all {
		return 0, vigil.Errorf(vigil.Conflict, "audit.size", "the contest is too close to audit by sampling: count all %d batches by hand", all)
	}
	return max(n, 1), nil
}

// batchText renders a tally for reports: "ballots=N a=1 b=2".
func batchText(t vigil.AuditBatchTally, c vigil.AuditReportedContest) string {
	s := fmt.Sprintf("ballots=%d", t.Ballots)
	for _, ch := range c.Choices {
		s += fmt.Sprintf(" %s=%d", ch.ID, t.Votes[ch.ID])
	}
	return s
}
