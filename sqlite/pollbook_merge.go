package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-elections/vigil"
)

// Merging a site's offline check-ins into the hub's log (decision 0008).

func registerPollbookConflicts(m map[vigil.EventType]applier) {
	m[vigil.EventCheckInConflicted] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.CheckInConflict](ev)
		if err != nil {
			return err
		}
		// A claim on the voter's subject: the next claim expects it.
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE checkins SET seq = ? WHERE voter = ?`, seq, c.Voter); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO checkin_conflicts(event, voter, election, kept_event, kept_place, kept_actor, kept_time,
			other_event, other_place, other_actor, other_origin, other_time, time, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'open')
			ON CONFLICT(event) DO NOTHING`, ev.ID, c.Voter, c.Election, c.Kept.Event, c.Kept.Place, c.Kept.Actor, timeText(c.Kept.Time),
			c.Other.Event, c.Other.Place, c.Other.Actor, c.Other.Origin, timeText(c.Other.Time), timeText(ev.Time))
		return err
	}
	m[vigil.EventConflictResolved] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.ConflictResolution](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE checkin_conflicts SET status = 'resolved', outcome = ?, resolved_by = ?, resolved_at = ?
			WHERE event = ?`, r.Outcome, ev.Actor, timeText(ev.Time), r.Conflict)
		return err
	}
}

// MergeResult says what merging one site check-in did.
type MergeResult struct {
	Merged   bool                   // the check-in is now the voter's check-in in the hub's log
	Already  bool                   // it already was (a merge re-run, or an online claim that timed out)
	Conflict *vigil.CheckInConflict // the voter was checked in elsewhere: recorded for the county
}

// MergeCheckIn merges a checkin.recorded event that a site took while cut
// off from the hub: it claims the voter on the hub's log with the site's
// event unchanged (same id, actor, origin and time), or, when the hub's log
// already holds a check-in of the voter for the election, records a
// conflict naming both. Re-running a merge changes nothing: the conflict's
// id is derived from the site event's. Errors: Invalid, Unavailable.
func (p *Pollbook) MergeCheckIn(ctx context.Context, a vigil.Actor, site vigil.Event) (MergeResult, error) {
	const op = "pollbook.merge"
	if site.Type != vigil.EventCheckInRecorded {
		return MergeResult{}, vigil.FieldError(op, "type", "only check-ins are merged by claim, not %s", site.Type)
	}
	ci, err := decode[vigil.CheckIn](site)
	if err != nil {
		return MergeResult{}, err
	}
	if err := ci.Validate(); err != nil {
		return MergeResult{}, err
	}
	for attempt := 0; attempt < maxClaimAttempts; attempt++ {
		prior, cur, err := p.checkInOf(ctx, ci.Voter)
		if err != nil {
			return MergeResult{}, err
		}
		if prior != nil && prior.Event == site.ID {
			return MergeResult{Merged: true, Already: true}, nil
		}
		if prior != nil && prior.Election == ci.Election {
			if c, err := p.conflictOf(ctx, site.ID); err != nil || c != nil {
				return MergeResult{Conflict: c}, err // merged before: recorded once
			}
			c := vigil.CheckInConflict{Voter: ci.Voter, Election: ci.Election, Kept: *prior,
				Other: vigil.CheckInRecord{CheckIn: ci, Event: site.ID, Actor: site.Actor, Time: site.Time, Origin: site.Origin}}
			ev, err := vigil.NewEvent(a, vigil.EventCheckInConflicted, string(ci.Voter), p.now(), c)
			if err != nil {
				return MergeResult{}, err
			}
			ev.ID = "conflict-" + site.ID
			// Claimed over the kept check-in: if it is undone meanwhile, the
			// loop merges the site's check-in instead.
			_, err = p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &cur})
			if err == nil {
				return MergeResult{Conflict: &c}, nil
			}
			if vigil.ErrorKind(err) != vigil.Conflict {
				return MergeResult{}, err
			}
			if p.CatchUp != nil {
				if err := p.CatchUp(ctx); err != nil {
					return MergeResult{}, err
				}
			}
			continue
		}
		_, err = p.log.Append(ctx, []vigil.Event{site}, vigil.AppendOptions{ExpectSubjectSeq: &cur})
		if err == nil {
			return MergeResult{Merged: true}, nil
		}
		if vigil.ErrorKind(err) != vigil.Conflict {
			return MergeResult{}, err
		}
		if p.CatchUp != nil {
			if err := p.CatchUp(ctx); err != nil {
				return MergeResult{}, err
			}
		}
	}
	return MergeResult{}, vigil.Errorf(vigil.Unavailable, op, "the voter's check-in kept changing; retry the merge")
}

// conflictOf returns the conflict recorded for a site check-in, if any.
func (p *Pollbook) conflictOf(ctx context.Context, siteEvent string) (*vigil.CheckInConflict, error) {
	var c vigil.CheckInConflict
	var kt, ot string
	err := p.db.QueryRowContext(ctx, `SELECT voter, election, kept_event, kept_place, kept_actor, kept_time, other_event,
		other_place, other_actor, other_origin, other_time FROM checkin_conflicts WHERE other_event = ?`, siteEvent).Scan(
		&c.Voter, &c.Election, &c.Kept.Event, &c.Kept.Place, &c.Kept.Actor, &kt, &c.Other.Event, &c.Other.Place,
		&c.Other.Actor, &c.Other.Origin, &ot)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, vigil.Wrap("pollbook.conflict", vigil.Unavailable, err)
	}
	c.Kept.Voter, c.Other.Voter = c.Voter, c.Voter
	c.Kept.Time, _ = time.Parse(time.RFC3339Nano, kt)
	c.Other.Time, _ = time.Parse(time.RFC3339Nano, ot)
	return &c, nil
}

// ConflictRow is a cross-site duplicate as the county sees it.
type ConflictRow struct {
	Event       string    `json:"event"`
	Voter       string    `json:"voter"`
	Election    string    `json:"election"`
	KeptEvent   string    `json:"kept_event"`
	KeptPlace   string    `json:"kept_place"`
	KeptActor   string    `json:"kept_actor"`
	KeptTime    time.Time `json:"kept_time"`
	OtherEvent  string    `json:"other_event"`
	OtherPlace  string    `json:"other_place"`
	OtherActor  string    `json:"other_actor"`
	OtherOrigin string    `json:"other_origin"`
	OtherTime   time.Time `json:"other_time"`
	Status      string    `json:"status"`
	Outcome     string    `json:"outcome,omitempty"`
	ResolvedBy  string    `json:"resolved_by,omitempty"`
}

// Conflicts lists the conflicts of a county's voters (status "" for all).
func (p *Pollbook) Conflicts(ctx context.Context, county, status string) ([]ConflictRow, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT c.event, c.voter, c.election, c.kept_event, c.kept_place, c.kept_actor, c.kept_time,
		c.other_event, c.other_place, c.other_actor, c.other_origin, c.other_time, c.status, c.outcome, c.resolved_by
		FROM checkin_conflicts c JOIN voters v ON v.id = c.voter
		WHERE v.county = ? AND (? = '' OR c.status = ?) ORDER BY c.time`, county, status, status)
	if err != nil {
		return nil, vigil.Wrap("pollbook.conflicts", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []ConflictRow
	for rows.Next() {
		var r ConflictRow
		var kt, ot string
		if err := rows.Scan(&r.Event, &r.Voter, &r.Election, &r.KeptEvent, &r.KeptPlace, &r.KeptActor, &kt, &r.OtherEvent,
			&r.OtherPlace, &r.OtherActor, &r.OtherOrigin, &ot, &r.Status, &r.Outcome, &r.ResolvedBy); err != nil {
			return nil, err
		}
		r.KeptTime, _ = time.Parse(time.RFC3339Nano, kt)
		r.OtherTime, _ = time.Parse(time.RFC3339Nano, ot)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ResolveConflict records the county's decision on a conflict. Errors:
// Invalid, NotFound, Conflict (already resolved).
func (p *Pollbook) ResolveConflict(ctx context.Context, a vigil.Actor, county, conflict, outcome string) error {
	const op = "pollbook.resolve"
	if err := vigil.ValidateReason(op, "outcome", outcome); err != nil {
		return err
	}
	var voter, status, vcounty string
	err := p.db.QueryRowContext(ctx, `SELECT c.voter, c.status, v.county FROM checkin_conflicts c JOIN voters v ON v.id = c.voter
		WHERE c.event = ?`, conflict).Scan(&voter, &status, &vcounty)
	if err == sql.ErrNoRows || (err == nil && vcounty != county) {
		return vigil.Errorf(vigil.NotFound, op, "no conflict %s in county %s", conflict, county)
	}
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if status != "open" {
		return vigil.Errorf(vigil.Conflict, op, "conflict %s is already resolved", conflict)
	}
	ev, err := vigil.NewEvent(a, vigil.EventConflictResolved, voter, p.now(),
		vigil.ConflictResolution{Voter: vigil.VoterID(voter), Conflict: conflict, Outcome: outcome})
	if err != nil {
		return err
	}
	_, err = p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}
