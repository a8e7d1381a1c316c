package sqlite

import (
	"database/sql"
	"encoding/json"
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

// keyHash maps a search key to the integer stored in voter_postings.
// It is FNV-1a (hash/fnv's New64a), written out: hash.Hash allocated
// twice per key, for 13 keys per voter.
func keyHash(k string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(k); i++ {
		h ^= uint64(k[i])
		h *= 1099511628211
	}
	return int64(h)
}

// voterCols are the voters columns an applier writes after id, in the
// order of flatRow.
const voterCols = `county, precinct, first_name, middle, last_name, suffix, birth_date, street, city, zip, party, status,
	registered, gender, status_reason, fingerprint, updated, record`

// voterStmts are the statements one event's records need.
type voterStmts struct {
	insert, update, read, history *sql.Stmt
	keys                          *postingStmts
}

func prepareVoterStmts(tx *Tx) (*voterStmts, error) {
	var s voterStmts
	var err error
	prep := func(dst **sql.Stmt, q string) {
		if err == nil {
			*dst, err = tx.Prepare(q)
		}
	}
	prep(&s.insert, `INSERT INTO voters(id, `+voterCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT(id) DO NOTHING`)
	prep(&s.update, `UPDATE voters SET (`+voterCols+`) = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?`)
	prep(&s.read, `SELECT `+rowCols+` FROM voters WHERE id = ?`)
	prep(&s.history, `INSERT INTO voter_history(id, event, type, reason, detail, changes) VALUES (?,?,?,?,?,?)
		ON CONFLICT(id, event) DO NOTHING`)
	if err == nil {
		s.keys, err = preparePostingStmts(tx)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return &s, nil
}

func (s *voterStmts) close() {
	for _, st := range []*sql.Stmt{s.insert, s.update, s.read, s.history} {
		if st != nil {
			st.Close()
		}
	}
	if s.keys != nil {
		s.keys.close()
	}
}

// flat returns the foundation's columns for r (and the new ones), in the
// order of voterCols.
func flat(r *vigil.VoterRecord, raw []byte, ev vigil.Event) []any {
	return flatRow(r, string(raw), timeText(ev.Time))
}

func applyVoterRecords(tx *Tx, ev vigil.Event) error {
	if rp, ok, err := decodeVoterRows(ev.Payload); ok {
		if err != nil {
			return &vigil.Error{Op: "projector.decode", Kind: vigil.Integrity, Message: "payload of " + string(ev.Type) + " is malformed", Err: err}
		}
		return applyVoterRows(tx, ev, &rp)
	}
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
	return storeKeys(tx, st, keys, p.Import != "")
}

// storeKeys adds the keys of an event's voters to the postings, or, for
// an import (pending), to a run that its voter.imported event merges
// (voters_keys.go). Until then search does not find the import's voters
// (the import is not done).
func storeKeys(tx *Tx, st *voterStmts, keys []voterKey, pending bool) error {
	if pending {
		return writeKeyRun(tx, keys)
	}
	// A key few of the event's voters share is added voter by voter,
	// rewriting one chunk each; one that many share (a roll of thousands
	// registered at once) is merged with its stored postings and written
	// whole, once.
	sortKeys(keys)
	w := postingWriter{tx: tx}
	for i := 0; i < len(keys); {
		j := i + 1
		for j < len(keys) && keys[j].h == keys[i].h {
			j++
		}
		for _, k := range keys[i:j] {
			var err error
			if j-i >= keysMergedWhole {
				err = w.add(k.h, k.id)
			} else {
				err = st.keys.add(k.h, k.id)
			}
			if err != nil {
				return err
			}
		}
		i = j
	}
	return w.close()
}

// keysMergedWhole is how many of an event's voters must share a key for it
// to be rewritten whole rather than voter by voter.
const keysMergedWhole = 16

// mergePendingKeys moves every pending key (of this import and of any
// earlier one that never finished) into voter_postings in index order, and
// builds the roll's indexes if an import into an empty roll dropped them.
// voter_keys_pending holds the keys of imports that older versions of
// vigil applied and that have not finished.
func mergePendingKeys(tx *Tx) error {
	if err := mergeKeyRuns(tx); err != nil {
		return err
	}
	var legacy bool
	if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'voter_keys_pending')`).Scan(&legacy); err != nil {
		return err
	}
	if legacy {
		if err := mergeLegacyPending(tx); err != nil {
			return err
		}
	}
	return restoreRollIndexes(tx)
}

// mergeLegacyPending adds the keys of voter_keys_pending to the postings
// and drops the table.
func mergeLegacyPending(tx *Tx) error {
	rows, err := tx.Query(`SELECT h, id FROM voter_keys_pending ORDER BY h, id`)
	if err != nil {
		return err
	}
	var keys []voterKey
	for rows.Next() {
		var k voterKey
		if err := rows.Scan(&k.h, &k.id); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	w := postingWriter{tx: tx}
	for _, k := range keys {
		if err := w.add(k.h, k.id); err != nil {
			return err
		}
	}
	if err := w.close(); err != nil {
		return err
	}
	_, err = tx.Exec(`DROP TABLE voter_keys_pending`)
	return err
}

// keyHashes returns the hashes of keys, sorted, without repeats.
func keyHashes(keys []string) []int64 {
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = keyHash(k)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

type voterKey struct {
	h  int64
	id string
}

// applyRecord stores one new version of a voter and a history row naming
// what changed; it removes the keys the voter no longer has and returns
// keys with the ones it did not have added, for the caller to add.
func applyRecord(st *voterStmts, ev vigil.Event, reason vigil.ChangeReason, detail string, r *vigil.VoterRecord, raw []byte, keys []voterKey) ([]voterKey, error) {
	id := string(r.ID)
	args := flat(r, raw, ev)
	res, err := st.insert.Exec(append([]any{id}, args...)...)
	if err != nil {
		return keys, err
	}
	newKeys := keyHashes(voter.SearchKeys(&r.Voter))
	changes := "new"
	var oldKeys []int64
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
		oldKeys = keyHashes(voter.SearchKeys(&oldRec.Voter))
		for _, h := range oldKeys {
			if _, found := slices.BinarySearch(newKeys, h); !found {
				if err := st.keys.remove(h, id); err != nil {
					return keys, err
				}
			}
		}
	}
	for _, h := range newKeys {
		if _, had := slices.BinarySearch(oldKeys, h); !had {
			keys = append(keys, voterKey{h, id})
		}
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
	var keys []voterKey
	for _, rv := range vs {
		v := rollToVoter(rv)
		for _, h := range keyHashes(voter.SearchKeys(&v)) {
			keys = append(keys, voterKey{h, rv.ID})
		}
		if _, err := st.history.Exec(rv.ID, ev.ID, string(ev.Type), string(vigil.ReasonNew), "", "new"); err != nil {
			return err
		}
	}
	return storeKeys(tx, st, keys, false)
}

func rollToVoter(rv vigil.RollVoter) vigil.Voter {
	bd, _ := vigil.ParseDate(rv.BirthDate)
	reg, _ := vigil.ParseDate(rv.Registered)
	return vigil.Voter{ID: vigil.VoterID(rv.ID), County: rv.County, Precinct: rv.Precinct,
		Name:      vigil.Name{First: rv.FirstName, Middle: rv.Middle, Last: rv.LastName, Suffix: rv.Suffix},
		BirthDate: bd, Registered: reg, Party: rv.Party, Status: vigil.VoterStatus{Code: vigil.StatusCode(rv.Status)},
		Residence: vigil.Address{Line1: rv.Street, City: rv.City, ZIP: rv.Zip}}
}
