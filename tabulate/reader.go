package tabulate

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Format names a cast vote record export format.
type Format string

const (
	Dominion    Format = "dominion"    // Dominion Democracy Suite CSV or JSON CvrExport
	ClearBallot Format = "clearballot" // Clear Ballot ClearVote CSV
	ESS         Format = "ess"         // ES&S CVR CSV plus Ballots exports
	Hart        Format = "hart"        // Hart Verity per-ballot XML (or ZIPs) plus scanned ballot CSVs
	NIST        Format = "nist"        // NIST SP 1500-103, JSON or XML
)

// Formats lists every format a Reader accepts, in the order the CLI shows them.
var Formats = []Format{NIST, Dominion, ESS, Hart, ClearBallot}

// ParseFormat accepts a format name as a user types it.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case "es&s", "es-s":
		f = ESS
	case "clear-ballot", "clearvote":
		f = ClearBallot
	}
	if slices.Contains(Formats, f) {
		return f, nil
	}
	return "", vigil.FieldError(opImport, "format", "unknown CVR format %q; use one of nist, dominion, ess, hart, clearballot", s)
}

// File is one input file. Name is used in error messages and, for some
// formats, carries meaning (a Hart ZIP's name is its tabulator).
type File struct {
	Name   string
	Reader io.Reader
}

// Options bound and steer a Reader. The zero value is ready to use.
type Options struct {
	// Election, when set, is the definition the files must match: every
	// contest and choice they name must be in it. When nil the Reader
	// learns the contests and choices from the files.
	Election *vigil.Election
	// MaxLineBytes bounds one line of a CSV file (default 1 MiB).
	MaxLineBytes int
	// MaxFileBytes bounds one JSON or XML file, or one ZIP member
	// (default 256 MiB). CSV files are streamed and bounded per line only.
	MaxFileBytes int64
	// Records, when known (a second pass over the same files), sizes the
	// Reader's table of ballot ids so that it never grows while reading.
	Records int
}

const (
	defaultMaxLine = 1 << 20
	defaultMaxFile = 256 << 20
	maxColumns     = 1 << 16 // columns in one CSV record
)

// Reader reads one export, file by file, and checks that no ballot id
// appears twice across its files.
type Reader struct {
	format Format
	opt    Options
	def    *definition
	seen   map[vigil.CVRID]location
	files  []string
}

type location struct {
	file int32
	line int32
}

// NewReader returns a Reader for one format.
func NewReader(format Format, opt Options) *Reader {
	if opt.MaxLineBytes <= 0 {
		opt.MaxLineBytes = defaultMaxLine
	}
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = defaultMaxFile
	}
	return &Reader{format: format, opt: opt, def: newDefinition(opt.Election), seen: make(map[vigil.CVRID]location, max(opt.Records, 0))}
}

// Election returns the definition the Reader resolves names against. With
// Options.Election it is a copy of that; otherwise it grows while reading and
// names every contest and choice of the records delivered so far. New
// contests and choices are only ever appended, so indexes stay valid.
func (r *Reader) Election() *vigil.Election { return r.def.e }

// Read reads files as one export and calls fn with each record in file
// order. The record and its slices belong to the Reader and are reused:
// fn MUST NOT keep them after it returns (copy with CloneCVR). An error
// from fn stops reading and is returned as it is.
func (r *Reader) Read(files []File, fn func(*vigil.CastVoteRecord) error) error {
	if len(files) == 0 {
		return vigil.FieldError(opImport, "files", "no files given; name at least one CVR export file")
	}
	switch r.format {
	case Dominion:
		return r.readDominionFiles(files, fn)
	case ClearBallot:
		for _, f := range files {
			if err := r.readClearBallot(f, fn); err != nil {
				return err
			}
		}
		return nil
	case ESS:
		return r.readESS(files, fn)
	case Hart:
		return r.readHart(files, fn)
	case NIST:
		for _, f := range files {
			if err := r.readNIST(f, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return vigil.FieldError(opImport, "format", "unknown CVR format %q; use one of nist, dominion, ess, hart, clearballot", r.format)
}

// emit checks a record's id for uniqueness across the export and hands it on.
func (r *Reader) emit(file string, line int, c *vigil.CastVoteRecord, fn func(*vigil.CastVoteRecord) error) error {
	if c.ID == "" {
		return parseErr(opImport, file, line, "", "the ballot has no id; every cast vote record needs one")
	}
	if prev, dup := r.seen[c.ID]; dup {
		where := r.files[prev.file]
		if prev.line > 0 {
			where += fmt.Sprintf(", line %d", prev.line)
		}
		return parseErr(opImport, file, line, "", "duplicate ballot id %q: already used at %s; each ballot must appear once", c.ID, where)
	}
	if len(r.files) == 0 || r.files[len(r.files)-1] != file {
		r.files = append(r.files, file)
	}
	// Clone: the id may share memory with a whole CSV row.
	r.seen[vigil.CVRID(strings.Clone(string(c.ID)))] = location{file: int32(len(r.files) - 1), line: int32(min(line, 1<<31-1))}
	return fn(c)
}

// ParseCVRs reads a whole export into memory; see Reader for streaming.
func ParseCVRs(format Format, files []File, opt Options) ([]vigil.CastVoteRecord, *vigil.Election, error) {
	r := NewReader(format, opt)
	var out []vigil.CastVoteRecord
	err := r.Read(files, func(c *vigil.CastVoteRecord) error {
		out = append(out, CloneCVR(c))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, r.Election(), nil
}

// CloneCVR returns a deep copy of c that shares no memory with the Reader.
func CloneCVR(c *vigil.CastVoteRecord) vigil.CastVoteRecord {
	d := *c
	d.Contests = nil
	if len(c.Contests) > 0 {
		d.Contests = make([]vigil.ContestVote, len(c.Contests))
	}
	for i, cv := range c.Contests {
		d.Contests[i] = cv
		d.Contests[i].Marks = nil
		if len(cv.Marks) > 0 {
			d.Contests[i].Marks = slices.Clone(cv.Marks)
		}
	}
	return d
}

// sniff returns the first non-space byte of r without consuming it.
func sniff(br *bufio.Reader) byte {
	for i := 1; i <= 4096; i++ {
		b, err := br.Peek(i)
		if len(b) < i {
			return 0
		}
		c := b[i-1]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			continue
		}
		if i <= 3 && bytes.HasPrefix([]byte("\xef\xbb\xbf"), b[:i]) {
			continue // UTF-8 byte order mark
		}
		_ = err
		return c
	}
	return 0
}

// readAll reads a whole file, refusing more than max bytes.
func readAll(op, name string, r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, parseErr(op, name, 0, "", "cannot read the file: %v", err)
	}
	if int64(len(b)) > max {
		return nil, parseErr(op, name, 0, "", "the file is larger than %d bytes; split the export or raise the limit", max)
	}
	return b, nil
}
