package voter

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"

	"github.com/vigil-elections/vigil"
)

// WriterOptions configure a NISTWriter.
type WriterOptions struct {
	// IncludeSecrets writes driver's licence numbers and SSN4s. Off by
	// default: an export is a file that travels.
	IncludeSecrets bool
	// IncludeConfidential writes the addresses of confidential records
	// (address-confidentiality programmes, public-records exemptions). Off
	// by default: their residence is written as an empty general address.
	IncludeConfidential bool
	TransactionID       string
}

// NISTWriter writes voters as one NIST SP 1500-102 VoterRecordResults
// document, streaming: memory does not grow with the number of records.
// Close MUST be called to finish the document.
type NISTWriter struct {
	w      *bufio.Writer
	format string
	opts   WriterOptions
	n      int
	err    error
	enc    *json.Encoder
}

const vriNamespace = "http://itl.nist.gov/ns/voting/1500-102/v1"

// NewNISTWriter starts a document in format FormatNISTJSON or FormatNISTXML.
func NewNISTWriter(w io.Writer, format string, opts WriterOptions) (*NISTWriter, error) {
	nw := &NISTWriter{w: bufio.NewWriterSize(w, 64<<10), format: format, opts: opts}
	switch format {
	case FormatNISTJSON:
		nw.w.WriteString(`{"@type":"VRI.VoterRecordResults",`)
		if opts.TransactionID != "" {
			b, _ := json.Marshal(opts.TransactionID)
			nw.w.WriteString(`"TransactionId":`)
			nw.w.Write(b)
			nw.w.WriteString(",")
		}
		nw.w.WriteString(`"VoterRecord":[`)
		nw.enc = json.NewEncoder(nw.w)
	case FormatNISTXML:
		nw.w.WriteString(xml.Header)
		nw.w.WriteString(`<VoterRecordsResponse xsi:type="VoterRecordResults" xmlns="` + vriNamespace +
			`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:addr="http://www.fgdc.gov/schemas/address/addr"` +
			` xmlns:addr_type="http://www.fgdc.gov/schemas/address/addr_type">` + "\n")
		if opts.TransactionID != "" {
			nw.elem(1, "TransactionId", opts.TransactionID)
		}
	default:
		return nil, vigil.FieldError("voters.export", "format", "use %s or %s", FormatNISTJSON, FormatNISTXML)
	}
	return nw, nil
}

// Write appends one voter. The voter is not validated: export what is stored.
func (w *NISTWriter) Write(v *vigil.Voter) error {
	if w.err != nil {
		return w.err
	}
	r := w.record(v)
	if w.format == FormatNISTJSON {
		if w.n > 0 {
			w.w.WriteByte(',')
		}
		w.err = w.enc.Encode(r)
	} else {
		w.writeXMLRecord(r)
	}
	w.n++
	return w.err
}

// Close finishes the document and flushes it; it does not close the
// underlying writer.
func (w *NISTWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.format == FormatNISTJSON {
		w.w.WriteString("]}\n")
	} else {
		w.w.WriteString("</VoterRecordsResponse>\n")
	}
	w.err = w.w.Flush()
	return w.err
}

// The JSON shapes, with the "@type" members the JSON schema requires.
type (
	vriRecord struct {
		Type          string             `json:"@type"`
		District      []vriUnit          `json:"District,omitempty"`
		Locality      []vriUnit          `json:"Locality,omitempty"`
		OtherStatus   string             `json:"OtherStatus,omitempty"`
		Voter         vriVoter           `json:"Voter"`
		Participation []vriParticipation `json:"VoterParticipation,omitempty"`
		VoterStatus   string             `json:"VoterStatus,omitempty"`
	}
	vriUnit struct {
		Type      string   `json:"@type"`
		Ext       []vriExt `json:"ExternalIdentifier,omitempty"`
		Name      string   `json:"Name,omitempty"`
		OtherType string   `json:"OtherType,omitempty"`
		UnitType  string   `json:"Type"`
	}
	vriExt struct {
		Type      string `json:"@type"`
		OtherType string `json:"OtherType,omitempty"`
		IDType    string `json:"Type"`
		Value     string `json:"Value"`
	}
	vriParticipation struct {
		Type     string      `json:"@type"`
		Election vriElection `json:"Election"`
	}
	vriElection struct {
		Type      string   `json:"@type"`
		Ext       []vriExt `json:"ExternalIdentifier,omitempty"`
		Name      string   `json:"Name,omitempty"`
		StartDate string   `json:"StartDate"`
	}
	vriVoter struct {
		Type          string       `json:"@type"`
		ContactMethod []vriContact `json:"ContactMethod,omitempty"`
		DateOfBirth   string       `json:"DateOfBirth,omitempty"`
		Gender        string       `json:"Gender,omitempty"`
		Mailing       *vriAddress  `json:"MailingAddress,omitempty"`
		Name          vriName      `json:"Name"`
		Party         *vriParty    `json:"Party,omitempty"`
		Residence     *vriAddress  `json:"ResidenceAddress"`
		VoterID       []vriVoterID `json:"VoterId,omitempty"`
	}
	vriContact struct {
		Type        string `json:"@type"`
		ContactType string `json:"Type"`
		Value       string `json:"Value"`
	}
	vriName struct {
		Type   string   `json:"@type"`
		First  string   `json:"FirstName,omitempty"`
		Last   string   `json:"LastName,omitempty"`
		Middle []string `json:"MiddleName,omitempty"`
		Prefix string   `json:"Prefix,omitempty"`
		Suffix string   `json:"Suffix,omitempty"`
	}
	vriParty struct {
		Type         string `json:"@type"`
		Abbreviation string `json:"Abbreviation,omitempty"`
		Name         string `json:"Name"`
	}
	vriVoterID struct {
		Type   string `json:"@type"`
		Value  string `json:"StringValue"`
		IDType string `json:"Type"`
	}
	vriAddress struct {
		Type       string         `json:"@type"`
		Number     *vriValueObj   `json:"CompleteAddressNumber,omitempty"`
		Street     *vriStreet     `json:"CompleteStreetName,omitempty"`
		Subaddress *vriSubaddress `json:"CompleteSubaddress,omitempty"`
		Place      *vriPlace      `json:"CompletePlaceName,omitempty"`
		Country    string         `json:"CountryName,omitempty"`
		General    string         `json:"GeneralAddress,omitempty"`
		State      string         `json:"StateName,omitempty"`
		ZIP        string         `json:"ZipCode,omitempty"`
		ZIP4       string         `json:"ZipPlus4,omitempty"`
	}
	vriValueObj struct {
		Type          string `json:"@type"`
		AddressNumber string `json:"AddressNumber"`
	}
	vriStreet struct {
		Type       string `json:"@type"`
		StreetName string `json:"StreetName"`
	}
	vriSubaddress struct {
		Type    string          `json:"@type"`
		Element []vriSubElement `json:"SubaddressElement"`
	}
	vriSubElement struct {
		Type       string `json:"@type"`
		Identifier string `json:"SubaddressIdentifier"`
	}
	vriPlace struct {
		Type  string         `json:"@type"`
		Names []vriPlaceName `json:"PlaceName"`
	}
	vriPlaceName struct {
		Type          string `json:"@type"`
		PlaceNameType string `json:"PlaceNameType,omitempty"`
		Value         string `json:"Value"`
	}
)

func ext(otherType, value string) vriExt {
	return vriExt{Type: "VRI.ExternalIdentifier", OtherType: otherType, IDType: "other", Value: value}
}

func (w *NISTWriter) record(v *vigil.Voter) vriRecord {
	r := vriRecord{Type: "VRI.VoterRecord"}
	vo := &r.Voter
	vo.Type = "VRI.Voter"
	vo.Name = vriName{Type: "VRI.Name", First: v.Name.First, Last: v.Name.Last, Prefix: v.Name.Prefix, Suffix: v.Name.Suffix}
	if v.Name.Middle != "" {
		vo.Name.Middle = []string{v.Name.Middle}
	}
	if !v.BirthDate.IsZero() && !v.BirthDate.YearOnly() {
		vo.DateOfBirth = v.BirthDate.String()
	}
	vo.Gender = v.Gender
	hide := v.Confidential && !w.opts.IncludeConfidential
	if hide {
		vo.Residence = &vriAddress{Type: "addr.GeneralAddressClass_type"}
	} else {
		vo.Residence = addressToVRI(v.Residence)
		if !v.Mailing.IsZero() {
			vo.Mailing = addressToVRI(v.Mailing)
		}
	}
	if v.Phone != "" {
		vo.ContactMethod = append(vo.ContactMethod, vriContact{Type: "VRI.ContactMethod", ContactType: "phone", Value: v.Phone})
	}
	if v.Email != "" {
		vo.ContactMethod = append(vo.ContactMethod, vriContact{Type: "VRI.ContactMethod", ContactType: "email", Value: v.Email})
	}
	if v.Party != "" {
		vo.Party = &vriParty{Type: "VRI.Party", Abbreviation: v.Party, Name: v.Party}
	}
	id := func(t, val string) {
		if val != "" {
			vo.VoterID = append(vo.VoterID, vriVoterID{Type: "VRI.VoterId", IDType: t, Value: val})
		}
	}
	if w.opts.IncludeSecrets {
		id("drivers-license", v.DriversLicense.Reveal())
	}
	id("local-voter-registration-id", v.LocalID)
	if w.opts.IncludeSecrets {
		id("ssn4", v.SSN4.Reveal())
	}
	id("state-voter-registration-id", string(v.ID))

	switch v.Status.Code {
	case vigil.StatusActive, vigil.StatusInactive:
		r.VoterStatus = string(v.Status.Code)
	default:
		r.VoterStatus = "other"
		r.OtherStatus = string(v.Status.Code)
		if v.Status.Reason != vigil.ReasonNone {
			r.OtherStatus += "/" + string(v.Status.Reason)
		}
	}
	if v.County != "" {
		r.Locality = append(r.Locality, vriUnit{Type: "VRI.ReportingUnit", Name: v.County, UnitType: "county"})
	}
	if v.Precinct != "" {
		r.Locality = append(r.Locality, vriUnit{Type: "VRI.ReportingUnit", Name: v.Precinct, UnitType: "precinct"})
	}
	for _, d := range v.Districts {
		u := vriUnit{Type: "VRI.ReportingUnit", Name: d.Name, UnitType: string(d.Type),
			Ext: []vriExt{{Type: "VRI.ExternalIdentifier", IDType: "state-level", Value: d.Code}}}
		if d.Type == vigil.DistrictOther {
			u.OtherType = d.Name
		} else if !nistReportingUnitTypes[string(d.Type)] {
			u.UnitType, u.OtherType = "other", string(d.Type)
		}
		r.District = append(r.District, u)
	}
	for _, h := range v.History {
		e := vriElection{Type: "VRI.Election", Name: h.Name}
		switch {
		case h.Election.IsZero():
			continue // VRI requires an election date
		case h.Election.YearOnly():
			e.StartDate = vigil.Date{Year: h.Election.Year, Month: 1, Day: 1}.String()
			e.Ext = append(e.Ext, ext("vigil-date-precision", "year"))
		default:
			e.StartDate = h.Election.String()
		}
		if h.Method != vigil.MethodUnknown {
			e.Ext = append(e.Ext, ext("vigil-method", string(h.Method)))
		}
		if h.Party != "" {
			e.Ext = append(e.Ext, ext("vigil-party", h.Party))
		}
		r.Participation = append(r.Participation, vriParticipation{Type: "VRI.VoterParticipation", Election: e})
	}
	return r
}

// addressToVRI writes a numbered-thoroughfare address when Line1 starts
// with a house number, and a general address otherwise.
func addressToVRI(a vigil.Address) *vriAddress {
	out := &vriAddress{Type: "addr.GeneralAddressClass_type", State: a.State, ZIP: a.ZIP, ZIP4: a.ZIP4, Country: a.Country}
	num, street, ok := strings.Cut(a.Line1, " ")
	if ok && num != "" && num[0] >= '0' && num[0] <= '9' && strings.TrimSpace(street) != "" {
		out.Type = "addr.NumberedThoroughfareAddress_type"
		out.Number = &vriValueObj{Type: "addr_type.CompleteAddressNumber_type", AddressNumber: num}
		out.Street = &vriStreet{Type: "addr_type.CompleteStreetName_type", StreetName: strings.TrimSpace(street)}
	} else {
		out.General = a.Line1
	}
	if a.Line2 != "" {
		out.Subaddress = &vriSubaddress{Type: "addr_type.CompleteSubaddress_type",
			Element: []vriSubElement{{Type: "addr_type.SubaddressElement_type", Identifier: a.Line2}}}
	}
	if a.City != "" {
		out.Place = &vriPlace{Type: "addr_type.CompletePlaceName_type",
			Names: []vriPlaceName{{Type: "addr_type.PlaceName_type", PlaceNameType: "MunicipalJurisdiction", Value: a.City}}}
	}
	return out
}

// XML output follows the XSD's element order.

func (w *NISTWriter) writeXMLRecord(r vriRecord) {
	w.open(1, "VoterRecord")
	for _, d := range r.District {
		w.unit(2, "District", d)
	}
	for _, l := range r.Locality {
		w.unit(2, "Locality", l)
	}
	w.elem(2, "OtherVoterStatus", r.OtherStatus)
	v := r.Voter
	w.open(2, "Voter")
	for _, c := range v.ContactMethod {
		w.open(3, "ContactMethod")
		w.elem(4, "Type", c.ContactType)
		w.elem(4, "Value", c.Value)
		w.close(3, "ContactMethod")
	}
	w.elem(3, "DateOfBirth", v.DateOfBirth)
	w.elem(3, "Gender", v.Gender)
	if v.Mailing != nil {
		w.address(3, "MailingAddress", v.Mailing)
	}
	w.open(3, "Name")
	w.elem(4, "FirstName", v.Name.First)
	w.elem(4, "LastName", v.Name.Last)
	for _, m := range v.Name.Middle {
		w.elem(4, "MiddleName", m)
	}
	w.elem(4, "Prefix", v.Name.Prefix)
	w.elem(4, "Suffix", v.Name.Suffix)
	w.close(3, "Name")
	if v.Party != nil {
		w.open(3, "Party")
		w.elem(4, "Abbreviation", v.Party.Abbreviation)
		w.elem(4, "Name", v.Party.Name)
		w.close(3, "Party")
	}
	w.address(3, "ResidenceAddress", v.Residence)
	for _, id := range v.VoterID {
		w.open(3, "VoterId")
		w.elem(4, "StringValue", id.Value)
		w.elem(4, "Type", id.IDType)
		w.close(3, "VoterId")
	}
	w.close(2, "Voter")
	for _, p := range r.Participation {
		w.open(2, "VoterParticipation")
		w.open(3, "Election")
		for _, x := range p.Election.Ext {
			w.ext(4, x)
		}
		w.elem(4, "Name", p.Election.Name)
		w.elem(4, "StartDate", p.Election.StartDate)
		w.close(3, "Election")
		w.close(2, "VoterParticipation")
	}
	w.elem(2, "VoterStatus", r.VoterStatus)
	w.close(1, "VoterRecord")
}

func (w *NISTWriter) unit(depth int, tag string, u vriUnit) {
	w.open(depth, tag)
	for _, x := range u.Ext {
		w.ext(depth+1, x)
	}
	w.elem(depth+1, "Name", u.Name)
	w.elem(depth+1, "OtherType", u.OtherType)
	w.elem(depth+1, "Type", u.UnitType)
	w.close(depth, tag)
}

func (w *NISTWriter) ext(depth int, x vriExt) {
	w.open(depth, "ExternalIdentifier")
	w.elem(depth+1, "OtherType", x.OtherType)
	w.elem(depth+1, "Type", x.IDType)
	w.elem(depth+1, "Value", x.Value)
	w.close(depth, "ExternalIdentifier")
}

func (w *NISTWriter) address(depth int, tag string, a *vriAddress) {
	w.open(depth, tag)
	kind := strings.TrimPrefix(a.Type, "addr.")
	w.open(depth+1, kind)
	d := depth + 2
	if a.Number != nil {
		w.open(d, "addr:CompleteAddressNumber")
		w.elem(d+1, "addr_type:AddressNumber", a.Number.AddressNumber)
		w.close(d, "addr:CompleteAddressNumber")
	}
	if a.Street != nil {
		w.open(d, "addr:CompleteStreetName")
		w.elem(d+1, "addr_type:StreetName", a.Street.StreetName)
		w.close(d, "addr:CompleteStreetName")
	}
	w.elem(d, "addr:GeneralAddress", a.General)
	if a.Subaddress != nil {
		w.open(d, "addr:CompleteSubaddress")
		for _, e := range a.Subaddress.Element {
			w.open(d+1, "addr_type:SubaddressElement")
			w.elem(d+2, "addr_type:SubaddressIdentifier", e.Identifier)
			w.close(d+1, "addr_type:SubaddressElement")
		}
		w.close(d, "addr:CompleteSubaddress")
	}
	if a.Place != nil {
		w.open(d, "addr_type:CompletePlaceName")
		for _, p := range a.Place.Names {
			w.indent(d + 1)
			w.w.WriteString(`<addr_type:PlaceName PlaceNameType="` + p.PlaceNameType + `">`)
			xml.EscapeText(w.w, []byte(p.Value))
			w.w.WriteString("</addr_type:PlaceName>\n")
		}
		w.close(d, "addr_type:CompletePlaceName")
	}
	w.elem(d, "addr_type:StateName", a.State)
	w.elem(d, "addr_type:ZipCode", a.ZIP)
	w.elem(d, "addr_type:ZipPlus4", a.ZIP4)
	w.elem(d, "addr_type:CountryName", a.Country)
	w.close(depth+1, kind)
	w.close(depth, tag)
}

func (w *NISTWriter) indent(depth int) {
	for range depth {
		w.w.WriteByte('\t')
	}
}

func (w *NISTWriter) open(depth int, tag string) {
	w.indent(depth)
	w.w.WriteString("<" + tag + ">\n")
}

func (w *NISTWriter) close(depth int, tag string) {
	w.indent(depth)
	w.w.WriteString("</" + tag + ">\n")
}

// elem writes <tag>value</tag>, or nothing for an empty value.
func (w *NISTWriter) elem(depth int, tag, value string) {
	if value == "" {
		return
	}
	w.indent(depth)
	w.w.WriteString("<" + tag + ">")
	xml.EscapeText(w.w, []byte(value))
	w.w.WriteString("</" + tag + ">\n")
}
