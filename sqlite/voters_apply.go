package sqlite

import (
	"cmp"
	"database/sql"
	"encoding/json"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// registerVoters adds the appliers of the voter registration system. It
// also extends the foundation's voter.registered applier so that the demo
// roll gets search keys and a first history row.
//
// Every applier uses only the event: a rebuild from the log gives the same
// rows (vigil verify compares them).
func registerVoters(m map[vigil.EventType]applier) {
	if base := m[vigil.EventVoterRegistered]; base != nil {
		m[vigil.EventVoterRegistered] = func(tx *Tx, ev vigil.Event) error {
			if err := base(tx, ev); err != nil {
				return err
			}
			return applyRollKeys(tx, ev)
		}
	}
	m[vigil.EventVoterAdded] = applyVoterRecords
	m[vigil.EventVoterChanged] = applyVoterRecords
	m[vigil.EventVoterMerged] = applyVoterMerge
	m[vigil.EventVoterImported] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.VoterImport](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO voter_imports(id, event, file, layout, sha256, rows, rejected, added, changed, unchanged)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO NOTHING`,
			p.ID, ev.ID, p.File, p.Layout, p.SHA256, p.Rows, p.Rejected, p.Added, p.Changed, p.Unchanged)
		if err != nil {
			return err
		}
		return mergePendingKeys(tx)
	}
}

// keyHash maps a search key to the integer stored in voter_keys.
func keyHash(k string) int64 {
	h := fnv.New64a()
	h.Write([]byte(k))
	return int64(h.Sum64())
}

// voterStmts are the statements one event's records need.
type voterStmts struct {
	insert, update, read, addKey, delKey, history *sql.Stmt
}

func prepareVoterStmts(tx *Tx) (*voterStmts, error) {
	var s voterStmts
	var err error
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = tx.Prepare(q)
		}
	}
	const cols = `county, precinct, first_name, middle, last_name, suffix, birth_date, street, city, zip, party, status,
		registered, gender, status_reason, fingerprint, updated, record`
	prep(&s.insert, `INSERT INTO voters(id, `+cols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO NOTHING`)
	prep(&s.update, `UPDATE voters SET (`+cols+`) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?`)
	prep(&s.read, `SELECT `+rowCols+` FROM voters WHERE id = ?`)
	prep(&s.addKey, `INSERT INTO voter_keys(h, id) VALUES (?, ?) ON CONFLICT DO NOTHING`)
	prep(&s.delKey, `DELETE FROM voter_keys WHERE h = ? AND id = ?`)
	prep(&s.history, `INSERT INTO voter_history(id, event, type, reason, detail, changes) VALUES (?,?,?,?,?,?)
		ON CONFLICT(id, event) DO NOTHING`)
	if err != nil {
		s.close()
		return nil, err
	}
	return &s, nil
}

func (s *voterStmts) close() {
	for _, st := range []*sql.Stmt{s.insert, s.update, s.read, s.addKey, s.delKey, s.history} {
		if st != nil {
			st.Close()
		}
	}
}

// flat returns the foundation's columns for r (and the new ones), in the
// order of prepareVoterStmts' cols.
func flat(r *vigil.VoterRecord, raw []byte, ev vigil.Event) []any {
	v := &r.Voter
	street := v.Residence.Line1
	if v.Residence.Line2 != "" {
		street += " " + v.Residence.Line2
	}
	return []any{v.County, v.Precinct, v.Name.First, v.Name.Middle, v.Name.Last, v.Name.Suffix,
		v.BirthDate.String(), street, v.Residence.City, v.Residence.ZIP, v.Party, string(v.Status.Code),
		v.Registered.String(), v.Gender, string(v.Status.Reason), r.Fingerprint, timeText(ev.Time), string(raw)}
}

func applyVoterRecords(tx *Tx, ev vigil.Event) error {
	var p struct {
		Reason  vigil.ChangeReason `json:"reason"`
		Detail  string             `json:"detail"`
		Import  string             `json:"import"`
		Records []json.RawMessage  `json:"records"`
	}
	if err := json.Unmarshal(ev.Payload, &p); err != nil {
		return &vigil.Error{Op: "projector.decode", Kind: vigil.Integrity, Message: "payload of " + string(ev.Type) + " is malformed", Err: err}
	}
	// An import applies thousands of records per event: a page cache that
	// holds the hot part of the key index saves a read per insert. The
	// setting is per connection and harmless to repeat.
	if _, err := tx.Exec(`PRAGMA cache_size = -131072`); err != nil {
		return err
	}
	st, err := prepareVoterStmts(tx)
	if err != nil {
		return err
	}
	defer st.close()
	var keys []voterKey
	for _, raw := range p.Records {
		var r vigil.VoterRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return &vigil.Error{Op: "projector.decode", Kind: vigil.Integrity, Message: "a record of " + string(ev.Type) + " is malformed", Err: err}
		}
		if keys, err = applyRecord(st, ev, p.Reason, p.Detail, &r, raw, keys); err != nil {
			return err
		}
	}
	if p.Import != "" {
		// An import's keys wait for its voter.imported event; until then
		// its voters are not found by search (the import is not done).
		if err := ensurePendingKeys(tx); err != nil {
			return err
		}
		return insertKeys(tx, st, keys, "voter_keys_pending")
	}
	// Inserting the keys in index order touches each index page once.
	slices.SortFunc(keys, func(a, b voterKey) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return insertKeys(tx, st, keys, "voter_keys")
}

// ensurePendingKeys creates voter_keys_pending, where the keys of the
// voters an import added or changed wait, in arrival order, until its
// voter.imported event moves them into voter_keys in one sorted insert:
// inserting millions of random hashes batch by batch would rewrite most of
// the key index at every batch. The table is made here, not in migration
// 0002 (already in use without it); a rebuild creates and drops it at the
// same events.
func ensurePendingKeys(tx *Tx) error {
	_, err := tx.Exec(`CREATE TABLE IF NOT EXISTS voter_keys_pending (h INTEGER NOT NULL, id TEXT NOT NULL)`)
	return err
}

// mergePendingKeys moves every pending key (of this import and of any
// earlier one that never finished) into voter_keys in index order.
func mergePendingKeys(tx *Tx) error {
	if err := ensurePendingKeys(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO voter_keys(h, id) SELECT h, id FROM voter_keys_pending WHERE true
		ORDER BY h, id ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	// Dropped, not emptied: a projection without an unfinished import has
	// no such table, whichever vigil version built it.
	_, err := tx.Exec(`DROP TABLE voter_keys_pending`)
	return err
}

// keysPerInsert is how many keys one multi-row INSERT carries: the
// per-statement cost, not the B-tree, dominates single-row inserts.
const keysPerInsert = 500

func insertKeys(tx *Tx, st *voterStmts, keys []voterKey, table string) error {
	conflict := " ON CONFLICT DO NOTHING"
	if table == "voter_keys_pending" {
		conflict = ""
	}
	if len(keys) >= keysPerInsert {
		multi, err := tx.Prepare(`INSERT INTO ` + table + `(h, id) VALUES (?,?)` + strings.Repeat(",(?,?)", keysPerInsert-1) + conflict)
		if err != nil {
			return err
		}
		defer multi.Close()
		args := make([]any, 0, 2*keysPerInsert)
		for len(keys) >= keysPerInsert {
			args = args[:0]
			for _, k := range keys[:keysPerInsert] {
				args = append(args, k.h, k.id)
			}
			if _, err := multi.Exec(args...); err != nil {
				return err
			}
			keys = keys[keysPerInsert:]
		}
	}
	if len(keys) == 0 {
		return nil
	}
	one := st.addKey
	if table == "voter_keys_pending" {
		var err error
		if one, err = tx.Prepare(`INSERT INTO voter_keys_pending(h, id) VALUES (?,?)`); err != nil {
			return err
		}
		defer one.Close()
	}
	for _, k := range keys {
		if _, err := one.Exec(k.h, k.id); err != nil {
			return err
		}
	}
	return nil
}

type voterKey struct {
	h  int64
	id string
}

// applyRecord stores one new version of a voter and a history row naming
// what changed; it removes the keys the voter no longer has and returns
// keys with the voter's current ones added, for the caller to insert.
func applyRecord(st *voterStmts, ev vigil.Event, reason vigil.ChangeReason, detail string, r *vigil.VoterRecord, raw []byte, keys []voterKey) ([]voterKey, error) {
	id := string(r.ID)
	args := flat(r, raw, ev)
	res, err := st.insert.Exec(append([]any{id}, args...)...)
	if err != nil {
		return keys, err
	}
	newKeys := voter.SearchKeys(&r.Voter)
	changes := "new"
	if n, _ := res.RowsAffected(); n == 0 {
		old, err := scanRow(st.read.QueryRow(id))
		if err != nil {
			return keys, err
		}
		oldRec := old.Record()
		changes = strings.Join(changedParts(&oldRec.Voter, &r.Voter), ",")
		if _, err := st.update.Exec(append(args, id)...); err != nil {
			return keys, err
		}
		for _, k := range voter.SearchKeys(&oldRec.Voter) {
			if _, found := slices.BinarySearch(newKeys, k); !found {
				if _, err := st.delKey.Exec(keyHash(k), id); err != nil {
					return keys, err
				}
			}
		}
	}
	for _, k := range newKeys {
		keys = append(keys, voterKey{keyHash(k), id})
	}
	_, err = st.history.Exec(id, ev.ID, string(ev.Type), string(reason), detail, changes)
	return keys, err
}

// changedParts names the parts of a record that differ, in words a clerk
// reads on the history page.
func changedParts(a, b *vigil.Voter) []string {
	var out []string
	add := func(changed bool, name string) {
		if changed {
			out = append(out, name)
		}
	}
	add(a.Name != b.Name, "name")
	add(a.BirthDate != b.BirthDate, "birth date")
	add(a.Residence != b.Residence, "address")
	add(a.Mailing != b.Mailing, "mailing address")
	add(a.Party != b.Party, "party")
	add(a.Status != b.Status, "status")
	add(a.Precinct != b.Precinct || a.County != b.County, "precinct")
	add(!slices.Equal(a.Districts, b.Districts), "districts")
	add(!slices.Equal(a.History, b.History), "voting history")
	add(a.Phone != b.Phone || a.Email != b.Email, "contact")
	add(a.Gender != b.Gender || a.LocalID != b.LocalID || a.Registered != b.Registered || a.Confidential != b.Confidential, "other")
	if len(out) == 0 {
		out = append(out, "identifiers")
	}
	return out
}

func applyVoterMerge(tx *Tx, ev vigil.Event) error {
	m, err := decode[vigil.VoterMerge](ev)
	if err != nil {
		return err
	}
	st, err := prepareVoterStmts(tx)
	if err != nil {
		return err
	}
	defer st.close()
	old, err := scanRow(st.read.QueryRow(string(m.Drop)))
	if err == sql.ErrNoRows {
		return nil // the writer checked; a rebuild of a log without the voter has nothing to cancel
	}
	if err != nil {
		return err
	}
	r := old.Record()
	r.Status = vigil.VoterStatus{Code: vigil.StatusCancelled, Reason: vigil.ReasonDuplicate,
		Detail: "merged into " + string(m.Keep), Since: vigil.DateOf(ev.Time.UTC())}
	raw, err := json.Marshal(&r)
	if err != nil {
		return err
	}
	if _, err := st.update.Exec(append(flat(&r, raw, ev), string(m.Drop))...); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE voters SET merged_into = ? WHERE id = ?`, string(m.Keep), string(m.Drop)); err != nil {
		return err
	}
	if _, err := st.history.Exec(string(m.Drop), ev.ID, string(ev.Type), string(vigil.ReasonDuplicate), m.Detail,
		"status: cancelled as a duplicate of "+string(m.Keep)); err != nil {
		return err
	}
	_, err = st.history.Exec(string(m.Keep), ev.ID, string(ev.Type), string(vigil.ReasonDuplicate), m.Detail,
		"kept; "+string(m.Drop)+" merged into it")
	return err
}

// applyRollKeys indexes the demo roll's voter.registered rows for search.
func applyRollKeys(tx *Tx, ev vigil.Event) error {
	vs, err := decode[[]vigil.RollVoter](ev)
	if err != nil {
		return err
	}
	st, err := prepareVoterStmts(tx)
	if err != nil {
		return err
	}
	defer st.close()
	for _, rv := range vs {
		v := rollToVoter(rv)
		for _, k := range voter.SearchKeys(&v) {
			if _, err := st.addKey.Exec(keyHash(k), rv.ID); err != nil {
				return err
			}
		}
		if _, err := st.history.Exec(rv.ID, ev.ID, string(ev.Type), string(vigil.ReasonNew), "", "new"); err != nil {
			return err
		}
	}
	return nil
}

func rollToVoter(rv vigil.RollVoter) vigil.Voter {
	bd, _ := vigil.ParseDate(rv.BirthDate)
	reg, _ := vigil.ParseDate(rv.Registered)
	return vigil.Voter{ID: vigil.VoterID(rv.ID), County: rv.County, Precinct: rv.Precinct,
		Name:      vigil.Name{First: rv.FirstName, Middle: rv.Middle, Last: rv.LastName, Suffix: rv.Suffix},
		BirthDate: bd, Registered: reg, Party: rv.Party, Status: vigil.VoterStatus{Code: vigil.StatusCode(rv.Status)},
		Residence: vigil.Address{Line1: rv.Street, City: rv.City, ZIP: rv.Zip}}
}
