package vigil

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// VoterID is a voter's statewide registration number as the state issues it
// (NC "ncid", OH "SOS_VOTERID", NY "SBOEID", FL "Voter ID", ...). It is
// public: it is printed in pollbooks and on voter cards.
type VoterID string

// Secret holds a sensitive identifier: a driver's licence number, the last
// four digits of a Social Security number. Its String, Format, MarshalText,
// MarshalJSON and LogValue methods all print "[redacted]", so a Voter can be
// logged, printed with %v or encoded to JSON without leaking it. Code that
// really needs the value calls Reveal, which makes every such use easy to
// find in review.
//
// Redaction is not encryption: storage MUST encrypt secrets at rest and
// MUST NOT rely on encoding/json to carry them.
type Secret string

const secretRedacted = "[redacted]"

// Reveal returns the secret's value. Call it only where the value is
// needed (encryption, matching), never to build a message.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

func (s Secret) String() string   { return secretText(s) }
func (s Secret) GoString() string { return strconv.Quote(secretText(s)) }

// Format makes every fmt verb (%s, %v, %q, %x, %d, ...) print the redaction.
func (s Secret) Format(f fmt.State, verb rune) { fmt.Fprint(f, secretText(s)) }

func (s Secret) MarshalText() ([]byte, error) { return []byte(secretText(s)), nil }
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(secretText(s))), nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(secretText(s)) }

func secretText(s Secret) string {
	if s == "" {
		return ""
	}
	return secretRedacted
}

// Date is a calendar date without a time zone: a birth date, a
// registration date, an election day. Month and Day are zero when only the
// year is known (several states publish only a birth year).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d.Year == 0 && d.Month == 0 && d.Day == 0 }

// YearOnly reports whether only the year is known.
func (d Date) YearOnly() bool { return d.Year != 0 && d.Month == 0 && d.Day == 0 }

// String returns "YYYY-MM-DD", "YYYY" for a year-only date, or "" when unset.
func (d Date) String() string {
	switch {
	case d.IsZero():
		return ""
	case d.YearOnly():
		return fmt.Sprintf("%04d", d.Year)
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Valid reports whether the date is unset, a year, or a real calendar day.
func (d Date) Valid() bool {
	if d.IsZero() {
		return true
	}
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	if d.YearOnly() {
		return true
	}
	if d.Month < 1 || d.Month > 12 || d.Day < 1 {
		return false
	}
	return d.Day <= time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Before reports whether d is earlier than e. Year-only dates compare by year.
func (d Date) Before(e Date) bool {
	if d.Year != e.Year {
		return d.Year < e.Year
	}
	if d.YearOnly() || e.YearOnly() {
		return false
	}
	if d.Month != e.Month {
		return d.Month < e.Month
	}
	return d.Day < e.Day
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses "YYYY-MM-DD" or "YYYY"; an empty string is the zero Date.
func ParseDate(s string) (Date, error) {
	if s == "" {
		return Date{}, nil
	}
	var d Date
	var err error
	switch len(s) {
	case 4:
		d.Year, err = strconv.Atoi(s)
	case 10:
		if s[4] != '-' || s[7] != '-' {
			return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
		}
		var m int
		d.Year, err = strconv.Atoi(s[:4])
		if err == nil {
			m, err = strconv.Atoi(s[5:7])
			d.Month = time.Month(m)
		}
		if err == nil {
			d.Day, err = strconv.Atoi(s[8:])
		}
	default:
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD", s)
	}
	if err != nil || !d.Valid() || d.IsZero() {
		return Date{}, fmt.Errorf("date %q is not a calendar date", s)
	}
	return d, nil
}

func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Name is a person's name in parts, as voter files and NIST SP 1500-102
// carry it. Parts are stored as the source gave them; matching normalizes.
type Name struct {
	Prefix string `json:"prefix,omitempty"` // "Mr", "Dr"
	First  string `json:"first,omitempty"`
	Middle string `json:"middle,omitempty"`
	Last   string `json:"last,omitempty"`
	Suffix string `json:"suffix,omitempty"` // "Jr", "III"
}

// Full returns the name as it is printed: "First Middle Last Suffix".
func (n Name) Full() string {
	return joinVoterParts(" ", n.First, n.Middle, n.Last, n.Suffix)
}

// IsZero reports whether every part is empty.
func (n Name) IsZero() bool { return n == Name{} }

// Address is a postal address. Line1 holds the delivery line ("12 N MAIN
// ST"); Line2 the unit or second line ("APT 4"). Layouts that split the
// street into parts are joined into Line1 on import, so every address has
// the same shape.
type Address struct {
	Line1   string `json:"line1,omitempty"`
	Line2   string `json:"line2,omitempty"`
	City    string `json:"city,omitempty"`
	State   string `json:"state,omitempty"` // USPS code for US addresses
	ZIP     string `json:"zip,omitempty"`   // 5 digits for US addresses
	ZIP4    string `json:"zip4,omitempty"`
	Country string `json:"country,omitempty"` // empty means United States
}

// IsZero reports whether every part is empty.
func (a Address) IsZero() bool { return a == Address{} }

// String returns the address on one line.
func (a Address) String() string {
	zip := a.ZIP
	if a.ZIP4 != "" {
		zip += "-" + a.ZIP4
	}
	return joinVoterParts(", ", a.Line1, a.Line2, a.City, joinVoterParts(" ", a.State, zip), a.Country)
}

// StatusCode is the state of a registration.
type StatusCode string

const (
	StatusActive    StatusCode = "active"    // may vote a regular ballot
	StatusInactive  StatusCode = "inactive"  // may vote after confirming the address (NVRA)
	StatusPending   StatusCode = "pending"   // pre-registered or awaiting verification
	StatusCancelled StatusCode = "cancelled" // removed from the roll; Reason says why
)

// Valid reports whether c is one of the four codes.
func (c StatusCode) Valid() bool {
	switch c {
	case StatusActive, StatusInactive, StatusPending, StatusCancelled:
		return true
	}
	return false
}

// ChangeReason says why a registration changed status or content. The
// list is append-only; values are stable strings that appear in events.
type ChangeReason string

const (
	ReasonNone          ChangeReason = ""
	ReasonNew           ChangeReason = "new-registration"
	ReasonMoved         ChangeReason = "moved"    // moved out of the jurisdiction (incl. NCOA)
	ReasonDeceased      ChangeReason = "deceased" // death record
	ReasonFelony        ChangeReason = "felony"   // disenfranchising conviction
	ReasonIncompetent   ChangeReason = "adjudged-incompetent"
	ReasonDuplicate     ChangeReason = "duplicate"     // merged into another registration
	ReasonVoterRequest  ChangeReason = "voter-request" // the voter asked
	ReasonReturnedMail  ChangeReason = "returned-mail" // NVRA notice came back undeliverable
	ReasonNoContact     ChangeReason = "no-contact"    // NVRA: no response and no vote for two federal elections
	ReasonUnverified    ChangeReason = "failed-verification"
	ReasonUnderage      ChangeReason = "underage" // pre-registration
	ReasonNameChange    ChangeReason = "name-change"
	ReasonAddressChange ChangeReason = "address-change"
	ReasonPartyChange   ChangeReason = "party-change"
	ReasonCorrection    ChangeReason = "correction" // clerical fix
	ReasonImport        ChangeReason = "import"     // a state voter-file import changed it
	ReasonOther         ChangeReason = "other"      // see VoterStatus.Detail
	// ReasonVotingHistory: after an election, who voted, how and where,
	// written back from the pollbooks (check-ins, mail ballots received,
	// accepted provisional ballots).
	ReasonVotingHistory ChangeReason = "voting-history"
)

var knownChangeReasons = map[ChangeReason]bool{
	ReasonNew: true, ReasonMoved: true, ReasonDeceased: true, ReasonFelony: true,
	ReasonIncompetent: true, ReasonDuplicate: true, ReasonVoterRequest: true,
	ReasonReturnedMail: true, ReasonNoContact: true, ReasonUnverified: true,
	ReasonUnderage: true, ReasonNameChange: true, ReasonAddressChange: true,
	ReasonPartyChange: true, ReasonCorrection: true, ReasonImport: true, ReasonOther: true,
	ReasonVotingHistory: true,
}

// Valid reports whether r is empty or a known reason.
func (r ChangeReason) Valid() bool { return r == ReasonNone || knownChangeReasons[r] }

// VoterStatus is a registration's status with the reason for it.
// A cancelled registration always has a reason.
type VoterStatus struct {
	Code   StatusCode   `json:"code"`
	Reason ChangeReason `json:"reason,omitempty"`
	Detail string       `json:"detail,omitempty"` // the source's own wording, e.g. "CONFIRMATION NOT RETURNED"
	Since  Date         `json:"since,omitzero"`
}

// DistrictType names the kind of an electoral district. Values follow the
// ReportingUnitType enumeration of NIST SP 1500-100/102 where one exists.
type DistrictType string

const (
	DistrictCongressional DistrictType = "congressional"
	DistrictStateSenate   DistrictType = "state-senate"
	DistrictStateHouse    DistrictType = "state-house"
	DistrictCounty        DistrictType = "county"
	DistrictCountyCouncil DistrictType = "county-council"
	DistrictCityCouncil   DistrictType = "city-council"
	DistrictMunicipality  DistrictType = "municipality"
	DistrictSchool        DistrictType = "school"
	DistrictJudicial      DistrictType = "judicial"
	DistrictTownship      DistrictType = "township"
	DistrictVillage       DistrictType = "village"
	DistrictWard          DistrictType = "ward"
	DistrictWater         DistrictType = "water"
	DistrictUtility       DistrictType = "utility"
	DistrictSpecial       DistrictType = "special"
	DistrictOther         DistrictType = "other"
)

// DistrictAssignment is one district assignment. Code is the state's identifier
// ("13"); Name optionally its label ("CONGRESSIONAL 13").
type DistrictAssignment struct {
	Type DistrictType `json:"type"`
	Code string       `json:"code"`
	Name string       `json:"name,omitempty"`
}

// VotingMethod is how a ballot was cast.
type VotingMethod string

const (
	MethodUnknown     VotingMethod = ""
	MethodInPerson    VotingMethod = "in-person" // at the polls on election day
	MethodEarly       VotingMethod = "early"     // in person before election day
	MethodAbsentee    VotingMethod = "absentee"  // by mail
	MethodProvisional VotingMethod = "provisional"
)

// VotingHistoryEntry records that the voter took part in one election.
// Voter files record participation, never choices.
type VotingHistoryEntry struct {
	Election Date         `json:"election,omitzero"` // election day; zero when the source gives only a slot
	Name     string       `json:"name,omitempty"`    // "GENERAL", "2016 PRIMARY", "PA slot 12"
	Method   VotingMethod `json:"method,omitempty"`
	Party    string       `json:"party,omitempty"` // party ballot taken in a closed primary
	Place    string       `json:"place,omitempty"` // where: the polling place, when the pollbooks know it
}

// Voter is one registration on the roll: what NIST SP 1500-102 carries for
// a voter record, plus the assignments and history states publish.
//
// DriversLicense and SSN4 are Secrets: they never appear in logs, %v or
// JSON, and storage MUST encrypt them.
type Voter struct {
	ID         VoterID              `json:"id"`
	LocalID    string               `json:"local_id,omitempty"` // county registration number, when separate
	County     string               `json:"county,omitempty"`   // county code or name of registration
	Name       Name                 `json:"name"`
	BirthDate  Date                 `json:"birth_date,omitzero"`
	Gender     string               `json:"gender,omitempty"`
	Residence  Address              `json:"residence,omitzero"`
	Mailing    Address              `json:"mailing,omitzero"`
	Phone      string               `json:"phone,omitempty"`
	Email      string               `json:"email,omitempty"`
	Party      string               `json:"party,omitempty"` // the state's party code ("DEM", "REP", "UNA")
	Status     VoterStatus          `json:"status"`
	Registered Date                 `json:"registered,omitzero"`
	Precinct   string               `json:"precinct,omitempty"`
	Districts  []DistrictAssignment `json:"districts,omitempty"`
	History    []VotingHistoryEntry `json:"history,omitempty"`

	DriversLicense Secret `json:"drivers_license,omitempty"` // redacted by MarshalJSON
	SSN4           Secret `json:"ssn4,omitempty"`            // last four digits; redacted by MarshalJSON
	// Confidential marks an address-confidentiality or public-records
	// exemption (FL "Requested public records exemption", NC
	// confidential_ind): views for the public MUST omit the address.
	Confidential bool `json:"confidential,omitempty"`
}

// Bounds on field sizes. Every state layout seen stays well inside them;
// they exist so hostile input cannot make one record arbitrarily large.
const (
	MaxVoterIDLen     = 64
	MaxFieldLen       = 256
	MaxDistricts      = 128
	MaxHistoryLen     = 512
	voterMinBirthYear = 1880
	voterMinRegYear   = 1900
	voterMaxYear      = 2200
)

// Validate checks the record against vigil's rules. It returns an Invalid
// *Error naming the first offending field; the message never repeats the
// value of a Secret.
func (v *Voter) Validate() error {
	const op = "voter.validate"
	if v.ID == "" {
		return FieldError(op, "id", "a voter ID is required")
	}
	if len(v.ID) > MaxVoterIDLen || !printableText(string(v.ID)) || strings.TrimSpace(string(v.ID)) != string(v.ID) {
		return FieldError(op, "id", "the voter ID must be at most %d printable characters without surrounding spaces", MaxVoterIDLen)
	}
	if strings.TrimSpace(v.Name.Last) == "" && strings.TrimSpace(v.Name.First) == "" {
		return FieldError(op, "name.last", "a last or first name is required")
	}
	for _, f := range []struct{ name, value string }{
		{"local_id", v.LocalID}, {"county", v.County},
		{"name.prefix", v.Name.Prefix}, {"name.first", v.Name.First}, {"name.middle", v.Name.Middle},
		{"name.last", v.Name.Last}, {"name.suffix", v.Name.Suffix}, {"gender", v.Gender},
		{"residence.line1", v.Residence.Line1}, {"residence.line2", v.Residence.Line2},
		{"residence.city", v.Residence.City}, {"residence.state", v.Residence.State},
		{"residence.zip", v.Residence.ZIP}, {"residence.zip4", v.Residence.ZIP4}, {"residence.country", v.Residence.Country},
		{"mailing.line1", v.Mailing.Line1}, {"mailing.line2", v.Mailing.Line2},
		{"mailing.city", v.Mailing.City}, {"mailing.state", v.Mailing.State},
		{"mailing.zip", v.Mailing.ZIP}, {"mailing.zip4", v.Mailing.ZIP4}, {"mailing.country", v.Mailing.Country},
		{"phone", v.Phone}, {"email", v.Email}, {"party", v.Party}, {"precinct", v.Precinct},
		{"status.detail", v.Status.Detail},
	} {
		if len(f.value) > MaxFieldLen {
			return FieldError(op, f.name, "must be at most %d bytes", MaxFieldLen)
		}
		if !printableText(f.value) {
			return FieldError(op, f.name, "must be valid text without control characters")
		}
	}
	for _, s := range []struct {
		name  string
		value Secret
	}{{"drivers_license", v.DriversLicense}, {"ssn4", v.SSN4}} {
		if len(s.value) > MaxFieldLen || !printableText(string(s.value)) {
			return FieldError(op, s.name, "must be at most %d printable characters", MaxFieldLen)
		}
	}
	if v.SSN4 != "" && !isDigits(string(v.SSN4), 4) {
		return FieldError(op, "ssn4", "must be exactly four digits")
	}
	if v.Residence.ZIP != "" && v.Residence.Country == "" && !isDigits(v.Residence.ZIP, 5) {
		return FieldError(op, "residence.zip", "must be five digits")
	}
	if v.Residence.ZIP4 != "" && !isDigits(v.Residence.ZIP4, 4) {
		return FieldError(op, "residence.zip4", "must be four digits")
	}
	if !v.BirthDate.Valid() {
		return FieldError(op, "birth_date", "is not a calendar date")
	}
	if !v.BirthDate.IsZero() && (v.BirthDate.Year < voterMinBirthYear || v.BirthDate.Year > voterMaxYear) {
		return FieldError(op, "birth_date", "year %d is not plausible", v.BirthDate.Year)
	}
	if !v.Registered.Valid() {
		return FieldError(op, "registered", "is not a calendar date")
	}
	if !v.Registered.IsZero() && (v.Registered.Year < voterMinRegYear || v.Registered.Year > voterMaxYear) {
		return FieldError(op, "registered", "year %d is not plausible", v.Registered.Year)
	}
	if !v.Status.Code.Valid() {
		return FieldError(op, "status.code", "must be active, inactive, pending or cancelled")
	}
	if !v.Status.Reason.Valid() {
		return FieldError(op, "status.reason", "is not a known reason")
	}
	if v.Status.Code == StatusCancelled && v.Status.Reason == ReasonNone {
		return FieldError(op, "status.reason", "a cancelled registration needs a reason")
	}
	if !v.Status.Since.Valid() {
		return FieldError(op, "status.since", "is not a calendar date")
	}
	if len(v.Districts) > MaxDistricts {
		return FieldError(op, "districts", "at most %d districts", MaxDistricts)
	}
	for _, d := range v.Districts {
		if d.Type == "" || d.Code == "" || len(d.Code) > MaxFieldLen || len(d.Name) > MaxFieldLen ||
			!printableText(d.Code) || !printableText(d.Name) || !printableText(string(d.Type)) || len(d.Type) > 64 {
			return FieldError(op, "districts", "each district needs a type and a short printable code")
		}
	}
	if len(v.History) > MaxHistoryLen {
		return FieldError(op, "history", "at most %d entries", MaxHistoryLen)
	}
	for _, h := range v.History {
		if !h.Election.Valid() || (h.Election.IsZero() && h.Name == "") {
			return FieldError(op, "history", "each entry needs an election date or name")
		}
		if len(h.Name) > MaxFieldLen || len(h.Party) > MaxFieldLen || len(h.Place) > MaxFieldLen ||
			!printableText(h.Name) || !printableText(h.Party) || !printableText(h.Place) {
			return FieldError(op, "history", "election names and parties must be short printable text")
		}
		switch h.Method {
		case MethodUnknown, MethodInPerson, MethodEarly, MethodAbsentee, MethodProvisional:
		default:
			return FieldError(op, "history", "unknown voting method")
		}
	}
	return nil
}

func printableText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) {
			return false
		}
		i += size - 1
	}
	return true
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func joinVoterParts(sep string, parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(p)
	}
	return b.String()
}

// Event types of the voter registration system. The foundation's
// voter.registered (a []RollVoter batch, used by the demo county) stays
// readable forever; the registration system writes the types below.
const (
	// EventVoterAdded adds registrations: a VoterRecords with one record
	// (a clerk's registration) or many (an import batch).
	EventVoterAdded EventType = "voter.added"
	// EventVoterChanged replaces registrations with new versions: a
	// VoterRecords whose Reason says why (address, name, party, status …).
	EventVoterChanged EventType = "voter.changed"
	// EventVoterMerged cancels one registration as a duplicate of another.
	EventVoterMerged EventType = "voter.merged"
	// EventVoterImported closes an import: a VoterImport summary.
	EventVoterImported EventType = "voter.imported"
	// EventVoterExported records that someone took a copy of the roll.
	EventVoterExported EventType = "voter.exported"
)

// VoterRecord is a voter as events carry it and the projection stores it:
// the Voter without its secrets, which travel sealed with the node's
// secrets key (keyring.Seal) in the *Sealed fields.
//
// Voter.DriversLicense and Voter.SSN4 MUST be empty in a VoterRecord (they
// would marshal as "[redacted]" anyway); code that needs the values opens
// the sealed fields.
type VoterRecord struct {
	Voter
	DriversLicenseSealed string `json:"drivers_license_sealed,omitempty"`
	SSN4Sealed           string `json:"ssn4_sealed,omitempty"`
	// Fingerprint is the keyed digest of the normalized record
	// (voter.Fingerprinter): an import skips rows whose fingerprint is
	// unchanged.
	Fingerprint string `json:"fingerprint,omitempty"`
}

// MaxVoterRecordsPerEvent bounds one voter.added or voter.changed event.
const MaxVoterRecordsPerEvent = 5000

// VoterRecords is the payload of voter.added and voter.changed: why, and the
// new version of every record concerned.
type VoterRecords struct {
	Reason  ChangeReason  `json:"reason"`
	Detail  string        `json:"detail,omitempty"` // the clerk's note or the source's wording
	Import  string        `json:"import,omitempty"` // id of the import that produced the event
	Records []VoterRecord `json:"records"`
}

// Validate checks the payload: a known non-empty reason, 1 to
// MaxVoterRecordsPerEvent valid records without clear secrets.
func (p *VoterRecords) Validate() error {
	const op = "voter.records"
	if p.Reason == ReasonNone || !p.Reason.Valid() {
		return FieldError(op, "reason", "say why: one of the change reasons (new-registration, address-change, moved, …)")
	}
	if len(p.Detail) > 1000 || !printableText(p.Detail) {
		return FieldError(op, "detail", "must be at most 1000 printable characters")
	}
	if len(p.Records) == 0 || len(p.Records) > MaxVoterRecordsPerEvent {
		return FieldError(op, "records", "an event carries 1 to %d records", MaxVoterRecordsPerEvent)
	}
	for i := range p.Records {
		r := &p.Records[i]
		if !r.DriversLicense.IsZero() || !r.SSN4.IsZero() {
			return FieldError(op, "records", "secrets must be sealed, never carried in clear")
		}
		if err := r.Voter.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// VoterMerge is the payload of voter.merged: Drop is cancelled as a
// duplicate registration of Keep. Nothing is merged automatically; a
// registrar decides and says why.
type VoterMerge struct {
	Keep   VoterID `json:"keep"`
	Drop   VoterID `json:"drop"`
	Detail string  `json:"detail"`
}

// Validate checks the merge.
func (m VoterMerge) Validate() error {
	const op = "voter.merge"
	switch {
	case m.Keep == "" || m.Drop == "":
		return FieldError(op, "keep", "name both registrations")
	case m.Keep == m.Drop:
		return FieldError(op, "drop", "a registration cannot be merged into itself")
	case strings.TrimSpace(m.Detail) == "":
		return FieldError(op, "detail", "say why the two registrations are one voter")
	case len(m.Detail) > 1000 || !printableText(m.Detail):
		return FieldError(op, "detail", "must be at most 1000 printable characters")
	}
	return nil
}

// VoterImport is the payload of voter.imported: what one import of a voter
// file did. The events it produced carry its ID in VoterRecords.Import.
type VoterImport struct {
	ID        string `json:"id"`
	File      string `json:"file"`
	Layout    string `json:"layout"`
	SHA256    string `json:"sha256"`
	Rows      int    `json:"rows"`
	Rejected  int    `json:"rejected"`
	Added     int    `json:"added"`
	Changed   int    `json:"changed"`
	Unchanged int    `json:"unchanged"`
}

// VoterExport is the payload of voter.exported: who took which part of the
// roll in which format. Exports are logged before the data is written.
type VoterExport struct {
	Format string `json:"format"`
	Target Scope  `json:"target"`
	Detail string `json:"detail,omitempty"`
}
