// Package sqlite keeps vigil's projections — the current state derived from
// the event log — in SQLite (modernc.org/sqlite, no cgo).
//
// The log is the source of truth: a projection MAY be deleted at any time
// and is rebuilt by replaying the log. Entries are applied in log order, one
// SQLite transaction per batch of entries, with the cursor advanced in the
// same transaction; so after a crash a projection is exactly the log up to
// its cursor, and applying is idempotent.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/vigil-elections/vigil"
	_ "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is a projection database.
type DB struct {
	*sql.DB
	Path string

	// projected: a projector in this process applies the log to this
	// database, so it can tell readers what changed (generations).
	projected atomic.Bool
	gens      [numWatched]atomic.Uint64 // bumped after a watched event is applied
}

// What readers cache until it changes: each counts the applied events of
// its types (see Projector.Apply).
const (
	watchElections = iota // election.defined
	watchPaper            // site.paper_mode
	numWatched
)

var watchedTypes = map[vigil.EventType]int{
	vigil.EventElectionDefined: watchElections,
	vigil.EventSitePaperMode:   watchPaper,
}

// generation returns the change count of watched data w, and whether it
// can be trusted (a projector in this process applies the log).
func (db *DB) generation(w int) (uint64, bool) {
	return db.gens[w].Load(), db.projected.Load()
}

// Open opens (creating if needed) the database at path and migrates it.
// A database from a newer schema is refused, never modified.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	sdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, vigil.Wrap("sqlite.open", vigil.Unavailable, err)
	}
	// Many concurrent readers (100 pollbooks): keep their connections
	// instead of reopening one every few requests.
	sdb.SetMaxIdleConns(64)
	db := &DB{DB: sdb, Path: path}
	if err := db.migrate(ctx); err != nil {
		sdb.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate(ctx context.Context) error {
	const op = "sqlite.migrate"
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	var current int
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version),0) FROM schema_version`).Scan(&current)
	if err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	names, _ := fs.Glob(migrations, "migrations/*.sql")
	sort.Strings(names)
	// A migration's version is the number its file name starts with, so a
	// missing file can never shift the versions of the ones after it.
	latest := 0
	versions := make([]int, len(names))
	for i, name := range names {
		v, err := strconv.Atoi(strings.SplitN(path.Base(name), "_", 2)[0])
		if err != nil || v <= latest {
			return vigil.Errorf(vigil.Other, op, "migration %s is not numbered after its predecessor", name)
		}
		versions[i], latest = v, v
	}
	if current > latest {
		return vigil.Errorf(vigil.Integrity, op,
			"the projection database has schema version %d but this vigil knows only %d; use a newer vigil", current, latest)
	}
	for i, name := range names {
		if versions[i] <= current {
			continue
		}
		if current > 0 {
			// An existing projection being upgraded: some conversions take
			// minutes on a large roll (0016: about a minute per million
			// voters), and a silent start would look hung.
			slog.Info("upgrading the projection database (one time)", "path", db.Path, "migration", path.Base(name))
		}
		body, _ := migrations.ReadFile(name)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return vigil.Wrap(op, vigil.Other, fmt.Errorf("%s: %w", name, err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version) VALUES (?)`, versions[i]); err != nil {
			tx.Rollback()
			return vigil.Wrap(op, vigil.Other, err)
		}
		if err := tx.Commit(); err != nil {
			return vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	return nil
}

// Cursor returns the last applied sequence for origin.
func (db *DB) Cursor(ctx context.Context, origin string) (uint64, error) {
	var seq uint64
	err := db.QueryRowContext(ctx, `SELECT seq FROM cursors WHERE origin = ?`, origin).Scan(&seq)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return seq, err
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
