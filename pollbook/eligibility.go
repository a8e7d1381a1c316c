package pollbook

import (
	"fmt"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Facts are what Eligible decides on; the caller reads them together.
type Facts struct {
	Site     vigil.Scope // the polling place scope the pollbook acts for
	Now      time.Time
	Loc      *time.Location     // for times in messages (nil: UTC)
	Election *vigil.ElectionDay // an election whose voting period contains Now, or nil
	Next     *vigil.ElectionDay // the nearest election otherwise, for the message (may be nil)
	Voter    *Voter             // nil: not on the roll
	Prior    *vigil.CheckInRecord
	// Paper is set while the site is on the paper pollbook: who switched
	// and why, in words.
	Paper string
}

// Voter is the part of a registration the check-in rules read.
type Voter struct {
	ID        vigil.VoterID
	Name      string
	County    string
	Precinct  string
	Status    string
	Place     *vigil.PollingPlace // the polling place of the voter's precinct (nil: none assigned)
	MailVoted bool                // the roll's history shows a mail ballot for this election
}

// SitePlace returns the county and place ids of a place scope.
func SitePlace(site vigil.Scope) (county, place string, ok bool) {
	parts := strings.Split(string(site), "/")
	if len(parts) != 4 || parts[0] != "county" || parts[2] != "place" {
		return "", "", false
	}
	return parts[1], parts[3], true
}

// Eligible says why the voter may not be checked in at the site now, or
// nil if they may. The order matters: a voter already checked in anywhere
// is told so first, wherever they stand; then where they should vote.
func Eligible(f Facts) *vigil.CheckInRefusal {
	loc := f.Loc
	if loc == nil {
		loc = time.UTC
	}
	county, place, ok := SitePlace(f.Site)
	if !ok {
		return &vigil.CheckInRefusal{Reason: vigil.RefusedOutOfScope, Site: string(f.Site),
			Message: "this pollbook is not assigned to a polling place; ask the county to grant your role at one"}
	}
	r := &vigil.CheckInRefusal{Site: place}
	if f.Voter != nil {
		r.Voter = f.Voter.ID
	}
	if f.Paper != "" {
		r.Reason = vigil.RefusedPlaceOnPaper
		r.Message = "This polling place is on the paper pollbook (" + f.Paper + "). Check the voter in on paper: " +
			"the paper check-ins are entered when the pollbooks are back."
		return r
	}
	if f.Election == nil {
		r.Reason = vigil.RefusedNotOpen
		r.Message = "Voting is not open now, so no one can be checked in."
		if e := f.Next; e != nil {
			r.Election = e.ID
			r.Message = fmt.Sprintf("Voting is not open now: %s runs from %s to %s.", e.Name,
				e.VotingStart.In(loc).Format("Jan 2 15:04"), e.VotingEnd.In(loc).Format("Jan 2 15:04"))
		}
		return r
	}
	r.Election = f.Election.ID
	r.Provisional = true
	if f.Voter == nil {
		r.Reason = vigil.RefusedNotFound
		r.Message = "This voter is not on the roll. Search again (other spellings, date of birth); otherwise offer a provisional ballot."
		return r
	}
	if f.Voter.County != county {
		r.Reason = vigil.RefusedOutOfScope
		r.Message = fmt.Sprintf("This voter is registered in another county (%s). Offer a provisional ballot.", f.Voter.County)
		return r
	}
	if p := f.Prior; p != nil && p.Election == f.Election.ID {
		r.Prior = p
		r.Reason = vigil.RefusedCheckedIn
		if p.Method == vigil.MethodAbsentee {
			r.Reason = vigil.RefusedVotedByMail
		}
		r.Message = vigil.AlreadyCheckedInMessage(p, place, loc)
		return r
	}
	if f.Voter.MailVoted {
		r.Reason = vigil.RefusedVotedByMail
		r.Message = "The roll shows a mail ballot from this voter for this election. Do not issue a regular ballot; offer a provisional ballot."
		return r
	}
	if f.Voter.Place == nil || f.Voter.Place.ID != place {
		r.Reason = vigil.RefusedWrongPlace
		r.Place = f.Voter.Place
		if f.Voter.Place == nil {
			r.Message = "This voter's precinct has no polling place assigned. Call the county; meanwhile offer a provisional ballot."
		} else {
			r.Message = fmt.Sprintf("This voter votes at %s, %s (precinct %s). Send them there, or offer a provisional ballot.",
				f.Voter.Place.Name, f.Voter.Place.Address, f.Voter.Precinct)
		}
		return r
	}
	if f.Voter.Status != string(vigil.StatusActive) {
		r.Reason = vigil.RefusedInactive
		r.Message = fmt.Sprintf("This voter's registration is %s. ", f.Voter.Status)
		if f.Voter.Status == string(vigil.StatusInactive) {
			r.Message += "Confirm the address with the voter; then offer a provisional ballot (the county will update the record)."
		} else {
			r.Message += "Offer a provisional ballot."
		}
		return r
	}
	return nil
}
