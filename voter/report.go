package voter

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/vigil-elections/vigil"
)

// Rejection is one reason a row was not imported: one row of the
// rejection report a clerk receives. Reason never contains the value of
// a secret field.
type Rejection struct {
	File   string `json:"file"`
	Line   int    `json:"line"`            // first physical line of the row, from 1
	Field  string `json:"field,omitempty"` // column or vigil.Voter field; empty for the whole row
	Reason string `json:"reason"`
}

func (r Rejection) String() string {
	s := r.File + ":" + strconv.Itoa(r.Line) + ": "
	if r.Field != "" {
		s += r.Field + ": "
	}
	return s + r.Reason
}

// DefaultMaxRejectFraction is the share of rejected rows above which an
// import applies nothing: one row in a hundred. A file that bad is more
// likely the wrong layout or a damaged export than a few typos.
const DefaultMaxRejectFraction = 0.01

// Report counts what a Reader read and keeps the first rejections.
type Report struct {
	File       string      `json:"file"`
	Rows       int         `json:"rows"`     // data rows read
	Accepted   int         `json:"accepted"` // rows that became records
	Rejected   int         `json:"rejected"` // rows with at least one rejection
	Rejections []Rejection `json:"rejections,omitempty"`
	Dropped    int         `json:"dropped,omitempty"` // rejections beyond the kept ones
	// UnknownColumns lists header columns the layout does not know; their
	// values were not imported.
	UnknownColumns []string `json:"unknown_columns,omitempty"`
}

// Fraction returns the share of rows rejected.
func (r *Report) Fraction() float64 {
	if r.Rows == 0 {
		return 0
	}
	return float64(r.Rejected) / float64(r.Rows)
}

// Check returns an Invalid error when more than maxFraction of the rows
// were rejected (use DefaultMaxRejectFraction unless configured). An
// importer MUST NOT apply any record of a file whose report fails Check.
func (r *Report) Check(maxFraction float64) error {
	if r.Rows == 0 {
		return vigil.Errorf(vigil.Invalid, "voters.import", "%s has no voter rows; check the file and the layout", r.File)
	}
	if r.Fraction() > maxFraction {
		return vigil.Errorf(vigil.Invalid, "voters.import",
			"%d of %d rows in %s were rejected (%.2f%%, more than the %.2f%% allowed); nothing was applied: fix the rows in the rejection report or check the layout",
			r.Rejected, r.Rows, r.File, 100*r.Fraction(), 100*maxFraction)
	}
	return nil
}

// WriteCSV writes the kept rejections as CSV with a header row
// "file,line,field,reason".
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"file", "line", "field", "reason"})
	for _, x := range r.Rejections {
		cw.Write([]string{x.File, strconv.Itoa(x.Line), x.Field, x.Reason})
	}
	if r.Dropped > 0 {
		cw.Write([]string{r.File, "", "", fmt.Sprintf("%d more rejections not listed", r.Dropped)})
	}
	cw.Flush()
	return cw.Error()
}

func (r *Report) add(rec *Record, keep int) {
	r.Rows++
	if len(rec.Rejections) == 0 {
		r.Accepted++
		return
	}
	r.Rejected++
	for _, x := range rec.Rejections {
		if len(r.Rejections) < keep {
			r.Rejections = append(r.Rejections, x)
		} else {
			r.Dropped++
		}
	}
}
