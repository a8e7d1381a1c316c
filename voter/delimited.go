package voter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
)

// delimited reads a delimited voter file (comma, tab, pipe; quoted or not).
//
// Speed matters here (the target is well over 100,000 rows a second), so a
// row is turned into one string and every field is a substring of it: one
// allocation per row for the text, none per field unless a field carries
// escaped quotes.
type delimited struct {
	l        Layout
	file     string
	br       *bufio.Reader
	enc      Encoding
	delim    byte
	maxBytes int
	line     int // physical lines consumed
	plan     []slot
	width    int
	fields   []string
	acc      []byte
	first    *pendingRow // a data row read while looking for a header
	status   map[string]StatusRule
	methods  map[string]vigil.VotingMethod
	b        builder
}

type pendingRow struct {
	text string
	line int
}

type slot struct {
	col int
	t   target
	// for election columns
	election vigil.Date
	name     string
	column   string // header name, for district labels and rejections
}

var errTooLong = errors.New("row too long")

func newDelimited(l Layout, r io.Reader, opts Options, file string, rep *Report) (*delimited, error) {
	const op = "voters.import"
	if err := l.Validate(); err != nil {
		return nil, err
	}
	d := &delimited{
		l: l, file: file, br: bufio.NewReaderSize(r, 256<<10), enc: opts.Encoding,
		maxBytes: opts.MaxRecordBytes, status: l.Status, methods: l.Methods,
	}
	if d.maxBytes <= 0 {
		d.maxBytes = 1 << 20
	}
	// Find the first non-blank line.
	var text string
	var start int
	for {
		b, err := d.readLine()
		if errors.Is(err, errTooLong) {
			return nil, vigil.Errorf(vigil.Invalid, op, "%s: line %d is longer than %d bytes; this is not a %s voter file", file, d.line, d.maxBytes, l.Name)
		}
		if err == io.EOF && b == nil {
			return nil, vigil.Errorf(vigil.Invalid, op, "%s is empty", file)
		}
		if err != nil && err != io.EOF {
			return nil, vigil.Wrap(op, vigil.Other, err)
		}
		if d.line == 1 {
			b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // UTF-8 byte-order mark
		}
		if len(bytes.TrimSpace(b)) > 0 {
			text, _ = d.decode(b)
			start = d.line
			break
		}
		if err == io.EOF {
			return nil, vigil.Errorf(vigil.Invalid, op, "%s is empty", file)
		}
	}

	index := map[string]int{}
	for i, c := range l.Columns {
		index[normName(c.Name)] = i
		for _, a := range c.Aliases {
			index[normName(a)] = i
		}
	}
	headerMatches := func(cells []string) int {
		n := 0
		for _, c := range cells {
			if _, ok := index[normName(c)]; ok {
				n++
			} else if l.ElectionColumns {
				if _, _, ok := electionHeader(c); ok {
					n++
				}
			}
		}
		return n
	}

	// Delimiter: the one under which the first line looks most like a
	// header; failing that, the one that yields the layout's column count;
	// failing that, the one that yields the most columns.
	candidates := []byte{l.Delimiter, '\t', '|', ',', ';'}
	if opts.Delimiter != 0 {
		candidates = []byte{opts.Delimiter}
	}
	best, bestScore, bestCount := candidates[0], -1, -1
	for _, c := range candidates {
		cells, _ := splitRow(text, c, nil)
		score := headerMatches(cells)
		if score > bestScore && score >= 2 {
			best, bestScore = c, score
		}
	}
	if bestScore < 0 {
		for _, c := range candidates {
			cells, _ := splitRow(text, c, nil)
			n := len(cells)
			if n == len(l.Columns) {
				best = c
				break
			}
			if n > bestCount {
				best, bestCount = c, n
			}
		}
	}
	d.delim = best
	cells, _ := splitRow(text, d.delim, nil)
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	matches := headerMatches(cells)
	isHeader := opts.Header == HeaderPresent ||
		opts.Header == HeaderAuto && matches >= 2 && 2*matches >= len(cells)
	if isHeader {
		if err := d.planFromHeader(cells, index, rep); err != nil {
			return nil, err
		}
	} else {
		d.planPositional()
		d.first = &pendingRow{text: text, line: start}
	}
	return d, nil
}

func (d *delimited) planFromHeader(cells []string, index map[string]int, rep *Report) error {
	const op = "voters.import"
	seen := map[int]bool{}
	var hasID, hasName bool
	for i, c := range cells {
		if ci, ok := index[normName(c)]; ok {
			col := d.l.Columns[ci]
			if seen[ci] {
				continue // a repeated column: the first one wins
			}
			seen[ci] = true
			t, _ := compileField(col.Field)
			d.plan = append(d.plan, slot{col: i, t: t, column: c})
			hasID = hasID || t.kind == tID
			hasName = hasName || t.kind == tLast || t.kind == tFirst
			continue
		}
		if d.l.ElectionColumns {
			if date, name, ok := electionHeader(c); ok {
				d.plan = append(d.plan, slot{col: i, t: target{kind: tHistoryElection}, election: date, name: name, column: c})
				continue
			}
		}
		if c != "" {
			rep.UnknownColumns = append(rep.UnknownColumns, c)
		}
	}
	if !hasID || !hasName {
		want := []string{}
		for _, c := range d.l.Columns {
			if c.Field == FieldID && !hasID || (c.Field == FieldLast || c.Field == FieldFirst) && !hasName {
				want = append(want, c.Name)
			}
		}
		return vigil.Errorf(vigil.Invalid, op, "%s: the header has no %s column; is this a %s file?",
			d.file, strings.Join(want, " or "), d.l.Description)
	}
	d.width = len(cells)
	return nil
}

func (d *delimited) planPositional() {
	for i, c := range d.l.Columns {
		t, _ := compileField(c.Field)
		if t.kind == tIgnore {
			continue
		}
		d.plan = append(d.plan, slot{col: i, t: t, column: c.Name})
	}
	d.width = len(d.l.Columns)
}

// readLine returns the next physical line without its line end. The slice
// is valid until the next call.
func (d *delimited) readLine() ([]byte, error) {
	b, err := d.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		d.acc = append(d.acc[:0], b...)
		for err == bufio.ErrBufferFull {
			b, err = d.br.ReadSlice('\n')
			if len(d.acc)+len(b) > d.maxBytes {
				for err == bufio.ErrBufferFull {
					_, err = d.br.ReadSlice('\n')
				}
				d.line++
				return nil, errTooLong
			}
			d.acc = append(d.acc, b...)
		}
		b = d.acc
	}
	if len(b) == 0 && err != nil {
		return nil, err
	}
	d.line++
	if len(b) > d.maxBytes {
		return nil, errTooLong
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if err == io.EOF {
		err = nil
	}
	return b, err
}

// decode turns a line into a string, reading it as Latin-1 when it is not
// valid UTF-8 (and the encoding allows).
func (d *delimited) decode(b []byte) (string, bool) {
	switch d.enc {
	case EncodingLatin1:
		return latin1(b), true
	case EncodingUTF8:
		return string(b), utf8.Valid(b)
	}
	if utf8.Valid(b) {
		return string(b), true
	}
	return latin1(b), true
}

// latin1 decodes ISO 8859-1: every byte is the code point of the same value.
func latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		if c < utf8.RuneSelf {
			sb.WriteByte(c)
		} else {
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

func (d *delimited) next(rec *Record) error {
	var text string
	var ok bool
	for {
		if d.first != nil {
			text, rec.Line, ok = d.first.text, d.first.line, true
			d.first = nil
		} else {
			b, err := d.readLine()
			if errors.Is(err, errTooLong) {
				rec.Line = d.line
				rec.reject(d.file, "", fmt.Sprintf("the row is longer than %d bytes", d.maxBytes))
				return nil
			}
			if err != nil {
				return err
			}
			if len(b) == 0 || len(bytes.TrimSpace(b)) == 0 {
				continue
			}
			rec.Line = d.line
			text, ok = d.decode(b)
		}
		break
	}
	if !ok {
		rec.reject(d.file, "", "the row is not valid UTF-8; read the file with the Latin-1 encoding")
		return nil
	}
	fields, complete := splitRow(text, d.delim, d.fields[:0])
	for !complete {
		// A quoted field runs over a line break: join the next line.
		b, err := d.readLine()
		if err != nil || len(text)+len(b) > d.maxBytes {
			d.fields = fields
			rec.reject(d.file, "", "a quoted field is not closed")
			if err != nil && !errors.Is(err, errTooLong) && err != io.EOF {
				return err
			}
			return nil
		}
		more, _ := d.decode(b)
		text = text + "\n" + more
		fields, complete = splitRow(text, d.delim, fields[:0])
	}
	d.fields = fields
	if len(fields) != d.width {
		// A headerless file with a trailing delimiter has one empty extra field.
		if !(len(fields) == d.width+1 && strings.TrimSpace(fields[d.width]) == "") {
			rec.reject(d.file, "", fmt.Sprintf("the row has %d fields; the %s layout has %d", len(fields), d.l.Name, d.width))
			return nil
		}
	}
	d.b.apply(d, fields, rec)
	return nil
}

// splitRow splits one row at delim, honouring double quotes: a field that
// starts with a quote runs to the matching quote, "" inside it is one
// quote, and the delimiter and line breaks inside it are data. A quote
// inside an unquoted field is data. complete is false when the row ends
// inside a quoted field.
func splitRow(s string, delim byte, out []string) (fields []string, complete bool) {
	if strings.IndexByte(s, '"') < 0 {
		for {
			i := strings.IndexByte(s, delim)
			if i < 0 {
				return append(out, s), true
			}
			out = append(out, s[:i])
			s = s[i+1:]
		}
	}
	i := 0
	for {
		// skip spaces before an opening quote
		j := i
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) && s[j] == '"' {
			j++
			start := j
			var unq []byte
			closed := false
			for j < len(s) {
				k := strings.IndexByte(s[j:], '"')
				if k < 0 {
					break
				}
				j += k
				if j+1 < len(s) && s[j+1] == '"' {
					if unq == nil {
						unq = make([]byte, 0, len(s)-start)
					}
					unq = append(unq, s[start:j+1]...)
					j += 2
					start = j
					continue
				}
				closed = true
				break
			}
			if !closed {
				return out, false
			}
			var field string
			if unq != nil {
				field = string(append(unq, s[start:j]...))
			} else {
				field = s[start:j]
			}
			j++ // closing quote
			// Anything after the closing quote up to the delimiter is kept.
			k := strings.IndexByte(s[j:], delim)
			if k < 0 {
				if rest := strings.TrimSpace(s[j:]); rest != "" {
					field += rest
				}
				return append(out, field), true
			}
			if rest := strings.TrimSpace(s[j : j+k]); rest != "" {
				field += rest
			}
			out = append(out, field)
			i = j + k + 1
			continue
		}
		k := strings.IndexByte(s[i:], delim)
		if k < 0 {
			return append(out, s[i:]), true
		}
		out = append(out, s[i:i+k])
		i += k + 1
	}
}

// electionHeader recognises a column named after an election:
// "GENERAL-11/03/2015" (OH), "11/6/1990" (UT),
// "2008 Gen Election Participation" (VT).
func electionHeader(h string) (vigil.Date, string, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return vigil.Date{}, "", false
	}
	if d, ok := parseDateAs(h, DateMDY); ok {
		return d, "", true
	}
	if i := strings.LastIndexByte(h, '-'); i > 0 {
		if d, ok := parseDateAs(h[i+1:], DateMDY); ok {
			return d, strings.ToUpper(h[:i]), true
		}
	}
	if len(h) > 5 && h[4] == ' ' && digits(h[:4]) {
		rest := strings.ToUpper(h[5:])
		if strings.Contains(rest, "ELECTION") {
			name := "ELECTION"
			switch {
			case strings.HasPrefix(rest, "GEN"):
				name = "GENERAL"
			case strings.HasPrefix(rest, "PRI"):
				name = "PRIMARY"
			}
			return vigil.Date{Year: atoi(h[:4])}, name, true
		}
	}
	return vigil.Date{}, "", false
}
