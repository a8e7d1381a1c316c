package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/pollbook"
	"github.com/vigil-elections/vigil/voter"
)

func registerPollbook(m map[vigil.EventType]applier) {
	registerPollbookConflicts(m)
	registerPaperMode(m)
	registerCountyPolicy(m)
	m[vigil.EventCheckInRecorded] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.CheckIn](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO checkins(voter, seq, state, event, election, county, place, precinct, ballot_style,
			method, identity, device, actor, origin, time, source) VALUES (?,?,'checked_in',?,?,?,?,?,?,?,?,?,?,?,?,?)
			ON CONFLICT(voter) DO UPDATE SET seq = excluded.seq, state = excluded.state, event = excluded.event,
			election = excluded.election, county = excluded.county, place = excluded.place, precinct = excluded.precinct,
			ballot_style = excluded.ballot_style, method = excluded.method, identity = excluded.identity,
			device = excluded.device, actor = excluded.actor, origin = excluded.origin, time = excluded.time,
			source = excluded.source, undo_actor = '', undo_time = '', undo_reason = ''`,
			c.Voter, seq, ev.ID, c.Election, c.County, c.Place, c.Precinct, c.BallotStyle, c.Method, c.Identity,
			c.Device, ev.Actor, ev.Origin, timeText(ev.Time), c.Source)
		return err
	}
	m[vigil.EventCheckInUndone] = func(tx *Tx, ev vigil.Event) error {
		u, err := decode[vigil.CheckInUndo](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE checkins SET seq = ?, state = 'undone', undo_actor = ?, undo_time = ?, undo_reason = ?
			WHERE voter = ?`, seq, ev.Actor, timeText(ev.Time), u.Reason, u.Voter)
		return err
	}
	m[vigil.EventCheckInRefused] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.CheckInRefusal](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO checkin_refusals(event, voter, election, site, reason, actor, time) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(event) DO NOTHING`, ev.ID, r.Voter, r.Election, r.Site, r.Reason, ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventProvisionalIssued] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.ProvisionalBallot](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO provisionals(county, envelope, seq, election, place, reason, voter, first_name,
			last_name, birth_date, address, note, actor, time, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,'pending')
			ON CONFLICT(county, envelope) DO NOTHING`, p.County, p.Envelope, seq, p.Election, p.Place, p.Reason,
			p.Voter, p.FirstName, p.LastName, p.BirthDate, p.Address, p.Note, ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventProvisionalAdjudicated] = func(tx *Tx, ev vigil.Event) error {
		d, err := decode[vigil.ProvisionalDecision](ev)
		if err != nil {
			return err
		}
		seq, err := entrySeq(tx, ev.ID)
		if err != nil {
			return err
		}
		status := "rejected"
		if d.Accepted {
			status = "accepted"
		}
		_, err = tx.Exec(`UPDATE provisionals SET seq = ?, status = ?, decision_reason = ?, decided_by = ?, decided_at = ?
			WHERE county = ? AND envelope = ?`, seq, status, d.Reason, ev.Actor, timeText(ev.Time), d.County, d.Envelope)
		return err
	}
}

// entrySeq is the log entry of an event being applied: the projector
// records it in events before calling the applier.
func entrySeq(tx *Tx, id string) (uint64, error) {
	if id == tx.event && tx.entry > 0 {
		return tx.entry, nil
	}
	var seq uint64
	err := tx.QueryRow(`SELECT seq FROM events WHERE id = ?`, id).Scan(&seq)
	return seq, err
}

// Pollbook is the pollbook service on a node: it reads the projections and
// appends claims. It implements vigil.PollbookService.
type Pollbook struct {
	db  *DB
	log vigil.EventAppender
	now func() time.Time
	// Loc is the time zone of times in messages (default: Local).
	Loc *time.Location
	// CatchUp waits until the projections hold every entry the log holds
	// now. It is called after a lost claim, so that the winner's event can
	// be read and shown. Nil: not waited for.
	CatchUp func(ctx context.Context) error
	// Site is set on a polling-place site: its own check-ins (site_claims,
	// decision 0008) count besides the hub's, and a claim also names the
	// voter's claim sequence in the site's log (used when cut off).
	Site bool

	// The hot queries of a check-in, prepared once (parsing them was a
	// quarter of a check-in's CPU).
	mu                                                    sync.Mutex
	stVoter, stCheckIn, stElections, stPaper, stSiteClaim *sql.Stmt

	// The elections, read once per change (every check-in asks; they
	// change a few times a year). Only where this process's projector
	// says when they change.
	elMu    sync.Mutex
	elGen   uint64
	elCache []vigil.ElectionDay
	// The polling places on paper, likewise (every check-in asks).
	paperMu    sync.Mutex
	paperGen   uint64
	paperCache map[vigil.Scope]PaperModeState
}

const (
	qVoter = `SELECT v.id, v.first_name, v.middle, v.last_name, v.suffix, v.county, v.precinct,
		v.status, v.merged_into, v.record, COALESCE(pr.ballot_style, ''), pl.id, pl.name, pl.address, pl.county
		FROM voters v LEFT JOIN precincts pr ON pr.id = v.precinct LEFT JOIN places pl ON pl.id = pr.place
		WHERE v.id = ?`
	qCheckIn = `SELECT c.seq, c.state, c.event, c.election, c.county, c.place, c.precinct, c.ballot_style,
		c.method, c.identity, c.device, c.actor, c.origin, c.time, COALESCE(pl.name, ''), c.source
		FROM checkins c LEFT JOIN places pl ON pl.id = c.place WHERE c.voter = ?`
	qElections = `SELECT id, name, day, voting_start, voting_end FROM elections ORDER BY voting_start`
)

// prepared returns the prepared statement for q, preparing it on first use;
// nil (the caller queries unprepared) if preparing fails.
func (p *Pollbook) prepared(ctx context.Context, st **sql.Stmt, q string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *st == nil {
		*st, _ = p.db.PrepareContext(context.WithoutCancel(ctx), q)
	}
	return *st
}

func (p *Pollbook) row(ctx context.Context, st **sql.Stmt, q string, args ...any) *sql.Row {
	if s := p.prepared(ctx, st, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, q, args...)
}

func (p *Pollbook) query(ctx context.Context, st **sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if s := p.prepared(ctx, st, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.db.QueryContext(ctx, q, args...)
}

// NewPollbook returns the service. log must return once an append is
// durable and applied to db (node.Node.Append does).
func NewPollbook(db *DB, log vigil.EventAppender, now func() time.Time) *Pollbook {
	return &Pollbook{db: db, log: log, now: now, Loc: time.Local}
}

var _ vigil.PollbookService = (*Pollbook)(nil)

// maxClaimAttempts bounds re-reads after a lost claim: a lost claim is
// retried only when the re-read shows the voter is still not checked in
// (an undo won the race, or this node's view was behind).
const maxClaimAttempts = 3

// CheckIn checks a voter in at req.Site. See vigil.PollbookService.
func (p *Pollbook) CheckIn(ctx context.Context, a vigil.Actor, req vigil.CheckInRequest) (vigil.CheckInRecord, error) {
	const op = "pollbook.checkin"
	if req.Voter == "" || len(req.Voter) > vigil.MaxVoterIDLen {
		return vigil.CheckInRecord{}, vigil.FieldError(op, "voter", "must be a voter ID")
	}
	var lastErr error
	for attempt := 0; attempt < maxClaimAttempts; attempt++ {
		now := p.now()
		f, v, cur, err := p.facts(ctx, req.Site, req.Voter, now)
		if err != nil {
			return vigil.CheckInRecord{}, err
		}
		if ref := pollbook.Eligible(f); ref != nil {
			p.recordRefusal(ctx, a, ref, now)
			return vigil.CheckInRecord{}, ref.Err(op)
		}
		_, place, _ := pollbook.SitePlace(req.Site)
		ci := vigil.CheckIn{Voter: req.Voter, Election: f.Election.ID, County: v.County, Place: place,
			Precinct: v.Precinct, BallotStyle: v.ballotStyle, Method: vigil.MethodInPerson, Identity: req.Identity, Device: req.Device,
			DeviceTime: req.DeviceTime}
		rec, err := p.claim(ctx, a, ci, cur, req.Expect, now)
		if err == nil {
			rec.PlaceName = v.Place.Name
			return rec, nil
		}
		if vigil.ErrorKind(err) != vigil.Conflict {
			return vigil.CheckInRecord{}, err
		}
		// Lost the claim: read the winner. The loop's next Eligible
		// refuses with who, where and when.
		lastErr, req.Expect = err, nil
		if p.CatchUp != nil {
			if err := p.CatchUp(ctx); err != nil {
				return vigil.CheckInRecord{}, err
			}
		}
	}
	return vigil.CheckInRecord{}, lastErr
}

// RecordMailBallot records that the county received the voter's mail
// ballot for the election open now or next: the same claim as a check-in,
// so the voter cannot also be checked in at a polling place.
func (p *Pollbook) RecordMailBallot(ctx context.Context, a vigil.Actor, county string, voter vigil.VoterID) (vigil.CheckInRecord, error) {
	const op = "pollbook.mail"
	now := p.now()
	v, err := p.voter(ctx, voter)
	if err != nil {
		return vigil.CheckInRecord{}, err
	}
	if v == nil || v.County != county {
		return vigil.CheckInRecord{}, vigil.Errorf(vigil.NotFound, op, "no voter %s in county %s", voter, county)
	}
	e, next, err := p.elections(ctx, now)
	if err != nil {
		return vigil.CheckInRecord{}, err
	}
	if e == nil {
		e = next
	}
	if e == nil {
		return vigil.CheckInRecord{}, vigil.Errorf(vigil.Conflict, op, "no election is defined")
	}
	prior, cur, err := p.checkInOf(ctx, voter)
	if err != nil {
		return vigil.CheckInRecord{}, err
	}
	if prior != nil && prior.Election == e.ID {
		return vigil.CheckInRecord{}, (&vigil.CheckInRefusal{Reason: vigil.RefusedCheckedIn, Voter: voter, Election: e.ID,
			Prior: prior, Message: vigil.AlreadyCheckedInMessage(prior, "", p.Loc)}).Err(op)
	}
	ci := vigil.CheckIn{Voter: voter, Election: e.ID, County: county, Precinct: v.Precinct, BallotStyle: v.ballotStyle,
		Method: vigil.MethodAbsentee}
	return p.claim(ctx, a, ci, claimAt{hub: cur}, nil, now)
}

// claim appends the check-in as a claim over the voter's subject.
func (p *Pollbook) claim(ctx context.Context, a vigil.Actor, ci vigil.CheckIn, at claimAt, expect *uint64, now time.Time) (vigil.CheckInRecord, error) {
	if err := ci.Validate(); err != nil {
		return vigil.CheckInRecord{}, err
	}
	ev, err := vigil.NewEvent(a, vigil.EventCheckInRecorded, string(ci.Voter), now, ci)
	if err != nil {
		return vigil.CheckInRecord{}, err
	}
	if expect == nil {
		expect = &at.hub
	}
	o := vigil.AppendOptions{ExpectSubjectSeq: expect}
	if p.Site {
		o.ExpectSiteSeq = &at.site
	}
	seq, err := p.log.Append(ctx, []vigil.Event{ev}, o)
	if err != nil {
		return vigil.CheckInRecord{}, err
	}
	return vigil.CheckInRecord{CheckIn: ci, Event: ev.ID, Seq: seq, Actor: a.Name, Time: ev.Time, Origin: a.Origin}, nil
}

// recordRefusal logs a refused check-in. It is a record, not a claim (noun
// pollbook, not checkin), so it never moves the voter's claim subject. A
// failure to record is not the poll worker's problem: the refusal stands.
func (p *Pollbook) recordRefusal(ctx context.Context, a vigil.Actor, ref *vigil.CheckInRefusal, now time.Time) {
	r := *ref
	r.Place = nil
	if r.Prior != nil {
		prior := *r.Prior
		r.Prior = &prior
	}
	ev, err := vigil.NewEvent(a, vigil.EventCheckInRefused, string(r.Voter), now, r)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
}

// Undo undoes a voter's check-in. See vigil.PollbookService.
func (p *Pollbook) Undo(ctx context.Context, a vigil.Actor, site vigil.Scope, voter vigil.VoterID, reason string) error {
	const op = "pollbook.undo"
	if err := vigil.ValidateReason(op, "reason", reason); err != nil {
		return err
	}
	prior, cur, err := p.checkInOf(ctx, voter)
	if err != nil {
		return err
	}
	if prior == nil {
		return (&vigil.CheckInRefusal{Reason: vigil.RefusedNotCheckedIn, Voter: voter,
			Message: "This voter is not checked in: there is nothing to undo."}).Err(op)
	}
	_, place, ok := pollbook.SitePlace(site)
	if !ok || prior.Place != place {
		return vigil.Errorf(vigil.Permission, op, "this check-in was made at %s; a supervisor there must undo it", prior.PlaceName)
	}
	ev, err := vigil.NewEvent(a, vigil.EventCheckInUndone, string(voter), p.now(),
		vigil.CheckInUndo{Voter: voter, Election: prior.Election, Place: place, Undoes: prior.Event, Reason: reason})
	if err != nil {
		return err
	}
	if _, err := p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &cur}); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict {
			return vigil.Errorf(vigil.Conflict, op, "this voter's check-in changed a moment ago; look the voter up again")
		}
		return err
	}
	return nil
}

// IssueProvisional records a provisional ballot. See vigil.PollbookService.
func (p *Pollbook) IssueProvisional(ctx context.Context, a vigil.Actor, b vigil.ProvisionalBallot) error {
	const op = "provisional.issue"
	if err := b.Validate(); err != nil {
		return err
	}
	ev, err := vigil.NewEvent(a, vigil.EventProvisionalIssued, b.Key(), p.now(), b)
	if err != nil {
		return err
	}
	var zero uint64
	if _, err := p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &zero}); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict {
			return &vigil.Error{Op: op, Kind: vigil.Conflict, Field: "envelope",
				Message: "envelope " + b.Envelope + " was already used; take the next envelope and enter its number"}
		}
		return err
	}
	return nil
}

// Adjudicate decides a provisional ballot. See vigil.PollbookService.
func (p *Pollbook) Adjudicate(ctx context.Context, a vigil.Actor, d vigil.ProvisionalDecision) error {
	const op = "provisional.adjudicate"
	if err := vigil.ValidateReason(op, "reason", d.Reason); err != nil {
		return err
	}
	pv, err := p.Provisional(ctx, d.County, d.Envelope)
	if err != nil {
		return err
	}
	if pv.Status != "pending" {
		return vigil.Errorf(vigil.Conflict, op, "envelope %s was already %s by %s", d.Envelope, pv.Status, pv.DecidedBy)
	}
	key := vigil.ProvisionalBallot{County: d.County, Envelope: d.Envelope}.Key()
	ev, err := vigil.NewEvent(a, vigil.EventProvisionalAdjudicated, key, p.now(), d)
	if err != nil {
		return err
	}
	if _, err := p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{ExpectSubjectSeq: &pv.seq}); err != nil {
		if vigil.ErrorKind(err) == vigil.Conflict {
			return vigil.Errorf(vigil.Conflict, op, "envelope %s was decided a moment ago; reload", d.Envelope)
		}
		return err
	}
	return nil
}

// pollVoter is the registration a check-in reads.
type pollVoter struct {
	pollbook.Voter
	ballotStyle string
	record      string
}

func (p *Pollbook) voter(ctx context.Context, id vigil.VoterID) (*pollVoter, error) {
	var v pollVoter
	var first, middle, last, suffix, merged string
	var placeID, placeName, placeAddr, placeCounty sql.NullString
	err := p.row(ctx, &p.stVoter, qVoter, string(id)).Scan(&v.ID, &first, &middle, &last, &suffix, &v.County, &v.Precinct, &v.Status,
		&merged, &v.record, &v.ballotStyle, &placeID, &placeName, &placeAddr, &placeCounty)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, vigil.Wrap("pollbook.voter", vigil.Unavailable, err)
	}
	v.Name = joinName(last, first, middle, suffix)
	if merged != "" {
		v.Status = string(vigil.StatusCancelled)
	}
	if placeID.Valid {
		v.Place = &vigil.PollingPlace{ID: placeID.String, Name: placeName.String, Address: placeAddr.String, County: placeCounty.String}
	}
	return &v, nil
}

func joinName(last, first, middle, suffix string) string {
	s := last + ", " + first
	if middle != "" {
		s += " " + middle
	}
	if suffix != "" {
		s += " " + suffix
	}
	return s
}

// mailVoted reports whether a full record's history shows a mail ballot on
// the election's day.
func mailVoted(record string, day string) bool {
	if record == "" || day == "" || !strings.Contains(record, string(vigil.MethodAbsentee)) {
		return false // most voters: no mail ballot on record, no need to decode it
	}
	var r vigil.VoterRecord
	if strings.HasPrefix(record, "[") { // an imported voter's row (voter.AppendRow)
		if voter.ParseRow(record, &r) != nil {
			return false
		}
	} else if json.Unmarshal([]byte(record), &r) != nil {
		return false
	}
	for _, h := range r.History {
		if h.Method == vigil.MethodAbsentee && h.Election.String() == day {
			return true
		}
	}
	return false
}

// claimAt is the voter's current claim sequences: in the hub's log and, on
// a site, in the site's own.
type claimAt struct{ hub, site uint64 }

// facts reads what pollbook.Eligible decides on, and the voter's current
// claim sequences.
func (p *Pollbook) facts(ctx context.Context, site vigil.Scope, id vigil.VoterID, now time.Time) (pollbook.Facts, *pollVoter, claimAt, error) {
	f := pollbook.Facts{Site: site, Now: now, Loc: p.Loc}
	var err error
	if f.Election, f.Next, err = p.elections(ctx, now); err != nil {
		return f, nil, claimAt{}, err
	}
	v, err := p.voter(ctx, id)
	if err != nil {
		return f, nil, claimAt{}, err
	}
	if v != nil {
		if f.Election != nil {
			v.MailVoted = mailVoted(v.record, f.Election.Day)
		}
		f.Voter = &v.Voter
	}
	var prior *vigil.CheckInRecord
	var at claimAt
	if p.Site {
		prior, at.hub, at.site, err = p.SiteCheckInOf(ctx, id)
	} else {
		prior, at.hub, err = p.checkInOf(ctx, id)
	}
	if err != nil {
		return f, nil, claimAt{}, err
	}
	f.Prior = prior
	mode, err := p.PaperMode(ctx, site)
	if err != nil {
		return f, nil, claimAt{}, err
	}
	if mode.On {
		f.Paper = "switched by " + mode.Actor + ": " + mode.Reason
	}
	return f, v, at, nil
}

// elections returns the election open at now (the latest-starting one if
// several are) and otherwise the nearest upcoming or most recent one.
func (p *Pollbook) elections(ctx context.Context, now time.Time) (open, next *vigil.ElectionDay, err error) {
	all, err := p.Elections(ctx)
	if err != nil {
		return nil, nil, err
	}
	for i := range all {
		e := &all[i]
		if !now.Before(e.VotingStart) && now.Before(e.VotingEnd) {
			if open == nil || e.VotingStart.After(open.VotingStart) {
				open = e
			}
			continue
		}
		if next == nil || absDur(e.VotingStart.Sub(now)) < absDur(next.VotingStart.Sub(now)) {
			next = e
		}
	}
	return open, next, nil
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// Elections lists the defined elections.
func (p *Pollbook) Elections(ctx context.Context) ([]vigil.ElectionDay, error) {
	gen, ok := p.db.generation(watchElections)
	if !ok {
		return p.readElections(ctx)
	}
	p.elMu.Lock()
	defer p.elMu.Unlock()
	// The generation is read first: an election applied meanwhile makes
	// the next call read again.
	if p.elCache == nil || gen != p.elGen {
		all, err := p.readElections(ctx)
		if err != nil {
			return nil, err
		}
		p.elCache, p.elGen = all, gen
		if p.elCache == nil {
			p.elCache = []vigil.ElectionDay{}
		}
	}
	return slices.Clone(p.elCache), nil
}

func (p *Pollbook) readElections(ctx context.Context) ([]vigil.ElectionDay, error) {
	rows, err := p.query(ctx, &p.stElections, qElections)
	if err != nil {
		return nil, vigil.Wrap("pollbook.elections", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.ElectionDay
	for rows.Next() {
		var e vigil.ElectionDay
		var start, end string
		if err := rows.Scan(&e.ID, &e.Name, &e.Day, &start, &end); err != nil {
			return nil, err
		}
		e.VotingStart, _ = time.Parse(time.RFC3339Nano, start)
		e.VotingEnd, _ = time.Parse(time.RFC3339Nano, end)
		out = append(out, e)
	}
	return out, rows.Err()
}

// OpenElection returns the election whose voting period contains now, or
// nil, and the nearest other one.
func (p *Pollbook) OpenElection(ctx context.Context) (open, next *vigil.ElectionDay, err error) {
	return p.elections(ctx, p.now())
}

// CheckInOf returns the voter's current check-in (nil if none, or undone).
func (p *Pollbook) CheckInOf(ctx context.Context, id vigil.VoterID) (*vigil.CheckInRecord, error) {
	rec, _, err := p.checkInOf(ctx, id)
	if rec == nil && err == nil && p.Site {
		rec, _, err = p.siteClaimOf(ctx, id) // checked in here; the hub may not hold it yet
	}
	return rec, err
}

// checkInOf returns the current check-in and the claim sequence of the
// voter's subject (0: never claimed).
func (p *Pollbook) checkInOf(ctx context.Context, id vigil.VoterID) (*vigil.CheckInRecord, uint64, error) {
	var r vigil.CheckInRecord
	var state, t, placeName string
	var method string
	err := p.row(ctx, &p.stCheckIn, qCheckIn, string(id)).Scan(&r.Seq, &state, &r.Event,
		&r.Election, &r.County, &r.Place, &r.Precinct, &r.BallotStyle, &method, &r.Identity, &r.Device, &r.Actor, &r.Origin,
		&t, &placeName, &r.Source)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, vigil.Wrap("pollbook.checkin_of", vigil.Unavailable, err)
	}
	r.Voter, r.Method, r.PlaceName = id, vigil.VotingMethod(method), placeName
	r.Time, _ = time.Parse(time.RFC3339Nano, t)
	if state != "checked_in" {
		return nil, r.Seq, nil
	}
	return &r, r.Seq, nil
}

// ProvisionalRow is a provisional ballot as the county sees it.
type ProvisionalRow struct {
	vigil.ProvisionalBallot
	Actor          string    `json:"actor"`
	Time           time.Time `json:"time"`
	Status         string    `json:"status"`
	DecisionReason string    `json:"decision_reason,omitempty"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	DecidedAt      string    `json:"decided_at,omitempty"`
	seq            uint64
}

const provisionalCols = `county, envelope, seq, election, place, reason, voter, first_name, last_name, birth_date, address,
	note, actor, time, status, decision_reason, decided_by, decided_at`

func scanProvisional(s scanner) (ProvisionalRow, error) {
	var r ProvisionalRow
	var t, reason, voter string
	err := s.Scan(&r.County, &r.Envelope, &r.seq, &r.Election, &r.Place, &reason, &voter, &r.FirstName, &r.LastName,
		&r.BirthDate, &r.Address, &r.Note, &r.Actor, &t, &r.Status, &r.DecisionReason, &r.DecidedBy, &r.DecidedAt)
	r.Reason, r.Voter = vigil.ProvisionalReason(reason), vigil.VoterID(voter)
	r.Time, _ = time.Parse(time.RFC3339Nano, t)
	return r, err
}

// Provisional returns one envelope. Errors: NotFound.
func (p *Pollbook) Provisional(ctx context.Context, county, envelope string) (ProvisionalRow, error) {
	r, err := scanProvisional(p.db.QueryRowContext(ctx, `SELECT `+provisionalCols+` FROM provisionals
		WHERE county = ? AND envelope = ?`, county, envelope))
	if errors.Is(err, sql.ErrNoRows) {
		return r, vigil.Errorf(vigil.NotFound, "provisional.get", "no provisional envelope %s in county %s", envelope, county)
	}
	if err != nil {
		return r, vigil.Wrap("provisional.get", vigil.Unavailable, err)
	}
	return r, nil
}

// Provisionals lists a county's envelopes (status "" for all), newest first.
func (p *Pollbook) Provisionals(ctx context.Context, county, status string, limit int) ([]ProvisionalRow, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT `+provisionalCols+` FROM provisionals
		WHERE county = ? AND (? = '' OR status = ?) ORDER BY time DESC, envelope LIMIT ?`, county, status, status, limit)
	if err != nil {
		return nil, vigil.Wrap("provisional.list", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []ProvisionalRow
	for rows.Next() {
		r, err := scanProvisional(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Turnout is the live count of check-ins for one election in one county.
type Turnout struct {
	Election    string         `json:"election"`
	Total       int            `json:"total"`
	Mail        int            `json:"mail"`
	Undone      int            `json:"undone"`
	Refused     int            `json:"refused"`
	Provisional int            `json:"provisional"`
	ByPlace     []TurnoutCount `json:"by_place"`
	ByPrecinct  []TurnoutCount `json:"by_precinct"`
	ByHour      []TurnoutCount `json:"by_hour"`    // local hour "15:00"
	PerMinute   float64        `json:"per_minute"` // check-ins in the last 5 minutes, per minute
}

// TurnoutCount is one row of a turnout table.
type TurnoutCount struct {
	Key        string  `json:"key"`
	Name       string  `json:"name,omitempty"`
	Count      int     `json:"count"`
	Registered int     `json:"registered,omitempty"`
	Percent    float64 `json:"percent,omitempty"`
}

// Turnout counts the county's check-ins for election as of now.
func (p *Pollbook) Turnout(ctx context.Context, election, county string, now time.Time) (Turnout, error) {
	const op = "pollbook.turnout"
	t := Turnout{Election: election}
	q := func(query string, args ...any) (*sql.Rows, error) {
		rows, err := p.db.QueryContext(ctx, query, args...)
		return rows, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := p.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(method = 'absentee'), 0),
		(SELECT COUNT(*) FROM checkins WHERE election = ?1 AND county = ?2 AND state = 'undone'),
		(SELECT COUNT(*) FROM checkin_refusals WHERE election = ?1),
		(SELECT COUNT(*) FROM provisionals WHERE election = ?1 AND county = ?2)
		FROM checkins WHERE election = ?1 AND county = ?2 AND state = 'checked_in'`, election, county).
		Scan(&t.Total, &t.Mail, &t.Undone, &t.Refused, &t.Provisional); err != nil {
		return t, vigil.Wrap(op, vigil.Unavailable, err)
	}
	rows, err := q(`SELECT pl.id, pl.name, COALESCE(c.n, 0), COALESCE(r.n, 0) FROM places pl
		LEFT JOIN (SELECT place, COUNT(*) n FROM checkins WHERE election = ?1 AND county = ?2 AND state = 'checked_in' GROUP BY place) c ON c.place = pl.id
		LEFT JOIN (SELECT pr.place, COUNT(*) n FROM voters v JOIN precincts pr ON pr.id = v.precinct
			WHERE v.county = ?2 AND v.status = 'active' GROUP BY pr.place) r ON r.place = pl.id
		WHERE pl.county = ?2 ORDER BY pl.id`, election, county)
	if err != nil {
		return t, err
	}
	t.ByPlace, err = scanCounts(rows)
	if err != nil {
		return t, err
	}
	rows, err = q(`SELECT pr.id, pr.name, COALESCE(c.n, 0), COALESCE(r.n, 0) FROM precincts pr
		LEFT JOIN (SELECT precinct, COUNT(*) n FROM checkins WHERE election = ?1 AND county = ?2 AND state = 'checked_in' GROUP BY precinct) c ON c.precinct = pr.id
		LEFT JOIN (SELECT precinct, COUNT(*) n FROM voters WHERE county = ?2 AND status = 'active' GROUP BY precinct) r ON r.precinct = pr.id
		WHERE pr.county = ?2 ORDER BY pr.id`, election, county)
	if err != nil {
		return t, err
	}
	if t.ByPrecinct, err = scanCounts(rows); err != nil {
		return t, err
	}
	// Hours in the reader's time zone: group by UTC hour, then relabel.
	rows, err = q(`SELECT substr(time, 1, 13), COUNT(*) FROM checkins WHERE election = ? AND county = ? AND state = 'checked_in'
		AND method != 'absentee' GROUP BY 1 ORDER BY 1`, election, county)
	if err != nil {
		return t, err
	}
	for rows.Next() {
		var h string
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			rows.Close()
			return t, err
		}
		label := h
		if ht, err := time.Parse("2006-01-02T15", h); err == nil {
			label = ht.In(p.Loc).Format("Jan 2 15:00")
		}
		t.ByHour = append(t.ByHour, TurnoutCount{Key: label, Count: n})
	}
	rows.Close()
	var recent int
	since := timeText(now.Add(-5 * time.Minute))
	if err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE election = ? AND county = ? AND state = 'checked_in'
		AND method != 'absentee' AND time >= ?`, election, county, since).Scan(&recent); err != nil {
		return t, vigil.Wrap(op, vigil.Unavailable, err)
	}
	t.PerMinute = float64(recent) / 5
	return t, nil
}

func scanCounts(rows *sql.Rows) ([]TurnoutCount, error) {
	defer rows.Close()
	var out []TurnoutCount
	for rows.Next() {
		var c TurnoutCount
		if err := rows.Scan(&c.Key, &c.Name, &c.Count, &c.Registered); err != nil {
			return nil, err
		}
		if c.Registered > 0 {
			c.Percent = float64(int(1000*float64(c.Count)/float64(c.Registered))) / 10
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RecentCheckIns lists the latest check-ins at a place, newest first.
func (p *Pollbook) RecentCheckIns(ctx context.Context, place string, limit int) ([]vigil.CheckInRecord, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT voter FROM checkins WHERE place = ? AND state = 'checked_in'
		ORDER BY time DESC LIMIT ?`, place, limit)
	if err != nil {
		return nil, vigil.Wrap("pollbook.recent", vigil.Unavailable, err)
	}
	var ids []vigil.VoterID
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, vigil.VoterID(id))
	}
	rows.Close()
	var out []vigil.CheckInRecord
	for _, id := range ids {
		r, err := p.CheckInOf(ctx, id)
		if err != nil {
			return nil, err
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	return out, nil
}

// Preview says whether the voter could be checked in at site now, without
// claiming: the confirm screen shows an exception before anyone presses.
func (p *Pollbook) Preview(ctx context.Context, site vigil.Scope, id vigil.VoterID) (*vigil.CheckInRefusal, error) {
	f, _, _, err := p.facts(ctx, site, id, p.now())
	if err != nil {
		return nil, err
	}
	return pollbook.Eligible(f), nil
}
