package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"slices"
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
	// One statement weighs every key: a head row each. A count above
	// broadKey is kept at broadKey+1, so that keys too broad to use tie
	// (and keep the query's order) however broad they are.
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = keyHash(k)
	}
	rows, err := db.QueryContext(ctx, keyCountSQL(len(keys)), args...)
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
		c.n = min(c.n, broadKey+1)
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
	// Candidates sharing the most keys with the query first: a common name
	// with a typo ("JAMES SMIHT") shares a few fuzzy keys with thousands of
	// voters but many with the few it means. Only the best are read and
	// ranked, which bounds the work of every search.
	const maxRead = 100
	cands, err := db.keyCandidates(ctx, hashes)
	if err != nil {
		return nil, vigil.Wrap(op, vigil.Unavailable, err)
	}
	if where != "1" {
		if cands, err = db.inScope(ctx, cands, where, sargs, maxRead); err != nil {
			return nil, vigil.Wrap(op, vigil.Unavailable, err)
		}
	}
	cands = cands[:min(len(cands), maxRead)]
	// Reading and ranking a candidate costs far more than counting its
	// keys, so only those sharing nearly as many keys as the best are read:
	// a voter who shares one fuzzy key with the query while others share
	// four is not the one meant.
	var ids []any
	best := 0
	for _, c := range cands {
		if best == 0 {
			best = c.n
		}
		if c.n < best-1 && len(ids) >= limit {
			break
		}
		ids = append(ids, c.id)
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

// candidate is a voter having n of a search's keys.
type candidate struct {
	id string
	n  int
}

// keyCandidates returns the voters having any of the keys hashes, those
// having the most first, then by ID.
func (db *DB) keyCandidates(ctx context.Context, hashes []any) ([]candidate, error) {
	rows, err := db.QueryContext(ctx, `SELECT ids FROM voter_postings WHERE h IN (?`+strings.Repeat(",?", len(hashes)-1)+`)`, hashes...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	count := map[string]int{}
	var ids string
	for rows.Next() {
		if err := rows.Scan(&ids); err != nil {
			return nil, err
		}
		for len(ids) > 0 {
			id := ids
			if i := strings.IndexByte(ids, '\n'); i >= 0 {
				id, ids = ids[:i], ids[i+1:]
			} else {
				ids = ""
			}
			count[id]++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]candidate, 0, len(count))
	for id, n := range count {
		out = append(out, candidate{id, n})
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out, nil
}

// inScope keeps the candidates on the roll inside the scopes that where
// (with args) selects, in order, up to max of them.
func (db *DB) inScope(ctx context.Context, cands []candidate, where string, args []any, max int) ([]candidate, error) {
	chunk := 128 // then doubling: most searches need one look, a scope with few of the candidates a few
	var out []candidate
	for len(cands) > 0 && len(out) < max {
		part := cands[:min(chunk, len(cands))]
		chunk = min(2*chunk, 2048)
		cands = cands[len(part):]
		qargs := make([]any, 0, len(part)+len(args))
		for _, c := range part {
			qargs = append(qargs, c.id)
		}
		qargs = append(qargs, args...)
		rows, err := db.QueryContext(ctx, `SELECT v.id FROM voters v LEFT JOIN precincts p ON p.id = v.precinct
			WHERE v.id IN (?`+strings.Repeat(",?", len(part)-1)+`) AND `+where, qargs...)
		if err != nil {
			return nil, err
		}
		in := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			in[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, c := range part {
			if in[c.id] && len(out) < max {
				out = append(out, c)
			}
		}
	}
	return out, nil
}
