package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// An import's voter.added events carry their records in the row form
// (voter.AppendRow), not as JSON objects:
//
//	{"reason": "new-registration", "detail": "import of FILE", "import": ID, "rows": [row, …]}
//
// The projection applies such an event in bulk: it reads the rows without
// reflection, stores each row as it is in voters.record (voterRow.Record
// reads both forms), and writes the voters and history rows many per
// statement. Events with "records" (a clerk's registration, every
// voter.changed, all older logs) are applied as before, byte for byte: a
// projection rebuilt from an old log is the same as the one it had.
//
// voter.changed stays in the JSON object form on purpose: detection rules
// look into payload.records (cancellation and party-change spikes).

// voterRowsPayload is a voter.added payload in the row form.
type voterRowsPayload struct {
	Reason vigil.ChangeReason
	Detail string
	Import string
	Rows   []string // each one row, as the log holds it
}

// appendVoterRowsHead writes the start of the payload of one import
// event; the rows, separated by commas, and "]}" follow.
func appendVoterRowsHead(b []byte, reason vigil.ChangeReason, detail, importID string) []byte {
	b = append(b, `{"reason":`...)
	b = appendJSONText(b, string(reason))
	b = append(b, `,"detail":`...)
	b = appendJSONText(b, detail)
	b = append(b, `,"import":`...)
	b = appendJSONText(b, importID)
	return append(b, `,"rows":[`...)
}

func appendJSONText(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

var errVoterRows = errors.New("malformed voter rows payload")

// decodeVoterRows reads a payload in the row form. ok is false when the
// payload has no "rows" at its top level: it is in the JSON object form,
// for encoding/json to decode. A payload with both "rows" and "records",
// or with keys that encoding/json would match differently (it ignores
// case), is an error: writers never do that. The payload MUST be valid
// JSON (the log's entries are checked as a whole when they are read).
func decodeVoterRows(payload []byte) (p voterRowsPayload, ok bool, err error) {
	p, hasRows, hasRecords, good := scanVoterRows(string(payload))
	switch {
	case !hasRows:
		return voterRowsPayload{}, false, nil
	case !good || hasRecords:
		return voterRowsPayload{}, true, errVoterRows
	}
	return p, true, nil
}

func scanVoterRows(payload string) (p voterRowsPayload, hasRows, hasRecords, ok bool) {
	s := jsonScan{s: payload}
	if !s.byte('{') {
		return
	}
	if s.byte('}') {
		s.ws()
		return p, false, false, s.i == len(s.s)
	}
	for {
		key, good := s.str()
		if !good || !s.byte(':') {
			return
		}
		switch key {
		case "reason", "detail", "import":
			v, good := s.str()
			if !good {
				return
			}
			switch key {
			case "reason":
				p.Reason = vigil.ChangeReason(v)
			case "detail":
				p.Detail = v
			default:
				p.Import = v
			}
		case "rows":
			hasRows = true
			p.Rows = p.Rows[:0]
			if !s.byte('[') {
				return
			}
			if !s.byte(']') {
				for {
					s.ws()
					start := s.i
					if !s.skip(0) {
						return
					}
					p.Rows = append(p.Rows, s.s[start:s.i])
					if s.byte(']') {
						break
					}
					if !s.byte(',') {
						return
					}
				}
			}
		default:
			for _, k := range []string{"reason", "detail", "import", "rows", "records"} {
				if strings.EqualFold(key, k) {
					hasRows = hasRows || k == "rows"
					hasRecords = true // not a key this reader follows
				}
			}
			if !s.skip(0) {
				return
			}
		}
		if s.byte('}') {
			break
		}
		if !s.byte(',') {
			return
		}
	}
	s.ws()
	return p, hasRows, hasRecords, s.i == len(s.s)
}

// jsonScan reads the few JSON shapes a rows payload has, and skips any
// value. It never panics and bounds nesting.
type jsonScan struct {
	s string
	i int
}

func (p *jsonScan) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScan) byte(c byte) bool {
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string; escaped ones are decoded by encoding/json.
func (p *jsonScan) str() (string, bool) {
	p.ws()
	start := p.i
	if !p.skipString() {
		return "", false
	}
	raw := p.s[start+1 : p.i-1]
	if !strings.Contains(raw, `\`) {
		return raw, utf8.ValidString(raw)
	}
	var v string
	if json.Unmarshal([]byte(p.s[start:p.i]), &v) != nil {
		return "", false
	}
	return v, true
}

func (p *jsonScan) skipString() bool {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return false
	}
	p.i++
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			return true
		case c == '\\':
			p.i += 2
		case c < 0x20:
			return false
		default:
			p.i++
		}
	}
	return false
}

// skip passes over one value of any kind.
func (p *jsonScan) skip(depth int) bool {
	if depth > 64 {
		return false
	}
	p.ws()
	if p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		return p.skipString()
	case c == '[' || c == '{':
		closing := byte(']')
		if c == '{' {
			closing = '}'
		}
		p.i++
		if p.byte(closing) {
			return true
		}
		for {
			if c == '{' {
				p.ws()
				if !p.skipString() || !p.byte(':') {
					return false
				}
			}
			if !p.skip(depth + 1) {
				return false
			}
			if p.byte(closing) {
				return true
			}
			if !p.byte(',') {
				return false
			}
		}
	default:
		start := p.i
		for p.i < len(p.s) && strings.IndexByte("+-.0123456789eEtrufalsn", p.s[p.i]) >= 0 {
			p.i++
		}
		return p.i > start
	}
}

// votersPerInsert is how many voters one INSERT writes: the statement's
// own cost, not the B-tree, dominated the one-row inserts.
const votersPerInsert = 50

// applyVoterRows applies a voter.added event in the row form.
//
// Decoding the rows and computing their columns and search keys (half of
// the work) runs on a second goroutine, chunk by chunk, while this one
// writes the previous chunk: on a machine with a core to spare, an
// import's projection keeps pace with the log. The second goroutine does
// no SQL.
func applyVoterRows(tx *Tx, ev vigil.Event, p *voterRowsPayload) error {
	ids := make([]any, len(p.Rows))
	for i, row := range p.Rows {
		id, ok := voter.RowID(row)
		if !ok {
			return malformedRow(ev, i, nil)
		}
		ids[i] = string(id)
	}
	if _, err := tx.Exec(`PRAGMA cache_size = -131072`); err != nil {
		return err
	}
	if p.Import != "" {
		if err := deferRollIndexes(tx); err != nil {
			return err
		}
	}
	st, err := prepareVoterStmts(tx)
	if err != nil {
		return err
	}
	defer st.close()
	// Every voter is written in bulk; one already on the roll (or twice in
	// the event) is not inserted, and takes the one-by-one path that
	// compares and updates, after the others.
	//
	// The decoding runs ahead as far as it likes: an event is bounded by
	// the log's entry size.
	chunks := make(chan rowChunk, len(p.Rows)/votersPerInsert+2)
	done := make(chan struct{})
	defer close(done)
	go prepareRows(ev, p, chunks, done)

	seen := make(map[string]bool, len(p.Rows))
	var keys, sorted []voterKey
	var bulkKeys [][]voterKey // while bulk, the keys of each voter so far (the decoder sorts them all)
	var later []*vigil.VoterRecord
	var laterRows []string
	bulk := true // every row was new: the decoder's sorted keys are the event's
	hargs := make([]any, 0, 4+votersPerInsert)
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		if c.final {
			sorted = c.sorted
			continue
		}
		for j := range c.recs {
			if string(c.recs[j].ID) != ids[c.first+j] {
				return malformedRow(ev, c.first+j, nil)
			}
		}
		inserted, err := insertVoters(tx, len(c.recs), c.vargs)
		if err != nil {
			return err
		}
		hargs = append(hargs[:0], ev.ID, string(ev.Type), string(p.Reason), p.Detail)
		for j := range c.recs {
			id := ids[c.first+j].(string)
			if inserted[id] && !seen[id] {
				seen[id] = true
				hargs = append(hargs, id)
				if bulk {
					bulkKeys = append(bulkKeys, c.keys[j])
				} else {
					keys = append(keys, c.keys[j]...)
				}
				continue
			}
			if bulk {
				bulk = false
				for _, ks := range bulkKeys {
					keys = append(keys, ks...)
				}
				bulkKeys = nil
			}
			later, laterRows = append(later, &c.recs[j]), append(laterRows, p.Rows[c.first+j])
		}
		if n := len(hargs) - 4; n > 0 {
			if _, err := tx.Exec(insertHistorySQL(n), hargs...); err != nil {
				return err
			}
		}
	}
	for i, r := range later {
		if keys, err = applyRecord(st, ev, p.Reason, p.Detail, r, []byte(laterRows[i]), keys); err != nil {
			return err
		}
	}
	if bulk {
		keys = sorted
	}
	return storeKeys(tx, st, keys, p.Import != "")
}

func malformedRow(ev vigil.Event, i int, err error) error {
	return &vigil.Error{Op: "projector.decode", Kind: vigil.Integrity,
		Message: "row " + strconv.Itoa(i+1) + " of " + string(ev.Type) + " " + ev.ID + " is malformed", Err: err}
}

// rowChunk is up to votersPerInsert rows, decoded, with the voters
// columns of each (id first) and its search keys; or, last, every row's
// keys sorted (sorted).
type rowChunk struct {
	first  int
	recs   []vigil.VoterRecord
	vargs  []any
	keys   [][]voterKey
	sorted []voterKey
	final  bool
	err    error
}

// prepareRows decodes p's rows chunk by chunk into out, until done.
func prepareRows(ev vigil.Event, p *voterRowsPayload, out chan<- rowChunk, done <-chan struct{}) {
	defer close(out)
	updated := timeText(ev.Time)
	all := make([]voterKey, 0, 16*len(p.Rows))
	for first := 0; first < len(p.Rows); first += votersPerInsert {
		n := min(votersPerInsert, len(p.Rows)-first)
		c := rowChunk{first: first, recs: make([]vigil.VoterRecord, n), vargs: make([]any, 0, 19*n), keys: make([][]voterKey, n)}
		for j := range n {
			r := &c.recs[j]
			if err := voter.ParseRow(p.Rows[first+j], r); err != nil {
				c = rowChunk{err: malformedRow(ev, first+j, err)}
				break
			}
			id := string(r.ID)
			c.vargs = append(c.vargs, id)
			c.vargs = append(c.vargs, flatRow(r, p.Rows[first+j], updated)...)
			sk := voter.SearchKeys(&r.Voter)
			ks := make([]voterKey, len(sk))
			for i, k := range sk {
				ks[i] = voterKey{keyHash(k), id}
			}
			c.keys[j] = ks
			all = append(all, ks...)
		}
		select {
		case out <- c:
		case <-done:
			return
		}
		if c.err != nil {
			return
		}
	}
	sortKeys(all)
	select {
	case out <- rowChunk{sorted: all, final: true}:
	case <-done:
	}
}

// flatRow returns the voters columns after id for r, in the order of
// voterCols; record is stored as it is (JSON object or row).
func flatRow(r *vigil.VoterRecord, record, updated string) []any {
	v := &r.Voter
	street := v.Residence.Line1
	if v.Residence.Line2 != "" {
		street += " " + v.Residence.Line2
	}
	return []any{v.County, v.Precinct, v.Name.First, v.Name.Middle, v.Name.Last, v.Name.Suffix,
		v.BirthDate.String(), street, v.Residence.City, v.Residence.ZIP, v.Party, string(v.Status.Code),
		v.Registered.String(), v.Gender, string(v.Status.Reason), r.Fingerprint, updated, record}
}

// insertVotersSQL inserts n voters, leaving out those already on the roll.
// OR IGNORE, not ON CONFLICT DO NOTHING: every column is a Go string, so a
// repeated ID is the only conflict there can be, and a statement that
// cannot abort needs no statement journal (SQLite copies the pages it
// changes to a temporary file for one that can: about 7 % of the insert;
// the same holds for the history rows and the postings).
func insertVotersSQL(n int) string {
	return `INSERT OR IGNORE INTO voters(id, ` + voterCols + `) VALUES ` +
		strings.Repeat("(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?),", n-1) + `(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
}

// insertHistorySQL writes n "new" history rows of one event: ?1 to ?4 are
// the event, its type, the reason and the detail; the voters follow.
func insertHistorySQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT OR IGNORE INTO voter_history(id, event, type, reason, detail, changes) SELECT column1, ?1, ?2, ?3, ?4, 'new' FROM (VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?" + strconv.Itoa(5+i) + ")")
	}
	b.WriteString(`)`)
	return b.String()
}

// insertVoters writes n voters (vargs: each one's id and voterCols) and
// returns the IDs it inserted: not those already on the roll, nor a
// second row with one ID.
func insertVoters(tx *Tx, n int, vargs []any) (map[string]bool, error) {
	q := insertVotersSQL(n) + ` RETURNING id`
	var rows *sql.Rows
	var err error
	if st := tx.stmts.get(tx.ctx, q); st != nil {
		rows, err = tx.Tx.StmtContext(tx.ctx, st).QueryContext(tx.ctx, vargs...)
	} else {
		rows, err = tx.Tx.QueryContext(tx.ctx, q, vargs...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]bool, n)
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// deferRollIndexes drops the roll's secondary indexes when an import
// starts on an empty roll: building them once at its voter.imported event
// (restoreRollIndexes) sorts once instead of inserting millions of random
// entries. Until then lookups by name scan the table (correct, slower),
// as search does not find the import's voters before it is complete. A
// rebuild from the log drops and builds them at the same events.
func deferRollIndexes(tx *Tx) error {
	var any bool
	if err := tx.QueryRow(`SELECT EXISTS (SELECT 1 FROM voters)`).Scan(&any); err != nil || any {
		return err
	}
	if _, err := tx.Exec(`DROP INDEX IF EXISTS voters_name`); err != nil {
		return err
	}
	_, err := tx.Exec(`DROP INDEX IF EXISTS voters_precinct`)
	return err
}

// restoreRollIndexes builds the indexes deferRollIndexes dropped (the
// definitions of migration 0001); a no-op when they exist.
func restoreRollIndexes(tx *Tx) error {
	if _, err := tx.Exec(`CREATE INDEX IF NOT EXISTS voters_name ON voters(last_name, first_name)`); err != nil {
		return err
	}
	_, err := tx.Exec(`CREATE INDEX IF NOT EXISTS voters_precinct ON voters(precinct)`)
	return err
}
