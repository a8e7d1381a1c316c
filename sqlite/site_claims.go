package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/vigil-elections/vigil"
)

// A polling-place site's own check-ins (decision 0008), kept from the
// site's log. On the hub these tables stay empty.

// RecordSiteClaim keeps a check-in the site stored in its own log at
// siteSeq; hubSeq > 0 when the hub already holds it. Recording the same
// entry again changes nothing.
func (db *DB) RecordSiteClaim(ctx context.Context, siteSeq uint64, ev vigil.Event, hubSeq uint64) error {
	const op = "site.claim"
	if ev.Type != vigil.EventCheckInRecorded {
		return nil
	}
	ci, err := decode[vigil.CheckIn](ev)
	if err != nil {
		return err
	}
	rec := vigil.CheckInRecord{CheckIn: ci, Event: ev.ID, Actor: ev.Actor, Time: ev.Time, Origin: ev.Origin}
	b, err := json.Marshal(rec)
	if err != nil {
		return vigil.Wrap(op, vigil.Other, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO site_claims(voter, site_seq, event, election, record, hub_seq) VALUES (?,?,?,?,?,?)
		ON CONFLICT(voter) DO UPDATE SET site_seq = excluded.site_seq, event = excluded.event, election = excluded.election,
		record = excluded.record,
		hub_seq = CASE WHEN site_claims.event = excluded.event THEN MAX(site_claims.hub_seq, excluded.hub_seq) ELSE excluded.hub_seq END
		WHERE excluded.site_seq >= site_claims.site_seq`,
		string(ci.Voter), siteSeq, ev.ID, ci.Election, string(b), hubSeq)
	return vigil.Wrap(op, vigil.Unavailable, err)
}

// SiteClaimsMerged records, in one transaction, that the hub holds the
// site's check-in events.
func (db *DB) SiteClaimsMerged(ctx context.Context, events []vigil.Event) error {
	const op = "site.claim"
	if len(events) == 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `UPDATE site_claims SET hub_seq = 1 WHERE voter = ? AND event = ? AND hub_seq = 0`)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer st.Close()
	for _, ev := range events {
		if _, err := st.ExecContext(ctx, ev.Key, ev.ID); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	return vigil.Wrap(op, vigil.Unavailable, tx.Commit())
}

// SiteCursor is the last entry of the site's log the hub has taken.
func (db *DB) SiteCursor(ctx context.Context) (uint64, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM site_state WHERE key = 'merged'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, vigil.Wrap("site.cursor", vigil.Unavailable, err)
	}
	return strconv.ParseUint(v, 10, 64)
}

// SetSiteCursor moves the merge cursor forward (never back).
func (db *DB) SetSiteCursor(ctx context.Context, seq uint64) error {
	_, err := db.ExecContext(ctx, `INSERT INTO site_state(key, value) VALUES ('merged', ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE CAST(excluded.value AS INTEGER) > CAST(site_state.value AS INTEGER)`,
		strconv.FormatUint(seq, 10))
	return vigil.Wrap("site.cursor", vigil.Unavailable, err)
}

// SiteClaimCounts says how many of the site's check-ins the hub holds and
// how many wait for the link.
func (db *DB) SiteClaimCounts(ctx context.Context) (merged, waiting int, err error) {
	err = db.QueryRowContext(ctx, `SELECT COALESCE(SUM(hub_seq > 0), 0), COALESCE(SUM(hub_seq = 0), 0) FROM site_claims`).
		Scan(&merged, &waiting)
	return merged, waiting, vigil.Wrap("site.claims", vigil.Unavailable, err)
}

// SiteCheckInOf is what a site knows of a voter's check-in: the hub's
// record as far as the site's copy of the hub's log goes, or else the
// site's own; and the voter's claim sequences in the hub's log and in the
// site's. A site checks a laptop's check-in against it, and claims with
// those sequences, so that the check and the claim use the same read.
func (p *Pollbook) SiteCheckInOf(ctx context.Context, id vigil.VoterID) (prior *vigil.CheckInRecord, hubSeq, siteSeq uint64, err error) {
	if prior, hubSeq, err = p.checkInOf(ctx, id); err != nil {
		return nil, 0, 0, err
	}
	mine, siteSeq, err := p.siteClaimOf(ctx, id)
	if err != nil {
		return nil, 0, 0, err
	}
	if prior == nil {
		prior = mine // checked in here; the hub may not hold it yet
	}
	return prior, hubSeq, siteSeq, nil
}

// siteClaimOf returns the site's own check-in of the voter and its claim
// sequence in the site's log (0: none), unless the hub's log shows that
// very check-in undone.
func (p *Pollbook) siteClaimOf(ctx context.Context, id vigil.VoterID) (*vigil.CheckInRecord, uint64, error) {
	const op = "pollbook.site_claim"
	var seq uint64
	var event, record, placeName string
	err := p.row(ctx, &p.stSiteClaim, `SELECT s.site_seq, s.event, s.record, COALESCE(pl.name, '') FROM site_claims s
		LEFT JOIN places pl ON pl.id = json_extract(s.record, '$.place') WHERE s.voter = ?`, string(id)).
		Scan(&seq, &event, &record, &placeName)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	var undone int
	if err := p.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM checkins WHERE voter = ? AND event = ? AND state = 'undone'`,
		string(id), event).Scan(&undone); err != nil {
		return nil, 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if undone > 0 {
		return nil, seq, nil
	}
	var rec vigil.CheckInRecord
	if err := json.Unmarshal([]byte(record), &rec); err != nil {
		return nil, 0, vigil.Wrap(op, vigil.Integrity, err)
	}
	rec.PlaceName = placeName
	return &rec, seq, nil
}

// EventSeq returns the log entry holding event id, 0 if the projection
// has none.
func (db *DB) EventSeq(ctx context.Context, id string) (uint64, error) {
	var seq uint64
	err := db.QueryRowContext(ctx, `SELECT seq FROM events WHERE id = ?`, id).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return seq, vigil.Wrap("events.seq", vigil.Unavailable, err)
}
