package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// rowCols are the voters columns scanRow reads.
const rowCols = `id, county, precinct, first_name, middle, last_name, suffix, birth_date, street, city, zip, party,
	status, registered, gender, status_reason, fingerprint, merged_into, updated, record`

// voterRow is one row of the voters table.
type voterRow struct {
	ID, County, Precinct, First, Middle, Last, Suffix, BirthDate, Street, City, ZIP, Party,
	Status, Registered, Gender, StatusReason, Fingerprint, MergedInto, Updated string
	RecordJSON string // the record column: JSON or a row
}

type scanner interface{ Scan(dest ...any) error }

func scanRow(s scanner) (voterRow, error) {
	var r voterRow
	err := s.Scan(&r.ID, &r.County, &r.Precinct, &r.First, &r.Middle, &r.Last, &r.Suffix, &r.BirthDate, &r.Street,
		&r.City, &r.ZIP, &r.Party, &r.Status, &r.Registered, &r.Gender, &r.StatusReason, &r.Fingerprint,
		&r.MergedInto, &r.Updated, &r.RecordJSON)
	return r, err
}

// Record returns the full record, from the record column: a JSON object,
// or a row (voter.AppendRow) for voters an import added. Rows of the
// foundation's roll (no record) are rebuilt from their columns.
func (r voterRow) Record() vigil.VoterRecord {
	var rec vigil.VoterRecord
	switch {
	case strings.HasPrefix(r.RecordJSON, "["):
		if voter.ParseRow(r.RecordJSON, &rec) == nil {
			return rec
		}
	case r.RecordJSON != "":
		if json.Unmarshal([]byte(r.RecordJSON), &rec) == nil {
			return rec
		}
	}
	v := rollToVoter(vigil.RollVoter{ID: r.ID, County: r.County, Precinct: r.Precinct, FirstName: r.First, Middle: r.Middle,
		LastName: r.Last, Suffix: r.Suffix, BirthDate: r.BirthDate, Street: r.Street, City: r.City, Zip: r.ZIP,
		Party: r.Party, Status: r.Status, Registered: r.Registered})
	v.Gender = r.Gender
	return vigil.VoterRecord{Voter: v, Fingerprint: r.Fingerprint}
}

// matchVoter is the Voter that matching looks at, built from the columns
// only (no JSON decoding): enough for voter.FindDuplicates and Rank.
func (r voterRow) matchVoter() vigil.Voter {
	bd, _ := vigil.ParseDate(r.BirthDate)
	return vigil.Voter{ID: vigil.VoterID(r.ID), County: r.County, Precinct: r.Precinct, Gender: r.Gender,
		Name:      vigil.Name{First: r.First, Middle: r.Middle, Last: r.Last, Suffix: r.Suffix},
		BirthDate: bd, Residence: vigil.Address{Line1: r.Street, City: r.City, ZIP: r.ZIP},
		Status: vigil.VoterStatus{Code: vigil.StatusCode(r.Status)}}
}

// StoredVoter is a registration as the projection holds it.
type StoredVoter struct {
	vigil.VoterRecord
	MergedInto string `json:"merged_into,omitempty"`
	Updated    string `json:"updated,omitempty"`
}

// Voter returns one registration. Errors: NotFound.
func (db *DB) Voter(ctx context.Context, id vigil.VoterID) (StoredVoter, error) {
	r, err := scanRow(db.QueryRowContext(ctx, `SELECT `+rowCols+` FROM voters WHERE id = ?`, string(id)))
	if err == sql.ErrNoRows {
		return StoredVoter{}, vigil.Errorf(vigil.NotFound, "voters.get", "there is no voter %s", id)
	}
	if err != nil {
		return StoredVoter{}, vigil.Wrap("voters.get", vigil.Unavailable, err)
	}
	return StoredVoter{VoterRecord: r.Record(), MergedInto: r.MergedInto, Updated: r.Updated}, nil
}

// VoterHistoryEntry is one event in a voter's history: who, when, why.
type VoterHistoryEntry struct {
	Seq     uint64 `json:"seq"`
	Event   string `json:"event"`
	Type    string `json:"type"`
	Time    string `json:"time"`
	Actor   string `json:"actor"`
	Role    string `json:"role"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
	Changes string `json:"changes"`
}

// VoterHistory lists the events that touched a voter, oldest first.
func (db *DB) VoterHistory(ctx context.Context, id vigil.VoterID) ([]VoterHistoryEntry, error) {
	rows, err := db.QueryContext(ctx, `SELECT e.seq, h.event, h.type, e.time, e.actor, e.role, h.reason, h.detail, h.changes
		FROM voter_history h JOIN events e ON e.id = h.event WHERE h.id = ? ORDER BY e.seq, e.pos`, string(id))
	if err != nil {
		return nil, vigil.Wrap("voters.history", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []VoterHistoryEntry
	for rows.Next() {
		var h VoterHistoryEntry
		if err := rows.Scan(&h.Seq, &h.Event, &h.Type, &h.Time, &h.Actor, &h.Role, &h.Reason, &h.Detail, &h.Changes); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Fingerprints returns the stored fingerprint of each id that exists ("" for
// a voter without one, such as the demo roll's).
func (db *DB) Fingerprints(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		args := make([]any, len(part))
		for j, id := range part {
			args[j] = id
		}
		rows, err := db.QueryContext(ctx, `SELECT id, fingerprint FROM voters WHERE id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, args...)
		if err != nil {
			return nil, vigil.Wrap("voters.fingerprints", vigil.Unavailable, err)
		}
		for rows.Next() {
			var id, fp string
			if err := rows.Scan(&id, &fp); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = fp
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scopeWhere returns a WHERE fragment limiting voters (alias v, precincts
// alias p) to scopes; ok is false when the scopes cover nothing.
func scopeWhere(scopes []vigil.Scope) (string, []any, bool) {
	var where []string
	var args []any
	for _, sc := range scopes {
		switch sc.Kind() {
		case "state":
			return "1", nil, true
		case "county":
			where = append(where, "v.county = ?")
			args = append(args, sc.County())
		case "place":
			where = append(where, "(v.county = ? AND p.place = ?)")
			args = append(args, sc.County(), strings.Split(string(sc), "/")[3])
		}
	}
	if len(where) == 0 {
		return "", nil, false
	}
	return "(" + strings.Join(where, " OR ") + ")", args, true
}

// EachVoter calls fn for every registration inside scopes, in ID order.
func (db *DB) EachVoter(ctx context.Context, scopes []vigil.Scope, fn func(StoredVoter) error) error {
	where, args, ok := scopeWhere(scopes)
	if !ok {
		return nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+prefixCols("v.")+` FROM voters v LEFT JOIN precincts p ON p.id = v.precinct
		WHERE `+where+` ORDER BY v.id`, args...)
	if err != nil {
		return vigil.Wrap("voters.each", vigil.Unavailable, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return err
		}
		if err := fn(StoredVoter{VoterRecord: r.Record(), MergedInto: r.MergedInto, Updated: r.Updated}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// MatchVoters returns the registrations inside scopes that are not
// cancelled, with the fields matching needs (for voter.FindDuplicates).
func (db *DB) MatchVoters(ctx context.Context, scopes []vigil.Scope) ([]vigil.Voter, error) {
	where, args, ok := scopeWhere(scopes)
	if !ok {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+prefixCols("v.")+` FROM voters v LEFT JOIN precincts p ON p.id = v.precinct
		WHERE `+where+` AND v.status != 'cancelled' ORDER BY v.id`, args...)
	if err != nil {
		return nil, vigil.Wrap("voters.match", vigil.Unavailable, err)
	}
	defer rows.Close()
	var out []vigil.Voter
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		r.RecordJSON = ""
		out = append(out, r.matchVoter())
	}
	return out, rows.Err()
}

func prefixCols(p string) string {
	parts := strings.Split(rowCols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// SearchResult is one ranked search hit.
type SearchResult struct {
	Voter StoredVoter `json:"voter"`
	Score float64     `json:"score"`
}

// broadKey is how many voters a search key may match and still be used: a
// key shared by thousands ("MARY" and a last name ending in "SON") tells
// candidates apart no better than chance, and counting it is most of a
// search's work among millions of voters.
const broadKey = 2000

// selectiveKeys returns the hashes of the query keys that match some voter
// but not more than broadKey, most selective first; when fewer than two
// are left, the two most selective keys that match anyone.
func (db *DB) selectiveKeys(ctx context.Context, keys []string) ([]any, error) {
	type counted struct {
		h int64
		n int
	}
	// One statement counts every key (each count stops at broadKey+1).
	parts := make([]string, len(keys))
	args := make([]any, len(keys))
	for i, k := range keys {
		parts[i] = `SELECT ?` + strconv.Itoa(i+1) + `, (SELECT count(*) FROM (SELECT 1 FROM voter_keys WHERE h = ?` +
			strconv.Itoa(i+1) + ` LIMIT ` + strconv.Itoa(broadKey+1) + `))`
		args[i] = keyHash(k)
	}
	rows, err := db.QueryContext(ctx, strings.Join(parts, " UNION ALL "), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []counted
	for rows.Next() {
		var c counted
		if err := rows.Scan(&c.h, &c.n); err != nil {
			return nil, err
		}
		if c.n > 0 {
			all = append(all, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(all, func(a, b counted) int { return cmp.Compare(a.n, b.n) })
	var out []any
	for _, c := range all {
		if c.n <= broadKey || len(out) < 2 {
			out = append(out, c.h)
		}
	}
	return out, nil
}

// SearchVoters finds registrations inside scopes by name (typos and
// nicknames tolerated), birth date, voter ID or address, best first.
func (db *DB) SearchVoters(ctx context.Context, q string, scopes []vigil.Scope, limit int) ([]SearchResult, error) {
	const op = "voters.search"
	query := voter.ParseQuery(q)
	keys := query.Keys()
	if len(keys) == 0 {
		return nil, nil
	}
	where, sargs, ok := scopeWhere(scopes)
	if !ok {
		return nil, nil
	}
	hashes, err := db.selectiveKeys(ctx, keys)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if len(hashes) == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(hashes)+len(sargs))
	args = append(args, hashes...)
	args = append(args, sargs...)
	// Candidates sharing the most keys with the query first: a common name
	// with a typo ("JAMES SMIHT") shares a few fuzzy keys with thousands of
	// voters but many with the few it means. Only the best are read and
	// ranked, which bounds the work of every search.
	const maxRead = 100
	hs := "?" + strings.Repeat(",?", len(hashes)-1)
	var cand string
	if where == "1" {
		cand = `SELECT k.id AS id, count(*) AS n FROM voter_keys k WHERE k.h IN (` + hs + `)
			GROUP BY k.id ORDER BY n DESC, k.id LIMIT ` + strconv.Itoa(maxRead)
	} else {
		cand = `SELECT k.id AS id, count(*) AS n FROM voter_keys k JOIN voters v ON v.id = k.id
			LEFT JOIN precincts p ON p.id = v.precinct WHERE k.h IN (` + hs + `) AND ` + where + `
			GROUP BY k.id ORDER BY n DESC, k.id LIMIT ` + strconv.Itoa(maxRead)
	}
	// Reading and ranking a candidate costs far more than counting its
	// keys, so only those sharing nearly as many keys as the best are read:
	// a voter who shares one fuzzy key with the query while others share
	// four is not the one meant.
	crows, err := db.QueryContext(ctx, cand, args...)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	var ids []any
	best := 0
	for crows.Next() {
		var id string
		var n int
		if err := crows.Scan(&id, &n); err != nil {
			crows.Close()
			return nil, vigil.Wrap(op, vigil.Unavailable, err)
		}
		if best == 0 {
			best = n
		}
		if n < best-1 && len(ids) >= limit {
			break
		}
		ids = append(ids, id)
	}
	crows.Close()
	if err := crows.Err(); err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.QueryContext(ctx, `SELECT `+rowCols+` FROM voters WHERE id IN (?`+strings.Repeat(",?", len(ids)-1)+`)`, ids...)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer rows.Close()
	type hit struct {
		row   voterRow
		score float64
	}
	var hits []hit
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		m := r.matchVoter()
		if score := query.Rank(&m); score >= 0.5 {
			hits = append(hits, hit{r, score})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.row.ID, b.row.ID)
	})
	out := make([]SearchResult, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, SearchResult{Voter: StoredVoter{VoterRecord: h.row.Record(), MergedInto: h.row.MergedInto, Updated: h.row.Updated}, Score: h.score})
	}
	return out, nil
}
