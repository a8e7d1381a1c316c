package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// UserRecord implements access.UserStore.
func (db *DB) UserRecord(ctx context.Context, name string) (access.UserRecord, error) {
	var r access.UserRecord
	var created string
	err := db.QueryRowContext(ctx, `SELECT name, display_name, password_hash, totp_sealed, mfa, disabled, created
		FROM users WHERE name = ?`, name).Scan(&r.Name, &r.DisplayName, &r.PasswordHash, &r.TOTPSealed, &r.MFA, &r.Disabled, &created)
	if err == sql.ErrNoRows {
		return r, vigil.Errorf(vigil.NotFound, "user.get", "no account named %s", name)
	}
	if err != nil {
		return r, vigil.Wrap("user.get", vigil.Unavailable, err)
	}
	r.Created, _ = time.Parse(time.RFC3339Nano, created)
	r.Grants, err = db.grants(ctx, name)
	return r, err
}

func (db *DB) grants(ctx context.Context, name string) ([]vigil.Grant, error) {
	rows, err := db.QueryContext(ctx, `SELECT role, scope, not_before, not_after FROM grants WHERE user = ? ORDER BY role, scope`, name)
	if err != nil {
		return nil, vigil.Wrap("user.grants", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.Grant
	for rows.Next() {
		var g vigil.Grant
		var nb, na string
		if err := rows.Scan(&g.Role, &g.Scope, &nb, &na); err != nil {
			return nil, err
		}
		g.NotBefore, _ = time.Parse(time.RFC3339Nano, nb)
		g.NotAfter, _ = time.Parse(time.RFC3339Nano, na)
		out = append(out, g)
	}
	return out, rows.Err()
}

// Users implements access.UserStore.
func (db *DB) Users(ctx context.Context) ([]vigil.User, error) {
	rows, err := db.QueryContext(ctx, `SELECT name FROM users ORDER BY name`)
	if err != nil {
		return nil, vigil.Wrap("user.list", vigil.Unavailable, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	var out []vigil.User
	for _, n := range names {
		r, err := db.UserRecord(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, r.User)
	}
	return out, nil
}

// EventRow is one event in the log index.
type EventRow struct {
	Seq    uint64 `json:"seq"`
	Pos    int    `json:"pos"`
	ID     string `json:"id"`
	Type   string `json:"type"`
	Actor  string `json:"actor"`
	Role   string `json:"role"`
	Scope  string `json:"scope"`
	Key    string `json:"key"`
	Time   string `json:"time"`
	Origin string `json:"origin"`
}

// Events lists events with seq < before (0: from the newest), newest first.
func (db *DB) Events(ctx context.Context, before uint64, limit int) ([]EventRow, error) {
	if before == 0 {
		before = 1 << 62
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, pos, id, type, actor, role, scope, key, time, origin FROM events
		WHERE seq < ? ORDER BY seq DESC, pos DESC LIMIT ?`, before, limit)
	if err != nil {
		return nil, vigil.Wrap("events.list", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []EventRow
	for rows.Next() {
		var e EventRow
		if err := rows.Scan(&e.Seq, &e.Pos, &e.ID, &e.Type, &e.Actor, &e.Role, &e.Scope, &e.Key, &e.Time, &e.Origin); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Counts returns row counts of the main tables, for the home pages.
func (db *DB) Count(ctx context.Context, table string) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&n)
	return n, err
}

var _ access.UserStore = (*DB)(nil)
