package equipment

import (
	"encoding/csv"
	"errors"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Bounds on every CSV import, so that a hostile or broken file cannot
// exhaust memory: rows beyond maxRows are refused, and at most maxErrors
// problems are reported before the import gives up.
const (
	maxRows   = 1 << 20
	maxErrors = 10
	maxField  = 4096
)

// table reads a CSV file whose first row names the columns. Column names
// match case-insensitively, and spaces or hyphens count as underscores, so a
// spreadsheet's "Firmware Version" is the column firmware_version.
type table struct {
	op      string
	r       *csv.Reader
	cols    map[string]int // column name -> index
	width   int
	lineOff int // lines consumed before the CSV text began (a preamble)
	errs    []error
	rows    int
}

func normalizeColumn(s string) string {
	s = strings.TrimSpace(strings.TrimPrefix(s, "\ufeff"))
	s = strings.ToLower(s)
	return strings.NewReplacer(" ", "_", "-", "_").Replace(s)
}

// newTable reads the header row and checks it against the known columns.
// Every required column must be present; an unknown column is an error,
// because a misspelt optional column would otherwise be silently dropped.
func newTable(op string, r io.Reader, lineOff int, required, optional []string) (*table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := &table{op: op, r: cr, cols: map[string]int{}, lineOff: lineOff}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, vigil.FieldError(op, "header", "line %d: the file is empty; the first row must name the columns", 1+lineOff)
	}
	if err != nil {
		return nil, t.csvError(err)
	}
	known := map[string]bool{}
	for _, c := range required {
		known[c] = true
	}
	for _, c := range optional {
		known[c] = true
	}
	for i, h := range header {
		name := normalizeColumn(h)
		if name == "" && i == len(header)-1 && i > 0 {
			continue // a trailing comma after the last column name
		}
		if !known[name] {
			return nil, vigil.FieldError(op, clip(name), "line %d: unknown column %q; the columns are %s", 1+lineOff, clip(h), strings.Join(append(append([]string{}, required...), optional...), ","))
		}
		if _, dup := t.cols[name]; dup {
			return nil, vigil.FieldError(op, name, "line %d: column %q appears twice", 1+lineOff, name)
		}
		t.cols[name] = i
	}
	t.width = len(header)
	for _, c := range required {
		if _, ok := t.cols[c]; !ok {
			return nil, vigil.FieldError(op, c, "line %d: required column %q is missing", 1+lineOff, c)
		}
	}
	return t, nil
}

// row is one data record of a table.
type row struct {
	t      *table
	fields []string
	line   int
}

// next returns the next record, or nil at the end of the file or when too
// many errors have been collected. Rows longer than the header are allowed
// only when the extra fields are empty (a trailing comma).
func (t *table) next() *row {
	for len(t.errs) < maxErrors {
		fields, err := t.r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			t.errs = append(t.errs, t.csvError(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue // the reader resumes after the bad record
			}
			return nil
		}
		line, _ := t.r.FieldPos(0)
		line += t.lineOff
		t.rows++
		if t.rows > maxRows {
			t.errs = append(t.errs, vigil.FieldError(t.op, "rows", "line %d: more than %d rows; split the file", line, maxRows))
			return nil
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue // a blank line
		}
		for len(fields) > t.width && strings.TrimSpace(fields[len(fields)-1]) == "" {
			fields = fields[:len(fields)-1]
		}
		if len(fields) != t.width {
			t.errs = append(t.errs, vigil.FieldError(t.op, "row", "line %d: %d fields, but the header names %d columns", line, len(fields), t.width))
			continue
		}
		for i, f := range fields {
			if len(f) > maxField {
				t.errs = append(t.errs, vigil.FieldError(t.op, "row", "line %d: field %d is longer than %d bytes", line, i+1, maxField))
				fields = nil
				break
			}
		}
		if fields == nil {
			continue
		}
		return &row{t: t, fields: fields, line: line}
	}
	return nil
}

// get returns the trimmed value of a column, or "" if the column is absent.
func (r *row) get(col string) string {
	i, ok := r.t.cols[col]
	if !ok {
		return ""
	}
	v := strings.TrimSpace(r.fields[i])
	// Undo defuseFormula: "'=x" was written for the value "=x".
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@", rune(v[1])) {
		v = v[1:]
	}
	return v
}

// fail records a problem with one field of this row.
func (r *row) fail(col, format string, args ...any) {
	r.t.errs = append(r.t.errs, vigil.FieldError(r.t.op, col, "line %d: "+format, append([]any{r.line}, args...)...))
}

// failErr records err (from Validate or a parser) against this row,
// keeping its field name.
func (r *row) failErr(err error) {
	var e *vigil.Error
	if errors.As(err, &e) {
		r.t.errs = append(r.t.errs, vigil.FieldError(r.t.op, e.Field, "line %d: %s", r.line, e.Message))
		return
	}
	r.t.errs = append(r.t.errs, vigil.FieldError(r.t.op, "row", "line %d: %v", r.line, err))
}

// err returns the collected problems: nil, one *vigil.Error, or several
// joined (errors.As finds the first).
func (t *table) err() error {
	switch len(t.errs) {
	case 0:
		return nil
	case 1:
		return t.errs[0]
	}
	return errors.Join(t.errs...)
}

func (t *table) csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return vigil.FieldError(t.op, "row", "line %d: %v; check the quotes on that line", pe.StartLine+t.lineOff, pe.Err)
	}
	return vigil.Wrap(t.op, vigil.Other, err)
}

// plainMessage is the user-facing message of err without its field name,
// for re-attaching it to another field.
func plainMessage(err error) string {
	var e *vigil.Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return vigil.ErrorMessage(err)
}
