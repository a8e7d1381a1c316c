package auditflow

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Full hand counts: when an audit escalates to a full hand count, the
// count's tally of each contest is recorded, and its outcome replaces the
// reported one. HandCountOutcome decides it the same way for the service,
// the report and the verifier.

// HandCountOutcome returns the winners of the hand count (most votes
// first; equal votes in the reported tally's order) and whether they are
// the reported winners (confirmed), others (overturned), or undecided
// because the last seat is tied.
func HandCountOutcome(rc vigil.AuditReportedContest, hc vigil.AuditHandCount) ([]vigil.ChoiceID, string) {
	seats := min(max(rc.Winners, 1), len(rc.Choices))
	order := func(votes func(vigil.AuditReportedChoice) int) []vigil.AuditReportedChoice {
		out := append([]vigil.AuditReportedChoice(nil), rc.Choices...)
		sort.SliceStable(out, func(i, j int) bool { return votes(out[i]) > votes(out[j]) })
		return out
	}
	counted := order(func(c vigil.AuditReportedChoice) int { return hc.Votes[c.ID] })
	reported := order(func(c vigil.AuditReportedChoice) int { return c.Votes })
	var winners, was []vigil.ChoiceID
	for i := range seats {
		winners = append(winners, counted[i].ID)
		was = append(was, reported[i].ID)
	}
	if seats < len(counted) && hc.Votes[counted[seats-1].ID] == hc.Votes[counted[seats].ID] {
		return winners, vigil.HandCountTied
	}
	slices.Sort(was)
	sorted := slices.Clone(winners)
	slices.Sort(sorted)
	if slices.Equal(was, sorted) {
		return winners, vigil.HandCountConfirmed
	}
	return winners, vigil.HandCountOverturned
}

// CheckHandCount validates a contest's hand count against the audit:
// an audited contest, known choices, counts that fit on the ballots.
// Errors: Invalid, naming the field.
func CheckHandCount(r *Record, hc vigil.AuditHandCount) (*vigil.AuditReportedContest, error) {
	const op = "audit.hand_count"
	var rc *vigil.AuditReportedContest
	for i := range r.Reported {
		if r.Reported[i].ID == hc.Contest {
			rc = &r.Reported[i]
		}
	}
	if rc == nil {
		return nil, vigil.FieldError(op, "contest", "contest %q is not audited here", hc.Contest)
	}
	if hc.Ballots < 0 || hc.Ballots > r.TotalBallots() {
		return nil, vigil.FieldError(op, "ballots", "the manifest holds %d ballots; a count of %d cannot be", r.TotalBallots(), hc.Ballots)
	}
	total := 0
	for ch, v := range hc.Votes {
		known := false
		for _, x := range rc.Choices {
			known = known || x.ID == ch
		}
		if !known {
			return nil, vigil.FieldError(op, "votes", "choice %q is not in contest %q", ch, hc.Contest)
		}
		if v < 0 {
			return nil, vigil.FieldError(op, "votes", "choice %q has a negative count %d", ch, v)
		}
		total += v
	}
	for _, x := range rc.Choices {
		if _, ok := hc.Votes[x.ID]; !ok {
			return nil, vigil.FieldError(op, "votes", "choice %q of contest %q has no count: give every choice's votes, 0 if none", x.ID, hc.Contest)
		}
	}
	if total > hc.Ballots*max(rc.Winners, 1) {
		return nil, vigil.FieldError(op, "votes", "%d votes cannot fit on %d ballots of a vote-for-%d contest", total, hc.Ballots, max(rc.Winners, 1))
	}
	return rc, nil
}

// verifyHandCounts checks the bundle's hand counts: only after a round
// closed with a full hand count, one per audited contest at most, and
// each one's winners and outcome recomputed from its votes.
func verifyHandCounts(rec *Record, rounds []bundleRound, hcs []vigil.AuditHandCount, bad func(part, format string, args ...any)) {
	if len(hcs) == 0 {
		return
	}
	if len(rounds) == 0 || rounds[len(rounds)-1].Status != vigil.AuditFullHandCount {
		bad("audit.json", "hand counts are recorded, but the audit did not escalate to a full hand count")
	}
	seen := map[vigil.ContestID]bool{}
	for i, hc := range hcs {
		rc, err := CheckHandCount(rec, hc)
		if err != nil {
			bad("audit.json", "hand_counts[%d]: %s", i, vigil.ErrorMessage(err))
			continue
		}
		if seen[hc.Contest] {
			bad("audit.json", "hand_counts[%d]: contest %s is counted twice", i, hc.Contest)
		}
		seen[hc.Contest] = true
		winners, outcome := HandCountOutcome(*rc, hc)
		if outcome != hc.Outcome || fmt.Sprint(winners) != fmt.Sprint(hc.Winners) {
			bad("audit.json", "hand_counts[%d]: contest %s is %s with winners %v, but its votes give %s with winners %v",
				i, hc.Contest, hc.Outcome, hc.Winners, outcome, winners)
		}
	}
}

// ContestOutcome is where a contest stands: what the audit or, after an
// escalation, the full hand count says about its reported outcome.
type ContestOutcome struct {
	Contest  vigil.ContestID  `json:"contest"`
	Reported []vigil.ChoiceID `json:"reported_winners"`
	// Status is "in progress", "confirmed by the audit", "full hand count
	// pending", or the hand count's outcome: "confirmed by the full hand
	// count", "OVERTURNED by the full hand count", "tied in the full hand
	// count".
	Status string `json:"status"`
	// Winners are the hand count's winners, when one is recorded.
	Winners []vigil.ChoiceID `json:"hand_count_winners,omitempty"`
	// Overturned reports that the hand count elected someone else.
	Overturned bool `json:"overturned"`
}

// Outcomes lists every audited contest's outcome, in the reported order.
func Outcomes(r *Record) []ContestOutcome {
	var last *vigil.AuditRoundClose
	if n := len(r.Rounds); n > 0 {
		last = r.Rounds[n-1].Close
	}
	var out []ContestOutcome
	for _, rc := range r.Reported {
		o := ContestOutcome{Contest: rc.ID, Status: "in progress"}
		seats := min(max(rc.Winners, 1), len(rc.Choices))
		rep := append([]vigil.AuditReportedChoice(nil), rc.Choices...)
		sort.SliceStable(rep, func(i, j int) bool { return rep[i].Votes > rep[j].Votes })
		for _, ch := range rep[:seats] {
			o.Reported = append(o.Reported, ch.ID)
		}
		if last != nil {
			for _, res := range last.Results {
				if res.Contest == rc.ID && res.Confirmed {
					o.Status = fmt.Sprintf("confirmed by the audit (risk %.4g)", res.Risk)
				}
			}
			if last.Status == vigil.AuditFullHandCount && !strings.HasPrefix(o.Status, "confirmed") {
				o.Status = "full hand count pending"
			}
		}
		for _, hc := range r.HandCounts {
			if hc.Contest != rc.ID {
				continue
			}
			o.Winners = hc.Winners
			switch hc.Outcome {
			case vigil.HandCountConfirmed:
				o.Status = "confirmed by the full hand count"
			case vigil.HandCountOverturned:
				o.Status = "OVERTURNED by the full hand count: the hand count's winners stand"
				o.Overturned = true
			default:
				o.Status = "tied in the full hand count: break the tie as the law says"
			}
		}
		out = append(out, o)
	}
	return out
}
