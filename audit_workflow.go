package vigil

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The risk-limiting audit workflow (issue 7): an audit is created with its
// settings, seeded in a public ceremony, drawn round by round from the
// ballot manifest, read by audit boards and closed round by round with each
// contest's risk measure, until every targeted contest meets the risk limit
// or goes to a full hand count. Every step is an event; the math is in
// package rla, the recomputation from a public bundle in package auditflow.

// AuditID names an audit ("2026-general", "A1").
type AuditID string

// AuditKind is the kind of risk-limiting audit. The names are stored in
// the log: never rename one.
type AuditKind string

const (
	AuditBRAVO      AuditKind = "bravo"      // ballot polling, Wald's SPRT
	AuditMinerva    AuditKind = "minerva"    // ballot polling, round by round
	AuditComparison AuditKind = "comparison" // ballot comparison (super-simple / Kaplan-Markov)
	AuditBatch      AuditKind = "batch"      // batch comparison (MACRO)
	AuditHybrid     AuditKind = "hybrid"     // stratified (SUITE): comparison where batches have CVRs, polling where not
)

// AuditKinds lists the kinds, for messages and forms.
var AuditKinds = []AuditKind{AuditBRAVO, AuditMinerva, AuditComparison, AuditBatch, AuditHybrid}

// Polling reports whether the kind samples ballots with replacement and
// reads votes without a CVR.
func (k AuditKind) Polling() bool { return k == AuditBRAVO || k == AuditMinerva }

// Audit events. Names are noun.verb and never change.
const (
	EventAuditCreated      EventType = "audit.created"       // payload AuditSettings
	EventAuditSeedDigit    EventType = "audit.seed_digit"    // payload AuditSeedDigit
	EventAuditSeeded       EventType = "audit.seeded"        // payload AuditSeed
	EventAuditBoardCreated EventType = "audit.board_created" // payload AuditBoard
	EventAuditRoundStarted EventType = "audit.round_started" // payload AuditRound
	EventAuditInterpreted  EventType = "audit.interpreted"   // payload AuditInterpretation
	EventAuditSignedOff    EventType = "audit.signed_off"    // payload AuditSignOff
	EventAuditRoundClosed  EventType = "audit.round_closed"  // payload AuditRoundClose
	EventAuditBatchCounted EventType = "audit.batch_counted" // payload AuditBatchCount (batch comparison)
	EventAuditHandCounted  EventType = "audit.hand_counted"  // payload AuditHandCount (after escalation to a full hand count)
)

// AuditContest is one contest of an audit: targeted contests must meet the
// risk limit; opportunistic ones are measured from the same ballots.
type AuditContest struct {
	ID       ContestID `json:"id"`
	Targeted bool      `json:"targeted"`
}

// AuditSettings is the payload of audit.created.
type AuditSettings struct {
	ID            AuditID        `json:"id"`
	Name          string         `json:"name"`
	Kind          AuditKind      `json:"kind"`
	RiskLimit     int            `json:"risk_limit"` // percent, 1..20
	Contests      []AuditContest `json:"contests"`
	Jurisdictions []string       `json:"jurisdictions"` // county ids
	// NoCVR holds, for hybrid audits only, each contest's reported result
	// in the ballots without cast vote records (the manifest batches
	// marked CVR: N), which the tabulation cannot know: one entry per
	// audited contest.
	NoCVR []AuditStratumTally `json:"no_cvr,omitempty"`
}

// AuditStratumTally is a contest's reported result in one stratum of a
// hybrid audit: the stratum's ballots that hold the contest and each
// choice's votes.
type AuditStratumTally struct {
	Contest ContestID        `json:"contest"`
	Ballots int              `json:"ballots"`
	Votes   map[ChoiceID]int `json:"votes"`
}

var auditIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// MaxRiskLimit is the largest risk limit an audit may use, in percent.
const MaxRiskLimit = 20

// Validate checks the settings on their own; contests and jurisdictions
// are checked against the tabulation when the audit is created.
func (s AuditSettings) Validate() error {
	const op = "audit.validate"
	if !auditIDPattern.MatchString(string(s.ID)) {
		return FieldError(op, "id", "an audit id is 1-64 letters, digits, - or _")
	}
	if strings.TrimSpace(s.Name) == "" {
		return FieldError(op, "name", "an audit needs a name")
	}
	known := false
	for _, k := range AuditKinds {
		known = known || s.Kind == k
	}
	if !known {
		return FieldError(op, "kind", "unknown audit kind %q; use bravo, minerva, comparison, batch or hybrid", s.Kind)
	}
	if s.RiskLimit < 1 || s.RiskLimit > MaxRiskLimit {
		return FieldError(op, "risk_limit", "the risk limit is a percentage from 1 to %d, not %d", MaxRiskLimit, s.RiskLimit)
	}
	if len(s.Contests) == 0 {
		return FieldError(op, "contests", "name at least one contest to audit")
	}
	seen := map[ContestID]bool{}
	targeted := false
	for i, c := range s.Contests {
		if c.ID == "" {
			return FieldError(op, fmt.Sprintf("contests[%d]", i), "a contest needs an id")
		}
		if seen[c.ID] {
			return FieldError(op, fmt.Sprintf("contests[%d]", i), "contest %q is listed twice", c.ID)
		}
		seen[c.ID] = true
		targeted = targeted || c.Targeted
	}
	if !targeted {
		return FieldError(op, "contests", "at least one contest must be targeted")
	}
	if err := s.validateNoCVR(op, seen); err != nil {
		return err
	}
	if len(s.Jurisdictions) == 0 {
		return FieldError(op, "jurisdictions", "name at least one jurisdiction (county)")
	}
	js := map[string]bool{}
	for i, j := range s.Jurisdictions {
		if !scopeSegment.MatchString(j) {
			return FieldError(op, fmt.Sprintf("jurisdictions[%d]", i), "a jurisdiction id is 1-64 letters, digits, - or _")
		}
		if js[j] {
			return FieldError(op, fmt.Sprintf("jurisdictions[%d]", i), "jurisdiction %q is listed twice", j)
		}
		js[j] = true
	}
	return nil
}

// validateNoCVR checks the no-CVR stratum's tallies: exactly one per
// audited contest in a hybrid audit, none in any other kind.
func (s AuditSettings) validateNoCVR(op string, contests map[ContestID]bool) error {
	if s.Kind != AuditHybrid {
		if len(s.NoCVR) > 0 {
			return FieldError(op, "no_cvr", "only a hybrid audit takes reported results for ballots without CVRs")
		}
		return nil
	}
	got := map[ContestID]bool{}
	for i, t := range s.NoCVR {
		field := fmt.Sprintf("no_cvr[%d]", i)
		if !contests[t.Contest] {
			return FieldError(op, field+".contest", "contest %q is not audited here", t.Contest)
		}
		if got[t.Contest] {
			return FieldError(op, field+".contest", "contest %q has two no-CVR tallies", t.Contest)
		}
		got[t.Contest] = true
		if t.Ballots < 0 {
			return FieldError(op, field+".ballots", "a ballot count cannot be negative")
		}
		total := 0
		for ch, v := range t.Votes {
			if ch == "" || v < 0 {
				return FieldError(op, field+".votes", "votes need a choice and cannot be negative")
			}
			if v > t.Ballots {
				return FieldError(op, field+".votes", "choice %q has %d votes on %d ballots", ch, v, t.Ballots)
			}
			total += v
		}
		if total > t.Ballots {
			return FieldError(op, field+".votes", "%d votes on %d ballots of a vote-for-1 contest", total, t.Ballots)
		}
	}
	for i, c := range s.Contests {
		if !got[c.ID] {
			return FieldError(op, fmt.Sprintf("contests[%d]", i), "a hybrid audit needs contest %q's reported result in the ballots without CVRs (no_cvr)", c.ID)
		}
	}
	return nil
}

// Scope is where the audit lives: its county if it has one jurisdiction,
// the state otherwise. Audit roles act on it only within their grants.
func (s AuditSettings) Scope() Scope {
	if len(s.Jurisdictions) == 1 {
		return CountyScope(s.Jurisdictions[0])
	}
	return ScopeState
}

// AuditSeedDigit is the payload of audit.seed_digit: one roll of a
// ten-sided die, entered in the public ceremony.
type AuditSeedDigit struct {
	Audit AuditID `json:"audit"`
	Index int     `json:"index"` // 1-based position in the seed
	Digit int     `json:"digit"` // 0..9
}

// AuditSeed is the payload of audit.seeded: the finished seed, the digits
// entered in order. It can be set once.
type AuditSeed struct {
	Audit AuditID `json:"audit"`
	Seed  string  `json:"seed"`
}

// MinSeedDigits is the fewest dice a seed ceremony rolls (rla.MinSeedDigits).
const MinSeedDigits = 20

// ValidateSeed checks a finished seed: decimal digits only, at least
// MinSeedDigits of them.
func ValidateSeed(seed string) error {
	for _, r := range seed {
		if r < '0' || r > '9' {
			return FieldError("audit.seed", "seed", "a seed is the digits of ten-sided dice only, got %q", r)
		}
	}
	if len(seed) < MinSeedDigits {
		return FieldError("audit.seed", "seed", "the seed has %d digits; roll at least %d ten-sided dice", len(seed), MinSeedDigits)
	}
	return nil
}

// AuditBoard is the payload of audit.board_created: a board of two people
// who retrieve and read the ballots of one jurisdiction.
type AuditBoard struct {
	Audit        AuditID  `json:"audit"`
	Board        string   `json:"board"`
	Jurisdiction string   `json:"jurisdiction"`
	Members      []string `json:"members"` // two user names
}

// Validate checks the board on its own.
func (b AuditBoard) Validate() error {
	const op = "audit.board"
	if !scopeSegment.MatchString(b.Board) {
		return FieldError(op, "board", "a board name is 1-64 letters, digits, - or _")
	}
	if b.Jurisdiction == "" {
		return FieldError(op, "jurisdiction", "a board works in one jurisdiction")
	}
	if len(b.Members) != 2 || b.Members[0] == b.Members[1] {
		return FieldError(op, "members", "an audit board has two different members")
	}
	for _, m := range b.Members {
		if err := ValidateUserName(m); err != nil {
			return FieldError(op, "members", "%q is not a user name", m)
		}
	}
	return nil
}

// AuditBallot names one paper ballot in the manifest.
type AuditBallot struct {
	Jurisdiction string `json:"jurisdiction"`
	Tabulator    string `json:"tabulator"`
	Batch        string `json:"batch"`
	Position     int    `json:"position"`
}

// Key is the ballot's stable name: jurisdiction/tabulator/batch/position.
func (b AuditBallot) Key() string {
	return b.BatchKey() + "/" + strconv.Itoa(b.Position)
}

// BatchKey is the name of the ballot's batch in the sampler's manifest.
func (b AuditBallot) BatchKey() string {
	return b.Jurisdiction + "/" + b.Tabulator + "/" + b.Batch
}

// AuditDraw is one draw of a round's sample.
type AuditDraw struct {
	Ticket string `json:"ticket"`
	AuditBallot
	Container string `json:"container,omitempty"`
	Times     int    `json:"times"` // how often the ballot was drawn so far (polling)
	Board     string `json:"board"`
}

// AuditManifestBatch is one batch of the manifest the audit samples.
type AuditManifestBatch struct {
	Jurisdiction string `json:"jurisdiction"`
	Container    string `json:"container,omitempty"`
	Tabulator    string `json:"tabulator"`
	Batch        string `json:"batch"`
	Ballots      int    `json:"ballots"`
	// NoCVR marks a batch whose ballots have no cast vote records (the
	// manifest's "CVR: N"); a hybrid audit samples it by ballot polling.
	NoCVR bool `json:"no_cvr,omitempty"`
}

// AuditReportedChoice is one choice's reported votes.
type AuditReportedChoice struct {
	ID    ChoiceID `json:"id"`
	Name  string   `json:"name"`
	Votes int      `json:"votes"`
}

// AuditReportedContest is a contest's reported outcome as the audit tests
// it: ballots cast in the contest, winners and every choice's votes.
type AuditReportedContest struct {
	ID       ContestID             `json:"id"`
	Name     string                `json:"name"`
	Targeted bool                  `json:"targeted"`
	Winners  int                   `json:"winners"`
	Ballots  int                   `json:"ballots"`
	Choices  []AuditReportedChoice `json:"choices"`
	// CVR and NoCVR (hybrid audits) split Ballots and the choices' votes
	// between the ballots with CVRs (counted from the CVRs) and those
	// without (as the audit's settings report them).
	CVR   *AuditStratumTally `json:"cvr,omitempty"`
	NoCVR *AuditStratumTally `json:"no_cvr,omitempty"`
}

// AuditRound is the payload of audit.round_started: the round's size and
// draws. The first round also freezes the manifest and the reported
// results that every later round uses.
type AuditRound struct {
	Audit AuditID `json:"audit"`
	Round int     `json:"round"`
	Size  int     `json:"size"`
	// CVRSize and NoCVRSize split Size between the strata (hybrid).
	CVRSize   int                    `json:"cvr_size,omitempty"`
	NoCVRSize int                    `json:"no_cvr_size,omitempty"`
	Manifest  []AuditManifestBatch   `json:"manifest,omitempty"` // round 1 only
	Reported  []AuditReportedContest `json:"reported,omitempty"` // round 1 only
	// Batches holds, for batch comparison, the reported tally of the
	// audited contest in every manifest batch (round 1 only).
	Batches []AuditBatchTally `json:"batches,omitempty"`
	Draws   []AuditDraw       `json:"draws"`
	// CVRs holds, for comparison audits, the cast vote record of each
	// drawn ballot by ballot key (contest → choices marked), kept out of
	// every board's view until the round closes. A ballot with no CVR is
	// absent.
	CVRs map[string]map[ContestID][]ChoiceID `json:"cvrs,omitempty"`
}

// Interpretation results of one contest on one ballot, besides choices.
const (
	AuditNotOnBallot = "not_on_ballot" // the contest is not on this ballot
	AuditBlank       = "blank"         // on the ballot, no vote (undervote)
	AuditOvervote    = "overvote"      // more marks than allowed: no vote counts
)

// AuditContestReading is what a board read for one contest on one ballot.
type AuditContestReading struct {
	Contest ContestID  `json:"contest"`
	Result  string     `json:"result,omitempty"`  // "", AuditNotOnBallot, AuditBlank or AuditOvervote
	Choices []ChoiceID `json:"choices,omitempty"` // the votes, when Result is ""
}

// AuditInterpretation is the payload of audit.interpreted: a board's
// reading of one sampled ballot (or "not found"). A later reading of the
// same ballot in the same round replaces it until the batch is signed off.
type AuditInterpretation struct {
	Audit    AuditID               `json:"audit"`
	Round    int                   `json:"round"`
	Board    string                `json:"board"`
	Ballot   AuditBallot           `json:"ballot"`
	NotFound bool                  `json:"not_found,omitempty"`
	Contests []AuditContestReading `json:"contests,omitempty"`
}

// AuditSignOff is the payload of audit.signed_off: one board member signs
// off one batch of the board's retrieval list. A batch is done when both
// members have signed.
type AuditSignOff struct {
	Audit        AuditID `json:"audit"`
	Round        int     `json:"round"`
	Board        string  `json:"board"`
	Jurisdiction string  `json:"jurisdiction"`
	Tabulator    string  `json:"tabulator"`
	Batch        string  `json:"batch"`
	Member       string  `json:"member"`
}

// AuditContestResult is one contest's measured risk after a round.
type AuditContestResult struct {
	Contest   ContestID `json:"contest"`
	Targeted  bool      `json:"targeted"`
	Risk      float64   `json:"risk"` // the P-value (max over pairs)
	Confirmed bool      `json:"confirmed"`
	// Discrepancies (comparison audits): over- and understatements.
	O1 int `json:"o1,omitempty"`
	O2 int `json:"o2,omitempty"`
	U1 int `json:"u1,omitempty"`
	U2 int `json:"u2,omitempty"`
	// Votes found on the sampled ballots so far, by choice (polling; in
	// hybrid audits, the ballots of the no-CVR stratum).
	Votes map[ChoiceID]int `json:"votes,omitempty"`
	// CVRSampled and NoCVRSampled (hybrid) are the ballots drawn so far
	// in each stratum.
	CVRSampled   int `json:"cvr_sampled,omitempty"`
	NoCVRSampled int `json:"no_cvr_sampled,omitempty"`
}

// Audit statuses after a round closes.
const (
	AuditInProgress    = "in_progress"     // another round is needed
	AuditComplete      = "complete"        // every targeted contest met the risk limit
	AuditFullHandCount = "full_hand_count" // the next round would be a full count: count every ballot by hand
)

// AuditRoundClose is the payload of audit.round_closed.
type AuditRoundClose struct {
	Audit    AuditID              `json:"audit"`
	Round    int                  `json:"round"`
	Results  []AuditContestResult `json:"results"`
	Status   string               `json:"status"`
	NextSize int                  `json:"next_size,omitempty"` // when in progress
	// NextCVR and NextNoCVR split NextSize between the strata (hybrid).
	NextCVR   int `json:"next_cvr,omitempty"`
	NextNoCVR int `json:"next_no_cvr,omitempty"`
}

// AuditBatchTally is one batch's votes in one audited contest of a batch
// comparison audit: reported (from the CVRs) or counted by hand.
type AuditBatchTally struct {
	Jurisdiction string `json:"jurisdiction"`
	Tabulator    string `json:"tabulator"`
	Batch        string `json:"batch"`
	// Contest is the contest counted; empty in audits of one contest
	// recorded before audits of several (it is then that contest).
	Contest ContestID        `json:"contest,omitempty"`
	Ballots int              `json:"ballots"` // ballots in the batch that hold the contest
	Votes   map[ChoiceID]int `json:"votes"`
}

// BatchKey is the batch's name in the manifest: jurisdiction/tabulator/batch.
func (t AuditBatchTally) BatchKey() string {
	return AuditBallot{Jurisdiction: t.Jurisdiction, Tabulator: t.Tabulator, Batch: t.Batch}.BatchKey()
}

// AuditBatchCount is the payload of audit.batch_counted: a board's hand
// count of a drawn batch. A later count of the same batch in the same
// round replaces it until the batch is signed off.
type AuditBatchCount struct {
	Audit AuditID `json:"audit"`
	Round int     `json:"round"`
	Board string  `json:"board"`
	AuditBatchTally
}

// Outcomes of a contest's full hand count against its reported outcome.
const (
	HandCountConfirmed  = "confirmed"  // the hand count elects the reported winners
	HandCountOverturned = "overturned" // the hand count elects someone else: its outcome stands
	HandCountTied       = "tied"       // the hand count ties for the last seat: the tie is broken as the law says
)

// AuditHandCount is the payload of audit.hand_counted: the tally of a
// contest's full hand count, recorded once the audit has escalated to a
// full hand count. The hand count's outcome is the contest's outcome.
type AuditHandCount struct {
	Audit   AuditID          `json:"audit"`
	Contest ContestID        `json:"contest"`
	Ballots int              `json:"ballots"` // ballots counted that hold the contest
	Votes   map[ChoiceID]int `json:"votes"`
	// Winners and Outcome are computed when the count is recorded, from
	// the votes and the reported result, and stored with it.
	Winners []ChoiceID `json:"winners"`
	Outcome string     `json:"outcome"` // HandCountConfirmed, HandCountOverturned or HandCountTied
}
