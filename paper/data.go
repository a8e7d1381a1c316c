package paper

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Place is a polling place as the projection holds it.
type Place struct {
	ID, County, CountyName, Name, Address string
}

// Election is the election a document is printed for.
type Election struct {
	ID, Name, Day string
}

// Voter is one line of a paper pollbook.
type Voter struct {
	ID, Last, First, Middle, Suffix string
	Street, City, Zip               string
	BirthDate, Status               string
	Precinct, BallotStyle           string
}

// Voted is one line of a voted list.
type Voted struct {
	Voter
	Time  time.Time
	Actor string
}

// ReadPlace reads a polling place. Errors: NotFound.
func ReadPlace(ctx context.Context, db *sql.DB, id string) (Place, error) {
	p := Place{ID: id}
	err := db.QueryRowContext(ctx, `SELECT p.county, COALESCE(c.name, p.county), p.name, p.address
		FROM places p LEFT JOIN counties c ON c.id = p.county WHERE p.id = ?`, id).
		Scan(&p.County, &p.CountyName, &p.Name, &p.Address)
	if errors.Is(err, sql.ErrNoRows) {
		return p, vigil.Errorf(vigil.NotFound, "paper", "no polling place %q; check the ID on the county's place list", id)
	}
	if err != nil {
		return p, vigil.Wrap("paper", vigil.Unavailable, err)
	}
	return p, nil
}

// ReadElection reads an election, or the latest one if id is empty.
// Errors: NotFound.
func ReadElection(ctx context.Context, db *sql.DB, id string) (Election, error) {
	var e Election
	q := `SELECT id, name, day FROM elections ORDER BY day DESC, id LIMIT 1`
	args := []any{}
	if id != "" {
		q, args = `SELECT id, name, day FROM elections WHERE id = ?`, []any{id}
	}
	err := db.QueryRowContext(ctx, q, args...).Scan(&e.ID, &e.Name, &e.Day)
	if errors.Is(err, sql.ErrNoRows) {
		if id == "" {
			return e, vigil.Errorf(vigil.NotFound, "paper", "no election is defined yet")
		}
		return e, vigil.Errorf(vigil.NotFound, "paper", "no election %q", id)
	}
	if err != nil {
		return e, vigil.Wrap("paper", vigil.Unavailable, err)
	}
	return e, nil
}

// Cursor is the last log entry the projection applied.
func Cursor(ctx context.Context, db *sql.DB, origin string) (uint64, error) {
	var c uint64
	err := db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM cursors WHERE origin = ?), 0)`, origin).Scan(&c)
	return c, vigil.Wrap("paper", vigil.Unavailable, err)
}

const voterColumns = `v.id, v.last_name, v.first_name, v.middle, v.suffix, v.street, v.city, v.zip,
	v.birth_date, v.status, v.precinct, p.ballot_style`

func scanVoter(rows *sql.Rows, extra ...any) (Voter, error) {
	var v Voter
	dst := append([]any{&v.ID, &v.Last, &v.First, &v.Middle, &v.Suffix, &v.Street, &v.City, &v.Zip,
		&v.BirthDate, &v.Status, &v.Precinct, &v.BallotStyle}, extra...)
	return v, rows.Scan(dst...)
}

// ReadRoll reads, in alphabetical order, the voters of the precincts that
// vote at a polling place and may vote there (active or inactive).
func ReadRoll(ctx context.Context, db *sql.DB, placeID string) ([]Voter, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+voterColumns+`
		FROM voters v JOIN precincts p ON p.id = v.precinct
		WHERE p.place = ? AND v.status IN ('active', 'inactive')
		ORDER BY v.last_name COLLATE NOCASE, v.first_name COLLATE NOCASE, v.middle COLLATE NOCASE,
			v.suffix, v.birth_date, v.id`, placeID)
	if err != nil {
		return nil, vigil.Wrap("paper", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []Voter
	for rows.Next() {
		v, err := scanVoter(rows)
		if err != nil {
			return nil, vigil.Wrap("paper", vigil.Unavailable, err)
		}
		out = append(out, v)
	}
	return out, vigil.Wrap("paper", vigil.Unavailable, rows.Err())
}

// ReadVoted reads the voters checked in at a polling place up to at, in
// alphabetical order: those whose last checkin.recorded or checkin.undone
// event up to at is a check-in. Until the pollbook capability's own table
// is settled, check-ins are read from the event index (events on the
// voter's key) and placed by the voter's precinct.
func ReadVoted(ctx context.Context, db *sql.DB, placeID string, at time.Time) ([]Voted, error) {
	rows, err := db.QueryContext(ctx, `SELECT `+voterColumns+`, e.time, e.actor, e.type
		FROM events e JOIN voters v ON v.id = e.key JOIN precincts p ON p.id = v.precinct
		WHERE e.type IN (?, ?) AND p.place = ?
		ORDER BY v.id, e.seq, e.pos`,
		string(vigil.EventCheckInRecorded), string(vigil.EventCheckInUndone), placeID)
	if err != nil {
		return nil, vigil.Wrap("paper", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []Voted
	var cur *Voted
	flush := func() {
		if cur != nil {
			out = append(out, *cur)
			cur = nil
		}
	}
	lastID := ""
	for rows.Next() {
		var ts, actor, typ string
		v, err := scanVoter(rows, &ts, &actor, &typ)
		if err != nil {
			return nil, vigil.Wrap("paper", vigil.Unavailable, err)
		}
		if v.ID != lastID {
			flush()
			lastID = v.ID
		}
		// Times are compared parsed: RFC 3339 strings with fractional
		// seconds do not sort as times.
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || t.After(at) {
			continue
		}
		if typ == string(vigil.EventCheckInUndone) {
			cur = nil
			continue
		}
		cur = &Voted{Voter: v, Time: t, Actor: actor}
	}
	flush()
	if err := rows.Err(); err != nil {
		return nil, vigil.Wrap("paper", vigil.Unavailable, err)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Voter, out[j].Voter
		for _, p := range [][2]string{{a.Last, b.Last}, {a.First, b.First}, {a.Middle, b.Middle}, {a.ID, b.ID}} {
			if x, y := strings.ToUpper(p[0]), strings.ToUpper(p[1]); x != y {
				return x < y
			}
		}
		return false
	})
	return out, nil
}
