package voter

import (
	"slices"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Field names the part of a vigil.Voter that a column feeds. The names are
// the ones a mapping file uses (see ParseMapping).
//
// Besides the constants below, three families are open-ended:
//
//	district.TYPE         a district assignment; TYPE is a vigil.DistrictType
//	                      ("congressional", "state-house", ...) or any other
//	                      word, which becomes DistrictOther named after the column
//	history.KEY.date      one election-history slot: the election date (or year);
//	history.KEY.method    how the voter voted in that slot (a method code);
//	history.KEY.party     the party ballot taken in that slot
//
// KEY is any short token that groups the columns of one slot ("1", "gen1").
type Field string

const (
	FieldIgnore Field = "ignore"

	FieldID      Field = "id"       // statewide voter ID; required
	FieldLocalID Field = "local_id" // county registration number
	FieldCounty  Field = "county"

	FieldPrefix Field = "name.prefix"
	FieldFirst  Field = "name.first"
	FieldMiddle Field = "name.middle"
	FieldLast   Field = "name.last"
	FieldSuffix Field = "name.suffix"

	FieldBirthDate Field = "birth_date"
	FieldBirthYear Field = "birth_year"
	FieldGender    Field = "gender"

	// Residence address. Either res.line1 or the parts (number, street, ...)
	// which are joined into Line1; res.unit_type and res.unit form Line2.
	FieldResLine1         Field = "res.line1"
	FieldResLine2         Field = "res.line2"
	FieldResNumber        Field = "res.number"
	FieldResNumberSuffix  Field = "res.number_suffix"
	FieldResPreDirection  Field = "res.pre_direction"
	FieldResStreet        Field = "res.street"
	FieldResStreetType    Field = "res.street_type"
	FieldResPostDirection Field = "res.post_direction"
	FieldResUnitType      Field = "res.unit_type"
	FieldResUnit          Field = "res.unit"
	FieldResCity          Field = "res.city"
	FieldResState         Field = "res.state"
	FieldResZIP           Field = "res.zip" // 5 or 9 digits, "12345-6789" is split
	FieldResZIP4          Field = "res.zip4"
	FieldResCountry       Field = "res.country"

	// Mailing address: free lines 1-4 (2-4 are joined into Line2) or parts.
	FieldMailLine1        Field = "mail.line1"
	FieldMailLine2        Field = "mail.line2"
	FieldMailLine3        Field = "mail.line3"
	FieldMailLine4        Field = "mail.line4"
	FieldMailNumber       Field = "mail.number"
	FieldMailStreet       Field = "mail.street"
	FieldMailUnit         Field = "mail.unit"
	FieldMailCity         Field = "mail.city"
	FieldMailState        Field = "mail.state"
	FieldMailZIP          Field = "mail.zip"
	FieldMailZIP4         Field = "mail.zip4"
	FieldMailCountry      Field = "mail.country"
	FieldMailCityStateZIP Field = "mail.city_state_zip" // "SALEM, OH 44460" in one column (UT)

	FieldPhoneArea    Field = "phone.area" // prefixed to phone (FL splits them)
	FieldPhone        Field = "phone"
	FieldEmail        Field = "email"
	FieldParty        Field = "party"
	FieldStatus       Field = "status"        // a code looked up in Layout.Status
	FieldStatusReason Field = "status.reason" // a code or text; mapped to a vigil.ChangeReason
	FieldStatusDate   Field = "status.date"
	FieldRegistered   Field = "registered"
	FieldPrecinct     Field = "precinct"
	FieldPrecinctPart Field = "precinct.part" // appended to precinct with "."

	FieldDriversLicense Field = "drivers_license" // the number, never a Y/N flag
	FieldSSN4           Field = "ssn4"
	FieldConfidential   Field = "confidential" // Y/1/TRUE marks a protected record

	// FieldHistoryElection marks a column that is one election: its header
	// names the election ("GENERAL-11/03/2015", "11/6/1990",
	// "2008 Gen Election Participation"); a value other than blank, N, F, 0
	// means the voter took part. Layouts with Layout.ElectionColumns get
	// these columns from the header automatically.
	FieldHistoryElection Field = "history.election"
	// FieldHistoryList is one column holding the voter's history as a list
	// separated by semicolons (NY "VoterHistory").
	FieldHistoryList Field = "history.list"
)

// DateFormat is the order of a layout's dates. Parsing accepts one- or
// two-digit months and days where a separator is present, and ignores a
// trailing time of day ("12:00:00 AM", "T00:00:00").
type DateFormat string

const (
	DateMDY      DateFormat = "MM/DD/YYYY" // also MM-DD-YYYY
	DateISO      DateFormat = "YYYY-MM-DD"
	DateYMD      DateFormat = "YYYYMMDD"
	DateMDYPlain DateFormat = "MMDDYYYY"
)

// StatusRule is what one status code of a state means.
type StatusRule struct {
	Code   vigil.StatusCode
	Reason vigil.ChangeReason
}

// HistoryValue says what the value of an election column holds.
type HistoryValue string

const (
	HistoryFlag   HistoryValue = "flag"   // any non-blank, non-negative value means voted
	HistoryMethod HistoryValue = "method" // a voting-method code
	HistoryParty  HistoryValue = "party"  // the party ballot taken (X = non-partisan)
)

// Column is one column of a layout.
type Column struct {
	Name    string   // as the state's documentation spells it
	Aliases []string // other spellings seen in other years' files
	Field   Field
}

// Layout describes a voter-file format: its delimiter, whether the
// state ships a header row, its columns in documented order, its date
// order and code tables. Readers match header names to columns after
// folding case and dropping everything but letters and digits, so
// "RESIDENTIAL_ZIP" and "Residential Zip" are the same column.
type Layout struct {
	Name        string // registry key, lower case: "nc", "fl", ...
	Description string
	Delimiter   byte // ',', '\t' or '|'; the reader also detects it
	Header      bool // the state's files carry a header row (documentation: readers detect it)
	DateFormat  DateFormat
	Columns     []Column // in documented order; used by position when there is no header

	// Status maps a status code (upper case) to its meaning. Codes not
	// listed fall back to common words (ACTIVE, INACTIVE, A, I, ...); an
	// unknown code rejects the row.
	Status map[string]StatusRule
	// Methods maps a voting-method code (upper case) to a method,
	// overriding the common codes.
	Methods map[string]vigil.VotingMethod
	// ElectionColumns makes every header column that names an election a
	// history column (OH, UT, VT).
	ElectionColumns bool
	HistoryValue    HistoryValue
	// HistoryNames labels history slots by KEY ("gen1" → "GENERAL").
	HistoryNames map[string]string
	// State is the USPS code filled into residence addresses that lack one.
	State string
}

// normName folds a column name for matching: lower case, letters and
// digits only.
func normName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

// Layouts returns the built-in layouts, sorted by name. The result is a
// fresh copy; changing it changes nothing else.
func Layouts() []Layout {
	ls := builtinLayouts()
	slices.SortFunc(ls, func(a, b Layout) int { return strings.Compare(a.Name, b.Name) })
	return ls
}

// LayoutByName returns the built-in layout called name ("nc", "fl", "ny",
// "pa", "oh", ...). It returns an Invalid error listing the known names
// when there is none.
func LayoutByName(name string) (Layout, error) {
	for _, l := range builtinLayouts() {
		if l.Name == strings.ToLower(name) {
			return l, nil
		}
	}
	var names []string
	for _, l := range Layouts() {
		names = append(names, l.Name)
	}
	names = append(names, FormatNISTJSON, FormatNISTXML, FormatCSV)
	return Layout{}, vigil.FieldError("voters.import", "layout", "unknown layout %q; use one of %s", name, strings.Join(names, ", "))
}

// Validate checks that the layout can be read: it names an ID column and
// a name column, uses known fields, and has a supported delimiter.
func (l *Layout) Validate() error {
	const op = "voters.layout"
	switch l.Delimiter {
	case ',', '\t', '|', ';':
	default:
		return vigil.FieldError(op, "delimiter", "must be comma, tab, pipe or semicolon")
	}
	switch l.DateFormat {
	case DateMDY, DateISO, DateYMD, DateMDYPlain:
	default:
		return vigil.FieldError(op, "date", "must be one of %s, %s, %s, %s", DateMDY, DateISO, DateYMD, DateMDYPlain)
	}
	var hasID, hasName bool
	for _, c := range l.Columns {
		if _, err := compileField(c.Field); err != nil {
			return vigil.FieldError(op, "columns", "column %q: %v", c.Name, err)
		}
		hasID = hasID || c.Field == FieldID
		hasName = hasName || c.Field == FieldLast || c.Field == FieldFirst
	}
	if !hasID {
		return vigil.FieldError(op, "columns", "no column is mapped to %q", FieldID)
	}
	if !hasName {
		return vigil.FieldError(op, "columns", "no column is mapped to %q or %q", FieldLast, FieldFirst)
	}
	return nil
}

// target is a compiled Field: what to do with a column's value.
type target struct {
	kind     targetKind
	district vigil.DistrictType
	key      string // history slot key
}

type targetKind uint8

const (
	tIgnore targetKind = iota
	tID
	tLocalID
	tCounty
	tPrefix
	tFirst
	tMiddle
	tLast
	tSuffix
	tBirthDate
	tBirthYear
	tGender
	tResLine1
	tResLine2
	tResNumber
	tResNumberSuffix
	tResPreDir
	tResStreet
	tResType
	tResPostDir
	tResUnitType
	tResUnit
	tResCity
	tResState
	tResZIP
	tResZIP4
	tResCountry
	tMailLine1
	tMailLine2
	tMailLine3
	tMailLine4
	tMailNumber
	tMailStreet
	tMailUnit
	tMailCity
	tMailState
	tMailZIP
	tMailZIP4
	tMailCountry
	tMailCityStateZIP
	tPhoneArea
	tPhone
	tEmail
	tParty
	tStatus
	tStatusReason
	tStatusDate
	tRegistered
	tPrecinct
	tPrecinctPart
	tDriversLicense
	tSSN4
	tConfidential
	tDistrict
	tHistoryElection
	tHistoryList
	tHistoryDate
	tHistoryMethod
	tHistoryParty
)

var simpleFields = map[Field]targetKind{
	FieldIgnore: tIgnore, FieldID: tID, FieldLocalID: tLocalID, FieldCounty: tCounty,
	FieldPrefix: tPrefix, FieldFirst: tFirst, FieldMiddle: tMiddle, FieldLast: tLast, FieldSuffix: tSuffix,
	FieldBirthDate: tBirthDate, FieldBirthYear: tBirthYear, FieldGender: tGender,
	FieldResLine1: tResLine1, FieldResLine2: tResLine2, FieldResNumber: tResNumber,
	FieldResNumberSuffix: tResNumberSuffix, FieldResPreDirection: tResPreDir, FieldResStreet: tResStreet,
	FieldResStreetType: tResType, FieldResPostDirection: tResPostDir, FieldResUnitType: tResUnitType,
	FieldResUnit: tResUnit, FieldResCity: tResCity, FieldResState: tResState, FieldResZIP: tResZIP,
	FieldResZIP4: tResZIP4, FieldResCountry: tResCountry,
	FieldMailLine1: tMailLine1, FieldMailLine2: tMailLine2, FieldMailLine3: tMailLine3, FieldMailLine4: tMailLine4,
	FieldMailNumber: tMailNumber, FieldMailStreet: tMailStreet, FieldMailUnit: tMailUnit,
	FieldMailCity: tMailCity, FieldMailState: tMailState, FieldMailZIP: tMailZIP, FieldMailZIP4: tMailZIP4,
	FieldMailCountry: tMailCountry, FieldMailCityStateZIP: tMailCityStateZIP,
	FieldPhoneArea: tPhoneArea, FieldPhone: tPhone, FieldEmail: tEmail, FieldParty: tParty,
	FieldStatus: tStatus, FieldStatusReason: tStatusReason, FieldStatusDate: tStatusDate,
	FieldRegistered: tRegistered, FieldPrecinct: tPrecinct, FieldPrecinctPart: tPrecinctPart,
	FieldDriversLicense: tDriversLicense, FieldSSN4: tSSN4, FieldConfidential: tConfidential,
	FieldHistoryElection: tHistoryElection, FieldHistoryList: tHistoryList,
}

var knownDistricts = map[string]vigil.DistrictType{
	"congressional": vigil.DistrictCongressional, "state-senate": vigil.DistrictStateSenate,
	"state-house": vigil.DistrictStateHouse, "county": vigil.DistrictCounty,
	"county-council": vigil.DistrictCountyCouncil, "city-council": vigil.DistrictCityCouncil,
	"municipality": vigil.DistrictMunicipality, "school": vigil.DistrictSchool,
	"judicial": vigil.DistrictJudicial, "township": vigil.DistrictTownship,
	"village": vigil.DistrictVillage, "ward": vigil.DistrictWard, "water": vigil.DistrictWater,
	"utility": vigil.DistrictUtility, "special": vigil.DistrictSpecial, "other": vigil.DistrictOther,
}

func compileField(f Field) (target, error) {
	if k, ok := simpleFields[f]; ok {
		return target{kind: k}, nil
	}
	s := string(f)
	if typ, ok := strings.CutPrefix(s, "district."); ok && typ != "" && len(typ) <= 64 {
		if d, ok := knownDistricts[typ]; ok {
			return target{kind: tDistrict, district: d}, nil
		}
		return target{kind: tDistrict, district: vigil.DistrictOther, key: typ}, nil
	}
	if rest, ok := strings.CutPrefix(s, "history."); ok {
		key, part, ok := strings.Cut(rest, ".")
		if ok && key != "" && len(key) <= 32 {
			switch part {
			case "date":
				return target{kind: tHistoryDate, key: key}, nil
			case "method":
				return target{kind: tHistoryMethod, key: key}, nil
			case "party":
				return target{kind: tHistoryParty, key: key}, nil
			}
		}
	}
	return target{}, errUnknownField(f)
}

type errUnknownField Field

func (e errUnknownField) Error() string { return "unknown field " + strconv.Quote(string(e)) }
