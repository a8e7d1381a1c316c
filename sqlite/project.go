package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
)

// RawEntry is one stored log entry: its sequence and bytes.
type RawEntry struct {
	Seq  uint64
	Data []byte
}

// applier changes projections for one event type. It runs inside the
// transaction that also advances the cursor.
type applier func(tx *Tx, ev vigil.Event) error

// Tx is the transaction appliers write in. Its Exec and QueryRow run a
// statement prepared once per connection for each distinct query instead
// of parsing the SQL again for every event (parsing was a sixth of a
// check-in's CPU); everything else is the *sql.Tx's.
type Tx struct {
	*sql.Tx
	ctx   context.Context
	stmts *stmtCache
	// entry is the log entry being applied, and event the id of the event
	// of it being applied: entrySeq answers from them without a query.
	entry uint64
	event string
}

// Exec executes q in the transaction.
func (t *Tx) Exec(q string, args ...any) (sql.Result, error) {
	if st := t.stmts.get(t.ctx, q); st != nil {
		return t.Tx.StmtContext(t.ctx, st).ExecContext(t.ctx, args...)
	}
	return t.Tx.ExecContext(t.ctx, q, args...)
}

// QueryRow runs q in the transaction.
func (t *Tx) QueryRow(q string, args ...any) *sql.Row {
	if st := t.stmts.get(t.ctx, q); st != nil {
		return t.Tx.StmtContext(t.ctx, st).QueryRowContext(t.ctx, args...)
	}
	return t.Tx.QueryRowContext(t.ctx, q, args...)
}

// stmtCache holds statements prepared on the database, by query text. It is
// bounded: queries built with a varying number of placeholders beyond the
// bound are run unprepared.
type stmtCache struct {
	db *DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

const maxCachedStmts = 512

func (c *stmtCache) get(ctx context.Context, q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	if len(c.m) >= maxCachedStmts {
		return nil
	}
	st, err := c.db.PrepareContext(context.WithoutCancel(ctx), q)
	if err != nil {
		return nil // the unprepared path reports the error
	}
	c.m[q] = st
	return st
}

// Projector applies log entries to the projections.
type Projector struct {
	db       *DB
	origin   string
	appliers map[vigil.EventType]applier
	stmts    *stmtCache
}

// NewProjector returns a projector for entries from origin (the stream).
func NewProjector(db *DB, origin string) *Projector {
	p := &Projector{db: db, origin: origin, appliers: map[vigil.EventType]applier{},
		stmts: &stmtCache{db: db, m: map[string]*sql.Stmt{}}}
	registerFoundation(p.appliers)
	registerVoters(p.appliers)
	registerAlerts(p.appliers)
	registerCampaigns(p.appliers)
	registerPollbook(p.appliers)
	registerEquipment(p.appliers)
	registerDevices(p.appliers)
	registerTabulation(p.appliers)
	registerAudits(p.appliers)
	db.projected.Store(true)
	return p
}

// Apply applies entries in one transaction. Entries at or below the cursor
// are skipped; an entry that does not follow the cursor is an error (the
// caller must feed the log in order). An event id seen before is skipped,
// so a duplicate stored by a retry changes nothing.
func (p *Projector) Apply(ctx context.Context, entries []RawEntry) (uint64, error) {
	const op = "projector.apply"
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer tx.Rollback()
	var cursor uint64
	var changed uint // watched data applied (db.gens): readers' caches are stale
	atx := &Tx{Tx: tx, ctx: ctx, stmts: p.stmts}
	// Take the write lock before reading: a transaction that reads, then
	// writes after another connection committed (a polling-place site
	// records its own check-ins, sqlite/site_claims.go) fails with
	// SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out.
	if _, err := atx.Exec(`UPDATE cursors SET seq = seq WHERE origin = ?`, p.origin); err != nil {
		return 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := atx.QueryRow(`SELECT seq FROM cursors WHERE origin = ?`, p.origin).Scan(&cursor); err != nil && err != sql.ErrNoRows {
		return 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	for _, e := range entries {
		if e.Seq <= cursor {
			continue
		}
		if e.Seq != cursor+1 {
			return cursor, vigil.Errorf(vigil.Integrity, op, "entry %d follows %d: the log has a gap", e.Seq, cursor)
		}
		entry, err := vigil.UnmarshalEntry(e.Data)
		if err != nil {
			return cursor, fmt.Errorf("entry %d: %w", e.Seq, err)
		}
		for pos, ev := range entry {
			res, err := atx.Exec(`INSERT OR IGNORE INTO events(id, seq, pos, type, actor, role, scope, key, time, origin)
				VALUES (?,?,?,?,?,?,?,?,?,?)`, ev.ID, e.Seq, pos, ev.Type, ev.Actor, ev.Role, ev.Scope, ev.Key,
				ev.Time.UTC().Format(sortableTime), ev.Origin)
			if err != nil {
				return cursor, vigil.Wrap(op, vigil.Other, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue // already applied
			}
			if w, ok := watchedTypes[ev.Type]; ok {
				changed |= 1 << w
			}
			if fn := p.appliers[ev.Type]; fn != nil {
				atx.entry, atx.event = e.Seq, ev.ID
				if err := fn(atx, ev); err != nil {
					return cursor, fmt.Errorf("entry %d event %s (%s): %w", e.Seq, ev.ID, ev.Type, err)
				}
			}
		}
		cursor = e.Seq
	}
	if _, err := atx.Exec(`INSERT INTO cursors(origin, seq) VALUES (?, ?)
		ON CONFLICT(origin) DO UPDATE SET seq = excluded.seq`, p.origin, cursor); err != nil {
		return 0, vigil.Wrap(op, vigil.Other, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, vigil.Wrap(op, vigil.Unavailable, err)
	}
	for w := range numWatched {
		if changed&(1<<w) != 0 {
			p.db.gens[w].Add(1)
		}
	}
	return cursor, nil
}

func decode[T any](ev vigil.Event) (T, error) {
	var v T
	if err := json.Unmarshal(ev.Payload, &v); err != nil {
		return v, &vigil.Error{Op: "projector.decode", Kind: vigil.Integrity,
			Message: fmt.Sprintf("payload of %s is malformed", ev.Type), Err: err}
	}
	return v, nil
}

// sortableTime is RFC 3339 with a fixed nine-digit fraction, always in UTC,
// so that stored times sort as strings in time order (RFC3339Nano trims
// trailing zeros and does not). time.RFC3339Nano parses it.
const sortableTime = "2006-01-02T15:04:05.000000000Z07:00"

func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(sortableTime)
}
