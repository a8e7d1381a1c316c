package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// ImportOptions configure VoterService.Import.
type ImportOptions struct {
	Layout string // a voter.Layouts name, voter.FormatNISTJSON, FormatNISTXML or FormatCSV
	File   string // the file's name, for rejections and the voter.imported event
	// Open opens the file; Import reads it twice (a checking pass that
	// applies nothing, then the applying pass), so it must return the same
	// bytes each time. The second pass verifies that with a SHA-256.
	Open   func() (io.ReadCloser, error)
	Reader voter.Options // header, delimiter, encoding, mapping
	// MaxReject is the share of rejected rows above which nothing is
	// applied. Default voter.DefaultMaxRejectFraction.
	MaxReject float64
	// BatchRecords and BatchBytes bound one event (defaults 4000 records
	// and about 4 MiB, estimated; the log takes entries up to 8 MiB).
	BatchRecords, BatchBytes int
	// Progress, if set, is called at the start of each pass (rows 0) and
	// now and then during it, with the pass (1 or 2) and the rows read so
	// far in it.
	Progress func(pass, rows int)
}

// ImportResult is what an import did.
type ImportResult struct {
	vigil.VoterImport
	Report *voter.Report // rejections, including IDs repeated in the file
	Events int           // voter.added and voter.changed events appended
}

// Import reads a voter file and appends exactly the new and changed
// registrations as events, in batches, then a voter.imported summary.
//
// Guarantees: a file with more rejected rows than MaxReject allows (or one
// that cannot be read to the end) appends nothing. Importing the same file
// again appends only the summary. A row whose fingerprint equals the
// stored one is unchanged. A voter ID that appears twice in the file is
// rejected on its second line. If the process stops during the applying
// pass, the batches appended so far stay; running the import again
// completes it (their fingerprints now match). Search finds the voters
// an import added or changed once its voter.imported event is applied,
// which moves their keys into the index in one sorted insert.
//
// Errors: Invalid (unreadable file, too many rejections; ImportResult.Report
// is still filled), Integrity (the file changed between passes),
// Unavailable.
func (s *VoterService) Import(ctx context.Context, actor vigil.Actor, o ImportOptions) (ImportResult, error) {
	const op = "voters.import"
	if o.MaxReject == 0 {
		o.MaxReject = voter.DefaultMaxRejectFraction
	}
	if o.BatchRecords <= 0 || o.BatchRecords > vigil.MaxVoterRecordsPerEvent {
		o.BatchRecords = 4000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 4 << 20
	}
	o.Reader.File = o.File
	o.Reader.FingerprintKey = s.fpKey
	res := ImportResult{VoterImport: vigil.VoterImport{ID: vigil.NewEventID(), File: o.File, Layout: o.Layout}}

	// Pass 1: read everything, apply nothing. Voter IDs are kept as 64-bit
	// hashes with their line (16 bytes a row) and sorted afterwards to find
	// repeats: a fraction of what a map would take for millions of rows.
	// (Two different IDs with one hash, odds of about 1 in 10^6 for a
	// 5,000,000-row file, would be reported as a repeat: safe, never silent.)
	type idLine struct {
		h    uint64
		line int
	}
	var ids []idLine
	sum1, rep, err := s.readPass(o, 1, func(rec *voter.Record) error {
		if rec.OK() {
			h := fnv.New64a()
			h.Write([]byte(rec.Voter.ID))
			ids = append(ids, idLine{h.Sum64(), rec.Line})
		}
		return nil
	})
	slices.SortFunc(ids, func(a, b idLine) int {
		if c := cmp.Compare(a.h, b.h); c != 0 {
			return c
		}
		return cmp.Compare(a.line, b.line)
	})
	dupLines := map[int]bool{}
	var dups []voter.Rejection
	for i := 1; i < len(ids); i++ {
		if ids[i].h != ids[i-1].h {
			continue
		}
		first := i - 1
		for first > 0 && ids[first-1].h == ids[i].h {
			first--
		}
		dupLines[ids[i].line] = true
		dups = append(dups, voter.Rejection{File: o.File, Line: ids[i].line, Field: "id",
			Reason: fmt.Sprintf("this voter ID is already on line %d", ids[first].line)})
	}
	ids = nil
	slices.SortFunc(dups, func(a, b voter.Rejection) int { return cmp.Compare(a.Line, b.Line) })
	if rep != nil {
		merged := *rep
		merged.Accepted -= len(dups)
		merged.Rejected += len(dups)
		merged.Rejections = append(append([]voter.Rejection(nil), rep.Rejections...), dups...)
		res.Report = &merged
		res.Rows, res.Rejected = merged.Rows, merged.Rejected
	}
	if err != nil {
		return res, err
	}
	if err := res.Report.Check(o.MaxReject); err != nil {
		return res, err
	}
	res.SHA256 = hex.EncodeToString(sum1)

	// Pass 2: compare with the projection and append what differs. With a
	// Bulk log, batches are appended as soon as they are durable and the
	// projection applies them behind, several entries per transaction;
	// at most bulkWindow entries wait to be applied. Comparing a batch with
	// a projection that has not applied the previous ones yet is safe: a
	// voter ID appears once in the file (pass 1 rejected repeats).
	//
	// A second goroutine appends the batches, in order, while this one
	// reads and prepares the next: an append waits for the log to store
	// the entry durably, as long as preparing a batch takes.
	ap := startAppender(ctx, s)
	var batch []voter.Record
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		part, evs, err := s.importBatch(ctx, actor, res.ID, res.File, batch, o.BatchBytes)
		batch = batch[:0]
		if err != nil {
			return err
		}
		res.Added += part.Added
		res.Changed += part.Changed
		res.Unchanged += part.Unchanged
		return ap.send(evs)
	}
	sum2, _, err := s.readPass(o, 2, func(rec *voter.Record) error {
		if !rec.OK() || dupLines[rec.Line] {
			return nil
		}
		batch = append(batch, *rec)
		if len(batch) >= o.BatchRecords {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	last, events, aerr := ap.finish()
	res.Events = events
	if err == nil || errors.Is(err, errAppendStopped) {
		err = aerr
	}
	if err == nil && s.WaitApplied != nil && last > 0 {
		err = s.WaitApplied(ctx, last)
	}
	if err != nil {
		return res, err
	}
	if hex.EncodeToString(sum2) != res.SHA256 {
		return res, vigil.Errorf(vigil.Integrity, op, "%s changed while it was imported; import it again once it is complete", o.File)
	}
	ev, err := vigil.NewEvent(actor, vigil.EventVoterImported, res.ID, s.Now(), res.VoterImport)
	if err != nil {
		return res, err
	}
	_, err = s.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return res, err
}

// readPass reads the whole file once, calling fn for every row, and
// returns its SHA-256 and the reader's report.
func (s *VoterService) readPass(o ImportOptions, pass int, fn func(*voter.Record) error) ([]byte, *voter.Report, error) {
	f, err := o.Open()
	if err != nil {
		return nil, nil, vigil.Errorf(vigil.Invalid, "voters.import", "cannot open %s: %v", o.File, err)
	}
	defer f.Close()
	h := sha256.New()
	ro := o.Reader
	ro.NoFingerprint = pass == 1 // the first pass only checks
	r, err := voter.NewReader(o.Layout, io.TeeReader(f, h), ro)
	if err != nil {
		return nil, nil, err
	}
	var rec voter.Record
	n := 0
	if o.Progress != nil {
		o.Progress(pass, 0)
	}
	for {
		err := r.Read(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, r.Report(), err
		}
		if err := fn(&rec); err != nil {
			return nil, r.Report(), err
		}
		n++
		if o.Progress != nil && n%10000 == 0 {
			o.Progress(pass, n)
		}
	}
	if o.Progress != nil {
		o.Progress(pass, n)
	}
	io.Copy(h, f) // anything the reader left unread still counts
	return h.Sum(nil), r.Report(), nil
}

// batchResult counts what one batch did.
type batchResult struct {
	Added, Changed, Unchanged int
}

// importBatch returns the events that add or change the new and changed
// records of one batch, to be appended in order.
func (s *VoterService) importBatch(ctx context.Context, actor vigil.Actor, importID, file string, batch []voter.Record, maxBytes int) (batchResult, []vigil.Event, error) {
	var br batchResult
	var evs []vigil.Event
	ids := make([]string, len(batch))
	for i := range batch {
		ids[i] = string(batch[i].Voter.ID)
	}
	stored, err := s.DB.Fingerprints(ctx, ids)
	if err != nil {
		return br, nil, err
	}
	added := make([]vigil.VoterRecord, 0, len(batch))
	var changed []vigil.VoterRecord
	for i := range batch {
		r := &batch[i]
		fp, exists := stored[string(r.Voter.ID)]
		switch {
		case !exists:
			added = append(added, voter.NewRecord(&r.Voter, s.Sealer.Seal, r.Fingerprint))
		case fp == r.Fingerprint.String():
			br.Unchanged++
		default:
			changed = append(changed, voter.NewRecord(&r.Voter, s.Sealer.Seal, r.Fingerprint))
		}
	}
	br.Added, br.Changed = len(added), len(changed)
	// New voters travel in the row form, changed ones as JSON objects
	// (detection rules read their fields; see voters_rows.go).
	detail := "import of " + file
	// The payload is written here, not by json.Marshal (it would check
	// and compact the rows once more), straight into the event's buffer:
	// its head, then the rows.
	head := appendVoterRowsHead(nil, vigil.ReasonNew, detail, importID)
	var rows []byte
	nrows := 0
	var asJSON []vigil.VoterRecord
	flushRows := func() error {
		if nrows == 0 {
			return nil
		}
		ev, err := vigil.NewEvent(actor, vigil.EventVoterAdded, "", s.Now(), nil)
		if err != nil {
			return err
		}
		ev.Payload = append(rows, `]}`...)
		evs = append(evs, ev)
		rows, nrows = nil, 0
		return nil
	}
	for i := range added {
		if nrows > 0 && len(rows)-len(head) >= maxBytes {
			if err := flushRows(); err != nil {
				return br, nil, err
			}
		}
		if rows == nil {
			rows = append(make([]byte, 0, len(head)+maxBytes+maxBytes/4), head...)
		}
		n := len(rows)
		if nrows > 0 {
			rows = append(rows, ',')
		}
		var ok bool
		if rows, ok = voter.AppendRow(rows, &added[i]); !ok {
			rows = rows[:n]
			asJSON = append(asJSON, added[i])
			continue
		}
		nrows++
	}
	if err := flushRows(); err != nil {
		return br, nil, err
	}
	for _, part := range []struct {
		typ  vigil.EventType
		recs []vigil.VoterRecord
		why  vigil.ChangeReason
	}{{vigil.EventVoterAdded, asJSON, vigil.ReasonNew}, {vigil.EventVoterChanged, changed, vigil.ReasonImport}} {
		for len(part.recs) > 0 {
			n, size := 0, 0
			for n < len(part.recs) && (n == 0 || size < maxBytes) {
				size += recordSize(&part.recs[n])
				n++
			}
			p := vigil.VoterRecords{Reason: part.why, Import: importID, Detail: detail, Records: part.recs[:n]}
			ev, err := vigil.NewEvent(actor, part.typ, "", s.Now(), p)
			if err != nil {
				return br, nil, err
			}
			evs = append(evs, ev)
			part.recs = part.recs[n:]
		}
	}
	return br, evs, nil
}

var errAppendStopped = errors.New("the import's appends stopped")

// appender appends an import's events on its own goroutine, in the order
// they are sent, each batch's only after the previous batch's are
// durable; after a failure it appends nothing more.
type appender struct {
	jobs chan []vigil.Event
	stop chan struct{} // closed when an append failed
	done chan struct{}
	// Written by the goroutine, read after done.
	last   uint64
	events int
	err    error
}

func startAppender(ctx context.Context, s *VoterService) *appender {
	log := s.Log
	if s.Bulk != nil {
		log = s.Bulk
	}
	a := &appender{jobs: make(chan []vigil.Event, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for evs := range a.jobs {
			if a.err != nil {
				continue // drain
			}
			for _, ev := range evs {
				seq, err := log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
				if err != nil {
					a.err = err
					break
				}
				a.events++
				a.last = max(a.last, seq)
			}
			if a.err == nil && s.WaitApplied != nil && a.last > bulkWindow {
				a.err = s.WaitApplied(ctx, a.last-bulkWindow)
			}
			if a.err != nil {
				close(a.stop)
			}
		}
	}()
	return a
}

// send queues a batch's events; errAppendStopped if an append failed.
func (a *appender) send(evs []vigil.Event) error {
	if len(evs) == 0 {
		return nil
	}
	select {
	case a.jobs <- evs:
		return nil
	case <-a.stop:
		return errAppendStopped
	}
}

// finish waits for every queued append and returns the last sequence,
// the events appended and the first error.
func (a *appender) finish() (last uint64, events int, err error) {
	close(a.jobs)
	<-a.done
	return a.last, a.events, a.err
}

// bulkWindow is how many appended entries an import lets the projection
// lag behind: enough for it to apply several per transaction, few enough
// that the entries waiting in memory stay small (BatchBytes each).
const bulkWindow = 16

// recordSize estimates the JSON size of a record (within a few percent
// for real voter files), to keep an entry well under the log's message
// limit without encoding every record twice.
func recordSize(r *vigil.VoterRecord) int {
	v := &r.Voter
	n := 400 + len(v.ID) + len(v.LocalID) + len(v.County) + len(v.Name.Prefix) + len(v.Name.First) + len(v.Name.Middle) +
		len(v.Name.Last) + len(v.Name.Suffix) + len(v.Gender) + len(v.Phone) + len(v.Email) + len(v.Party) + len(v.Precinct) +
		len(v.Status.Detail) + len(r.DriversLicenseSealed) + len(r.SSN4Sealed) + len(r.Fingerprint)
	for _, a := range []*vigil.Address{&v.Residence, &v.Mailing} {
		n += len(a.Line1) + len(a.Line2) + len(a.City) + len(a.State) + len(a.ZIP) + len(a.ZIP4) + len(a.Country)
	}
	for _, d := range v.Districts {
		n += 30 + len(d.Type) + len(d.Code) + len(d.Name)
	}
	for _, h := range v.History {
		n += 60 + len(h.Name) + len(h.Method) + len(h.Party)
	}
	return 2 * n // escapes and field names; an overestimate is harmless
}
