package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// The audit projection: one row per audit, its seed digits, boards, rounds
// with their draws, readings and sign-offs. The service that appends the
// events is in audits_service.go.

func registerAudits(m map[vigil.EventType]applier) {
	m[vigil.EventAuditCreated] = func(tx *Tx, ev vigil.Event) error {
		s, err := decode[vigil.AuditSettings](ev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(s)
		_, err = tx.Exec(`INSERT INTO audits(id, settings, scope, created_by, created, status) VALUES (?,?,?,?,?, 'setup')
			ON CONFLICT(id) DO NOTHING`, string(s.ID), string(b), string(s.Scope()), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditSeedDigit] = func(tx *Tx, ev vigil.Event) error {
		d, err := decode[vigil.AuditSeedDigit](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO audit_seed_digits(audit, idx, digit, actor, event, time) VALUES (?,?,?,?,?,?)
			ON CONFLICT(audit, idx) DO NOTHING`, string(d.Audit), d.Index, d.Digit, ev.Actor, ev.ID, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditSeeded] = func(tx *Tx, ev vigil.Event) error {
		s, err := decode[vigil.AuditSeed](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE audits SET seed = ?, seed_author = ? WHERE id = ? AND seed = ''`, s.Seed, ev.Actor, string(s.Audit))
		return err
	}
	m[vigil.EventAuditBoardCreated] = func(tx *Tx, ev vigil.Event) error {
		b, err := decode[vigil.AuditBoard](ev)
		if err != nil {
			return err
		}
		if len(b.Members) != 2 {
			return vigil.Errorf(vigil.Integrity, "audit.board", "board %s has %d members", b.Board, len(b.Members))
		}
		_, err = tx.Exec(`INSERT INTO audit_boards(audit, board, jurisdiction, member1, member2) VALUES (?,?,?,?,?)
			ON CONFLICT(audit, board) DO NOTHING`, string(b.Audit), b.Board, b.Jurisdiction, b.Members[0], b.Members[1])
		return err
	}
	m[vigil.EventAuditRoundStarted] = func(tx *Tx, ev vigil.Event) error {
		r, err := decode[vigil.AuditRound](ev)
		if err != nil {
			return err
		}
		cvrs := ""
		if len(r.CVRs) > 0 {
			b, _ := json.Marshal(r.CVRs)
			cvrs = string(b)
		}
		if _, err := tx.Exec(`INSERT INTO audit_rounds(audit, round, size, cvrs, started, cvr_size, no_cvr_size) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(audit, round) DO NOTHING`, string(r.Audit), r.Round, r.Size, cvrs, timeText(ev.Time), r.CVRSize, r.NoCVRSize); err != nil {
			return err
		}
		if r.Round == 1 {
			mb, _ := json.Marshal(r.Manifest)
			rb, _ := json.Marshal(r.Reported)
			bb := ""
			if len(r.Batches) > 0 {
				b, _ := json.Marshal(r.Batches)
				bb = string(b)
			}
			if _, err := tx.Exec(`UPDATE audits SET manifest = ?, reported = ?, batches = ? WHERE id = ?`, string(mb), string(rb), bb, string(r.Audit)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(`UPDATE audits SET status = ? WHERE id = ?`, vigil.AuditInProgress, string(r.Audit)); err != nil {
			return err
		}
		st, err := tx.Prepare(`INSERT INTO audit_draws(audit, round, n, ticket, jurisdiction, container, tabulator, batch, position, times, board)
			VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(audit, round, n) DO NOTHING`)
		if err != nil {
			return err
		}
		defer st.Close()
		for i, d := range r.Draws {
			if _, err := st.Exec(string(r.Audit), r.Round, i+1, d.Ticket, d.Jurisdiction, d.Container, d.Tabulator, d.Batch, d.Position, d.Times, d.Board); err != nil {
				return err
			}
		}
		return nil
	}
	m[vigil.EventAuditInterpreted] = func(tx *Tx, ev vigil.Event) error {
		in, err := decode[vigil.AuditInterpretation](ev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(in)
		_, err = tx.Exec(`INSERT INTO audit_readings(audit, round, ballot, board, reading, actor, time) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT(audit, round, ballot) DO UPDATE SET board = excluded.board, reading = excluded.reading,
			actor = excluded.actor, time = excluded.time`,
			string(in.Audit), in.Round, in.Ballot.Key(), in.Board, string(b), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditBatchCounted] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.AuditBatchCount](ev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(c)
		_, err = tx.Exec(`INSERT INTO audit_batch_counts(audit, round, batch, contest, board, count, actor, time) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT(audit, round, batch, contest) DO UPDATE SET board = excluded.board, count = excluded.count,
			actor = excluded.actor, time = excluded.time`,
			string(c.Audit), c.Round, c.BatchKey(), string(c.Contest), c.Board, string(b), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditHandCounted] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.AuditHandCount](ev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(c)
		_, err = tx.Exec(`INSERT INTO audit_hand_counts(audit, contest, count, outcome, seq, actor, time)
			VALUES (?,?,?,?, (SELECT COUNT(*) FROM audit_hand_counts WHERE audit = ?), ?,?)
			ON CONFLICT(audit, contest) DO NOTHING`,
			string(c.Audit), string(c.Contest), string(b), c.Outcome, string(c.Audit), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditSignedOff] = func(tx *Tx, ev vigil.Event) error {
		s, err := decode[vigil.AuditSignOff](ev)
		if err != nil {
			return err
		}
		batch := vigil.AuditBallot{Jurisdiction: s.Jurisdiction, Tabulator: s.Tabulator, Batch: s.Batch}.BatchKey()
		_, err = tx.Exec(`INSERT INTO audit_signoffs(audit, round, board, batch, member, actor, time) VALUES (?,?,?,?,?,?,?)
			ON CONFLICT DO NOTHING`, string(s.Audit), s.Round, s.Board, batch, s.Member, ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventAuditRoundClosed] = func(tx *Tx, ev vigil.Event) error {
		c, err := decode[vigil.AuditRoundClose](ev)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(c)
		if _, err := tx.Exec(`UPDATE audit_rounds SET closed = ? WHERE audit = ? AND round = ? AND closed = ''`, string(b), string(c.Audit), c.Round); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE audits SET status = ? WHERE id = ?`, c.Status, string(c.Audit))
		return err
	}
}

// AuditSummary is one line of the audit list.
type AuditSummary struct {
	Settings   vigil.AuditSettings `json:"settings"`
	Scope      vigil.Scope         `json:"scope"`
	CreatedBy  string              `json:"created_by"`
	Created    string              `json:"created"`
	Status     string              `json:"status"`
	Seeded     bool                `json:"seeded"`
	SeedAuthor string              `json:"seed_author"`
	Rounds     int                 `json:"rounds"`
}

// AuditState is an audit as the workflow needs it: the public record
// plus who did what.
type AuditState struct {
	auditflow.Record
	Scope      vigil.Scope
	Status     string
	CreatedBy  string
	SeedAuthor string
	// Digits are the seed digits entered so far, in order, with who
	// entered them.
	Digits []SeedDigit
	// SignOffs maps round → board → batch key → members who signed.
	SignOffs map[int]map[string]map[string][]string
}

// SeedDigit is one entered digit of the ceremony.
type SeedDigit struct {
	Index int    `json:"index"`
	Digit int    `json:"digit"`
	Actor string `json:"actor"`
	Time  string `json:"time"`
}

// Board returns the named board, or nil.
func (s *AuditState) Board(name string) *vigil.AuditBoard {
	for i := range s.Boards {
		if s.Boards[i].Board == name {
			return &s.Boards[i]
		}
	}
	return nil
}

// OnBoard reports whether user is a member of any board of the audit.
func (s *AuditState) OnBoard(user string) bool {
	for _, b := range s.Boards {
		for _, m := range b.Members {
			if m == user {
				return true
			}
		}
	}
	return false
}

// SeedAuthors lists everyone who entered a digit or finished the seed.
func (s *AuditState) SeedAuthors() map[string]bool {
	out := map[string]bool{}
	for _, d := range s.Digits {
		out[d.Actor] = true
	}
	if s.SeedAuthor != "" {
		out[s.SeedAuthor] = true
	}
	return out
}

// Current is the latest round, or nil before the first draw.
func (s *AuditState) Current() *auditflow.Round {
	if len(s.Rounds) == 0 {
		return nil
	}
	return &s.Rounds[len(s.Rounds)-1]
}

// Audits lists the audits, newest first.
func (db *DB) Audits(ctx context.Context) ([]AuditSummary, error) {
	rows, err := db.QueryContext(ctx, `SELECT a.settings, a.scope, a.created_by, a.created, a.status, a.seed <> '', a.seed_author,
		(SELECT COUNT(*) FROM audit_rounds r WHERE r.audit = a.id) FROM audits a ORDER BY a.created DESC, a.id`)
	if err != nil {
		return nil, vigil.Wrap("audits.list", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []AuditSummary
	for rows.Next() {
		var s AuditSummary
		var settings, scope string
		if err := rows.Scan(&settings, &scope, &s.CreatedBy, &s.Created, &s.Status, &s.Seeded, &s.SeedAuthor, &s.Rounds); err != nil {
			return nil, vigil.Wrap("audits.list", vigil.Unavailable, err)
		}
		if err := json.Unmarshal([]byte(settings), &s.Settings); err != nil {
			return nil, vigil.Wrap("audits.list", vigil.Integrity, err)
		}
		s.Scope = vigil.Scope(scope)
		out = append(out, s)
	}
	return out, rows.Err()
}

// Audit reads one audit in full. Errors: NotFound, Unavailable, Integrity.
func (db *DB) Audit(ctx context.Context, id vigil.AuditID) (*AuditState, error) {
	const op = "audits.read"
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer tx.Rollback()
	s := &AuditState{SignOffs: map[int]map[string]map[string][]string{}}
	var settings, scope, manifest, reported, batches string
	err = tx.QueryRowContext(ctx, `SELECT settings, scope, created_by, seed, seed_author, manifest, reported, batches, status FROM audits WHERE id = ?`, string(id)).
		Scan(&settings, &scope, &s.CreatedBy, &s.Seed, &s.SeedAuthor, &manifest, &reported, &batches, &s.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.NotFound, op, "there is no audit %q", id)
	}
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	s.Scope = vigil.Scope(scope)
	bad := func(err error) error {
		return &vigil.Error{Op: op, Kind: vigil.Integrity, Message: "audit " + string(id) + " is damaged in the projection", Err: err}
	}
	if err := json.Unmarshal([]byte(settings), &s.Settings); err != nil {
		return nil, bad(err)
	}
	if manifest != "" {
		if err := json.Unmarshal([]byte(manifest), &s.Manifest); err != nil {
			return nil, bad(err)
		}
		if err := json.Unmarshal([]byte(reported), &s.Reported); err != nil {
			return nil, bad(err)
		}
	}
	if batches != "" {
		if err := json.Unmarshal([]byte(batches), &s.Batches); err != nil {
			return nil, bad(err)
		}
	}
	query := func(q string, scan func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, q, string(id))
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if err := query(`SELECT idx, digit, actor, time FROM audit_seed_digits WHERE audit = ? ORDER BY idx`, func(r *sql.Rows) error {
		var d SeedDigit
		err := r.Scan(&d.Index, &d.Digit, &d.Actor, &d.Time)
		s.Digits = append(s.Digits, d)
		return err
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT board, jurisdiction, member1, member2 FROM audit_boards WHERE audit = ? ORDER BY board`, func(r *sql.Rows) error {
		b := vigil.AuditBoard{Audit: id, Members: make([]string, 2)}
		err := r.Scan(&b.Board, &b.Jurisdiction, &b.Members[0], &b.Members[1])
		s.Boards = append(s.Boards, b)
		return err
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT round, size, cvr_size, no_cvr_size, cvrs, closed FROM audit_rounds WHERE audit = ? ORDER BY round`, func(r *sql.Rows) error {
		var rd auditflow.Round
		var cvrs, closed string
		if err := r.Scan(&rd.Round, &rd.Size, &rd.CVRSize, &rd.NoCVRSize, &cvrs, &closed); err != nil {
			return err
		}
		rd.Readings = map[string]vigil.AuditInterpretation{}
		rd.Counts = map[string]vigil.AuditBatchCount{}
		if cvrs != "" {
			if err := json.Unmarshal([]byte(cvrs), &rd.CVRs); err != nil {
				return bad(err)
			}
		}
		if closed != "" {
			rd.Close = new(vigil.AuditRoundClose)
			if err := json.Unmarshal([]byte(closed), rd.Close); err != nil {
				return bad(err)
			}
		}
		s.Rounds = append(s.Rounds, rd)
		return nil
	}); err != nil {
		return nil, err
	}
	round := func(n int) *auditflow.Round {
		if n < 1 || n > len(s.Rounds) {
			return nil
		}
		return &s.Rounds[n-1]
	}
	if err := query(`SELECT round, ticket, jurisdiction, container, tabulator, batch, position, times, board FROM audit_draws WHERE audit = ? ORDER BY round, n`, func(r *sql.Rows) error {
		var n int
		var d vigil.AuditDraw
		if err := r.Scan(&n, &d.Ticket, &d.Jurisdiction, &d.Container, &d.Tabulator, &d.Batch, &d.Position, &d.Times, &d.Board); err != nil {
			return err
		}
		if rd := round(n); rd != nil {
			rd.Draws = append(rd.Draws, d)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT round, ballot, reading FROM audit_readings WHERE audit = ?`, func(r *sql.Rows) error {
		var n int
		var key, reading string
		if err := r.Scan(&n, &key, &reading); err != nil {
			return err
		}
		var in vigil.AuditInterpretation
		if err := json.Unmarshal([]byte(reading), &in); err != nil {
			return bad(err)
		}
		if rd := round(n); rd != nil {
			rd.Readings[key] = in
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT round, batch, count FROM audit_batch_counts WHERE audit = ? ORDER BY round, time, contest`, func(r *sql.Rows) error {
		var n int
		var key, count string
		if err := r.Scan(&n, &key, &count); err != nil {
			return err
		}
		var c vigil.AuditBatchCount
		if err := json.Unmarshal([]byte(count), &c); err != nil {
			return bad(err)
		}
		c.Contest = auditflow.TallyContest(s.Reported, c.AuditBatchTally)
		if rd := round(n); rd != nil {
			rd.Counts[auditflow.CountKey(key, c.Contest)] = c
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT count FROM audit_hand_counts WHERE audit = ? ORDER BY seq`, func(r *sql.Rows) error {
		var count string
		if err := r.Scan(&count); err != nil {
			return err
		}
		var c vigil.AuditHandCount
		if err := json.Unmarshal([]byte(count), &c); err != nil {
			return bad(err)
		}
		s.HandCounts = append(s.HandCounts, c)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := query(`SELECT round, board, batch, member FROM audit_signoffs WHERE audit = ? ORDER BY round, board, batch, time`, func(r *sql.Rows) error {
		var n int
		var board, batch, member string
		if err := r.Scan(&n, &board, &batch, &member); err != nil {
			return err
		}
		if s.SignOffs[n] == nil {
			s.SignOffs[n] = map[string]map[string][]string{}
		}
		if s.SignOffs[n][board] == nil {
			s.SignOffs[n][board] = map[string][]string{}
		}
		s.SignOffs[n][board][batch] = append(s.SignOffs[n][board][batch], member)
		return nil
	}); err != nil {
		return nil, err
	}
	return s, nil
}

// UnsignedBatches lists, for a round, every batch on a retrieval list that
// is not yet signed off by both members of its board, as "board: batch".
func (s *AuditState) UnsignedBatches(round int) []string {
	if round < 1 || round > len(s.Rounds) {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range s.Rounds[round-1].Draws {
		key := d.Board + ": " + d.BatchKey()
		if seen[key] {
			continue
		}
		seen[key] = true
		if len(s.SignOffs[round][d.Board][d.BatchKey()]) < 2 {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

// AuditManifest reads the jurisdictions' manifests from the tabulation
// projection, in jurisdiction, tabulator, batch order. Errors: Invalid
// (naming a jurisdiction without a manifest), Unavailable.
func (db *DB) AuditManifest(ctx context.Context, jurisdictions []string) ([]vigil.AuditManifestBatch, error) {
	return db.auditManifest(ctx, jurisdictions)
}

// auditManifest reads the jurisdictions' manifests from the tabulation
// projection, in jurisdiction, tabulator, batch order.
func (db *DB) auditManifest(ctx context.Context, jurisdictions []string) ([]vigil.AuditManifestBatch, error) {
	var out []vigil.AuditManifestBatch
	for _, j := range jurisdictions {
		rows, err := db.QueryContext(ctx, `SELECT tabulator, batch, container, ballots, cvrs = 0 FROM manifest_batches WHERE county = ? ORDER BY tabulator, batch`, j)
		if err != nil {
			return nil, vigil.Wrap("audit.manifest", vigil.Unavailable, err)
		}
		n := 0
		for rows.Next() {
			b := vigil.AuditManifestBatch{Jurisdiction: j}
			if err := rows.Scan(&b.Tabulator, &b.Batch, &b.Container, &b.Ballots, &b.NoCVR); err != nil {
				rows.Close()
				return nil, vigil.Wrap("audit.manifest", vigil.Unavailable, err)
			}
			out = append(out, b)
			n++
		}
		rows.Close()
		if n == 0 {
			return nil, vigil.FieldError("audit.manifest", "jurisdictions", "jurisdiction %s has no ballot manifest: import one with vigil manifest import --county %s FILE", j, j)
		}
	}
	return out, nil
}

// AuditSeedDigits returns the digits with index > after and the seed once
// finished, for the ceremony's live view.
func (db *DB) AuditSeedDigits(ctx context.Context, id vigil.AuditID, after int) ([]SeedDigit, string, error) {
	rows, err := db.QueryContext(ctx, `SELECT idx, digit, actor, time FROM audit_seed_digits WHERE audit = ? AND idx > ? ORDER BY idx`, string(id), after)
	if err != nil {
		return nil, "", vigil.Wrap("audit.seed", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []SeedDigit
	for rows.Next() {
		var d SeedDigit
		if err := rows.Scan(&d.Index, &d.Digit, &d.Actor, &d.Time); err != nil {
			return nil, "", vigil.Wrap("audit.seed", vigil.Unavailable, err)
		}
		out = append(out, d)
	}
	var seed string
	if err := db.QueryRowContext(ctx, `SELECT seed FROM audits WHERE id = ?`, string(id)).Scan(&seed); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, "", vigil.Wrap("audit.seed", vigil.Unavailable, err)
	}
	return out, seed, rows.Err()
}
