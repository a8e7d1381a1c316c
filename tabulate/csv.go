package tabulate

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// lineLimiter fails a read once a line grows past max bytes, so that a file
// without line breaks cannot make the CSV reader buffer without bound.
type lineLimiter struct {
	r    io.Reader
	max  int
	n    int // bytes since the last line break
	line int // 1-based line being read
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	b := p[:n]
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.n += len(b)
			break
		}
		if l.n+i > l.max {
			return 0, errLimit
		}
		l.n = 0
		l.line++
		b = b[i+1:]
	}
	if l.n > l.max {
		return 0, errLimit
	}
	return n, err
}

// csvFile reads one CSV file record by record, with file names and line
// numbers in every error.
type csvFile struct {
	op    string
	name  string
	lim   *lineLimiter
	r     *csv.Reader
	first bool
}

func newCSV(op, name string, r io.Reader, maxLine int) *csvFile {
	lim := &lineLimiter{r: r, max: maxLine, line: 1}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true // Dominion's ="1" cells put a quote mid-field
	cr.ReuseRecord = true
	return &csvFile{op: op, name: name, lim: lim, r: cr, first: true}
}

// next returns the next record, or io.EOF. The slice is reused.
func (c *csvFile) next() ([]string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if errors.Is(err, errLimit) {
			return nil, parseErr(c.op, c.name, c.lim.line, "", "the line is longer than %d bytes; is this a CSV export?", c.lim.max)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, parseErr(c.op, c.name, pe.Line, "", "malformed CSV: %v", pe.Err)
		}
		return nil, parseErr(c.op, c.name, c.lim.line, "", "cannot read the file: %v", err)
	}
	if len(rec) > maxColumns {
		return nil, parseErr(c.op, c.name, c.line(), "", "the row has %d columns, more than the %d allowed", len(rec), maxColumns)
	}
	if c.first {
		c.first = false
		if len(rec) > 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
	}
	return rec, nil
}

// line is the line the last record started on.
func (c *csvFile) line() int {
	l, _ := c.r.FieldPos(0)
	return l
}

// lineOf is the line field i of the last record is on.
func (c *csvFile) lineOf(i int) int {
	l, _ := c.r.FieldPos(i)
	return l
}

func (c *csvFile) errorf(line int, column, format string, args ...any) error {
	return parseErr(c.op, c.name, line, column, format, args...)
}

// cell cleans one CSV value: surrounding spaces go, and a spreadsheet
// formula wrapper ="…" (Dominion's way to keep leading zeros) is removed.
func cell(s string) string {
	if len(s) > 0 && (s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '\t' || s[len(s)-1] == '\t') {
		s = strings.TrimSpace(s)
	}
	if len(s) >= 3 && s[0] == '=' && s[1] == '"' && s[len(s)-1] == '"' {
		s = strings.TrimSpace(s[2 : len(s)-1])
	}
	return s
}

// headerIndex maps cleaned header names to their column.
func headerIndex(rec []string) map[string]int {
	m := make(map[string]int, len(rec))
	for i, h := range rec {
		h = normSpace(cell(h))
		if h == "" {
			continue
		}
		if _, ok := m[h]; !ok {
			m[h] = i
		}
	}
	return m
}

// columnName is how errors name column i when it has no header.
func columnName(header []string, i int) string {
	if i < len(header) {
		if h := normSpace(cell(header[i])); h != "" {
			return h
		}
	}
	return fmt.Sprintf("#%d", i+1)
}
