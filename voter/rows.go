package voter

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
)

// The row form of a vigil.VoterRecord: a JSON array of strings in a fixed
// order, without field names. An import's voter.added events carry their
// records this way (a payload's "rows"), about half the bytes of the JSON
// objects, and the projection decodes it without reflection: every byte of
// a five-million-voter import is checked, copied and decoded several times
// on its way through the log. Version 1 of the form is
//
//	[id, local_id, county, prefix, first, middle, last, suffix, birth_date, gender,
//	 residence line1, line2, city, state, zip, zip4, country,
//	 mailing line1, line2, city, state, zip, zip4, country,
//	 phone, email, party, status code, status reason, status detail, status since,
//	 registered, precinct, confidential, drivers_license_sealed, ssn4_sealed, fingerprint,
//	 districts, history]
//
// where dates are written as vigil.Date.String writes them ("YYYY-MM-DD",
// "YYYY" or ""), confidential is "1" or "", districts is an array of
// [type, code, name] and history an array of [election, name, method,
// party, place]. Trailing empty values are left out. The form is part of
// the log's format: it MUST NOT change; a new form would get a new payload
// field.
//
// Only a record the form holds exactly is written in it (AppendRow says
// whether it does); any other stays a JSON object.

// rowFields is the number of values of a version 1 row.
const rowFields = 39

var errRow = errors.New("malformed voter row")

// AppendRow appends the row form of r to b. ok is false, and b unchanged,
// when the form cannot hold r exactly (a date that does not read back, or
// a secret in clear); such a record must travel as JSON.
func AppendRow(b []byte, r *vigil.VoterRecord) (_ []byte, ok bool) {
	v := &r.Voter
	if !v.DriversLicense.IsZero() || !v.SSN4.IsZero() {
		return b, false
	}
	for _, d := range []vigil.Date{v.BirthDate, v.Status.Since, v.Registered} {
		if !rowDate(d) {
			return b, false
		}
	}
	for _, h := range v.History {
		if !rowDate(h.Election) {
			return b, false
		}
	}
	b = append(b, '[')
	// Empty values are counted, not written, until a value follows them.
	pending := 0
	n := 0
	str := func(s string) {
		if s == "" {
			pending++
			return
		}
		for ; pending > 0; pending-- {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, '"', '"')
			n++
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
		n++
	}
	recordFields(v, str, func(d vigil.Date) { str(dateText(d)) })
	if v.Confidential {
		str("1")
	} else {
		str("")
	}
	str(r.DriversLicenseSealed)
	str(r.SSN4Sealed)
	str(r.Fingerprint)
	list := func(count int, item func(i int) []string) {
		if count == 0 {
			pending++
			return
		}
		for ; pending > 0; pending-- {
			b = append(b, ',', '"', '"')
		}
		b = append(b, ',', '[')
		for i := range count {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			for j, s := range item(i) {
				if j > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, s)
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	// The id is never empty in a valid record, so n > 0 here; a record
	// without one still gets a well-formed row.
	if n == 0 {
		b = append(b, '"', '"')
		n, pending = 1, max(pending-1, 0)
	}
	list(len(v.Districts), func(i int) []string {
		d := &v.Districts[i]
		return []string{string(d.Type), d.Code, d.Name}
	})
	list(len(v.History), func(i int) []string {
		h := &v.History[i]
		return []string{dateText(h.Election), h.Name, string(h.Method), h.Party, h.Place}
	})
	b = append(b, ']')
	return b, true
}

// rowDate reports whether the row form holds d exactly: it is written as
// Date.String writes it and read with vigil.ParseDate, which takes back
// exactly the valid dates (years 1 to 9999).
func rowDate(d vigil.Date) bool {
	return d.IsZero() || d.Valid()
}

// dateText is d.String() without fmt, for a date rowDate accepts.
func dateText(d vigil.Date) string {
	if d.IsZero() {
		return ""
	}
	var b [10]byte
	y := d.Year
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + y%10)
		y /= 10
	}
	if d.YearOnly() {
		return string(b[:4])
	}
	b[4], b[5], b[6], b[7], b[8], b[9] = '-', byte('0'+int(d.Month)/10), byte('0'+int(d.Month)%10), '-', byte('0'+d.Day/10), byte('0'+d.Day%10)
	return string(b[:])
}

// appendJSONString appends s as a JSON string, as encoding/json writes it
// (HTML characters and U+2028/9 escaped, invalid UTF-8 replaced): a row
// then reads back exactly as the JSON object form would.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ParseRow decodes a row (see AppendRow) into r, which it resets first.
// It fails on anything that is not a version 1 row; it never panics. The
// strings of r share row's memory.
func ParseRow(row string, r *vigil.VoterRecord) error {
	*r = vigil.VoterRecord{}
	p := rowParser{b: row}
	var vals [rowFields - 2]string
	var districts, history [][]string
	if !p.byte('[') {
		return errRow
	}
	n := 0
	if p.peek() == ']' {
		p.i++
	} else {
		for {
			if n >= rowFields {
				return errRow
			}
			switch n {
			case rowFields - 2, rowFields - 1:
				if p.peek() == '"' { // an empty list left as ""
					s, ok := p.str()
					if !ok || s != "" {
						return errRow
					}
					break
				}
				width := 3 // [type, code, name]
				if n == rowFields-1 {
					width = 5 // [election, name, method, party, place]
				}
				lists, ok := p.lists(width)
				if !ok {
					return errRow
				}
				if n == rowFields-2 {
					districts = lists
				} else {
					history = lists
				}
			default:
				s, ok := p.str()
				if !ok {
					return errRow
				}
				vals[n] = s
			}
			n++
			if p.byte(']') {
				break
			}
			if !p.byte(',') {
				return errRow
			}
		}
	}
	p.ws()
	if p.i != len(p.b) {
		return errRow
	}
	v := &r.Voter
	var err error
	date := func(s string) vigil.Date {
		d, e := vigil.ParseDate(s)
		if e != nil && err == nil {
			err = errRow
		}
		return d
	}
	v.ID = vigil.VoterID(vals[0])
	v.LocalID, v.County = vals[1], vals[2]
	v.Name = vigil.Name{Prefix: vals[3], First: vals[4], Middle: vals[5], Last: vals[6], Suffix: vals[7]}
	v.BirthDate = date(vals[8])
	v.Gender = vals[9]
	v.Residence = vigil.Address{Line1: vals[10], Line2: vals[11], City: vals[12], State: vals[13], ZIP: vals[14], ZIP4: vals[15], Country: vals[16]}
	v.Mailing = vigil.Address{Line1: vals[17], Line2: vals[18], City: vals[19], State: vals[20], ZIP: vals[21], ZIP4: vals[22], Country: vals[23]}
	v.Phone, v.Email, v.Party = vals[24], vals[25], vals[26]
	v.Status = vigil.VoterStatus{Code: vigil.StatusCode(vals[27]), Reason: vigil.ChangeReason(vals[28]), Detail: vals[29], Since: date(vals[30])}
	v.Registered = date(vals[31])
	v.Precinct = vals[32]
	switch vals[33] {
	case "":
	case "1":
		v.Confidential = true
	default:
		return errRow
	}
	r.DriversLicenseSealed, r.SSN4Sealed, r.Fingerprint = vals[34], vals[35], vals[36]
	for _, d := range districts {
		v.Districts = append(v.Districts, vigil.DistrictAssignment{Type: vigil.DistrictType(d[0]), Code: d[1], Name: d[2]})
	}
	for _, h := range history {
		v.History = append(v.History, vigil.VotingHistoryEntry{Election: date(h[0]), Name: h[1],
			Method: vigil.VotingMethod(h[2]), Party: h[3], Place: h[4]})
	}
	return err
}

// rowParser reads the JSON of a row: strings and arrays only.
type rowParser struct {
	b string
	i int
}

func (p *rowParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *rowParser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// byte consumes c (after white space) if it is next.
func (p *rowParser) byte(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

// str reads a JSON string. Strings without escapes (nearly all) are
// sliced; others are decoded by encoding/json.
func (p *rowParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			raw := p.b[start:p.i]
			p.i++
			if !escaped {
				if !utf8.ValidString(raw) {
					return "", false
				}
				return raw, true
			}
			var s string
			if json.Unmarshal([]byte(p.b[start-1:p.i]), &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", false
		default:
			p.i++
		}
	}
	return "", false
}

// lists reads an array of arrays of exactly width strings.
func (p *rowParser) lists(width int) ([][]string, bool) {
	if !p.byte('[') {
		return nil, false
	}
	var out [][]string
	if p.byte(']') {
		return out, true
	}
	for {
		if !p.byte('[') {
			return nil, false
		}
		item := make([]string, 0, width)
		for {
			s, ok := p.str()
			if !ok || len(item) == width {
				return nil, false
			}
			item = append(item, s)
			if p.byte(']') {
				break
			}
			if !p.byte(',') {
				return nil, false
			}
		}
		if len(item) != width {
			return nil, false
		}
		out = append(out, item)
		if p.byte(']') {
			return out, true
		}
		if !p.byte(',') {
			return nil, false
		}
	}
}

// ParseRecords decodes the payload of voter.added or voter.changed in
// either form: records as JSON objects ("records") or as rows ("rows"),
// the rows after the records. Errors name the row that is malformed.
func ParseRecords(payload []byte) (vigil.VoterRecords, error) {
	var p struct {
		vigil.VoterRecords
		Rows []json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return p.VoterRecords, &vigil.Error{Op: "voter.records", Kind: vigil.Integrity, Message: "the payload is not voter records", Err: err}
	}
	for i, raw := range p.Rows {
		var r vigil.VoterRecord
		if err := ParseRow(string(raw), &r); err != nil {
			return p.VoterRecords, &vigil.Error{Op: "voter.records", Kind: vigil.Integrity, Field: "rows[" + strconv.Itoa(i) + "]", Message: err.Error()}
		}
		p.Records = append(p.Records, r)
	}
	return p.VoterRecords, nil
}

// RowID returns the voter ID of a row (its first value) without decoding
// the rest; ParseRow reads the same ID.
func RowID(row string) (vigil.VoterID, bool) {
	p := rowParser{b: row}
	if !p.byte('[') {
		return "", false
	}
	if p.peek() == ']' {
		return "", true
	}
	s, ok := p.str()
	return vigil.VoterID(s), ok
}
