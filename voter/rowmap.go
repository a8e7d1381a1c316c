package voter

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vigil-elections/vigil"
)

// builder turns the fields of one row into a vigil.Voter. It is reused
// from row to row; apply resets it.
type builder struct {
	res     addrParts
	mail    addrParts
	phone   [2]string
	prec    [2]string
	slots   []histSlot
	history []vigil.VotingHistoryEntry
}

type addrParts struct {
	line1, line2, line3, line4                      string
	number, numSuffix, preDir, street, typ, postDir string
	unitType, unit                                  string
}

type histSlot struct {
	key                  string
	date                 vigil.Date
	method, party, label string
	set                  bool
}

func (b *builder) reset() {
	b.res, b.mail = addrParts{}, addrParts{}
	b.phone, b.prec = [2]string{}, [2]string{}
	b.slots = b.slots[:0]
}

func (b *builder) slot(key string) *histSlot {
	for i := range b.slots {
		if b.slots[i].key == key {
			return &b.slots[i]
		}
	}
	b.slots = append(b.slots, histSlot{key: key})
	return &b.slots[len(b.slots)-1]
}

func (b *builder) apply(d *delimited, fields []string, rec *Record) {
	b.reset()
	v := &rec.Voter
	bad := func(s *slot, reason string) { rec.reject(d.file, s.column, reason) }
	for i := range d.plan {
		s := &d.plan[i]
		if s.col >= len(fields) {
			continue
		}
		val := strings.TrimSpace(fields[s.col])
		if val == "" {
			continue
		}
		if hasControl(val) {
			// A quoted line break or tab inside a value becomes a space;
			// other control bytes are left for Validate to reject.
			val = strings.Join(strings.FieldsFunc(val, func(r rune) bool { return r == '\r' || r == '\n' || r == '\t' || r == ' ' }), " ")
		}
		switch s.t.kind {
		case tID:
			v.ID = vigil.VoterID(val)
		case tLocalID:
			v.LocalID = val
		case tCounty:
			v.County = val
		case tPrefix:
			v.Name.Prefix = val
		case tFirst:
			v.Name.First = val
		case tMiddle:
			v.Name.Middle = val
		case tLast:
			v.Name.Last = val
		case tSuffix:
			v.Name.Suffix = val
		case tBirthDate:
			dt, ok := parseDate(val, d.l.DateFormat)
			if !ok {
				bad(s, fmt.Sprintf("%q is not a date in the form %s", clip(val), d.l.DateFormat))
			} else if !dt.IsZero() {
				v.BirthDate = dt
			}
		case tBirthYear:
			if len(val) != 4 || !digits(val) {
				bad(s, fmt.Sprintf("%q is not a four-digit year", clip(val)))
			} else if v.BirthDate.IsZero() {
				v.BirthDate = vigil.Date{Year: atoi(val)}
			}
		case tGender:
			v.Gender = normGender(val)
		case tResLine1:
			b.res.line1 = val
		case tResLine2:
			b.res.line2 = val
		case tResNumber:
			b.res.number = val
		case tResNumberSuffix:
			b.res.numSuffix = val
		case tResPreDir:
			b.res.preDir = val
		case tResStreet:
			b.res.street = val
		case tResType:
			b.res.typ = val
		case tResPostDir:
			b.res.postDir = val
		case tResUnitType:
			b.res.unitType = val
		case tResUnit:
			b.res.unit = val
		case tResCity:
			v.Residence.City = val
		case tResState:
			v.Residence.State = strings.ToUpper(val)
		case tResZIP:
			if !setZIP(&v.Residence, val) {
				bad(s, fmt.Sprintf("%q is not a 5- or 9-digit ZIP code", clip(val)))
			}
		case tResZIP4:
			v.Residence.ZIP4 = val
		case tResCountry:
			v.Residence.Country = normCountry(val)
		case tMailLine1:
			b.mail.line1 = val
		case tMailLine2:
			b.mail.line2 = val
		case tMailLine3:
			b.mail.line3 = val
		case tMailLine4:
			b.mail.line4 = val
		case tMailNumber:
			b.mail.number = val
		case tMailStreet:
			b.mail.street = val
		case tMailUnit:
			b.mail.unit = val
		case tMailCity:
			v.Mailing.City = val
		case tMailState:
			v.Mailing.State = strings.ToUpper(val)
		case tMailZIP:
			if !setZIP(&v.Mailing, val) {
				v.Mailing.ZIP = val // foreign postcodes are kept as written
			}
		case tMailZIP4:
			v.Mailing.ZIP4 = val
		case tMailCountry:
			v.Mailing.Country = normCountry(val)
		case tMailCityStateZIP:
			city, state, zip := splitCityStateZIP(val)
			v.Mailing.City, v.Mailing.State = city, state
			if !setZIP(&v.Mailing, zip) {
				v.Mailing.ZIP = zip
			}
		case tPhoneArea:
			b.phone[0] = val
		case tPhone:
			b.phone[1] = val
		case tEmail:
			v.Email = val
		case tParty:
			v.Party = strings.ToUpper(val)
		case tStatus:
			rule, ok := lookupStatus(d.status, val)
			if !ok {
				bad(s, fmt.Sprintf("unknown status code %q", clip(val)))
			}
			v.Status.Code = rule.Code
			if rule.Reason != vigil.ReasonNone {
				v.Status.Reason = rule.Reason
			}
		case tStatusReason:
			v.Status.Detail = val
			if r := reasonFromText(val); r != vigil.ReasonNone {
				v.Status.Reason = r
			}
		case tStatusDate:
			if dt, ok := parseDate(val, d.l.DateFormat); ok {
				v.Status.Since = dt
			} else {
				bad(s, fmt.Sprintf("%q is not a date in the form %s", clip(val), d.l.DateFormat))
			}
		case tRegistered:
			dt, ok := parseDate(val, d.l.DateFormat)
			if !ok {
				bad(s, fmt.Sprintf("%q is not a date in the form %s", clip(val), d.l.DateFormat))
			} else {
				v.Registered = dt
			}
		case tPrecinct:
			b.prec[0] = val
		case tPrecinctPart:
			b.prec[1] = val
		case tDriversLicense:
			v.DriversLicense = vigil.Secret(val)
		case tSSN4:
			if len(val) != 4 || !digits(val) {
				bad(s, "the last four SSN digits must be four digits") // never echo the value
			} else {
				v.SSN4 = vigil.Secret(val)
			}
		case tConfidential:
			v.Confidential = yes(val)
		case tDistrict:
			dist := vigil.DistrictAssignment{Type: s.t.district, Code: val}
			if s.t.district == vigil.DistrictOther {
				dist.Name = s.t.key
			}
			v.Districts = append(v.Districts, dist)
		case tHistoryElection:
			if no(val) {
				continue
			}
			e := vigil.VotingHistoryEntry{Election: s.election, Name: s.name}
			switch d.l.HistoryValue {
			case HistoryParty:
				if !strings.EqualFold(val, "X") {
					e.Party = strings.ToUpper(val)
				}
			case HistoryMethod:
				e.Method = lookupMethod(d.methods, val)
			}
			b.history = append(b.history, e)
		case tHistoryList:
			for _, tok := range strings.Split(val, ";") {
				if tok = strings.TrimSpace(tok); tok != "" {
					b.history = append(b.history, historyToken(tok))
				}
			}
		case tHistoryDate:
			if no(val) || strings.Trim(val, "0") == "" {
				continue
			}
			dt, ok := parseDate(val, d.l.DateFormat)
			if !ok {
				bad(s, fmt.Sprintf("%q is not a date in the form %s", clip(val), d.l.DateFormat))
				continue
			}
			h := b.slot(s.t.key)
			h.date, h.set = dt, true
		case tHistoryMethod:
			h := b.slot(s.t.key)
			h.method, h.set = val, true
		case tHistoryParty:
			b.slot(s.t.key).party = strings.ToUpper(val)
		}
	}
	b.finish(d, v)
}

func (b *builder) finish(d *delimited, v *vigil.Voter) {
	v.Residence.Line1, v.Residence.Line2 = b.res.lines()
	if v.Residence.State == "" && !v.Residence.IsZero() && v.Residence.Country == "" {
		v.Residence.State = d.l.State
	}
	v.Mailing.Line1, v.Mailing.Line2 = b.mail.lines()
	if b.phone[1] != "" {
		v.Phone = b.phone[0] + b.phone[1]
	}
	v.Precinct = b.prec[0]
	if b.prec[1] != "" && b.prec[1] != b.prec[0] {
		v.Districts = append(v.Districts, vigil.DistrictAssignment{Type: "split-precinct", Code: b.prec[1]})
	}
	for _, h := range b.slots {
		if !h.set {
			continue
		}
		if lookupMethod(d.methods, h.method) == vigil.MethodUnknown && lookupMethod(d.methods, h.party) != vigil.MethodUnknown {
			// Some extracts put the party before the method (the NVF PA
			// sample does); a party code is never a method code.
			h.method, h.party = h.party, strings.ToUpper(h.method)
		}
		label := d.l.HistoryNames[h.key]
		if label == "" && h.date.IsZero() {
			label = "slot " + h.key
		}
		b.history = append(b.history, vigil.VotingHistoryEntry{
			Election: h.date, Name: label, Method: lookupMethod(d.methods, h.method), Party: h.party,
		})
	}
	if v.Status.Code == "" {
		// Files that list only registered voters leave status blank for
		// active ones (NJ).
		v.Status.Code = vigil.StatusActive
	}
	if v.Status.Code == vigil.StatusCancelled && v.Status.Reason == vigil.ReasonNone {
		v.Status.Reason = vigil.ReasonOther
		if v.Status.Detail == "" {
			v.Status.Detail = "the file gives no reason"
		}
	}
	if len(b.history) > 0 {
		v.History = slices.Clone(b.history)
		b.history = b.history[:0]
		canonHistory(v.History)
	}
	canonDistricts(v.Districts)
}

// canonDistricts and canonHistory put lists in a fixed order, so a file
// whose columns were reordered yields the same record and fingerprint.
func canonDistricts(ds []vigil.DistrictAssignment) { slices.SortStableFunc(ds, districtCmp) }

func canonHistory(hs []vigil.VotingHistoryEntry) { slices.SortStableFunc(hs, historyCmp) }

func (a *addrParts) lines() (line1, line2 string) {
	line1 = a.line1
	if line1 == "" {
		num := a.number
		if a.numSuffix != "" {
			num = joinSp(num, a.numSuffix)
		}
		line1 = joinSp(num, a.preDir, a.street, a.typ, a.postDir)
	}
	unit := a.unit
	if unit != "" {
		switch {
		case a.unitType != "":
			unit = joinSp(a.unitType, unit)
		case unit[0] >= '0' && unit[0] <= '9':
			unit = "# " + unit
		}
	} else if a.unitType != "" && a.unitType != "#" {
		unit = a.unitType
	}
	line2 = a.line2
	for _, extra := range []string{unit, a.line3, a.line4} {
		if extra == "" {
			continue
		}
		if line2 == "" {
			line2 = extra
		} else {
			line2 += ", " + extra
		}
	}
	return line1, line2
}

func joinSp(parts ...string) string {
	n := 0
	last := ""
	for _, p := range parts {
		if p != "" {
			n++
			last = p
		}
	}
	if n <= 1 {
		return last
	}
	var sb strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(p)
	}
	return sb.String()
}

// setZIP stores a US ZIP code: 5 digits, 9 digits, or "12345-6789".
// Three- and four-digit values are zero-padded: spreadsheets strip the
// leading zero of New England ZIP codes.
func setZIP(a *vigil.Address, s string) bool {
	s = strings.TrimSpace(s)
	zip, four, _ := strings.Cut(s, "-")
	if four == "" && len(zip) == 9 {
		zip, four = zip[:5], zip[5:]
	}
	if !digits(zip) || four != "" && (len(four) != 4 || !digits(four)) {
		return false
	}
	switch len(zip) {
	case 3:
		zip = "00" + zip
	case 4:
		zip = "0" + zip
	case 5:
	default:
		return false
	}
	a.ZIP = zip
	if four != "" {
		a.ZIP4 = four
	}
	return true
}

func splitCityStateZIP(s string) (city, state, zip string) {
	i := strings.LastIndexByte(s, ',')
	if i < 0 {
		f := strings.Fields(s)
		if len(f) >= 3 {
			return strings.Join(f[:len(f)-2], " "), f[len(f)-2], f[len(f)-1]
		}
		return s, "", ""
	}
	city = strings.TrimSpace(s[:i])
	f := strings.Fields(s[i+1:])
	switch len(f) {
	case 0:
	case 1:
		state = f[0]
	default:
		state, zip = f[0], f[len(f)-1]
	}
	return city, strings.ToUpper(state), zip
}

func normCountry(s string) string {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "", "US", "USA", "U.S.", "U.S.A.", "UNITED STATES", "UNITED STATES OF AMERICA":
		return ""
	}
	return s
}

func normGender(s string) string {
	switch strings.ToUpper(s) {
	case "F", "FEMALE", "W":
		return "F"
	case "M", "MALE":
		return "M"
	case "U", "UNKNOWN", "UNDESIGNATED":
		return "U"
	case "X", "NONBINARY", "NON-BINARY":
		return "X"
	}
	return strings.ToUpper(s)
}

func yes(s string) bool {
	switch strings.ToUpper(s) {
	case "Y", "YES", "T", "TRUE", "1":
		return true
	}
	return false
}

func no(s string) bool {
	switch strings.ToUpper(s) {
	case "N", "NO", "F", "FALSE", "0":
		return true
	}
	return false
}

var commonStatus = map[string]StatusRule{
	"ACTIVE": active, "A": active, "ACT": active,
	"INACTIVE": inactive, "I": inactive, "INA": inactive,
	"PENDING": pending, "PRE": pending, "PREREGISTERED": pending, "PRE-REGISTERED": pending,
	"CANCELLED": cancelled, "CANCELED": cancelled, "REMOVED": cancelled, "PURGED": cancelled,
}

func lookupStatus(m map[string]StatusRule, s string) (StatusRule, bool) {
	u := strings.ToUpper(s)
	if r, ok := m[u]; ok {
		return r, true
	}
	r, ok := commonStatus[u]
	return r, ok
}

var commonMethods = map[string]vigil.VotingMethod{
	"Y": vigil.MethodInPerson, "AP": vigil.MethodInPerson, "POLLS": vigil.MethodInPerson, "IN PERSON": vigil.MethodInPerson,
	"IN-PERSON": vigil.MethodInPerson, "ELECTION DAY": vigil.MethodInPerson, "EDAY": vigil.MethodInPerson,
	"A": vigil.MethodAbsentee, "AB": vigil.MethodAbsentee, "ABSENTEE": vigil.MethodAbsentee, "MAIL": vigil.MethodAbsentee,
	"BY MAIL": vigil.MethodAbsentee, "M": vigil.MethodAbsentee, "ABSENTEE BY MAIL": vigil.MethodAbsentee,
	"E": vigil.MethodEarly, "EV": vigil.MethodEarly, "EARLY": vigil.MethodEarly, "EARLY VOTING": vigil.MethodEarly,
	"ONE-STOP": vigil.MethodEarly, "ABSENTEE ONESTOP": vigil.MethodEarly,
	"P": vigil.MethodProvisional, "PROV": vigil.MethodProvisional, "PROVISIONAL": vigil.MethodProvisional,
}

func lookupMethod(m map[string]vigil.VotingMethod, s string) vigil.VotingMethod {
	if s == "" {
		return vigil.MethodUnknown
	}
	u := strings.ToUpper(s)
	if r, ok := m[u]; ok {
		return r
	}
	return commonMethods[u]
}

// reasonFromText maps a state's status-reason code or wording to a
// vigil.ChangeReason by keyword; ReasonNone when nothing fits (the text is
// still kept in VoterStatus.Detail).
func reasonFromText(s string) vigil.ChangeReason {
	u := strings.ToUpper(s)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(u, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("DECEASED", "DEATH", "DIED", "DEAD"):
		return vigil.ReasonDeceased
	case has("FELON", "CONVICT"):
		return vigil.ReasonFelony
	case has("INCOMP"):
		return vigil.ReasonIncompetent
	case has("DUPLICATE", "MERGED"):
		return vigil.ReasonDuplicate
	case has("MOVED", "NCOA", "RELOCAT", "OUT OF STATE", "OUT OF COUNTY"):
		return vigil.ReasonMoved
	case has("RETURN-MAIL", "RETURNED MAIL", "UNDELIVERABLE", "MAIL-CHECK", "CONFIRMATION"):
		return vigil.ReasonReturnedMail
	case has("REQUEST"):
		return vigil.ReasonVoterRequest
	case has("NVRA", "NO CONTACT", "FAILURE TO VOTE", "LIST MAINTENANCE"):
		return vigil.ReasonNoContact
	case has("VERIF", "DENIED", "HAVA"):
		return vigil.ReasonUnverified
	case has("UNDERAGE", "PREREG", "PRE-REG", "17"):
		return vigil.ReasonUnderage
	}
	return vigil.ReasonNone
}

// historyToken reads one entry of a semicolon-separated history list. The
// token is kept as the election's name; a date or year in it is parsed.
func historyToken(tok string) vigil.VotingHistoryEntry {
	e := vigil.VotingHistoryEntry{Name: tok}
	for _, w := range strings.FieldsFunc(tok, func(r rune) bool { return r == ' ' || r == ',' || r == '(' || r == ')' }) {
		if len(w) == 4 && digits(w) {
			e.Election = vigil.Date{Year: atoi(w)}
			if len(tok) == 4 {
				e.Name = ""
			}
			continue
		}
		if dt, ok := parseDateAs(w, DateYMD); ok {
			e.Election = dt
			break
		}
		if dt, ok := parseDateAs(w, DateMDY); ok {
			e.Election = dt
			break
		}
	}
	if len(e.Name) > vigil.MaxFieldLen {
		e.Name = e.Name[:vigil.MaxFieldLen]
	}
	return e
}

// clip shortens a value quoted in a rejection.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "…"
}

// hasControl reports whether s holds a byte below space (a tab or line
// break that quoting let through).
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' {
			return true
		}
	}
	return false
}
