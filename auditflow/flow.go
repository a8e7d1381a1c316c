// Package auditflow is the arithmetic of a risk-limiting audit's workflow
// on top of package rla: which ballots a round draws, which board gets
// them, the retrieval lists, the risk each contest carries once the boards
// have read the ballots, and the next round's size. It also writes the
// audit report (CSV and PDF) and the public verification bundle, and
// verifies a bundle by recomputing everything from it alone.
//
// Everything here is a pure function of a Record, the public facts of an
// audit; the sqlite projection builds Records from the log, and Verify
// builds one from a bundle. The same code computes both, so a bundle
// verifies exactly when the audit's own numbers are reproduced.
package auditflow

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/rla"
)

// Record is everything public about an audit, in log order.
type Record struct {
	Settings vigil.AuditSettings
	Seed     string
	Boards   []vigil.AuditBoard
	Manifest []vigil.AuditManifestBatch   // frozen by round 1
	Reported []vigil.AuditReportedContest // frozen by round 1
	Batches  []vigil.AuditBatchTally      // batch comparison: reported batch tallies, frozen by round 1
	Rounds   []Round
	// HandCounts are the contests' full hand counts, recorded after the
	// audit escalated to a full hand count, in log order.
	HandCounts []vigil.AuditHandCount
}

// Round is one round: its draws, the CVRs of the drawn ballots
// (comparison), the boards' readings and, once closed, its result.
type Round struct {
	Round int
	Size  int
	// CVRSize and NoCVRSize split Size between the strata (hybrid).
	CVRSize, NoCVRSize int
	Draws              []vigil.AuditDraw
	CVRs               map[string]map[vigil.ContestID][]vigil.ChoiceID
	Readings           map[string]vigil.AuditInterpretation // by ballot key
	Counts             map[string]vigil.AuditBatchCount     // batch comparison: hand counts by batch key
	Close              *vigil.AuditRoundClose
}

// Alpha is the risk limit as a fraction.
func (r *Record) Alpha() float64 { return float64(r.Settings.RiskLimit) / 100 }

// TotalBallots is the number of ballots in the frozen manifest.
func (r *Record) TotalBallots() int {
	n := 0
	for _, b := range r.Manifest {
		n += b.Ballots
	}
	return n
}

// Drawn is the number of draws in rounds before round (1-based).
func (r *Record) Drawn(before int) int {
	n := 0
	for _, rd := range r.Rounds {
		if rd.Round < before {
			n += len(rd.Draws)
		}
	}
	return n
}

// SamplerManifest is the manifest as the sampler sees it: one batch per
// manifest line, named jurisdiction/tabulator/batch, positions 1..ballots.
// Empty batches hold nothing to draw and are left out.
func SamplerManifest(m []vigil.AuditManifestBatch) []rla.Batch {
	out := make([]rla.Batch, 0, len(m))
	for _, b := range m {
		if b.Ballots == 0 {
			continue
		}
		out = append(out, rla.Batch{Name: vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey(), Ballots: b.Ballots})
	}
	return out
}

// Draw returns draws prev+1 .. prev+size of the audit's consistent
// sample: round k continues the ticket order where round k-1 stopped, so
// every round is reproducible from the seed and the manifest alone.
// Ballots are assigned to the jurisdiction's boards, a whole batch to one
// board, batches dealt round-robin in manifest order.
func Draw(seed string, m []vigil.AuditManifestBatch, boards []vigil.AuditBoard, polling bool, prev, size int) ([]vigil.AuditDraw, error) {
	const op = "audit.draw"
	if size < 1 {
		return nil, vigil.FieldError(op, "size", "a round draws at least one ballot")
	}
	all, err := rla.Sample(seed, SamplerManifest(m), prev+size, polling)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Invalid, err)
	}
	if prev >= len(all) {
		return nil, vigil.FieldError(op, "size", "every ballot has been drawn already")
	}
	byKey := map[string]vigil.AuditManifestBatch{}
	for _, b := range m {
		byKey[vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey()] = b
	}
	assign := boardAssignment(m, boards)
	out := make([]vigil.AuditDraw, 0, len(all)-prev)
	for _, d := range all[prev:] {
		b := byKey[d.Ballot.Batch]
		ballot := vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch, Position: d.Ballot.Position}
		board := assign[d.Ballot.Batch]
		if board == "" {
			return nil, vigil.Errorf(vigil.Conflict, op, "jurisdiction %s has no audit board: create one before the draw", b.Jurisdiction)
		}
		out = append(out, vigil.AuditDraw{Ticket: d.Ticket, AuditBallot: ballot, Container: b.Container, Times: d.Times, Board: board})
	}
	return out, nil
}

// boardAssignment deals each jurisdiction's batches to its boards in turn.
func boardAssignment(m []vigil.AuditManifestBatch, boards []vigil.AuditBoard) map[string]string {
	by := map[string][]string{}
	for _, b := range boards {
		by[b.Jurisdiction] = append(by[b.Jurisdiction], b.Board)
	}
	for _, list := range by {
		sort.Strings(list)
	}
	next := map[string]int{}
	out := map[string]string{}
	for _, b := range m {
		list := by[b.Jurisdiction]
		if len(list) == 0 {
			continue
		}
		out[vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: b.Tabulator, Batch: b.Batch}.BatchKey()] = list[next[b.Jurisdiction]%len(list)]
		next[b.Jurisdiction]++
	}
	return out
}

// CheckReading validates a board's reading against the reported contests
// of the audit: each contest once, known choices, no more votes than the
// contest allows. Errors: Invalid, naming the field.
func CheckReading(reported []vigil.AuditReportedContest, in vigil.AuditInterpretation) error {
	const op = "audit.interpret"
	if in.NotFound {
		if len(in.Contests) > 0 {
			return vigil.FieldError(op, "contests", "a ballot that was not found has no readings")
		}
		return nil
	}
	byID := map[vigil.ContestID]*vigil.AuditReportedContest{}
	for i := range reported {
		byID[reported[i].ID] = &reported[i]
	}
	seen := map[vigil.ContestID]bool{}
	for i, c := range in.Contests {
		field := fmt.Sprintf("contests[%d]", i)
		rc := byID[c.Contest]
		if rc == nil {
			return vigil.FieldError(op, field+".contest", "contest %q is not audited here", c.Contest)
		}
		if seen[c.Contest] {
			return vigil.FieldError(op, field+".contest", "contest %q is read twice", c.Contest)
		}
		seen[c.Contest] = true
		switch c.Result {
		case vigil.AuditNotOnBallot, vigil.AuditBlank, vigil.AuditOvervote:
			if len(c.Choices) > 0 {
				return vigil.FieldError(op, field+".choices", "a %s reading has no choices", c.Result)
			}
			continue
		case "":
		default:
			return vigil.FieldError(op, field+".result", "unknown result %q; use not_on_ballot, blank, overvote or list the choices", c.Result)
		}
		if len(c.Choices) == 0 {
			return vigil.FieldError(op, field+".choices", "no vote read in contest %q: list the choices, or say blank", c.Contest)
		}
		if len(c.Choices) > max(rc.Winners, 1) {
			return vigil.FieldError(op, field+".choices", "contest %q allows %d votes; %d marks are an overvote", c.Contest, max(rc.Winners, 1), len(c.Choices))
		}
		marked := map[vigil.ChoiceID]bool{}
		for _, ch := range c.Choices {
			known := false
			for _, x := range rc.Choices {
				known = known || x.ID == ch
			}
			if !known {
				return vigil.FieldError(op, field+".choices", "choice %q is not in contest %q", ch, c.Contest)
			}
			if marked[ch] {
				return vigil.FieldError(op, field+".choices", "choice %q is read twice", ch)
			}
			marked[ch] = true
		}
	}
	for _, rc := range reported {
		if !seen[rc.ID] {
			return vigil.FieldError(op, "contests", "contest %q has no reading: read every audited contest (not_on_ballot if it is not on the ballot)", rc.ID)
		}
	}
	return nil
}

// rlaContest is the reported contest as rla tests it; ballots overrides
// the contest's ballots when > 0.
func rlaContest(c vigil.AuditReportedContest, ballots int) rla.Contest {
	out := rla.Contest{Name: string(c.ID), Ballots: c.Ballots, Winners: max(c.Winners, 1)}
	if ballots > 0 {
		out.Ballots = ballots
	}
	for _, ch := range c.Choices {
		out.Tally = append(out.Tally, rla.Choice{Name: string(ch.ID), Votes: ch.Votes})
	}
	if out.Winners > len(out.Tally) {
		out.Winners = len(out.Tally)
	}
	return out
}

// votes is what one reading counts in one contest for ballot polling. A
// ballot that was not found counts as a vote for every reported loser:
// the worst case for each winner-loser pair.
func votes(c vigil.AuditReportedContest, in vigil.AuditInterpretation) map[string]int {
	out := map[string]int{}
	if in.NotFound {
		_, losers := rlaContest(c, 0).Outcome()
		for _, l := range losers {
			out[l.Name]++
		}
		return out
	}
	for _, r := range in.Contests {
		if r.Contest != c.ID || r.Result != "" {
			continue
		}
		for _, ch := range r.Choices {
			out[string(ch)]++
		}
	}
	return out
}

// Reading returns the reading of a ballot drawn in round: the one entered
// in that round or, for a ballot drawn again (polling), in the latest
// earlier round. A ballot is read once however often it is drawn.
func (r *Record) Reading(round int, key string) (vigil.AuditInterpretation, bool) {
	for i := min(round, len(r.Rounds)) - 1; i >= 0; i-- {
		if in, ok := r.Rounds[i].Readings[key]; ok {
			return in, true
		}
	}
	return vigil.AuditInterpretation{}, false
}

// MissingReadings lists the ballots of round whose reading is missing.
func (r *Record) MissingReadings(round int) []vigil.AuditDraw {
	var out []vigil.AuditDraw
	for _, rd := range r.Rounds {
		if rd.Round != round {
			continue
		}
		seen := map[string]bool{}
		for _, d := range rd.Draws {
			if _, ok := r.Reading(round, d.Key()); !ok && !seen[d.Key()] {
				seen[d.Key()] = true
				out = append(out, d)
			}
		}
	}
	return out
}

// Measure computes every contest's risk after rounds 1..round, the
// audit's status and, when another round is needed, its size. It refuses
// a round with a ballot not yet read: a round never closes on partial
// data.
func Measure(r *Record, round int) (vigil.AuditRoundClose, error) {
	const op = "audit.measure"
	out := vigil.AuditRoundClose{Audit: r.Settings.ID, Round: round}
	if round < 1 || round > len(r.Rounds) {
		return out, vigil.FieldError(op, "round", "there is no round %d", round)
	}
	batch := r.Settings.Kind == vigil.AuditBatch
	if batch {
		if miss := r.missingCounts(round); len(miss) > 0 {
			return out, vigil.Errorf(vigil.Conflict, op, "round %d has %d batches not yet counted (first: %s, ticket %s); a round closes only when every drawn batch is counted",
				round, len(miss), miss[0].BatchKey(), miss[0].Ticket)
		}
	} else if miss := r.MissingReadings(round); len(miss) > 0 {
		return out, vigil.Errorf(vigil.Conflict, op, "round %d has %d ballots not yet read (first: %s, ticket %s); a round closes only when every sampled ballot is read",
			round, len(miss), miss[0].Key(), miss[0].Ticket)
	}
	rounds := r.Rounds[:round]
	total := r.TotalBallots()
	drawn := 0
	for _, rd := range rounds {
		drawn += len(rd.Draws)
	}
	next := 0
	var err error
	switch {
	case r.Settings.Kind.Polling():
		next, err = measurePolling(r, rounds, &out)
	case r.Settings.Kind == vigil.AuditComparison:
		next, err = measureComparison(r, rounds, &out)
	case batch:
		next, err = measureBatch(r, rounds, &out)
	case r.Settings.Kind == vigil.AuditHybrid:
		next, err = measureHybrid(r, rounds, &out)
	default:
		return out, vigil.FieldError(op, "kind", "%s audits are not supported by the workflow", r.Settings.Kind)
	}
	if err != nil {
		return out, err
	}
	done := true
	for _, c := range out.Results {
		if c.Targeted && !c.Confirmed {
			done = false
		}
	}
	switch {
	case done:
		out.Status = vigil.AuditComplete
	case next <= 0 || (!batch && drawn+next >= total):
		// Drawing as many ballots as the manifest holds is a hand count
		// with extra steps: count them all.
		out.Status = vigil.AuditFullHandCount
	default:
		out.Status, out.NextSize = vigil.AuditInProgress, next
	}
	if out.Status != vigil.AuditInProgress {
		out.NextCVR, out.NextNoCVR = 0, 0
	}
	return out, nil
}

func measurePolling(r *Record, rounds []Round, out *vigil.AuditRoundClose) (int, error) {
	total := r.TotalBallots()
	a := rla.Audit{Ballots: total, RiskLimit: r.Alpha()}
	cum := map[string]map[string]int{}
	perRound := map[string][]map[string]int{}
	for _, c := range r.Reported {
		a.Contests = append(a.Contests, rla.AuditContest{Contest: rlaContest(c, 0), Targeted: c.Targeted})
		cum[string(c.ID)] = map[string]int{}
		for _, rd := range rounds {
			this := map[string]int{}
			for _, d := range rd.Draws {
				in, _ := r.Reading(rd.Round, d.Key())
				for ch, v := range votes(c, in) {
					this[ch] += v
					cum[string(c.ID)][ch] += v
				}
			}
			perRound[string(c.ID)] = append(perRound[string(c.ID)], this)
		}
	}
	var risk rla.AuditRisk
	var err error
	if r.Settings.Kind == vigil.AuditMinerva {
		risk, err = a.Minerva(perRound)
	} else {
		risk, err = a.BRAVO(cum)
	}
	if err != nil {
		return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "the reported results cannot be audited: %v", err)
	}
	for i, c := range risk.Contests {
		v := map[vigil.ChoiceID]int{}
		for ch, n := range cum[c.Name] {
			v[vigil.ChoiceID(ch)] = n
		}
		out.Results = append(out.Results, vigil.AuditContestResult{Contest: r.Reported[i].ID, Targeted: c.Targeted,
			Risk: c.Max, Confirmed: c.Confirmed, Votes: v})
	}
	if risk.Confirmed {
		return 0, nil
	}
	return pollingSize(r, a, cum, perRound)
}

// pollingSize is the next round's size: the size that finishes with a 90 %
// chance if the reported outcome is right, the largest over the targeted
// contests still unconfirmed, scaled from a contest's ballots to the
// manifest's. 0 means a full hand count.
func pollingSize(r *Record, a rla.Audit, cum map[string]map[string]int, perRound map[string][]map[string]int) (int, error) {
	if r.Settings.Kind == vigil.AuditBRAVO {
		s, err := a.BRAVOSampleSizes(cum)
		if errors.Is(err, rla.ErrAuditOver) {
			return 0, nil
		}
		if err != nil {
			return 0, vigil.Errorf(vigil.Invalid, "audit.size", "cannot size the next round: %v", err)
		}
		if s.FullCount {
			return 0, nil
		}
		return s.Sizes[2], nil
	}
	size := 0
	for _, c := range a.Contests {
		if !c.Targeted {
			continue
		}
		s, err := rla.MinervaSampleSizes(c.Contest, a.RiskLimit, perRound[c.Name])
		if errors.Is(err, rla.ErrAuditOver) {
			continue
		}
		if err != nil {
			return 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s: cannot size the next round: %v", c.Name, err)
		}
		if s.FullCount {
			return 0, nil
		}
		size = max(size, int(math.Ceil(float64(s.Sizes[2])*float64(a.Ballots)/float64(c.Contest.Ballots))))
	}
	return size, nil
}

// discrepancy is the largest overstatement of any winner-loser pair's
// margin by the CVR against the reading, in votes (-2..2). A ballot that
// was not found, or has no CVR, is a two-vote overstatement.
func discrepancy(c rla.Contest, cvr []vigil.ChoiceID, hasCVR bool, in vigil.AuditInterpretation) int {
	if in.NotFound || !hasCVR {
		return 2
	}
	got := votes(vigil.AuditReportedContest{ID: vigil.ContestID(c.Name)}, in)
	rep := map[string]int{}
	if len(cvr) > max(c.Winners, 1) {
		cvr = nil // an overvote on the CVR counts no vote
	}
	for _, ch := range cvr {
		rep[string(ch)]++
	}
	winners, losers := c.Outcome()
	worst := math.MinInt
	for _, w := range winners {
		for _, l := range losers {
			d := (rep[w.Name] - rep[l.Name]) - (got[w.Name] - got[l.Name])
			worst = max(worst, d)
		}
	}
	return max(min(worst, 2), -2)
}

func measureComparison(r *Record, rounds []Round, out *vigil.AuditRoundClose) (int, error) {
	total := r.TotalBallots()
	next := 0
	allDone := true
	for _, rc := range r.Reported {
		c := rlaContest(rc, total)
		var d rla.Discrepancies
		sampled := 0
		for _, rd := range rounds {
			for _, dr := range rd.Draws {
				sampled++
				cvr, has := rd.CVRs[dr.Key()]
				var marks []vigil.ChoiceID
				if has {
					marks = cvr[rc.ID]
				}
				in, _ := r.Reading(rd.Round, dr.Key())
				switch discrepancy(c, marks, has, in) {
				case 1:
					d.O1++
				case 2:
					d.O2++
				case -1:
					d.U1++
				case -2:
					d.U2++
				}
			}
		}
		p, ok, err := rla.SuperSimpleRisk(c, r.Alpha(), sampled, d)
		if err != nil {
			return 0, vigil.Errorf(vigil.Invalid, "audit.measure", "contest %s cannot be audited: %v", rc.ID, err)
		}
		out.Results = append(out.Results, vigil.AuditContestResult{Contest: rc.ID, Targeted: rc.Targeted, Risk: p, Confirmed: ok,
			O1: d.O1, O2: d.O2, U1: d.U1, U2: d.U2})
		if rc.Targeted && !ok {
			allDone = false
			n, err := rla.SuperSimpleSampleSize(c, r.Alpha(), sampled, d)
			if err != nil {
				return 0, vigil.Errorf(vigil.Invalid, "audit.size", "contest %s: cannot size the next round: %v", rc.ID, err)
			}
			if n <= 0 {
				return 0, nil
			}
			next = max(next, n)
		}
	}
	if allDone {
		return 0, nil
	}
	return next, nil
}

// FirstRoundSize is the size of round 1: the size that finishes the audit
// in one round with a 90 % chance if the reported outcome is right.
// Errors: Invalid (the contests cannot be audited), Conflict (a full hand
// count is needed from the start).
func FirstRoundSize(r *Record) (int, error) {
	empty := *r
	empty.Rounds = nil
	total := r.TotalBallots()
	var n int
	var err error
	switch {
	case r.Settings.Kind.Polling():
		a := rla.Audit{Ballots: total, RiskLimit: r.Alpha()}
		for _, c := range r.Reported {
			a.Contests = append(a.Contests, rla.AuditContest{Contest: rlaContest(c, 0), Targeted: c.Targeted})
		}
		n, err = pollingSize(&empty, a, nil, nil)
	case r.Settings.Kind == vigil.AuditComparison:
		for _, rc := range r.Reported {
			if !rc.Targeted {
				continue
			}
			s, e := rla.SuperSimpleSampleSize(rlaContest(rc, total), r.Alpha(), 0, rla.Discrepancies{})
			if e != nil {
				err = vigil.Errorf(vigil.Invalid, "audit.size", "contest %s cannot be audited: %v", rc.ID, e)
				break
			}
			n = max(n, s)
		}
	case r.Settings.Kind == vigil.AuditBatch:
		return firstBatchSize(r)
	case r.Settings.Kind == vigil.AuditHybrid:
		cvr, noCVR, err := FirstHybridSizes(r)
		return cvr + noCVR, err
	default:
		return 0, vigil.FieldError("audit.size", "kind", "%s audits are not supported by the workflow", r.Settings.Kind)
	}
	if err != nil {
		return 0, err
	}
	if n <= 0 || n >= total {
		return 0, vigil.Errorf(vigil.Conflict, "audit.size", "the contests are too close to audit by sampling: count all %d ballots by hand", total)
	}
	return n, nil
}

// FormatReading renders one contest's reading as the bundle stores it:
// not_found, not_on_ballot, blank, overvote or the choices joined by "|".
func FormatReading(in vigil.AuditInterpretation, c vigil.ContestID) string {
	if in.NotFound {
		return "not_found"
	}
	for _, r := range in.Contests {
		if r.Contest == c {
			if r.Result != "" {
				return r.Result
			}
			s := make([]string, len(r.Choices))
			for i, ch := range r.Choices {
				s[i] = string(ch)
			}
			return strings.Join(s, "|")
		}
	}
	return ""
}
