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
// each count is compared with the batch's reported tally. With several
// contests, u_p is the largest over them (rla.MACROMulti) and one sample
// serves them all; the boards count every audited contest in each drawn
// batch.
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

// sortedBatches returns the tallies in batch-key order, a batch's
// contests in the reported order.
func sortedBatches(batches []vigil.AuditBatchTally) []vigil.AuditBatchTally {
	out := append([]vigil.AuditBatchTally(nil), batches...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].BatchKey() < out[j].BatchKey() })
	return out
}

// TallyContest is the contest a tally counts: its own, or the audit's only
// contest for tallies recorded before audits of several contests.
func TallyContest(reported []vigil.AuditReportedContest, t vigil.AuditBatchTally) vigil.ContestID {
	if t.Contest == "" && len(reported) == 1 {
		return reported[0].ID
	}
	return t.Contest
}

// CountKey names a hand count in Round.Counts: batch key and contest.
func CountKey(batchKey string, contest vigil.ContestID) string {
	return batchKey + "#" + string(contest)
}

// multiBatches groups the reported tallies by batch, in batch-key order,
// as rla.MACROMulti takes them.
func multiBatches(reported []vigil.AuditReportedContest, batches []vigil.AuditBatchTally) []rla.MultiBatch {
	var out []rla.MultiBatch
	for _, t := range sortedBatches(batches) {
		if n := len(out); n == 0 || out[n-1].Batch != t.BatchKey() {
			out = append(out, rla.MultiBatch{Batch: t.BatchKey(), Results: map[string]rla.BatchResult{}})
		}
		out[len(out)-1].Results[string(TallyContest(reported, t))] = rlaBatch(t)
	}
	return out
}

func rlaContests(reported []vigil.AuditReportedContest) ([]rla.Contest, []bool) {
	cs := make([]rla.Contest, len(reported))
	targeted := make([]bool, len(reported))
	for i, c := range reported {
		cs[i], targeted[i] = rlaContest(c, 0), c.Targeted
	}
	return cs, targeted
}

// ppebUniform is draw k's number in [0, 1).
func ppebUniform(seed string, k int) float64 {
	d := sha256.Sum256([]byte(seed + "," + strconv.Itoa(k)))
	return float64(binary.BigEndian.Uint64(d[:8])>>11) / (1 << 53)
}

// DrawBatches returns draws prev+1 .. prev+size of a batch comparison
// audit of the contests, each batch assigned to a board of its
// jurisdiction. Errors: Invalid (no batch can hold an error), Conflict (a
// tie, no board).
func DrawBatches(seed string, m []vigil.AuditManifestBatch, batches []vigil.AuditBatchTally, contests []vigil.AuditReportedContest, boards []vigil.AuditBoard, prev, size int) ([]vigil.AuditDraw, error) {
	const op = "audit.draw"
	if size < 1 {
		return nil, vigil.FieldError(op, "size", "a round draws at least one batch")
	}
	cs, _ := rlaContests(contests)
	list := multiBatches(contests, batches)
	cum := make([]float64, len(list))
	u := 0.0
	for i, b := range list {
		up := rla.MACROMultiMaxError(cs, b)
		if up > 1e300 {
			return nil, vigil.Errorf(vigil.Conflict, op, "a contest is tied: count every batch by hand")
		}
		u += up
		cum[i] = u
	}
	if u == 0 {
		return nil, vigil.Errorf(vigil.Invalid, op, "no batch holds an audited contest")
	}
	first := map[string]vigil.AuditBatchTally{}
	for _, t := range batches {
		if _, ok := first[t.BatchKey()]; !ok {
			first[t.BatchKey()] = t
		}
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
		b := first[list[i].Batch]
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

// Count returns the hand count of contest in a batch drawn in round: the
// one entered in that round or, for a batch drawn again, in the latest
// earlier round.
func (r *Record) Count(round int, batchKey string, contest vigil.ContestID) (vigil.AuditBatchCount, bool) {
	for i := min(round, len(r.Rounds)) - 1; i >= 0; i-- {
		if c, ok := r.Rounds[i].Counts[CountKey(batchKey, contest)]; ok {
			return c, true
		}
	}
	return vigil.AuditBatchCount{}, false
}

// BatchCounted reports whether every audited contest of a batch drawn in
// round has its hand count.
func (r *Record) BatchCounted(round int, batchKey string) bool {
	for _, c := range r.Reported {
		if _, ok := r.Count(round, batchKey, c.ID); !ok {
			return false
		}
	}
	return true
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
		if !r.BatchCounted(round, d.BatchKey()) && !seen[d.BatchKey()] {
			seen[d.BatchKey()] = true
			out = append(out, d)
		}
	}
	return out
}

// withContest counts the batches that hold an audited contest.
func withContest(r *Record) int {
	held := map[string]bool{}
	for _, b := range r.Batches {
		if b.Ballots > 0 {
			held[b.BatchKey()] = true
		}
	}
	return len(held)
}

func measureBatch(r *Record, rounds []Round, out *vigil.AuditRoundClose) (int, error) {
	cs, targeted := rlaContests(r.Reported)
	reported := multiBatches(r.Reported, r.Batches)
	var draws []rla.MultiBatch
	counted := map[string]rla.MultiBatch{}
	for _, rd := range rounds {
		for _, d := range rd.Draws {
			b := rla.MultiBatch{Batch: d.BatchKey(), Results: map[string]rla.BatchResult{}}
			for _, c := range r.Reported {
				cnt, _ := r.Count(rd.Round, d.BatchKey(), c.ID)
				res := rlaBatch(cnt.AuditBatchTally)
				res.Batch = d.BatchKey()
				b.Results[string(c.ID)] = res
			}
			draws = append(draws, b)
			counted[b.Batch] = b
		}
	}
	risks, ok, err := rla.MACROMulti(cs, r.Alpha(), reported, draws)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "the contests cannot be audited: %v", err)
	}
	done := true
	for i, rc := range r.Reported {
		out.Results = append(out.Results, vigil.AuditContestResult{Contest: rc.ID, Targeted: rc.Targeted, Risk: risks[i], Confirmed: ok[i]})
		done = done && (ok[i] || !rc.Targeted)
	}
	if done {
		return 0, nil
	}
	n, err := rla.MACROMultiSampleSize(cs, targeted, r.Alpha(), reported, counted)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.size", "cannot size the next round: %v", err)
	}
	if n >= withContest(r) {
		return 0, nil // a full hand count
	}
	return max(n-len(draws), 1), nil
}

// firstBatchSize is round 1's number of batch draws.
func firstBatchSize(r *Record) (int, error) {
	cs, targeted := rlaContests(r.Reported)
	n, err := rla.MACROMultiSampleSize(cs, targeted, r.Alpha(), multiBatches(r.Reported, r.Batches), nil)
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.size", "the contests cannot be audited: %v", err)
	}
	if all := withContest(r); n >= all {
		return 0, vigil.Errorf(vigil.Conflict, "audit.size", "the contests are too close to audit by sampling: count all %d batches by hand", all)
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
