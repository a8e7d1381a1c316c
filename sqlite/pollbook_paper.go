package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/pollbook"
)

// The paper fallback: a supervisor switches a polling place to the paper
// pollbook (its electronic check-ins are refused meanwhile), and the paper
// check-ins are entered afterwards, each claimed like a check-in or, when
// the voter was checked in elsewhere meanwhile, recorded as a conflict for
// the county (the same rule as merging an offline site, MergeCheckIn).

func registerPaperMode(m map[vigil.EventType]applier) {
	m[vigil.EventSitePaperMode] = func(tx *Tx, ev vigil.Event) error {
		pm, err := decode[vigil.SitePaperMode](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO site_modes(site, paper, reason, actor, time) VALUES (?,?,?,?,?)
			ON CONFLICT(site) DO UPDATE SET paper = excluded.paper, reason = excluded.reason, actor = excluded.actor,
			time = excluded.time`, pm.Site, pm.On, pm.Reason, ev.Actor, timeText(ev.Time))
		return err
	}
}

// PaperModeState is whether a site is on paper, since when and why.
type PaperModeState struct {
	On     bool      `json:"on"`
	Reason string    `json:"reason,omitempty"`
	Actor  string    `json:"actor,omitempty"`
	Since  time.Time `json:"since,omitzero"`
}

// PaperMode reads a site's mode.
func (p *Pollbook) PaperMode(ctx context.Context, site vigil.Scope) (PaperModeState, error) {
	gen, ok := p.db.generation(watchPaper)
	if !ok {
		return p.readPaperMode(ctx, site)
	}
	p.paperMu.Lock()
	defer p.paperMu.Unlock()
	if p.paperCache == nil || gen != p.paperGen {
		p.paperCache, p.paperGen = map[vigil.Scope]PaperModeState{}, gen
	}
	if s, ok := p.paperCache[site]; ok {
		return s, nil
	}
	s, err := p.readPaperMode(ctx, site)
	if err == nil {
		p.paperCache[site] = s
	}
	return s, err
}

func (p *Pollbook) readPaperMode(ctx context.Context, site vigil.Scope) (PaperModeState, error) {
	var s PaperModeState
	var t string
	err := p.row(ctx, &p.stPaper, `SELECT paper, reason, actor, time FROM site_modes WHERE site = ?`, string(site)).
		Scan(&s.On, &s.Reason, &s.Actor, &t)
	if errors.Is(err, sql.ErrNoRows) {
		return PaperModeState{}, nil
	}
	if err != nil {
		return s, vigil.Wrap("pollbook.paper_mode", vigil.Unavailable, err)
	}
	s.Since = parseTime(t)
	return s, nil
}

// SetPaperMode switches a site to paper (a reason is required) or back.
// Errors: Invalid, Conflict (already in that mode), Unavailable.
func (p *Pollbook) SetPaperMode(ctx context.Context, a vigil.Actor, site vigil.Scope, on bool, reason string) error {
	const op = "pollbook.paper_mode"
	if _, _, ok := pollbook.SitePlace(site); !ok {
		return vigil.FieldError(op, "site", "name one polling place: county/ID/place/ID")
	}
	reason = strings.TrimSpace(reason)
	if on {
		if err := vigil.ValidateReason(op, "reason", reason); err != nil {
			return err
		}
	} else if reason != "" && len(reason) > vigil.MaxReasonLen {
		return vigil.FieldError(op, "reason", "is longer than %d characters", vigil.MaxReasonLen)
	}
	cur, err := p.PaperMode(ctx, site)
	if err != nil {
		return err
	}
	if cur.On == on {
		state := "electronic"
		if on {
			state = "on paper"
		}
		return vigil.Errorf(vigil.Conflict, op, "%s is already %s", site, state)
	}
	ev, err := vigil.NewEvent(a, vigil.EventSitePaperMode, string(site), p.now(), vigil.SitePaperMode{Site: site, On: on, Reason: reason})
	if err != nil {
		return err
	}
	_, err = p.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// PaperEntry is one line of the paper pollbook as entered.
type PaperEntry struct {
	Line     int           `json:"line"`
	Voter    vigil.VoterID `json:"voter"`
	Time     time.Time     `json:"time,omitzero"` // as written on paper, if it was
	Identity string        `json:"identity,omitempty"`
}

// maxPaperEntries bounds one entry (a polling place's day).
const maxPaperEntries = 20000

// ReadPaperCheckIns reads a CSV with the header voter[,time][,identity]
// (time: RFC 3339, or "YYYY-MM-DD HH:MM" in loc). Every problem names the
// line and column; nothing is returned on any error.
func ReadPaperCheckIns(r io.Reader, loc *time.Location) ([]PaperEntry, error) {
	const op = "pollbook.paper_read"
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, vigil.FieldError(op, "header", "the file is empty or not CSV: give a header voter[,time][,identity]")
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		switch h {
		case "voter", "time", "identity":
			if _, dup := col[h]; dup {
				return nil, vigil.FieldError(op, h, "line 1: column %q appears twice", h)
			}
			col[h] = i
		default:
			return nil, vigil.FieldError(op, "header", "line 1: unknown column %q (voter, time, identity)", h)
		}
	}
	if _, ok := col["voter"]; !ok {
		return nil, vigil.FieldError(op, "voter", "line 1: the header has no voter column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []PaperEntry
	seen := map[vigil.VoterID]int{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, vigil.FieldError(op, "csv", "%v", err) // a csv.ParseError names the line
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(head) {
			return nil, vigil.FieldError(op, "csv", "line %d: %d columns, the header has %d", line, len(rec), len(head))
		}
		e := PaperEntry{Line: line, Voter: vigil.VoterID(get(rec, "voter")), Identity: get(rec, "identity")}
		if e.Voter == "" || len(e.Voter) > vigil.MaxVoterIDLen {
			return nil, vigil.FieldError(op, "voter", "line %d: give the voter ID (1-%d characters)", line, vigil.MaxVoterIDLen)
		}
		if first, dup := seen[e.Voter]; dup {
			return nil, vigil.FieldError(op, "voter", "line %d: voter %s was already entered on line %d", line, e.Voter, first)
		}
		seen[e.Voter] = line
		if len(e.Identity) > 64 {
			return nil, vigil.FieldError(op, "identity", "line %d: longer than 64 characters", line)
		}
		if t := get(rec, "time"); t != "" {
			tt, err := time.Parse(time.RFC3339, t)
			if err != nil {
				tt, err = time.ParseInLocation("2006-01-02 15:04", t, loc)
			}
			if err != nil {
				return nil, vigil.FieldError(op, "time", "line %d: %q is not a time (2026-11-03 14:05 or RFC 3339)", line, t)
			}
			e.Time = tt
		}
		if out = append(out, e); len(out) > maxPaperEntries {
			return nil, vigil.FieldError(op, "csv", "more than %d lines; split the file", maxPaperEntries)
		}
	}
	if len(out) == 0 {
		return nil, vigil.FieldError(op, "csv", "no check-ins after the header")
	}
	return out, nil
}

// PaperResult is what entering one paper check-in did.
type PaperResult struct {
	PaperEntry
	Outcome  string                 `json:"outcome"` // checked_in | already_entered | conflict
	Conflict *vigil.CheckInConflict `json:"conflict,omitempty"`
}

// EnterPaperCheckIns enters a site's paper check-ins for the election open
// now (or, after the polls closed, the one that just closed). First every
// line is checked (the voter exists and is registered in the site's
// county); any problem refuses the whole entry, naming the line. Then each
// is claimed: a voter already checked in elsewhere for the election
// becomes a conflict naming both (the county resolves it). Entering the
// same file again changes nothing. Errors: Invalid, Conflict (no election), Unavailable.
func (p *Pollbook) EnterPaperCheckIns(ctx context.Context, a vigil.Actor, site vigil.Scope, entries []PaperEntry) ([]PaperResult, error) {
	const op = "pollbook.paper_entry"
	county, place, ok := pollbook.SitePlace(site)
	if !ok {
		return nil, vigil.FieldError(op, "site", "name one polling place: county/ID/place/ID")
	}
	now := p.now()
	open, next, err := p.elections(ctx, now)
	if err != nil {
		return nil, err
	}
	e := open
	if e == nil && next != nil && !next.VotingEnd.After(now) {
		e = next // entered after the polls closed
	}
	if e == nil {
		return nil, vigil.Errorf(vigil.Conflict, op, "no election is open or just closed: paper check-ins are entered for the election they were made in")
	}
	cis := make([]vigil.CheckIn, len(entries))
	for i, pe := range entries {
		v, err := p.voter(ctx, pe.Voter)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, vigil.FieldError(op, "voter", "line %d: no voter %s on the roll; issue nothing, check the paper pollbook's entry", pe.Line, pe.Voter)
		}
		if v.County != county {
			return nil, vigil.FieldError(op, "voter", "line %d: voter %s is registered in county %s, not %s", pe.Line, pe.Voter, v.County, county)
		}
		if !pe.Time.IsZero() && (pe.Time.Before(e.VotingStart.Add(-time.Hour)) || pe.Time.After(e.VotingEnd.Add(12*time.Hour))) {
			return nil, vigil.FieldError(op, "time", "line %d: %s is outside %s's voting period", pe.Line, pe.Time.Format(time.RFC3339), e.Name)
		}
		identity := pe.Identity
		if identity == "" {
			identity = "paper pollbook"
		}
		cis[i] = vigil.CheckIn{Voter: pe.Voter, Election: e.ID, County: county, Place: place, Precinct: v.Precinct,
			BallotStyle: v.ballotStyle, Method: vigil.MethodInPerson, Identity: identity, Source: vigil.CheckInSourcePaper,
			PaperTime: pe.Time}
		if err := cis[i].Validate(); err != nil {
			return nil, fmt.Errorf("line %d: %w", pe.Line, err)
		}
	}
	out := make([]PaperResult, 0, len(entries))
	for i, ci := range cis {
		ev, err := vigil.NewEvent(a, vigil.EventCheckInRecorded, string(ci.Voter), now, ci)
		if err != nil {
			return out, err
		}
		// One id per voter, election and site: entering the file again
		// finds the same event (already entered, or the same conflict).
		h := sha256.Sum256([]byte("paper\n" + string(site) + "\n" + e.ID + "\n" + string(ci.Voter)))
		ev.ID = "paper-" + hex.EncodeToString(h[:12])
		res, err := p.MergeCheckIn(ctx, a, ev)
		if err != nil {
			return out, fmt.Errorf("line %d: %w", entries[i].Line, err)
		}
		r := PaperResult{PaperEntry: entries[i], Outcome: "checked_in"}
		switch {
		case res.Conflict != nil:
			r.Outcome, r.Conflict = "conflict", res.Conflict
		case res.Already:
			r.Outcome = "already_entered"
		}
		out = append(out, r)
	}
	return out, nil
}
