package tabulate

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/vigil-elections/vigil"
)

// ParseError says where in which file an input problem is. It is always
// delivered wrapped in a *vigil.Error of kind vigil.Invalid, whose Field
// repeats the location so that edges which only know vigil.Error can show it.
type ParseError struct {
	File   string // the name the file was given to the Reader under
	Line   int    // 1-based; 0 when the problem is not on one line (a whole file, a ZIP member)
	Column string // header name of the column or XML/JSON element; "" for a whole line
	Reason string // what is wrong and what to do, safe to show a user
}

func (e *ParseError) Error() string { return e.location() + ": " + e.Reason }

func (e *ParseError) location() string {
	s := e.File
	if s == "" {
		s = "input"
	}
	if e.Line > 0 {
		s += ", line " + strconv.Itoa(e.Line)
	}
	if e.Column != "" {
		s += ", column " + e.Column
	}
	return s
}

// parseErr builds the error every parser returns.
func parseErr(op, file string, line int, column, format string, args ...any) error {
	pe := &ParseError{File: file, Line: line, Column: column, Reason: fmt.Sprintf(format, args...)}
	return &vigil.Error{Op: op, Kind: vigil.Invalid, Field: pe.location(), Message: pe.Reason, Err: pe}
}

// errLimit reports that an input passed one of the size bounds.
var errLimit = errors.New("input exceeds a size limit")

const (
	opImport   = "cvrs.import"
	opManifest = "manifest.import"
	opElection = "election.import"
	opTally    = "tally"
)
