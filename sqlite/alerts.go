package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/vigil-elections/vigil"
)

func registerAlerts(m map[vigil.EventType]applier) {
	m[vigil.EventAlertRaised] = func(tx *Tx, ev vigil.Event) error {
		a, err := decode[vigil.AlertRaised](ev)
		if err != nil {
			return err
		}
		evid, _ := json.Marshal(a.Evidence)
		if a.Evidence == nil {
			evid = []byte("[]")
		}
		_, err = tx.Exec(`INSERT INTO alerts(id, rule, kind, severity, title, summary, grp, window_start, window_end,
			count, threshold, evidence, raised, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'open')
			ON CONFLICT(id) DO NOTHING`, a.ID, a.Rule, a.Kind, a.Severity, a.Title, a.Summary, a.Group,
			timeText(a.WindowStart), timeText(a.WindowEnd), a.Count, a.Threshold, string(evid), timeText(ev.Time))
		return err
	}
	m[vigil.EventAlertAcknowledged] = func(tx *Tx, ev vigil.Event) error {
		n, err := decode[vigil.AlertNote](ev)
		if err != nil {
			return err
		}
		// A resolved alert stays resolved; a later acknowledgement only
		// records who and why.
		_, err = tx.Exec(`UPDATE alerts SET ack_by = ?, ack_note = ?, ack_time = ?,
			status = CASE status WHEN 'open' THEN 'acknowledged' ELSE status END WHERE id = ?`,
			ev.Actor, n.Note, timeText(ev.Time), n.ID)
		return err
	}
	m[vigil.EventAlertResolved] = func(tx *Tx, ev vigil.Event) error {
		n, err := decode[vigil.AlertNote](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE alerts SET status = 'resolved', resolved_by = ?, resolved_note = ?, resolved_time = ? WHERE id = ?`,
			ev.Actor, n.Note, timeText(ev.Time), n.ID)
		return err
	}
}

const alertColumns = `id, rule, kind, severity, title, summary, grp, window_start, window_end, count, threshold,
	evidence, raised, status, ack_by, ack_note, ack_time, resolved_by, resolved_note, resolved_time`

func scanAlert(sc interface{ Scan(...any) error }) (vigil.Alert, error) {
	var a vigil.Alert
	var ws, we, evid, raised, at, rt string
	err := sc.Scan(&a.ID, &a.Rule, &a.Kind, &a.Severity, &a.Title, &a.Summary, &a.Group, &ws, &we, &a.Count, &a.Threshold,
		&evid, &raised, &a.Status, &a.AckBy, &a.AckNote, &at, &a.ResolvedBy, &a.ResolvedNote, &rt)
	if err != nil {
		return a, err
	}
	a.WindowStart, _ = time.Parse(time.RFC3339Nano, ws)
	a.WindowEnd, _ = time.Parse(time.RFC3339Nano, we)
	a.Raised, _ = time.Parse(time.RFC3339Nano, raised)
	a.AckTime, _ = time.Parse(time.RFC3339Nano, at)
	a.ResolvedTime, _ = time.Parse(time.RFC3339Nano, rt)
	json.Unmarshal([]byte(evid), &a.Evidence)
	return a, nil
}

// Alert returns one alert. Errors: NotFound.
func (db *DB) Alert(ctx context.Context, id string) (vigil.Alert, error) {
	a, err := scanAlert(db.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
	if err == sql.ErrNoRows {
		return a, vigil.Errorf(vigil.NotFound, "alert.get", "no alert %s", id)
	}
	if err != nil {
		return a, vigil.Wrap("alert.get", vigil.Unavailable, err)
	}
	return a, nil
}

// Alerts lists alerts, newest first: the unresolved ones (all=false) or
// every one, at most limit.
func (db *DB) Alerts(ctx context.Context, all bool, limit int) ([]vigil.Alert, error) {
	q := `SELECT ` + alertColumns + ` FROM alerts`
	if !all {
		q += ` WHERE status != 'resolved'`
	}
	q += ` ORDER BY raised DESC, id LIMIT ?`
	rows, err := db.QueryContext(ctx, q, limit)
	if err != nil {
		return nil, vigil.Wrap("alert.list", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, vigil.Wrap("alert.list", vigil.Other, err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertCounts counts alerts by status and severity ("open/high" → n).
func (db *DB) AlertCounts(ctx context.Context) (map[string]int, error) {
	rows, err := db.QueryContext(ctx, `SELECT status, severity, COUNT(*) FROM alerts GROUP BY status, severity`)
	if err != nil {
		return nil, vigil.Wrap("alert.count", vigil.Unavailable, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st, sev string
		var n int
		if err := rows.Scan(&st, &sev, &n); err != nil {
			return nil, err
		}
		out[st+"/"+sev] = n
	}
	return out, rows.Err()
}

// AlertChanges lists the alert events after entry seq (the live page
// follows them): their entry and alert id, in log order.
func (db *DB) AlertChanges(ctx context.Context, after uint64) (ids []string, last uint64, err error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, key FROM events WHERE seq > ? AND type IN ('alert.raised','alert.acknowledged','alert.resolved')
		ORDER BY seq, pos`, after)
	if err != nil {
		return nil, after, vigil.Wrap("alert.changes", vigil.Unavailable, err)
	}
	defer rows.Close()
	last = after
	for rows.Next() {
		var seq uint64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, after, err
		}
		ids, last = append(ids, id), seq
	}
	return ids, last, rows.Err()
}

// SeqAtTime returns the first entry holding an event at or after t (0 when
// none): where detection resumes after a restart.
func (db *DB) SeqAtTime(ctx context.Context, t time.Time) (uint64, error) {
	var seq sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE time >= ?`, t.UTC().Format(time.RFC3339)).Scan(&seq)
	if err != nil {
		return 0, vigil.Wrap("events.seq_at", vigil.Unavailable, err)
	}
	return uint64(seq.Int64), nil
}
