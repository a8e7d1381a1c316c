package voter

import (
	"errors"
	"io"
	"iter"

	"github.com/vigil-elections/vigil"
)

// Format names accepted by NewReader besides the state layouts.
const (
	FormatNISTJSON = "nist-json" // NIST SP 1500-102 JSON (VoterRecordResults, VoterRecord or VoterRecordsRequest)
	FormatNISTXML  = "nist-xml"  // NIST SP 1500-102 XML
	FormatCSV      = "csv"       // delimited file described by Options.Mapping (see ParseMapping)
)

// HeaderMode says whether the first row of a delimited file is a header.
type HeaderMode uint8

const (
	HeaderAuto    HeaderMode = iota // a header if most of its cells name layout columns
	HeaderPresent                   // always a header
	HeaderAbsent                    // never a header: columns by position
)

// Encoding is the text encoding of a delimited file.
type Encoding uint8

const (
	EncodingAuto   Encoding = iota // UTF-8; a line that is not valid UTF-8 is read as Latin-1
	EncodingUTF8                   // UTF-8; an invalid line is rejected
	EncodingLatin1                 // ISO 8859-1
)

// Options configure a Reader. The zero value detects everything.
type Options struct {
	// File names the input in rejections ("ncvoter_Statewide.txt").
	File      string
	Header    HeaderMode
	Delimiter byte // 0 detects: the layout's, tab, pipe, comma or semicolon
	Encoding  Encoding
	// Mapping is the layout for FormatCSV, usually from ParseMapping.
	Mapping *Layout
	// FingerprintKey keys Record.Fingerprint (HMAC-SHA-256). Fingerprints
	// cover secrets, so a stored fingerprint lets anyone who knows the
	// other fields guess an SSN4 in 10,000 tries unless the key is secret:
	// an importer that stores fingerprints SHOULD set a secret key.
	FingerprintKey []byte
	// NoFingerprint leaves Record.Fingerprint zero: for a pass that only
	// checks the rows (an import's first pass), it is wasted work.
	NoFingerprint bool
	// MaxRecordBytes bounds one row, including quoted line breaks.
	// Default 1 MiB.
	MaxRecordBytes int
	// MaxRejections bounds the rejections kept in the Report. Default 10,000.
	MaxRejections int
}

// Record is one row read: a voter, or the reasons the row was rejected.
type Record struct {
	Line        int // first physical line (delimited files) or record number (NIST)
	Voter       vigil.Voter
	Fingerprint Fingerprint
	// Rejections is empty for a good row. When it is not, Voter holds
	// what could be read and MUST NOT be applied.
	Rejections []Rejection
}

// OK reports whether the row was accepted.
func (r *Record) OK() bool { return len(r.Rejections) == 0 }

func (r *Record) reject(file, field, reason string) {
	r.Rejections = append(r.Rejections, Rejection{File: file, Line: r.Line, Field: field, Reason: reason})
}

// source yields records. next fills rec (already reset) or returns io.EOF,
// or a fatal error that ends the read.
type source interface {
	next(rec *Record) error
}

// Reader reads voter records one at a time from a voter file. It streams:
// memory stays bounded by the longest row, whatever the file's size.
type Reader struct {
	file   string
	src    source
	fp     *Fingerprinter // nil with Options.NoFingerprint
	keep   int
	report Report
	err    error
	// requests: NIST records without a state voter ID are registration
	// requests, given an ID by AssignRequestID.
	requests bool
}

// NewReader returns a Reader for the named layout ("nc", "fl", "ny", "pa",
// "oh", ... see Layouts), FormatNISTJSON, FormatNISTXML, or FormatCSV with
// opts.Mapping. It reads the header (if any) at once, so an unusable file
// fails here: the error is an Invalid *vigil.Error saying what is wrong.
func NewReader(layout string, r io.Reader, opts Options) (*Reader, error) {
	rd := &Reader{file: opts.File, keep: opts.MaxRejections}
	if !opts.NoFingerprint {
		rd.fp = NewFingerprinter(opts.FingerprintKey)
	}
	if rd.file == "" {
		rd.file = "input"
	}
	if rd.keep <= 0 {
		rd.keep = 10000
	}
	rd.report.File = rd.file
	var err error
	switch layout {
	case FormatNISTJSON:
		rd.src, err = newNISTJSONSource(r, rd.file)
		rd.requests = true
	case FormatNISTXML:
		rd.src, err = newNISTXMLSource(r, rd.file)
		rd.requests = true
	case FormatCSV:
		if opts.Mapping == nil {
			return nil, vigil.FieldError("voters.import", "mapping", "the csv format needs a mapping file")
		}
		rd.src, err = newDelimited(*opts.Mapping, r, opts, rd.file, &rd.report)
	default:
		var l Layout
		l, err = LayoutByName(layout)
		if err == nil {
			rd.src, err = newDelimited(l, r, opts, rd.file, &rd.report)
		}
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// Read reads the next row into rec, reusing its memory: what rec holds is
// valid until the next call. It returns io.EOF after the last row, and any
// other error when the input cannot be read further (the rows read so far
// stay counted in Report). A rejected row is not an error: it comes back
// with rec.Rejections set.
func (r *Reader) Read(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	*rec = Record{Rejections: rec.Rejections[:0]}
	if err := r.src.next(rec); err != nil {
		if !errors.Is(err, io.EOF) {
			// Parse errors are already Invalid; anything else is the
			// underlying reader failing.
			err = vigil.Wrap("voters.import", vigil.Other, err)
		}
		r.err = err
		return err
	}
	if r.requests && rec.OK() && rec.Voter.ID == "" {
		AssignRequestID(&rec.Voter)
	}
	if rec.OK() {
		if err := rec.Voter.Validate(); err != nil {
			rec.reject(r.file, vigil.ErrorField(err), validationReason(err))
		}
	}
	if rec.OK() && r.fp != nil {
		rec.Fingerprint = r.fp.Sum(&rec.Voter)
	}
	r.report.add(rec, r.keep)
	return nil
}

func validationReason(err error) string {
	var e *vigil.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "invalid record"
}

// All iterates over the rows. The *Record is reused between iterations.
// Iteration stops after the first error, which is yielded (io.EOF is not).
func (r *Reader) All() iter.Seq2[*Record, error] {
	return func(yield func(*Record, error) bool) {
		var rec Record
		for {
			err := r.Read(&rec)
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(&rec, nil) {
				return
			}
		}
	}
}

// Report returns the counts and rejections so far.
func (r *Reader) Report() *Report { return &r.report }
