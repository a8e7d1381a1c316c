package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-elections/vigil"
)

// The campaign security desk's projections. Tenant content stays sealed
// here (see vigil.CampaignRecord); rows carry identifiers, statuses and
// times in clear.

func registerCampaigns(m map[vigil.EventType]applier) {
	upsertCampaign := func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.CampaignRecord](ev)
		if err != nil {
			return err
		}
		t := timeText(ev.Time)
		_, err = tx.Exec(`INSERT INTO campaigns(id, sealed, created, updated) VALUES (?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed, updated = excluded.updated`, c.ID, c.Sealed, t, t)
		return err
	}
	m[vigil.EventCampaignRegistered] = upsertCampaign
	m[vigil.EventCampaignUpdated] = upsertCampaign
	m[vigil.EventCampaignAssessed] = func(tx *Tx, ev vigil.Event) error {
		a, err := decode[vigil.AssessmentRecord](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO campaign_assessments(event, campaign, time, actor, sealed) VALUES (?,?,?,?,?)
			ON CONFLICT(event) DO NOTHING`, ev.ID, a.Campaign, timeText(ev.Time), ev.Actor, a.Sealed)
		return err
	}
	m[vigil.EventCampaignAccessed] = func(tx *Tx, ev vigil.Event) error {
		a, err := decode[vigil.CampaignAccess](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO campaign_access(event, campaign, firm, engagement, actor, what, time) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(event) DO NOTHING`, ev.ID, a.Campaign, a.Firm, a.Engagement, ev.Actor, a.What, timeText(ev.Time))
		return err
	}
	// Any application, even a change to an approved one, is vetted again.
	m[vigil.EventFirmApplied] = func(tx *Tx, ev vigil.Event) error {
		f, err := decode[vigil.FirmRecord](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO firms(id, sealed, status, applied, applied_by) VALUES (?,?,?,?,?)
			ON CONFLICT(id) DO UPDATE SET sealed = excluded.sealed, status = excluded.status,
			applied = excluded.applied, applied_by = excluded.applied_by`,
			f.ID, f.Sealed, vigil.FirmPending, timeText(ev.Time), ev.Actor)
		return err
	}
	m[vigil.EventFirmVetted] = func(tx *Tx, ev vigil.Event) error {
		v, err := decode[vigil.FirmVetted](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE firms SET status = ?, vetted = ?, vetted_by = ?, note_sealed = ? WHERE id = ?`,
			v.Status, timeText(ev.Time), ev.Actor, v.Sealed, v.Firm)
		return err
	}
	m[vigil.EventHelpRequested] = func(tx *Tx, ev vigil.Event) error {
		h, err := decode[vigil.HelpRecord](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO help_requests(id, campaign, time, actor, sealed) VALUES (?,?,?,?,?)
			ON CONFLICT(id) DO NOTHING`, h.ID, h.Campaign, timeText(ev.Time), ev.Actor, h.Sealed)
		return err
	}
	m[vigil.EventEngagementStarted] = func(tx *Tx, ev vigil.Event) error {
		e, err := decode[vigil.EngagementStarted](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO engagements(id, campaign, firm, request, not_before, not_after, consented_by)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
			e.ID, e.Campaign, e.Firm, e.Request, timeText(e.NotBefore), timeText(e.NotAfter), ev.Actor)
		return err
	}
	m[vigil.EventEngagementRevoked] = func(tx *Tx, ev vigil.Event) error {
		e, err := decode[vigil.EngagementRevoked](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE engagements SET revoked = ?, revoked_by = ?, reason_sealed = ? WHERE id = ? AND revoked = ''`,
			timeText(ev.Time), ev.Actor, e.Sealed, e.ID)
		return err
	}
	m[vigil.EventIncidentReported] = func(tx *Tx, ev vigil.Event) error {
		in, err := decode[vigil.IncidentRecord](ev)
		if err != nil {
			return err
		}
		t := timeText(ev.Time)
		_, err = tx.Exec(`INSERT INTO incidents(id, campaign, sealed, status, reporter, reported, updated) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(id) DO NOTHING`, in.ID, in.Campaign, in.Sealed, vigil.IncidentReported, ev.Actor, t, t)
		return err
	}
	m[vigil.EventIncidentUpdated] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.IncidentChange](ev)
		if err != nil {
			return err
		}
		t := timeText(ev.Time)
		if _, err := tx.Exec(`UPDATE incidents SET status = ?, updated = ? WHERE id = ?`, c.Status, t, c.ID); err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO incident_updates(event, incident, status, note_sealed, actor, role, time) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(event) DO NOTHING`, ev.ID, c.ID, c.Status, c.Sealed, ev.Actor, ev.Role, t)
		return err
	}
}

// CampaignRow is a campaign as projected; Sealed holds a vigil.Campaign.
type CampaignRow struct {
	ID      vigil.CampaignID
	Sealed  string
	Created time.Time
	Updated time.Time
}

// AssessmentRow is one saved self-assessment; Sealed holds its answers.
type AssessmentRow struct {
	Event    string
	Campaign vigil.CampaignID
	Time     time.Time
	Actor    string
	Sealed   string
}

// FirmRow is a firm's application and vetting.
type FirmRow struct {
	ID         vigil.FirmID
	Sealed     string // vigil.Firm
	Status     vigil.FirmStatus
	Applied    time.Time
	AppliedBy  string
	Vetted     time.Time
	VettedBy   string
	NoteSealed string
}

// HelpRow is a help request; Sealed holds a vigil.HelpRequest.
type HelpRow struct {
	ID       string
	Campaign vigil.CampaignID
	Time     time.Time
	Actor    string
	Sealed   string
}

// EngagementRow is an engagement between a campaign and a firm.
type EngagementRow struct {
	ID           string
	Campaign     vigil.CampaignID
	Firm         vigil.FirmID
	Request      string
	NotBefore    time.Time
	NotAfter     time.Time
	ConsentedBy  string
	Revoked      time.Time
	RevokedBy    string
	ReasonSealed string
}

// Active reports whether the engagement gives its firm access at now: not
// revoked, and now inside its window.
func (e EngagementRow) Active(now time.Time) bool {
	return e.Revoked.IsZero() && !now.Before(e.NotBefore) && now.Before(e.NotAfter)
}

// AccessRow is one access a firm made to a campaign's data.
type AccessRow struct {
	Event      string
	Campaign   vigil.CampaignID
	Firm       vigil.FirmID
	Engagement string
	Actor      string
	What       string
	Time       time.Time
}

// IncidentRow is an incident; Sealed holds a vigil.Incident.
type IncidentRow struct {
	ID       string
	Campaign vigil.CampaignID
	Sealed   string
	Status   vigil.IncidentStatus
	Reporter string
	Reported time.Time
	Updated  time.Time
}

// IncidentUpdateRow is one change of an incident's status.
type IncidentUpdateRow struct {
	Event      string
	Incident   string
	Status     vigil.IncidentStatus
	NoteSealed string
	Actor      string
	Role       vigil.Role
	Time       time.Time
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// scanAll runs a query and scans each row with scan.
func scanAll[T any](ctx context.Context, db *DB, op string, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, vigil.Wrap(op, vigil.Other, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// one returns the single row of a query, or NotFound with msg.
func one[T any](list []T, err error, op, msg string) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(list) == 0 {
		return zero, vigil.Errorf(vigil.NotFound, op, "%s", msg)
	}
	return list[0], nil
}

func scanCampaign(r *sql.Rows) (CampaignRow, error) {
	var c CampaignRow
	var created, updated string
	err := r.Scan(&c.ID, &c.Sealed, &created, &updated)
	c.Created, c.Updated = parseTime(created), parseTime(updated)
	return c, err
}

// Campaign returns one campaign. Errors: NotFound.
func (db *DB) Campaign(ctx context.Context, id vigil.CampaignID) (CampaignRow, error) {
	list, err := scanAll(ctx, db, "campaign.get", scanCampaign, `SELECT id, sealed, created, updated FROM campaigns WHERE id = ?`, id)
	return one(list, err, "campaign.get", "there is no campaign "+string(id))
}

// Campaigns lists every campaign by id.
func (db *DB) Campaigns(ctx context.Context) ([]CampaignRow, error) {
	return scanAll(ctx, db, "campaign.list", scanCampaign, `SELECT id, sealed, created, updated FROM campaigns ORDER BY id`)
}

// CampaignAssessments lists a campaign's saved self-assessments, oldest first.
func (db *DB) CampaignAssessments(ctx context.Context, id vigil.CampaignID) ([]AssessmentRow, error) {
	return scanAll(ctx, db, "campaign.assessments", func(r *sql.Rows) (AssessmentRow, error) {
		var a AssessmentRow
		var t string
		err := r.Scan(&a.Event, &a.Campaign, &t, &a.Actor, &a.Sealed)
		a.Time = parseTime(t)
		return a, err
	}, `SELECT event, campaign, time, actor, sealed FROM campaign_assessments WHERE campaign = ? ORDER BY time, event`, id)
}

func scanFirm(r *sql.Rows) (FirmRow, error) {
	var f FirmRow
	var applied, vetted string
	err := r.Scan(&f.ID, &f.Sealed, &f.Status, &applied, &f.AppliedBy, &vetted, &f.VettedBy, &f.NoteSealed)
	f.Applied, f.Vetted = parseTime(applied), parseTime(vetted)
	return f, err
}

const firmColumns = `SELECT id, sealed, status, applied, applied_by, vetted, vetted_by, note_sealed FROM firms`

// Firm returns one firm. Errors: NotFound.
func (db *DB) Firm(ctx context.Context, id vigil.FirmID) (FirmRow, error) {
	list, err := scanAll(ctx, db, "firm.get", scanFirm, firmColumns+` WHERE id = ?`, id)
	return one(list, err, "firm.get", "there is no firm "+string(id))
}

// Firms lists every firm by id.
func (db *DB) Firms(ctx context.Context) ([]FirmRow, error) {
	return scanAll(ctx, db, "firm.list", scanFirm, firmColumns+` ORDER BY id`)
}

func scanHelp(r *sql.Rows) (HelpRow, error) {
	var h HelpRow
	var t string
	err := r.Scan(&h.ID, &h.Campaign, &t, &h.Actor, &h.Sealed)
	h.Time = parseTime(t)
	return h, err
}

// HelpRequests lists a campaign's help requests, newest first.
func (db *DB) HelpRequests(ctx context.Context, campaign vigil.CampaignID) ([]HelpRow, error) {
	return scanAll(ctx, db, "help.list", scanHelp, `SELECT id, campaign, time, actor, sealed FROM help_requests
		WHERE campaign = ? ORDER BY time DESC, id`, campaign)
}

func scanEngagement(r *sql.Rows) (EngagementRow, error) {
	var e EngagementRow
	var nb, na, rev string
	err := r.Scan(&e.ID, &e.Campaign, &e.Firm, &e.Request, &nb, &na, &e.ConsentedBy, &rev, &e.RevokedBy, &e.ReasonSealed)
	e.NotBefore, e.NotAfter, e.Revoked = parseTime(nb), parseTime(na), parseTime(rev)
	return e, err
}

const engagementColumns = `SELECT id, campaign, firm, request, not_before, not_after, consented_by, revoked, revoked_by, reason_sealed FROM engagements`

// Engagement returns one engagement. Errors: NotFound.
func (db *DB) Engagement(ctx context.Context, id string) (EngagementRow, error) {
	list, err := scanAll(ctx, db, "engagement.get", scanEngagement, engagementColumns+` WHERE id = ?`, id)
	return one(list, err, "engagement.get", "there is no engagement "+id)
}

// Engagements lists engagements of a campaign, of a firm, or (both "") all,
// newest first.
func (db *DB) Engagements(ctx context.Context, campaign vigil.CampaignID, firm vigil.FirmID) ([]EngagementRow, error) {
	return scanAll(ctx, db, "engagement.list", scanEngagement, engagementColumns+`
		WHERE (? = '' OR campaign = ?) AND (? = '' OR firm = ?) ORDER BY not_before DESC, id`, campaign, campaign, firm, firm)
}

// CampaignAccesses lists the accesses firms made to a campaign, newest first.
func (db *DB) CampaignAccesses(ctx context.Context, campaign vigil.CampaignID, limit int) ([]AccessRow, error) {
	return scanAll(ctx, db, "campaign.accesses", func(r *sql.Rows) (AccessRow, error) {
		var a AccessRow
		var t string
		err := r.Scan(&a.Event, &a.Campaign, &a.Firm, &a.Engagement, &a.Actor, &a.What, &t)
		a.Time = parseTime(t)
		return a, err
	}, `SELECT event, campaign, firm, engagement, actor, what, time FROM campaign_access WHERE campaign = ?
		ORDER BY time DESC, event LIMIT ?`, campaign, limit)
}

func scanIncident(r *sql.Rows) (IncidentRow, error) {
	var in IncidentRow
	var rep, upd string
	err := r.Scan(&in.ID, &in.Campaign, &in.Sealed, &in.Status, &in.Reporter, &rep, &upd)
	in.Reported, in.Updated = parseTime(rep), parseTime(upd)
	return in, err
}

const incidentColumns = `SELECT id, campaign, sealed, status, reporter, reported, updated FROM incidents`

// Incident returns one incident. Errors: NotFound.
func (db *DB) Incident(ctx context.Context, id string) (IncidentRow, error) {
	list, err := scanAll(ctx, db, "incident.get", scanIncident, incidentColumns+` WHERE id = ?`, id)
	return one(list, err, "incident.get", "there is no incident "+id)
}

// Incidents lists a campaign's incidents, newest first.
func (db *DB) Incidents(ctx context.Context, campaign vigil.CampaignID) ([]IncidentRow, error) {
	return scanAll(ctx, db, "incident.list", scanIncident, incidentColumns+` WHERE campaign = ? ORDER BY reported DESC, id`, campaign)
}

// IncidentUpdates lists an incident's status changes, oldest first.
func (db *DB) IncidentUpdates(ctx context.Context, id string) ([]IncidentUpdateRow, error) {
	return scanAll(ctx, db, "incident.updates", func(r *sql.Rows) (IncidentUpdateRow, error) {
		var u IncidentUpdateRow
		var t string
		err := r.Scan(&u.Event, &u.Incident, &u.Status, &u.NoteSealed, &u.Actor, &u.Role, &t)
		u.Time = parseTime(t)
		return u, err
	}, `SELECT event, incident, status, note_sealed, actor, role, time FROM incident_updates WHERE incident = ? ORDER BY time, event`, id)
}
