package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func registerTabulation(m map[vigil.EventType]applier) {
	m[vigil.EventElectionImported] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.ElectionImport](ev)
		if err != nil {
			return err
		}
		def, err := json.Marshal(p.Election)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO tab_election(k, event, file, definition, time) VALUES (1,?,?,?,?)
			ON CONFLICT(k) DO UPDATE SET event = excluded.event, file = excluded.file,
			definition = excluded.definition, time = excluded.time`, ev.ID, p.File, string(def), timeText(ev.Time))
		return err
	}
	m[vigil.EventCVRsImported] = func(tx *Tx, ev vigil.Event) error {
		d := batchDecoders.Get().(*batchDecoder)
		defer batchDecoders.Put(d)
		defer d.release() // the records point into ev.Payload: keep none of it in the pool
		p := &d.batch
		if d.decode(ev.Payload) != nil {
			slow, err := decode[vigil.CVRBatch](ev)
			if err != nil {
				return err
			}
			if slow.Records, err = slow.AllRecords(); err != nil {
				return err
			}
			slow.Rows = nil
			p = &slow
		}
		complete := 0
		if p.Last {
			complete = 1
		}
		if _, err := tx.Exec(`INSERT INTO cvr_imports(id, format, files, county, actor, time, records, complete)
			VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET records = records + excluded.records,
			complete = MAX(complete, excluded.complete)`,
			p.Import, p.Format, strings.Join(p.Files, "\n"), p.County, ev.Actor, timeText(ev.Time), len(p.Records), complete); err != nil {
			return err
		}
		return insertCVRs(tx, p)
	}
	m[vigil.EventManifestImported] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.ManifestImport](ev)
		if err != nil {
			return err
		}
		// A county's manifest replaces that county's batches only.
		if _, err := tx.Exec(`DELETE FROM manifest_batches WHERE county = ?`, p.County); err != nil {
			return err
		}
		for _, b := range p.Batches {
			if _, err := tx.Exec(`INSERT INTO manifest_batches(county, tabulator, batch, container, ballots, cvrs, event)
				VALUES (?,?,?,?,?,?,?) ON CONFLICT(county, tabulator, batch) DO UPDATE SET ballots = excluded.ballots`,
				p.County, b.Tabulator, b.Batch, b.Container, b.Ballots, b.CVRs, ev.ID); err != nil {
				return err
			}
		}
		return nil
	}
	m[vigil.EventResultsPublished] = func(tx *Tx, ev vigil.Event) error {
		p, err := decode[vigil.ResultsPublication](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO results_publications(event, county, checkpoint, ballots, results, actor, time)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT(event) DO NOTHING`, ev.ID, p.County, p.Checkpoint, p.Ballots, string(p.Results), ev.Actor, timeText(ev.Time))
		return err
	}
	m[vigil.EventReconciliationDiscrepancy] = func(tx *Tx, ev vigil.Event) error {
		d, err := decode[vigil.Discrepancy](ev)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`INSERT INTO reconciliation_discrepancies(event, county, kind, id, checkins, provisionals, ballots, manifest, difference, time)
			VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(event) DO NOTHING`,
			ev.ID, d.County, d.Kind, d.ID, d.CheckIns, d.Provisionals, d.Ballots, d.Manifest, d.Difference, timeText(ev.Time))
		return err
	}
}

// cvrsPerInsert is how many rows one INSERT statement writes: one
// statement per row spent more time in database/sql and the driver than in
// SQLite's B-tree.
const cvrsPerInsert = 50

// insertCVRs stores a batch's records, cvrsPerInsert rows a statement.
// A ballot id its county already has is skipped (an entry applied twice).
func insertCVRs(tx *Tx, p *vigil.CVRBatch) error {
	// The (county, id) index of a large import outgrows SQLite's default
	// 2 MiB page cache: its pages then spill to the WAL in the middle of
	// the transaction and are written again and again (a million-ballot
	// import took twice as long). The connection applying CVRs keeps a
	// larger cache; cache_size is a per-connection setting and an upper
	// bound, used only as pages are read.
	if _, err := tx.Exec(`PRAGMA cache_size = -65536`); err != nil {
		return err
	}
	const cols = "(?,?,?,?,?,?,?)"
	prepare := func(rows int) (*sql.Stmt, error) {
		q := `INSERT INTO cvrs(county, id, import, tabulator, batch, precinct, record) VALUES ` +
			strings.TrimSuffix(strings.Repeat(cols+",", rows), ",") + ` ON CONFLICT(county, id) DO NOTHING`
		return tx.Prepare(q)
	}
	var full *sql.Stmt
	if len(p.Records) >= cvrsPerInsert {
		st, err := prepare(cvrsPerInsert)
		if err != nil {
			return err
		}
		defer st.Close()
		full = st
	}
	args := make([]any, 0, 7*cvrsPerInsert)
	var blobs []byte // the rows' compact records, one after another
	var ends []int
	for from := 0; from < len(p.Records); from += cvrsPerInsert {
		recs := p.Records[from:min(from+cvrsPerInsert, len(p.Records))]
		args, blobs, ends = args[:0], blobs[:0], ends[:0]
		for i := range recs {
			blobs = appendCVR(blobs, &recs[i])
			ends = append(ends, len(blobs))
		}
		at := 0
		for i := range recs {
			c := &recs[i]
			args = append(args, p.County, string(c.ID), p.Import, c.Tabulator, c.Batch, string(c.Precinct), blobs[at:ends[i]:ends[i]])
			at = ends[i]
		}
		st := full
		if len(recs) < cvrsPerInsert {
			var err error
			if st, err = prepare(len(recs)); err != nil {
				return err
			}
			defer st.Close()
		}
		if _, err := st.Exec(args...); err != nil {
			return err
		}
	}
	return nil
}

// batchDecoders are reused between cvrs.imported entries.
var batchDecoders = sync.Pool{New: func() any { return new(batchDecoder) }}

// Tabulation is the tabulation service on a node: imports of election
// definitions, CVRs and manifests; tallies from the projections; results
// publication and reconciliation with the pollbooks.
type Tabulation struct {
	db  *DB
	log vigil.EventAppender
	now func() time.Time
	// county limits what the service reads (tallies, reconciliation,
	// publications) to one county's ballots; "" reads every county.
	county string
	// BatchBytes bounds the JSON of one cvrs.imported entry (default 3 MiB;
	// the log refuses messages over 8 MiB).
	BatchBytes int
	// Bulk, if set, is the log itself (durable, not yet applied) and
	// WaitApplied waits until the projections applied an entry: an import
	// then appends its batches without waiting for each to be applied, and
	// waits once, for the last, before it returns.
	Bulk        vigil.EventAppender
	WaitApplied func(ctx context.Context, seq uint64) error
}

// NewTabulation returns the service.
func NewTabulation(db *DB, log vigil.EventAppender, now func() time.Time) *Tabulation {
	return &Tabulation{db: db, log: log, now: now, BatchBytes: 3 << 20}
}

// InCounty returns the service limited to county's ballots: its tallies
// count only CVRs imported for county, its reconciliation compares only
// county's check-ins, manifest and ballots, and Publish publishes county's
// count. "" is every county (the state's view).
func (t *Tabulation) InCounty(county string) *Tabulation {
	c := *t
	c.county = county
	return &c
}

// County is the county the service is limited to ("" for every county).
func (t *Tabulation) County() string { return t.county }

// Election returns the current election definition. Errors: NotFound when
// none has been imported.
func (t *Tabulation) Election(ctx context.Context) (*vigil.Election, error) {
	var def string
	err := t.db.QueryRowContext(ctx, `SELECT definition FROM tab_election WHERE k = 1`).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, vigil.Errorf(vigil.NotFound, "tabulation.election", "no election definition yet: run vigil election import FILE (or import CVRs, whose contests then define it)")
	}
	if err != nil {
		return nil, vigil.Wrap("tabulation.election", vigil.Unavailable, err)
	}
	var e vigil.Election
	if err := json.Unmarshal([]byte(def), &e); err != nil {
		return nil, vigil.Wrap("tabulation.election", vigil.Integrity, err)
	}
	return &e, nil
}

// ImportElection reads and validates a definition, then replaces the
// current one. Errors: Invalid (naming file and field), Unavailable.
func (t *Tabulation) ImportElection(ctx context.Context, a vigil.Actor, f tabulate.File) (*vigil.Election, error) {
	e, err := tabulate.ParseElection(f, tabulate.Options{})
	if err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, withFile(err, f.Name)
	}
	ev, err := vigil.NewEvent(a, vigil.EventElectionImported, "election", t.now(), vigil.ElectionImport{File: f.Name, Election: *e})
	if err != nil {
		return nil, err
	}
	if _, err := t.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		return nil, err
	}
	return e, nil
}

// withFile names the file in a validation error's field.
func withFile(err error, file string) error {
	var e *vigil.Error
	if errors.As(err, &e) {
		c := *e
		c.Field = file + ": " + c.Field
		return &c
	}
	return err
}

// CVRImport is what ImportCVRs needs: the format and a way to open the
// files, once per pass.
type CVRImport struct {
	Format tabulate.Format
	Names  []string
	County string
	// Open opens the files afresh; close releases them.
	Open func() (files []tabulate.File, close func(), err error)
}

// CVRImportResult says what was stored.
type CVRImportResult struct {
	ID              string
	Records         int
	Batches         int
	ElectionLearned bool // no definition existed; the files' contests became it
}

// importWindow is how many entries an import may append ahead of the
// projections.
const importWindow = 2

// ImportCVRs imports one export, all or nothing. A first pass parses and
// validates every record (against the current election definition, if any:
// an unknown contest or choice is an error naming file, line and column; a
// ballot id seen twice in the files or already imported is an error) and
// stores nothing when anything is wrong. A second pass appends the records
// in batches; they count only once the last batch is in the log.
// Errors: Invalid, Conflict, Unavailable.
func (t *Tabulation) ImportCVRs(ctx context.Context, a vigil.Actor, in CVRImport) (CVRImportResult, error) {
	const op = "cvrs.import"
	var res CVRImportResult
	e, err := t.Election(ctx)
	if err != nil && vigil.ErrorKind(err) != vigil.NotFound {
		return res, err
	}
	var existing int
	if err := t.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM cvrs WHERE county = ?)`, in.County).Scan(&existing); err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	// Ballot ids are unique within a county: two counties' scanners
	// number their ballots alike.
	dup, err := t.db.PrepareContext(ctx, `SELECT import FROM cvrs WHERE county = ? AND id = ?`)
	if err != nil {
		return res, vigil.Wrap(op, vigil.Unavailable, err)
	}
	defer dup.Close()

	// Pass 1: parse and validate everything; store nothing.
	files, closeFiles, err := in.Open()
	if err != nil {
		return res, err
	}
	r := tabulate.NewReader(in.Format, tabulate.Options{Election: e})
	n := 0
	err = r.Read(files, func(c *vigil.CastVoteRecord) error {
		n++
		if err := c.Validate(); err != nil {
			return err
		}
		if existing > 0 {
			var imp string
			if err := dup.QueryRowContext(ctx, in.County, string(c.ID)).Scan(&imp); err == nil {
				return vigil.FieldError(op, fmt.Sprintf("%s, record %d, ballot id", strings.Join(in.Names, ", "), n),
					"ballot id %s was already imported (import %s); nothing was stored", c.ID, imp)
			}
		}
		return nil
	})
	closeFiles()
	if err != nil {
		return res, err
	}
	if n == 0 {
		return res, vigil.Errorf(vigil.Invalid, op, "%s holds no cast vote records; nothing was stored", strings.Join(in.Names, ", "))
	}
	learned := e == nil
	if learned {
		e = r.Election()
		if err := e.Validate(); err != nil {
			return res, err
		}
	}

	// Pass 2: append in batches.
	res = CVRImportResult{ID: vigil.NewEventID(), Records: n, ElectionLearned: learned}
	if learned {
		ev, err := vigil.NewEvent(a, vigil.EventElectionImported, "election", t.now(),
			vigil.ElectionImport{File: strings.Join(in.Names, ", "), Election: *e})
		if err != nil {
			return res, err
		}
		if _, err := t.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			return res, err
		}
	}
	files, closeFiles, err = in.Open()
	if err != nil {
		return res, err
	}
	defer closeFiles()
	// The batch's records, in the log's compact row form.
	var rows vigil.CVRRows
	written := 0
	bulk := t.log
	if t.Bulk != nil && t.WaitApplied != nil {
		bulk = t.Bulk
	}
	var lastSeq uint64
	var pending []uint64 // appended, perhaps not yet applied
	flush := func(last bool) error {
		res.Batches++
		written += rows.N
		head := vigil.CVRBatch{Import: res.ID, Format: string(in.Format), Files: in.Names, County: in.County,
			Part: res.Batches, Last: last, Strings: rows.Strings}
		if last {
			head.Total = written
		}
		// The rows are JSON already: splice them in rather than have
		// json.Marshal re-validate and compact them.
		hb, err := json.Marshal(head)
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(hb, []byte("}")) {
			return vigil.Errorf(vigil.Other, op, "unexpected batch header %s", hb)
		}
		payload := make([]byte, 0, len(hb)+len(rows.Rows)+16)
		payload = append(payload, hb[:len(hb)-1]...)
		payload = append(payload, `,"rows":[`...)
		payload = append(payload, rows.Rows...)
		payload = append(payload, "]}"...)
		ev, err := vigil.NewEvent(a, vigil.EventCVRsImported, "cvrs."+res.ID, t.now(), nil)
		if err != nil {
			return err
		}
		ev.Payload = payload
		if lastSeq, err = bulk.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			return err
		}
		rows.Reset()
		if bulk == t.log {
			return nil
		}
		if last {
			return t.WaitApplied(ctx, lastSeq)
		}
		// Stay at most a few entries ahead of the projections: the
		// overlap is the gain; a longer queue only holds memory.
		if pending = append(pending, lastSeq); len(pending) > importWindow {
			if err := t.WaitApplied(ctx, pending[0]); err != nil {
				return err
			}
			pending = pending[1:]
		}
		return nil
	}
	r = tabulate.NewReader(in.Format, tabulate.Options{Election: e, Records: n})
	err = r.Read(files, func(c *vigil.CastVoteRecord) error {
		rows.Add(c)
		if rows.Size() >= t.BatchBytes {
			return flush(false)
		}
		return nil
	})
	if err != nil {
		return res, vigil.Errorf(vigil.Conflict, op, "the files changed between the check and the import (%v); the partial import %s does not count — import again", err, res.ID)
	}
	if written+rows.N != n {
		return res, vigil.Errorf(vigil.Conflict, op, "the files changed between the check and the import (%d records, then %d); the partial import %s does not count", n, written+rows.N, res.ID)
	}
	return res, flush(true)
}

// ImportManifest reads and validates a ballot manifest, then replaces the
// current one. The report compares it with the CVRs imported so far.
// Errors: Invalid (naming file, line and field), Unavailable.
func (t *Tabulation) ImportManifest(ctx context.Context, a vigil.Actor, f tabulate.File, county string) ([]vigil.ManifestBatch, *tabulate.ManifestReport, error) {
	m, err := tabulate.ParseManifest(f, tabulate.Options{})
	if err != nil {
		return nil, nil, err
	}
	for i, b := range m {
		if err := b.Validate(); err != nil {
			return nil, nil, withFile(err, fmt.Sprintf("%s, batch %d", f.Name, i+1))
		}
	}
	if m, err = checkTotals(f.Name, m); err != nil {
		return nil, nil, err
	}
	ev, err := vigil.NewEvent(a, vigil.EventManifestImported, "manifest", t.now(), vigil.ManifestImport{File: f.Name, County: county, Batches: m})
	if err != nil {
		return nil, nil, err
	}
	if _, err := t.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
		return nil, nil, err
	}
	check := tabulate.NewManifestCheck(m)
	if err := t.InCounty(county).eachCVR(ctx, nil, check.Add); err != nil {
		return m, nil, err
	}
	rep := check.Report()
	return m, &rep, nil
}

// checkTotals removes a manifest's total rows (a batch or container named
// "Total") after checking that each equals the sum of the batches before it.
// Errors: Invalid, naming the file, the data row and the column.
func checkTotals(file string, m []vigil.ManifestBatch) ([]vigil.ManifestBatch, error) {
	isTotal := func(s string) bool {
		s = strings.ToLower(strings.TrimSpace(s))
		return s == "total" || s == "totals" || s == "grand total"
	}
	var out []vigil.ManifestBatch
	sum := 0
	for i, b := range m {
		if isTotal(b.Batch) || isTotal(b.Container) {
			if b.Ballots != sum {
				return nil, vigil.FieldError("manifest.import", fmt.Sprintf("%s, data row %d, column Number of Ballots", file, i+1),
					"the total row says %d ballots but the batches above it add up to %d; correct the manifest", b.Ballots, sum)
			}
			continue
		}
		sum += b.Ballots
		out = append(out, b)
	}
	return out, nil
}

// eachCVR calls fn with every CVR of every complete import (of the
// service's county, if it has one), in the order they were applied. With tx
// nil it reads outside a transaction.
func (t *Tabulation) eachCVR(ctx context.Context, tx *sql.Tx, fn func(*vigil.CastVoteRecord) error) error {
	q := `SELECT c.record FROM cvrs c JOIN cvr_imports i ON i.id = c.import
		WHERE i.complete = 1 AND (?1 = '' OR c.county = ?1) ORDER BY c.rowid`
	var rows *sql.Rows
	var err error
	if tx != nil {
		rows, err = tx.QueryContext(ctx, q, t.county)
	} else {
		rows, err = t.db.QueryContext(ctx, q, t.county)
	}
	if err != nil {
		return vigil.Wrap("tabulation.read", vigil.Unavailable, err)
	}
	defer rows.Close()
	var raw sql.RawBytes
	var d cvrDecoder
	var c vigil.CastVoteRecord
	for rows.Next() {
		if err := rows.Scan(&raw); err != nil {
			return vigil.Wrap("tabulation.read", vigil.Unavailable, err)
		}
		if err := d.decode(raw, &c); err != nil {
			return vigil.Wrap("tabulation.read", vigil.Integrity, err)
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Tally counts every CVR of every complete import against the current
// definition, in one read transaction, and returns the log entry the
// projections had reached (the count covers exactly the entries up to it).
// Errors: NotFound (no definition), Unavailable.
func (t *Tabulation) Tally(ctx context.Context, by ...tabulate.Dimension) (*tabulate.Results, uint64, error) {
	tx, err := t.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, vigil.Wrap("tabulation.tally", vigil.Unavailable, err)
	}
	defer tx.Rollback()
	var def string
	if err := tx.QueryRowContext(ctx, `SELECT definition FROM tab_election WHERE k = 1`).Scan(&def); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, 0, vigil.Errorf(vigil.NotFound, "tabulation.tally", "nothing to count: import an election definition and CVRs first")
		}
		return nil, 0, vigil.Wrap("tabulation.tally", vigil.Unavailable, err)
	}
	var e vigil.Election
	if err := json.Unmarshal([]byte(def), &e); err != nil {
		return nil, 0, vigil.Wrap("tabulation.tally", vigil.Integrity, err)
	}
	var seq uint64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM cursors`).Scan(&seq); err != nil {
		return nil, 0, vigil.Wrap("tabulation.tally", vigil.Unavailable, err)
	}
	tl := tabulate.NewTally(&e, by...)
	if err := t.eachCVR(ctx, tx, tl.Add); err != nil {
		return nil, 0, err
	}
	res := tl.Results()
	if res.Election == "" {
		res.Election = e.Name
	}
	return res, seq, nil
}

// FilterContest keeps one contest of res (named by id or name), in the
// totals and in every group; a group without it is dropped. Errors:
// NotFound.
func FilterContest(res *tabulate.Results, id vigil.ContestID) error {
	for _, c := range res.Contests {
		if c.ID == id || strings.EqualFold(c.Name, string(id)) {
			res.Contests = []tabulate.ContestResult{c}
			var groups []tabulate.GroupResult
			for _, g := range res.Groups {
				for _, gc := range g.Contests {
					if gc.ID == c.ID {
						g.Contests = []tabulate.ContestResult{gc}
						groups = append(groups, g)
						break
					}
				}
			}
			res.Groups = groups
			return nil
		}
	}
	return vigil.Errorf(vigil.NotFound, "tally", "no contest %q in this election", id)
}

// Publication is the latest published count.
type Publication struct {
	County     string // "" for a statewide publication
	Checkpoint string
	Ballots    int64
	Actor      string
	Time       string
	Results    *tabulate.Results
}

// maxPublication bounds the JSON of published results (the log refuses
// entries over 8 MiB). A county with so many precincts and styles that its
// grouped results exceed it publishes its totals only.
const maxPublication = 6 << 20

// Publish records res (computed at checkpoint) as the published results of
// the service's county (or statewide). Errors: Unavailable.
func (t *Tabulation) Publish(ctx context.Context, a vigil.Actor, res *tabulate.Results, checkpoint string) error {
	res.Checkpoint = checkpoint
	b, err := json.Marshal(res)
	if err != nil {
		return vigil.Wrap("results.publish", vigil.Other, err)
	}
	if len(b) > maxPublication && len(res.Groups) > 0 {
		// Too many groups for one log entry: publish the totals.
		res.Groups = nil
		if b, err = json.Marshal(res); err != nil {
			return vigil.Wrap("results.publish", vigil.Other, err)
		}
	}
	ev, err := vigil.NewEvent(a, vigil.EventResultsPublished, "results", t.now(),
		vigil.ResultsPublication{County: t.county, Checkpoint: checkpoint, Ballots: res.Ballots, Results: b})
	if err != nil {
		return err
	}
	_, err = t.log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

// Published returns the latest publication of the service's county, or,
// for the state's view, the latest publication of any county. Errors:
// NotFound before the first one.
func (t *Tabulation) Published(ctx context.Context) (*Publication, error) {
	p, err := t.latestPublication(ctx, t.county == "")
	if errors.Is(err, sql.ErrNoRows) {
		if t.county != "" {
			return nil, vigil.Errorf(vigil.NotFound, "results.read", "no results have been published for county %s yet", t.county)
		}
		return nil, vigil.Errorf(vigil.NotFound, "results.read", "no results have been published yet")
	}
	return p, err
}

// Publications returns the latest publication of every county that has
// published (and the latest statewide one, County ""), by county.
// Errors: Unavailable.
func (t *Tabulation) Publications(ctx context.Context) ([]*Publication, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT DISTINCT county FROM results_publications WHERE ?1 = '' OR county = ?1 ORDER BY county`, t.county)
	if err != nil {
		return nil, vigil.Wrap("results.read", vigil.Unavailable, err)
	}
	var counties []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, vigil.Wrap("results.read", vigil.Unavailable, err)
		}
		counties = append(counties, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, vigil.Wrap("results.read", vigil.Unavailable, err)
	}
	var out []*Publication
	for _, c := range counties {
		p, err := t.InCounty(c).latestPublication(ctx, false)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// latestPublication reads the latest publication of t.county ("" the
// statewide ones), or with any of every county's. Errors: sql.ErrNoRows,
// Unavailable, Integrity.
func (t *Tabulation) latestPublication(ctx context.Context, any bool) (*Publication, error) {
	var p Publication
	var raw string
	err := t.db.QueryRowContext(ctx, `SELECT r.county, r.checkpoint, r.ballots, r.actor, r.time, r.results
		FROM results_publications r JOIN events e ON e.id = r.event WHERE ?1 OR r.county = ?2
		ORDER BY e.seq DESC, e.pos DESC LIMIT 1`, any, t.county).Scan(&p.County, &p.Checkpoint, &p.Ballots, &p.Actor, &p.Time, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err != nil {
		return nil, vigil.Wrap("results.read", vigil.Unavailable, err)
	}
	p.Results = new(tabulate.Results)
	if err := json.Unmarshal([]byte(raw), p.Results); err != nil {
		return nil, vigil.Wrap("results.read", vigil.Integrity, err)
	}
	return &p, nil
}
