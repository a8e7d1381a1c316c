package voter

import (
	"strings"

	"github.com/vigil-elections/vigil"
)

// NIST SP 1500-102 (Voter Records Interchange, VRI) is read and written as
// VoterRecordResults: a list of VoterRecord, each a Voter with its status,
// localities (county, precinct), districts and participation history.
//
// Mapping (both JSON and XML):
//
//	vigil.Voter            VRI
//	ID                     Voter.VoterId Type=state-voter-registration-id
//	LocalID                Voter.VoterId Type=local-voter-registration-id
//	DriversLicense, SSN4   Voter.VoterId drivers-license, ssn4 (written only with WriterOptions.IncludeSecrets)
//	Name                   Voter.Name
//	BirthDate              Voter.DateOfBirth (a year-only date is not written: xsd:date needs a day)
//	Residence, Mailing     NumberedThoroughfareAddress_type, or GeneralAddressClass_type when Line1 has no house number
//	Phone, Email           Voter.ContactMethod
//	Party                  Voter.Party (Abbreviation and Name)
//	Status                 VoterRecord.VoterStatus active|inactive|other, with OtherStatus "pending" or
//	                       "cancelled" (+ "/reason" when there is one; an active or inactive
//	                       status's reason is not carried)
//	County, Precinct       VoterRecord.Locality Type=county, Type=precinct
//	Districts              VoterRecord.District (ReportingUnitType, or other + OtherType)
//	History                VoterRecord.VoterParticipation.Election; method, party and a year-only
//	                       date ride in ExternalIdentifier entries with OtherType vigil-method,
//	                       vigil-party, vigil-date-precision
//
// VRI has no place for the registration date, the status detail or the
// confidentiality flag; they are not carried. On reading, a full SSN is
// reduced to its last four digits and never kept.

// node is a format-neutral tree of a VRI document: an XML element or a JSON
// object member. Attributes and members are children; a JSON member
// {"Value": "x"} and an XML element's text both become text.
type node struct {
	name     string
	text     string
	children []*node
}

func (n *node) child(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (n *node) all(name string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

// str returns the trimmed text of the named child.
func (n *node) str(name string) string {
	c := n.child(name)
	if c == nil {
		return ""
	}
	return strings.TrimSpace(c.text)
}

// find returns the first descendant called name, depth first.
func (n *node) find(name string) *node {
	if n == nil {
		return nil
	}
	for _, c := range n.children {
		if c.name == name {
			return c
		}
		if f := c.find(name); f != nil {
			return f
		}
	}
	return nil
}

func (n *node) findAll(name string, out []*node) []*node {
	if n == nil {
		return out
	}
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
		out = c.findAll(name, out)
	}
	return out
}

func (n *node) findStr(name string) string {
	c := n.find(name)
	if c == nil {
		return ""
	}
	return strings.TrimSpace(c.text)
}

// voterFromVRI converts a VoterRecord node (or a bare Voter / Subject node)
// into a vigil.Voter, noting problems on rec.
func voterFromVRI(n *node, rec *Record, file string) {
	v := &rec.Voter
	vn := n.child("Voter")
	if vn == nil {
		vn = n.child("Subject")
	}
	if vn == nil {
		vn = n
	}
	if nm := vn.child("Name"); nm != nil {
		v.Name.First = nm.str("FirstName")
		v.Name.Last = nm.str("LastName")
		v.Name.Prefix = nm.str("Prefix")
		v.Name.Suffix = nm.str("Suffix")
		var mids []string
		for _, m := range nm.all("MiddleName") {
			if t := strings.TrimSpace(m.text); t != "" {
				mids = append(mids, t)
			}
		}
		v.Name.Middle = strings.Join(mids, " ")
		if v.Name.First == "" && v.Name.Last == "" {
			v.Name.Last = nm.str("FullName")
		}
	}
	if s := vn.str("DateOfBirth"); s != "" {
		if d, ok := parseDate(s, DateISO); ok {
			v.BirthDate = d
		} else {
			rec.reject(file, "DateOfBirth", "not a date in the form YYYY-MM-DD")
		}
	}
	v.Gender = normGender(vn.str("Gender"))
	v.Residence = addressFromVRI(vn.child("ResidenceAddress"))
	v.Mailing = addressFromVRI(vn.child("MailingAddress"))
	if p := vn.child("Party"); p != nil {
		v.Party = strings.ToUpper(p.str("Abbreviation"))
		if v.Party == "" {
			v.Party = strings.ToUpper(p.str("Name"))
		}
	}
	for _, c := range vn.all("ContactMethod") {
		switch c.str("Type") {
		case "phone":
			v.Phone = c.str("Value")
		case "email":
			v.Email = c.str("Value")
		}
	}
	for _, id := range vn.all("VoterId") {
		if id.str("AttestNoSuchId") == "true" {
			continue
		}
		val := id.str("StringValue")
		if val == "" {
			continue
		}
		switch id.str("Type") {
		case "state-voter-registration-id":
			v.ID = vigil.VoterID(val)
		case "local-voter-registration-id":
			v.LocalID = val
		case "drivers-license", "state-id":
			if v.DriversLicense == "" || id.str("Type") == "drivers-license" {
				v.DriversLicense = vigil.Secret(val)
			}
		case "ssn4":
			if len(val) == 4 && digits(val) {
				v.SSN4 = vigil.Secret(val)
			} else {
				rec.reject(file, "VoterId", "an ssn4 identifier must be four digits")
			}
		case "ssn":
			// vigil keeps only the last four digits of an SSN.
			d := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, val)
			if len(d) == 9 {
				v.SSN4 = vigil.Secret(d[5:])
			} else {
				rec.reject(file, "VoterId", "an ssn identifier must have nine digits")
			}
		}
	}
	switch n.str("VoterStatus") {
	case "active":
		v.Status.Code = vigil.StatusActive
	case "inactive":
		v.Status.Code = vigil.StatusInactive
	case "", "other":
		other := n.str("OtherStatus")
		if other == "" {
			other = n.str("OtherVoterStatus")
		}
		code, reason, _ := strings.Cut(other, "/")
		switch {
		case other == "" && n.str("VoterStatus") == "" && v.ID == "":
			// A registration request: pending until a registrar verifies it.
			v.Status.Code = vigil.StatusPending
		case other == "" && n.str("VoterStatus") == "":
			v.Status.Code = vigil.StatusActive
		case vigil.StatusCode(code).Valid():
			v.Status.Code = vigil.StatusCode(code)
			v.Status.Reason = vigil.ChangeReason(reason)
		default:
			rule, ok := lookupStatus(nil, code)
			if !ok {
				rec.reject(file, "VoterStatus", "unknown status "+quoteClip(other))
			}
			v.Status.Code = rule.Code
			v.Status.Reason = reasonFromText(reason)
		}
	default:
		rec.reject(file, "VoterStatus", "must be active, inactive or other")
	}
	if v.Status.Code == vigil.StatusCancelled && v.Status.Reason == vigil.ReasonNone {
		v.Status.Reason = vigil.ReasonOther
	}
	for _, l := range n.all("Locality") {
		name := l.str("Name")
		if name == "" {
			name = l.findStr("Value")
		}
		switch l.str("Type") {
		case "precinct":
			v.Precinct = name
		case "county":
			v.County = name
		case "split-precinct":
			v.Districts = append(v.Districts, vigil.DistrictAssignment{Type: "split-precinct", Code: name})
		}
	}
	for _, d := range n.all("District") {
		da := vigil.DistrictAssignment{Type: vigil.DistrictType(d.str("Type")), Name: d.str("Name")}
		if da.Type == vigil.DistrictOther && d.str("OtherType") != "" {
			da.Name = d.str("OtherType")
		}
		if ext := d.child("ExternalIdentifier"); ext != nil {
			da.Code = ext.str("Value")
		}
		if da.Code == "" {
			da.Code, da.Name = da.Name, ""
			if da.Type == vigil.DistrictOther {
				da.Name = d.str("OtherType")
			}
		}
		if da.Type == "" || da.Code == "" {
			rec.reject(file, "District", "a district needs a Type and a Name or identifier")
			continue
		}
		v.Districts = append(v.Districts, da)
	}
	for _, p := range n.all("VoterParticipation") {
		el := p.child("Election")
		if el == nil {
			continue
		}
		e := vigil.VotingHistoryEntry{Name: el.str("Name")}
		if s := el.str("StartDate"); s != "" {
			d, ok := parseDate(s, DateISO)
			if !ok {
				rec.reject(file, "VoterParticipation", "election StartDate is not YYYY-MM-DD")
				continue
			}
			e.Election = d
		}
		for _, x := range el.all("ExternalIdentifier") {
			switch x.str("OtherType") {
			case "vigil-method":
				e.Method = vigil.VotingMethod(x.str("Value"))
			case "vigil-party":
				e.Party = x.str("Value")
			case "vigil-date-precision":
				if x.str("Value") == "year" {
					e.Election = vigil.Date{Year: e.Election.Year}
				}
			}
		}
		v.History = append(v.History, e)
	}
	canonDistricts(v.Districts)
	canonHistory(v.History)
}

func quoteClip(s string) string { return "\"" + clip(s) + "\"" }

// addressFromVRI reads any of the FGDC address forms by element name, so
// that both the numbered-thoroughfare and the general-address-class
// shapes of the NIST examples come out as the same vigil.Address.
func addressFromVRI(n *node) vigil.Address {
	var a vigil.Address
	if n == nil {
		return a
	}
	num := joinSp(n.findStr("AddressNumberPrefix"), n.findStr("AddressNumber"), n.findStr("AddressNumberSuffix"))
	street := joinSp(
		n.findStr("StreetNamePreModifier"), n.findStr("StreetNamePreDirectional"), n.findStr("StreetNamePreType"),
		n.findStr("StreetName"),
		n.findStr("StreetNamePostType"), n.findStr("StreetNamePostDirectional"), n.findStr("StreetNamePostModifier"))
	a.Line1 = joinSp(num, street)
	if a.Line1 == "" {
		a.Line1 = n.findStr("USPSGeneralDeliveryPoint")
	}
	if a.Line1 == "" {
		a.Line1 = n.findStr("DeliveryAddress")
	}
	general := n.findStr("GeneralAddress")
	if a.Line1 == "" && general != "" {
		a.Line1 = general
	}
	var subs []string
	for _, s := range n.findAll("SubaddressElement", nil) {
		if t := joinSp(s.str("SubaddressType"), s.str("SubaddressIdentifier")); t != "" {
			subs = append(subs, t)
		}
	}
	a.Line2 = strings.Join(subs, " ")
	for _, p := range n.findAll("PlaceName", nil) {
		typ := p.str("PlaceNameType")
		val := strings.TrimSpace(p.text)
		if val == "" {
			val = p.str("Value")
		}
		switch typ {
		case "MunicipalJurisdiction", "USPSCommunity", "":
			if a.City == "" {
				a.City = val
			}
		}
	}
	if psz := n.findStr("PlaceStateZip"); psz != "" {
		city, state, zip := splitCityStateZIP(psz)
		if a.City == "" {
			a.City = city
		}
		if a.State == "" {
			a.State = state
		}
		if a.ZIP == "" {
			setZIP(&a, zip)
		}
	}
	if st := n.findStr("StateName"); st != "" {
		a.State = stateCode(st)
	}
	if z := n.findStr("ZipCode"); z != "" {
		if !setZIP(&a, z) {
			a.ZIP = z
		}
	}
	if z := n.findStr("ZipPlus4"); z != "" {
		a.ZIP4 = z
	}
	a.Country = normCountry(n.findStr("CountryName"))
	return a
}

var stateCodes = map[string]string{
	"ALABAMA": "AL", "ALASKA": "AK", "ARIZONA": "AZ", "ARKANSAS": "AR", "CALIFORNIA": "CA", "COLORADO": "CO",
	"CONNECTICUT": "CT", "DELAWARE": "DE", "DISTRICT OF COLUMBIA": "DC", "FLORIDA": "FL", "GEORGIA": "GA",
	"HAWAII": "HI", "IDAHO": "ID", "ILLINOIS": "IL", "INDIANA": "IN", "IOWA": "IA", "KANSAS": "KS",
	"KENTUCKY": "KY", "LOUISIANA": "LA", "MAINE": "ME", "MARYLAND": "MD", "MASSACHUSETTS": "MA",
	"MICHIGAN": "MI", "MINNESOTA": "MN", "MISSISSIPPI": "MS", "MISSOURI": "MO", "MONTANA": "MT",
	"NEBRASKA": "NE", "NEVADA": "NV", "NEW HAMPSHIRE": "NH", "NEW JERSEY": "NJ", "NEW MEXICO": "NM",
	"NEW YORK": "NY", "NORTH CAROLINA": "NC", "NORTH DAKOTA": "ND", "OHIO": "OH", "OKLAHOMA": "OK",
	"OREGON": "OR", "PENNSYLVANIA": "PA", "RHODE ISLAND": "RI", "SOUTH CAROLINA": "SC", "SOUTH DAKOTA": "SD",
	"TENNESSEE": "TN", "TEXAS": "TX", "UTAH": "UT", "VERMONT": "VT", "VIRGINIA": "VA", "WASHINGTON": "WA",
	"WEST VIRGINIA": "WV", "WISCONSIN": "WI", "WYOMING": "WY", "PUERTO RICO": "PR", "GUAM": "GU",
	"AMERICAN SAMOA": "AS", "NORTHERN MARIANA ISLANDS": "MP", "U.S. VIRGIN ISLANDS": "VI", "VIRGIN ISLANDS": "VI",
}

// stateCode returns the USPS code of a state name, or s upper-cased.
func stateCode(s string) string {
	u := strings.ToUpper(strings.TrimSpace(s))
	if c, ok := stateCodes[u]; ok {
		return c
	}
	return u
}

// nistReportingUnitTypes are the VRI ReportingUnitType values.
var nistReportingUnitTypes = map[string]bool{
	"ballot-batch": true, "ballot-style-area": true, "borough": true, "city": true, "city-council": true,
	"combined-precinct": true, "congressional": true, "county": true, "county-council": true, "drop-box": true,
	"judicial": true, "municipality": true, "other": true, "polling-place": true, "precinct": true,
	"school": true, "special": true, "split-precinct": true, "state": true, "state-house": true,
	"state-senate": true, "town": true, "township": true, "utility": true, "village": true,
	"vote-center": true, "ward": true, "water": true,
}
