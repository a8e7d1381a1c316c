package voter

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
)

// ParseMapping reads a mapping file: the description of a delimited voter
// file that has no built-in layout. It is plain text, one setting per
// line; blank lines and lines starting with # are ignored:
//
//	# Example County export, 2024
//	name      = example
//	delimiter = comma          # comma, tab, pipe, semicolon
//	header    = yes            # yes: match columns by header name; no: by position
//	date      = MM/DD/YYYY     # or YYYY-MM-DD, YYYYMMDD, MMDDYYYY
//	state     = NC             # filled into residence addresses without one
//	elections = party          # optional: header columns named after an election
//	                           # ("GENERAL-11/03/2015") are history; their value
//	                           # is a flag, a method or a party
//
//	status A   = active        # status codes: active, inactive, pending,
//	status R   = cancelled moved   # or cancelled, optionally with a reason
//	method AB  = absentee      # voting-method codes for history columns
//
//	column VOTER_ID   = id
//	column LAST       = name.last
//	column FIRST      = name.first
//	column DOB        = birth_date
//	column CD         = district.congressional
//	column ELECTION_1 = history.1.date
//	column NOTES      = ignore
//
// Column lines list the file's columns in order; with header = no that
// order is the position, with header = yes the names are matched after
// folding case and punctuation and the order does not matter. The field
// names are those of the Field constants. One column must map to id and
// one to name.last or name.first.
//
// Errors are Invalid *vigil.Error values naming the line.
func ParseMapping(r io.Reader) (*Layout, error) {
	const op = "voters.mapping"
	l := &Layout{Name: "csv", Description: "mapped CSV", Delimiter: ',', Header: true, DateFormat: DateMDY}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	n := 0
	fail := func(format string, args ...any) error {
		return &vigil.Error{Op: op, Kind: vigil.Invalid, Field: fmt.Sprintf("line %d", n), Message: fmt.Sprintf(format, args...)}
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fail("expected KEY = VALUE")
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		word, arg, _ := strings.Cut(key, " ")
		arg = strings.TrimSpace(arg)
		switch strings.ToLower(word) {
		case "name":
			l.Name = val
			l.Description = "mapped CSV " + val
		case "delimiter":
			switch strings.ToLower(val) {
			case "comma", ",":
				l.Delimiter = ','
			case "tab", `\t`:
				l.Delimiter = '\t'
			case "pipe", "|":
				l.Delimiter = '|'
			case "semicolon", ";":
				l.Delimiter = ';'
			default:
				return nil, fail("delimiter must be comma, tab, pipe or semicolon")
			}
		case "header":
			switch strings.ToLower(val) {
			case "yes", "true":
				l.Header = true
			case "no", "false":
				l.Header = false
			default:
				return nil, fail("header must be yes or no")
			}
		case "date":
			l.DateFormat = DateFormat(strings.ToUpper(val))
			switch l.DateFormat {
			case DateMDY, DateISO, DateYMD, DateMDYPlain:
			default:
				return nil, fail("date must be MM/DD/YYYY, YYYY-MM-DD, YYYYMMDD or MMDDYYYY")
			}
		case "state":
			l.State = strings.ToUpper(val)
		case "elections":
			l.ElectionColumns = true
			switch HistoryValue(strings.ToLower(val)) {
			case HistoryFlag, HistoryMethod, HistoryParty:
				l.HistoryValue = HistoryValue(strings.ToLower(val))
			default:
				return nil, fail("elections must be flag, method or party")
			}
		case "status":
			if arg == "" {
				return nil, fail("status needs a code: status CODE = active")
			}
			code, reason, _ := strings.Cut(val, " ")
			rule := StatusRule{Code: vigil.StatusCode(strings.ToLower(code)), Reason: vigil.ChangeReason(strings.TrimSpace(reason))}
			if !rule.Code.Valid() || !rule.Reason.Valid() {
				return nil, fail("status must be active, inactive, pending or cancelled, optionally followed by a reason")
			}
			if l.Status == nil {
				l.Status = map[string]StatusRule{}
			}
			l.Status[strings.ToUpper(arg)] = rule
		case "method":
			m := vigil.VotingMethod(strings.ToLower(val))
			switch m {
			case vigil.MethodInPerson, vigil.MethodEarly, vigil.MethodAbsentee, vigil.MethodProvisional:
			default:
				return nil, fail("method must be in-person, early, absentee or provisional")
			}
			if arg == "" {
				return nil, fail("method needs a code: method CODE = absentee")
			}
			if l.Methods == nil {
				l.Methods = map[string]vigil.VotingMethod{}
			}
			l.Methods[strings.ToUpper(arg)] = m
		case "column":
			if arg == "" {
				return nil, fail("column needs a name: column NAME = field")
			}
			f := Field(strings.ToLower(val))
			if _, err := compileField(f); err != nil {
				return nil, fail("%v", err)
			}
			l.Columns = append(l.Columns, Column{Name: arg, Field: f})
		default:
			return nil, fail("unknown setting %q", word)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, vigil.Errorf(vigil.Invalid, op, "the mapping file cannot be read: %v", err)
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}
