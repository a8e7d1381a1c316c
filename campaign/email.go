package campaign

import (
	"sort"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Email posture: a campaign pastes its SPF, DKIM and DMARC records (the TXT
// values, with or without the zone file's quotes) and gets a grade with
// findings that say what to change. Nothing is looked up in DNS: the
// graders judge only the text they are given, and say so where a check
// would need DNS (nested includes, report authorization records).

// Severity ranks a finding.
type Severity int

const (
	Info Severity = iota
	Low
	Medium
	High
	Critical
)

func (s Severity) String() string {
	return [...]string{"info", "low", "medium", "high", "critical"}[s]
}

// Finding is one observation about a record.
type Finding struct {
	Severity Severity
	Code     string // stable, e.g. "spf-pass-all"
	Message  string // what is wrong and what to do
}

// Grade summarises findings: A (nothing above info), B (worst is low),
// C (medium), D (high) or F (critical).
type Grade string

// Report is the graded result for one record.
type Report struct {
	Record   string // "SPF", "DKIM" or "DMARC"
	Grade    Grade
	Findings []Finding // most severe first, then in the order found
}

func report(record string, fs []Finding) Report {
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Severity > fs[j].Severity })
	g := Grade("A")
	if len(fs) > 0 {
		g = Grade([...]string{"A", "B", "C", "D", "F"}[fs[0].Severity])
	}
	return Report{Record: record, Grade: g, Findings: fs}
}

const maxRecordLen = 8192

// txtValue turns a pasted TXT record into its value: surrounding space is
// trimmed and, if the text is one or more quoted strings ("a" "b"), they
// are unquoted and joined as DNS does.
func txtValue(op, s string) (string, error) {
	if len(s) > maxRecordLen {
		return "", vigil.FieldError(op, "record", "longer than %d bytes; paste only the record's value", maxRecordLen)
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, `"`) {
		return s, nil
	}
	var b strings.Builder
	for s != "" {
		if s[0] != '"' {
			return "", vigil.FieldError(op, "record", "text outside the quotes; paste the record's value only")
		}
		s = s[1:]
		closed := false
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
				continue
			case '"':
				closed = true
				s = strings.TrimLeft(s[i+1:], " \t\r\n")
			default:
				b.WriteByte(s[i])
				continue
			}
			break
		}
		if !closed {
			return "", vigil.FieldError(op, "record", "a quote is not closed")
		}
	}
	return b.String(), nil
}

// tag is one tag=value pair of a DKIM or DMARC record.
type tag struct{ name, value string }

// parseTagList reads "v=DKIM1; k=rsa; p=…" (RFC 6376 §3.2): tags separated
// by ";", spaces around names and values ignored, a trailing ";" allowed.
// A repeated tag makes the record invalid.
func parseTagList(op, s string) ([]tag, error) {
	var tags []tag
	seen := map[string]bool{}
	parts := strings.Split(s, ";")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			if i == len(parts)-1 {
				break
			}
			return nil, vigil.FieldError(op, "record", "an empty tag between semicolons")
		}
		name, value, ok := strings.Cut(p, "=")
		name = strings.TrimSpace(name)
		if !ok || !validTagName(name) {
			return nil, vigil.FieldError(op, "record", "%q is not a tag=value pair", clip(p))
		}
		lname := strings.ToLower(name)
		if seen[lname] {
			return nil, vigil.FieldError(op, lname, "the tag %s appears twice, which makes the record invalid", lname)
		}
		seen[lname] = true
		tags = append(tags, tag{lname, strings.TrimSpace(value)})
	}
	if len(tags) == 0 {
		return nil, vigil.FieldError(op, "record", "the record is empty")
	}
	return tags, nil
}

func validTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isAlpha(s[i]) && !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func invalid(code string, err error) Finding {
	return Finding{Severity: Critical, Code: code, Message: vigil.ErrorMessage(err) + "; receivers ignore an invalid record, so the domain is unprotected"}
}
