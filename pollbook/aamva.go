package pollbook

import (
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// Licence is what a scanned AAMVA driver's licence or ID card says about its
// holder: enough to find the voter. Number is a secret: it is never logged
// or shown and never stored in clear.
type Licence struct {
	Number    vigil.Secret // DAQ
	LastName  string       // DCS (DAB in version 1)
	FirstName string       // DAC (DCT or DAA in older versions)
	Middle    string       // DAD
	BirthDate vigil.Date   // DBB
	State     string       // DAJ: the issuing jurisdiction's address state
	Country   string       // DCG
}

// Query returns a voter search string for the holder: names and birth date.
func (l Licence) Query() string {
	parts := []string{l.FirstName, l.LastName}
	if !l.BirthDate.IsZero() {
		parts = append(parts, l.BirthDate.String())
	}
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

// MaxAAMVALen bounds the text ParseAAMVA reads: a real card holds well under
// 1 KiB of elements.
const MaxAAMVALen = 4096

// LooksLikeAAMVA reports whether s is plausibly the text of a scanned
// licence rather than a typed name: it carries the "ANSI " or "AAMVA"
// header, or at least two data elements with names.
func LooksLikeAAMVA(s string) bool {
	if len(s) > MaxAAMVALen {
		s = s[:MaxAAMVALen]
	}
	if strings.Contains(s, "ANSI ") || strings.Contains(s, "AAMVA") {
		return true
	}
	return strings.Contains(s, "DCS") && (strings.Contains(s, "DAC") || strings.Contains(s, "DBB") || strings.Contains(s, "DAQ"))
}

// elements are the AAMVA data element IDs ParseAAMVA can find when the
// scanner dropped the line separators (some keyboard-wedge setups do).
var elements = []string{"DAA", "DAB", "DAC", "DAD", "DAE", "DAF", "DAG", "DAH", "DAI", "DAJ", "DAK", "DAL", "DAM",
	"DAN", "DAO", "DAP", "DAQ", "DAR", "DAS", "DAT", "DAU", "DAV", "DAW", "DAX", "DAY", "DAZ", "DBA", "DBB", "DBC",
	"DBD", "DBE", "DBF", "DBG", "DBH", "DBI", "DBJ", "DBK", "DBL", "DBM", "DBN", "DBO", "DBP", "DBQ", "DBR", "DBS",
	"DCA", "DCB", "DCD", "DCE", "DCF", "DCG", "DCH", "DCI", "DCJ", "DCK", "DCL", "DCM", "DCN", "DCO", "DCP", "DCQ",
	"DCR", "DCS", "DCT", "DCU", "DDA", "DDB", "DDC", "DDD", "DDE", "DDF", "DDG", "DDH", "DDI", "DDJ", "DDK", "DDL"}

var knownElement = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range elements {
		m[e] = true
	}
	return m
}()

// ParseAAMVA reads the text of a PDF417 barcode on a US or Canadian
// licence (AAMVA DL/ID card design standard, versions 1-10) as a
// keyboard-wedge scanner types it: the header, then one data element per
// line ("DCSSMITH"). Separators may arrive as LF, CR, CRLF, RS, or not at
// all. Errors (Invalid) never echo the input: it holds a licence number.
func ParseAAMVA(s string) (Licence, error) {
	const op = "pollbook.aamva"
	if len(s) > MaxAAMVALen {
		return Licence{}, vigil.FieldError(op, "scan", "is longer than %d characters: not a licence", MaxAAMVALen)
	}
	fields := map[string]string{}
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == 0x1e || r == 0x1c }) {
		line = strings.TrimSpace(line)
		// The subfile's first element follows its type: "DLDAQ…", "IDDAQ…";
		// with the header on the same line: "ANSI 6360…DL00410278ZV…DLDAQ…".
		for _, sub := range []string{"DL", "ID"} {
			if i := strings.LastIndex(line, sub+"D"); i >= 0 && i+5 <= len(line) && knownElement[line[i+2:i+5]] &&
				(strings.HasPrefix(line, "ANSI") || strings.HasPrefix(line, "AAMVA") || strings.HasPrefix(line, "@") || i == 0) {
				line = line[i+2:]
				break
			}
		}
		splitElements(line, fields)
	}
	var l Licence
	l.Number = vigil.Secret(clean(fields["DAQ"], 32))
	l.LastName = clean(fields["DCS"], 64)
	if l.LastName == "" {
		l.LastName = clean(fields["DAB"], 64)
	}
	l.FirstName = clean(fields["DAC"], 64)
	if l.FirstName == "" {
		l.FirstName = clean(fields["DCT"], 64)
	}
	l.Middle = clean(fields["DAD"], 64)
	if l.LastName == "" && fields["DAA"] != "" {
		// Version 1: DAA is LAST,FIRST,MIDDLE (or LAST$FIRST$MIDDLE).
		parts := strings.FieldsFunc(fields["DAA"], func(r rune) bool { return r == ',' || r == '$' })
		if len(parts) > 0 {
			l.LastName = clean(parts[0], 64)
		}
		if len(parts) > 1 {
			l.FirstName = clean(parts[1], 64)
		}
	}
	// DCT may carry first and middle names: "JOHN,QUINCY" or "JOHN QUINCY".
	if f := strings.FieldsFunc(l.FirstName, func(r rune) bool { return r == ',' || r == ' ' }); len(f) > 1 {
		l.FirstName = f[0]
		if l.Middle == "" {
			l.Middle = strings.Join(f[1:], " ")
		}
	}
	l.State = clean(fields["DAJ"], 2)
	l.Country = clean(fields["DCG"], 3)
	if d, ok := birthDate(fields["DBB"], l.Country); ok {
		l.BirthDate = d
	}
	if l.LastName == "" || (l.FirstName == "" && l.BirthDate.IsZero()) {
		return Licence{}, vigil.FieldError(op, "scan", "no name could be read from the scanned licence; scan again or type the name")
	}
	return l, nil
}

// splitElements stores every element of line in fields. A line is normally
// one element; without separators it is a run of elements, split where a
// known element ID follows (IDs start with D and two capitals, which names
// in capitals can also contain, so only known IDs split).
func splitElements(line string, fields map[string]string) {
	if len(line) < 3 || !knownElement[line[:3]] {
		return
	}
	start := 0
	for i := 3; i+3 <= len(line); i++ {
		if line[i] == 'D' && knownElement[line[i:i+3]] && plausibleBoundary(line, start, i) && !dateElementWithin(line, i) {
			put(fields, line[start:start+3], line[start+3:i])
			start = i
			i += 2
		}
	}
	put(fields, line[start:start+3], line[start+3:])
}

// plausibleBoundary: a new element starts at i only if the current value
// is not empty, which keeps values like "DDEN" (DDE followed by N) whole.
func plausibleBoundary(line string, start, i int) bool {
	return i-start > 3
}

// dateElementWithin reports whether a date element with its eight digits
// starts one or two bytes after i ("LINDADBB03112008": DBB, not DAD): a
// date is the most recognisable value, so it wins an overlap.
func dateElementWithin(line string, i int) bool {
	for j := i + 1; j <= i+2 && j+11 <= len(line); j++ {
		if dateElements[line[j:j+3]] && strings.Trim(line[j+3:j+11], "0123456789") == "" {
			return true
		}
	}
	return false
}

var dateElements = map[string]bool{"DBA": true, "DBB": true, "DBD": true, "DDB": true, "DDC": true, "DDH": true, "DDI": true, "DDJ": true}

func put(fields map[string]string, id, v string) {
	if _, seen := fields[id]; !seen {
		fields[id] = v
	}
}

// clean trims, upper-cases and bounds a value, dropping control
// characters and AAMVA truncation markers.
func clean(s string, max int) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			continue
		}
		b.WriteRune(r)
	}
	out := strings.TrimSpace(b.String())
	if len(out) > max {
		out = strings.TrimSpace(out[:max])
		for len(out) > 0 && !validUTF8Tail(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}

func validUTF8Tail(s string) bool {
	return strings.ToValidUTF8(s, "") == s
}

// birthDate reads DBB: MMDDCCYY in the US, CCYYMMDD in Canada (and in some
// early cards); a value that only reads one way is read that way.
func birthDate(s, country string) (vigil.Date, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 8 || strings.Trim(s, "0123456789") != "" {
		return vigil.Date{}, false
	}
	n := func(a, b int) int {
		v := 0
		for _, c := range s[a:b] {
			v = v*10 + int(c-'0')
		}
		return v
	}
	mdy := vigil.Date{Year: n(4, 8), Month: time.Month(n(0, 2)), Day: n(2, 4)}
	ymd := vigil.Date{Year: n(0, 4), Month: time.Month(n(4, 6)), Day: n(6, 8)}
	plausible := func(d vigil.Date) bool { return d.Valid() && d.Year >= 1880 && d.Year <= 2200 }
	if country == "CAN" && plausible(ymd) {
		return ymd, true
	}
	if plausible(mdy) {
		return mdy, true
	}
	if plausible(ymd) {
		return ymd, true
	}
	return vigil.Date{}, false
}
