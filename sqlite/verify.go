package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Difference is one way the live projections differ from a rebuild.
type Difference struct {
	Table  string
	Key    string // the row's primary key values
	Column string // "" when the whole row is missing or extra
	Live   string
	Built  string
}

func (d Difference) String() string {
	switch {
	case d.Live == "" && d.Column == "":
		return fmt.Sprintf("table %s, row %s: missing from the live projection", d.Table, d.Key)
	case d.Built == "" && d.Column == "":
		return fmt.Sprintf("table %s, row %s: in the live projection but not in the log", d.Table, d.Key)
	}
	return fmt.Sprintf("table %s, row %s, column %s: live %q, rebuilt from the log %q", d.Table, d.Key, d.Column, d.Live, d.Built)
}

// Compare lists every difference between the tables of live and built.
// Both are read inside one read transaction each, so a live projection that
// keeps changing is compared at one instant.
func Compare(ctx context.Context, live, built *sql.Tx) ([]Difference, error) {
	tables, err := projectionTables(ctx, built)
	if err != nil {
		return nil, err
	}
	var diffs []Difference
	for _, t := range tables {
		d, err := compareTable(ctx, t, live, built)
		if err != nil {
			return nil, fmt.Errorf("comparing %s: %w", t, err)
		}
		diffs = append(diffs, d...)
	}
	return diffs, nil
}

// projectionTables lists the ordinary tables (not schema bookkeeping, not
// full-text shadow tables, which are derived from their content tables).
func projectionTables(ctx context.Context, tx *sql.Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'table'
		AND name NOT LIKE 'sqlite_%' AND name != 'schema_version' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names, virtual []string
	for rows.Next() {
		var name, ddl string
		if err := rows.Scan(&name, &ddl); err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.ToUpper(ddl), "CREATE VIRTUAL TABLE") {
			virtual = append(virtual, name)
			continue
		}
		names = append(names, name)
	}
	out := names[:0]
	for _, n := range names {
		shadow := false
		for _, v := range virtual {
			if strings.HasPrefix(n, v+"_") {
				shadow = true
			}
		}
		if !shadow {
			out = append(out, n)
		}
	}
	return out, rows.Err()
}

func primaryKey(ctx context.Context, tx *sql.Tx, table string) (cols, pk []string, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, pk FROM pragma_table_info(?) ORDER BY cid`, table)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	type kc struct {
		name string
		pos  int
	}
	var keys []kc
	for rows.Next() {
		var name string
		var pos int
		if err := rows.Scan(&name, &pos); err != nil {
			return nil, nil, err
		}
		cols = append(cols, name)
		if pos > 0 {
			keys = append(keys, kc{name, pos})
		}
	}
	for p := 1; p <= len(keys); p++ {
		for _, k := range keys {
			if k.pos == p {
				pk = append(pk, k.name)
			}
		}
	}
	if len(pk) == 0 {
		pk = []string{"rowid"}
	}
	return cols, pk, rows.Err()
}

type tableRows struct {
	rows *sql.Rows
	vals []sql.NullString
	ok   bool
}

func (r *tableRows) next() error {
	r.ok = r.rows.Next()
	if !r.ok {
		return r.rows.Err()
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	return r.rows.Scan(ptrs...)
}

// compareTable merges the two tables in primary-key order.
func compareTable(ctx context.Context, table string, live, built *sql.Tx) ([]Difference, error) {
	cols, pk, err := primaryKey(ctx, built, table)
	if err != nil {
		return nil, err
	}
	var sel []string
	for _, c := range pk {
		sel = append(sel, "CAST("+quoteIdent(c)+" AS TEXT)")
	}
	for _, c := range cols {
		sel = append(sel, "CAST("+quoteIdent(c)+" AS TEXT)")
	}
	var order []string
	for _, c := range pk {
		order = append(order, quoteIdent(c))
	}
	q := "SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(table) + " ORDER BY " + strings.Join(order, ", ")
	open := func(tx *sql.Tx) (*tableRows, error) {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		r := &tableRows{rows: rows, vals: make([]sql.NullString, len(sel))}
		return r, r.next()
	}
	l, err := open(live)
	if err != nil {
		return nil, err
	}
	defer l.rows.Close()
	b, err := open(built)
	if err != nil {
		return nil, err
	}
	defer b.rows.Close()
	key := func(r *tableRows) string {
		var parts []string
		for i, c := range pk {
			parts = append(parts, c+"="+r.vals[i].String)
		}
		return strings.Join(parts, ",")
	}
	cmpKey := func() int {
		for i := range pk {
			if c := strings.Compare(l.vals[i].String, b.vals[i].String); c != 0 {
				return c
			}
		}
		return 0
	}
	var diffs []Difference
	const limit = 1000 // enough to act on; the count is still exact below
	add := func(d Difference) {
		if len(diffs) < limit {
			diffs = append(diffs, d)
		}
	}
	for l.ok || b.ok {
		switch {
		case !b.ok || (l.ok && cmpKey() < 0):
			add(Difference{Table: table, Key: key(l), Built: "", Live: "row"})
			err = l.next()
		case !l.ok || cmpKey() > 0:
			add(Difference{Table: table, Key: key(b), Built: "row"})
			err = b.next()
		default:
			for i, c := range cols {
				lv, bv := l.vals[len(pk)+i], b.vals[len(pk)+i]
				if lv != bv {
					add(Difference{Table: table, Key: key(l), Column: c, Live: show(lv), Built: show(bv)})
				}
			}
			if err = l.next(); err == nil {
				err = b.next()
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return diffs, nil
}

func show(v sql.NullString) string {
	if !v.Valid {
		return "NULL"
	}
	return v.String
}

// Snapshot opens a read transaction: the projection at one instant.
func (db *DB) Snapshot(ctx context.Context) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, vigil.Wrap("sqlite.snapshot", vigil.Unavailable, err)
	}
	return tx, nil
}
