package vigil

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Electronic pollbooks: checking voters in at a polling place, undoing a
// mistaken check-in, provisional ballots and their adjudication.
//
// A check-in is a claim in the log: the event checkin.recorded is appended
// on the subject ev.checkin.<voter ID> with AppendOptions.ExpectSubjectSeq
// set to the last sequence on that subject as the pollbook knows it (0: the
// voter was never checked in; after an undo, the undo's sequence). The claim
// and the event are one durable write. Of two pollbooks racing for the same
// voter, exactly one append is stored; the other fails with Conflict and is
// shown the winner's event (who, where, when).
//
// Every event on a voter's check-in subject MUST be appended as a claim, so
// that the subject's last sequence is always a claim (check-in, undo,
// conflict) the projections have seen; refusals use another noun.

// Event types of the pollbooks. Never rename one.
const (
	// EventCheckInRecorded: a voter was checked in (in person, or a mail
	// ballot was received); a CheckIn, claimed on ev.checkin.<voter>.
	EventCheckInRecorded EventType = "checkin.recorded"
	// EventCheckInUndone: a supervisor undid a mistaken check-in; a
	// CheckInUndo, claimed on ev.checkin.<voter> over the check-in.
	EventCheckInUndone EventType = "checkin.undone"
	// EventCheckInRefused: a check-in was refused (wrong place, outside the
	// voting period, already checked in …); a CheckInRefusal. Recorded so
	// that attempted double votes and out-of-scope check-ins are visible.
	EventCheckInRefused EventType = "pollbook.refused"
	// EventProvisionalIssued: a provisional ballot was issued; a
	// ProvisionalBallot, claimed on ev.provisional.<county>-<envelope>.
	EventProvisionalIssued EventType = "provisional.issued"
	// EventProvisionalAdjudicated: the county accepted or rejected a
	// provisional ballot; a ProvisionalDecision claimed over the issue.
	EventProvisionalAdjudicated EventType = "provisional.adjudicated"
	// EventCheckInConflicted: a check-in made at a site while it was cut
	// off from the hub lost its claim when merged, because the voter was
	// already checked in elsewhere; a CheckInConflict naming both, claimed
	// on ev.checkin.<voter> over the kept check-in. Both check-ins stay in
	// the logs; the county resolves the conflict.
	EventCheckInConflicted EventType = "checkin.conflicted"
	// EventConflictResolved: the county resolved a conflict; a
	// ConflictResolution.
	EventConflictResolved EventType = "conflict.resolved"
	// EventSitePaperMode: a supervisor switched a polling place to the
	// paper pollbook (or back); a SitePaperMode. While on paper, the
	// place's electronic check-ins are refused; the paper check-ins are
	// entered afterwards (checkin.recorded with Source "paper", or a
	// checkin.conflicted naming both when the voter was checked in
	// elsewhere meanwhile).
	EventSitePaperMode EventType = "site.paper_mode"
	// EventSiteEntryRefused: the hub refused an entry a polling-place site
	// sent it (an event type a site may not write, another place's, or
	// not the site's own): a SiteEntryRefused holding the entry itself, so
	// that nothing the site sent is lost, and an alert for the county.
	EventSiteEntryRefused EventType = "site.entry_refused"
	// EventCountyPolicySet: the county's election-day rules changed; a
	// CountyPolicy. Today: whether poll workers may register a voter who
	// is not on the roll and check them in (same-day registration).
	EventCountyPolicySet EventType = "county.policy_set"
	// EventSiteMerged: the hub took a batch of a polling-place site's
	// offline entries; a SiteMerged with what became of them. Entries the
	// hub already held (Already) are a lost reply, a replayed message, or
	// a site restored from an older copy: nothing is stored twice, and the
	// county is told.
	EventSiteMerged EventType = "site.merged"
	// EventSiteLink: a polling-place site's link to the hub came up or
	// went down, as the hub saw it; a SiteLink.
	EventSiteLink EventType = "site.link"
)

// SiteLink is the payload of site.link.
type SiteLink struct {
	Site string `json:"site"`
	Up   bool   `json:"up"`
}

// SiteMerged is the payload of site.merged.
type SiteMerged struct {
	Site      string `json:"site"`
	From      uint64 `json:"from"` // the batch's entries in the site's log
	To        uint64 `json:"to"`
	Merged    int    `json:"merged"`
	Conflicts int    `json:"conflicts"`
	Already   int    `json:"already"`
	Refused   int    `json:"refused"`
}

// CountyPolicy is the payload of county.policy_set.
type CountyPolicy struct {
	County              string `json:"county"`
	SameDayRegistration bool   `json:"same_day_registration"`
	Reason              string `json:"reason"`
}

// CheckInSameDay is the Identity of a check-in that followed a same-day
// registration at the polls.
const CheckInSameDay = "same-day registration"

// SiteEntryRefused is the payload of site.entry_refused.
type SiteEntryRefused struct {
	Site   string `json:"site"` // the site's name
	Reason string `json:"reason"`
	Entry  Event  `json:"entry"`
}

// SitePaperMode is the payload of site.paper_mode.
type SitePaperMode struct {
	Site   Scope  `json:"site"`
	On     bool   `json:"on"`
	Reason string `json:"reason,omitempty"`
}

// CheckInSourcePaper marks a check-in entered from the paper pollbook.
const CheckInSourcePaper = "paper"

// CheckInConflict is the payload of checkin.conflicted: the check-in the
// hub's log holds (Kept) and the site's check-in that lost the merge
// (Other), with who, where and when for each.
type CheckInConflict struct {
	Voter    VoterID       `json:"voter"`
	Election string        `json:"election"`
	Kept     CheckInRecord `json:"kept"`
	Other    CheckInRecord `json:"other"`
}

// ConflictResolution is the payload of conflict.resolved.
type ConflictResolution struct {
	Voter    VoterID `json:"voter"`
	Conflict string  `json:"conflict"` // the checkin.conflicted event id
	Outcome  string  `json:"outcome"`  // what the county decided, e.g. "one ballot counted; referred for investigation"
}

// CheckIn is the payload of checkin.recorded. Who and when are the event's
// actor and time; where is Place.
type CheckIn struct {
	Voter       VoterID      `json:"voter"`
	Election    string       `json:"election"`
	County      string       `json:"county"`
	Place       string       `json:"place"` // the polling place (site) that checked the voter in
	Precinct    string       `json:"precinct"`
	BallotStyle string       `json:"ballot_style"`
	Method      VotingMethod `json:"method"`               // in-person, or absentee for a received mail ballot
	Identity    string       `json:"identity,omitempty"`   // how identity was confirmed: licence, id-card, other
	Device      string       `json:"device,omitempty"`     // the pollbook device, when known
	DeviceTime  time.Time    `json:"device_time,omitzero"` // the device's clock at check-in (detection compares it)
	// Source is "paper" for a check-in entered from the paper pollbook
	// afterwards; PaperTime is the time written on paper, when there is one.
	Source    string    `json:"source,omitempty"`
	PaperTime time.Time `json:"paper_time,omitzero"`
}

// Validate checks the check-in's fields.
func (c CheckIn) Validate() error {
	const op = "checkin.validate"
	switch {
	case c.Voter == "" || len(c.Voter) > MaxVoterIDLen:
		return FieldError(op, "voter", "must be a voter ID of 1-%d characters", MaxVoterIDLen)
	case c.Election == "":
		return FieldError(op, "election", "is empty")
	case c.County == "":
		return FieldError(op, "county", "is empty")
	case c.Method != MethodInPerson && c.Method != MethodAbsentee && c.Method != MethodEarly:
		return FieldError(op, "method", "must be in-person, early or absentee")
	case c.Method != MethodAbsentee && c.Place == "":
		return FieldError(op, "place", "is empty")
	case len(c.Identity) > 64 || len(c.Device) > 64:
		return FieldError(op, "identity", "is longer than 64 characters")
	}
	return nil
}

// CheckInUndo is the payload of checkin.undone.
type CheckInUndo struct {
	Voter    VoterID `json:"voter"`
	Election string  `json:"election"`
	Place    string  `json:"place"`
	Undoes   string  `json:"undoes"` // the id of the checkin.recorded event
	Reason   string  `json:"reason"`
}

// MaxReasonLen bounds free-text reasons (undo, adjudication, refusal).
const MaxReasonLen = 500

// ValidateReason checks a free-text reason a person must give.
func ValidateReason(op, field, s string) error {
	s = strings.TrimSpace(s)
	if len(s) < 3 {
		return FieldError(op, field, "is required: say in a few words why")
	}
	if len(s) > MaxReasonLen || !printableText(s) {
		return FieldError(op, field, "must be printable text of at most %d characters", MaxReasonLen)
	}
	return nil
}

// RefusalReason names why a check-in was refused. Append-only.
type RefusalReason string

const (
	RefusedNotFound       RefusalReason = "not_found"       // not on the roll: provisional
	RefusedWrongPlace     RefusalReason = "wrong_place"     // registered elsewhere: send them there, or provisional
	RefusedOutOfScope     RefusalReason = "out_of_scope"    // a voter of another county: provisional
	RefusedNotOpen        RefusalReason = "not_open"        // outside the election's voting period
	RefusedInactive       RefusalReason = "inactive"        // status inactive, pending or cancelled: provisional
	RefusedCheckedIn      RefusalReason = "checked_in"      // already checked in (here or elsewhere)
	RefusedVotedByMail    RefusalReason = "voted_by_mail"   // a mail ballot was received
	RefusedNotCheckedIn   RefusalReason = "not_checked_in"  // an undo of a voter who is not checked in
	RefusedPlaceOnPaper   RefusalReason = "paper_mode"      // the site is on the paper pollbook
	RefusedProvisionalDup RefusalReason = "envelope_in_use" // the envelope number was used before
)

// CheckInRecord is a check-in as the pollbooks know it: who checked the
// voter in, where and when.
type CheckInRecord struct {
	CheckIn
	Event     string    `json:"event"`      // the checkin.recorded event id
	Seq       uint64    `json:"seq"`        // its log entry
	Actor     string    `json:"actor"`      // the poll worker
	Time      time.Time `json:"time"`       // when
	Origin    string    `json:"origin"`     // the node that took it
	PlaceName string    `json:"place_name"` // the polling place's name
}

// CheckInRefusal is the payload of pollbook.refused, and the detail of a
// refused check-in's error (errors.As): what the poll worker must know to
// act. Prior is set when the voter already checked in (who, where, when);
// Place when the voter belongs to another polling place (where to go).
type CheckInRefusal struct {
	Reason      RefusalReason  `json:"reason"`
	Voter       VoterID        `json:"voter,omitempty"`
	Election    string         `json:"election,omitempty"`
	Site        string         `json:"site,omitempty"` // the polling place that asked
	Message     string         `json:"message"`
	Prior       *CheckInRecord `json:"prior,omitempty"`
	Place       *PollingPlace  `json:"place,omitempty"`
	Provisional bool           `json:"provisional"` // a provisional ballot may be offered
}

func (r *CheckInRefusal) Error() string { return r.Message }

// Kind is the error kind the refusal is reported with.
func (r *CheckInRefusal) Kind() Kind {
	switch r.Reason {
	case RefusedNotFound:
		return NotFound
	case RefusedWrongPlace, RefusedOutOfScope, RefusedNotOpen:
		return Permission
	}
	return Conflict
}

// Err wraps the refusal as a *Error for op.
func (r *CheckInRefusal) Err(op string) *Error {
	return &Error{Op: op, Kind: r.Kind(), Message: r.Message, Err: r}
}

// AlreadyCheckedInMessage is the plain-language sentence for a prior
// check-in: who, where and when.
func AlreadyCheckedInMessage(p *CheckInRecord, site string, loc *time.Location) string {
	when := p.Time.In(loc).Format("15:04 on Jan 2")
	if p.Method == MethodAbsentee {
		return fmt.Sprintf("A mail ballot from this voter was received (recorded by %s at %s). Do not issue a regular ballot; offer a provisional ballot.", p.Actor, when)
	}
	where := p.PlaceName
	if where == "" {
		where = p.Place
	}
	here := ""
	if p.Place == site {
		here = " (this polling place)"
	}
	return fmt.Sprintf("Already checked in at %s%s by %s at %s. Do not issue a regular ballot; a supervisor can undo a mistake, or offer a provisional ballot.",
		where, here, p.Actor, when)
}

// ProvisionalReason says why a provisional ballot was issued. Append-only.
type ProvisionalReason string

const (
	ProvisionalNotFound    ProvisionalReason = "not_on_roll"
	ProvisionalWrongPlace  ProvisionalReason = "wrong_place"
	ProvisionalCheckedIn   ProvisionalReason = "already_checked_in"
	ProvisionalMailBallot  ProvisionalReason = "mail_ballot_issued"
	ProvisionalInactive    ProvisionalReason = "inactive"
	ProvisionalNoID        ProvisionalReason = "no_id"
	ProvisionalCourtOrder  ProvisionalReason = "extended_hours"
	ProvisionalOtherReason ProvisionalReason = "other"
)

var provisionalReasons = map[ProvisionalReason]bool{ProvisionalNotFound: true, ProvisionalWrongPlace: true,
	ProvisionalCheckedIn: true, ProvisionalMailBallot: true, ProvisionalInactive: true, ProvisionalNoID: true,
	ProvisionalCourtOrder: true, ProvisionalOtherReason: true}

// Valid reports whether r is a known reason.
func (r ProvisionalReason) Valid() bool { return provisionalReasons[r] }

// ProvisionalBallot is the payload of provisional.issued: the envelope and
// what the voter stated on it.
type ProvisionalBallot struct {
	Envelope  string            `json:"envelope"` // the envelope's printed number, unique in the county
	Election  string            `json:"election"`
	County    string            `json:"county"`
	Place     string            `json:"place"`
	Reason    ProvisionalReason `json:"reason"`
	Voter     VoterID           `json:"voter,omitempty"` // when the voter was found on the roll
	FirstName string            `json:"first_name"`
	LastName  string            `json:"last_name"`
	BirthDate string            `json:"birth_date"` // YYYY-MM-DD
	Address   string            `json:"address"`
	Note      string            `json:"note,omitempty"`
}

// Key is the log key of the envelope: county and number.
func (p ProvisionalBallot) Key() string { return p.County + "-" + p.Envelope }

// Validate checks the ballot's fields.
func (p ProvisionalBallot) Validate() error {
	const op = "provisional.validate"
	if p.Envelope == "" || len(p.Envelope) > 32 || strings.Trim(p.Envelope, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return FieldError(op, "envelope", "must be the envelope's number: 1-32 capital letters, digits or -")
	}
	if !p.Reason.Valid() {
		return FieldError(op, "reason", "unknown reason %q", p.Reason)
	}
	for _, f := range []struct{ name, v string }{{"first_name", p.FirstName}, {"last_name", p.LastName}, {"address", p.Address}} {
		if strings.TrimSpace(f.v) == "" {
			return FieldError(op, f.name, "is required")
		}
		if len(f.v) > MaxFieldLen || !printableText(f.v) {
			return FieldError(op, f.name, "must be printable text of at most %d characters", MaxFieldLen)
		}
	}
	if d, err := ParseDate(p.BirthDate); err != nil || !d.Valid() || d.YearOnly() {
		return FieldError(op, "birth_date", "must be a date YYYY-MM-DD")
	}
	if len(p.Note) > MaxReasonLen || !printableText(p.Note) {
		return FieldError(op, "note", "must be printable text of at most %d characters", MaxReasonLen)
	}
	if p.Election == "" || p.County == "" || p.Place == "" {
		return FieldError(op, "election", "election, county and place are required")
	}
	return nil
}

// ProvisionalDecision is the payload of provisional.adjudicated.
type ProvisionalDecision struct {
	Envelope string `json:"envelope"`
	County   string `json:"county"`
	Accepted bool   `json:"accepted"`
	Reason   string `json:"reason"`
}

// CheckInRequest is what a pollbook asks: check this voter in at site.
type CheckInRequest struct {
	Voter      VoterID
	Site       Scope  // the polling place scope the pollbook acts for
	Identity   string // how identity was confirmed
	Device     string
	DeviceTime time.Time
	// Expect, when set, is the subject sequence the pollbook claims over
	// (what its own view said); otherwise the service reads it.
	Expect *uint64
}

// PollbookService checks voters in and issues provisional ballots.
type PollbookService interface {
	// CheckIn claims the voter for the election open now and returns the
	// stored check-in. Errors: Invalid; NotFound, Permission or Conflict
	// carrying a *CheckInRefusal (errors.As) that says what to do;
	// Unavailable.
	CheckIn(ctx context.Context, a Actor, req CheckInRequest) (CheckInRecord, error)
	// Undo undoes the voter's check-in with a reason. Errors: Invalid,
	// Conflict (not checked in, or a race), Permission (another place).
	Undo(ctx context.Context, a Actor, site Scope, voter VoterID, reason string) error
	// IssueProvisional records a provisional ballot. Errors: Invalid,
	// Conflict (envelope number already used), Permission.
	IssueProvisional(ctx context.Context, a Actor, p ProvisionalBallot) error
	// Adjudicate accepts or rejects a provisional ballot. Errors: Invalid,
	// NotFound, Conflict (already decided).
	Adjudicate(ctx context.Context, a Actor, d ProvisionalDecision) error
}
