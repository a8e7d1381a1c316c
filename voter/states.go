package voter

import (
	"fmt"

	"github.com/vigil-elections/vigil"
)

// The state layouts below follow shared/data/voterfile-layouts.md, which
// cites each state's layout document. Columns vigil has no use for (race,
// description twins of codes, "last changed" stamps) map to FieldIgnore:
// they are named so a header check can still recognise the file.

func col(name string, f Field, aliases ...string) Column {
	return Column{Name: name, Field: f, Aliases: aliases}
}

func ignore(names ...string) []Column {
	cs := make([]Column, len(names))
	for i, n := range names {
		cs[i] = Column{Name: n, Field: FieldIgnore}
	}
	return cs
}

func concat(parts ...[]Column) []Column {
	var out []Column
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func cols(cs ...Column) []Column { return cs }

var (
	active    = StatusRule{Code: vigil.StatusActive}
	inactive  = StatusRule{Code: vigil.StatusInactive}
	pending   = StatusRule{Code: vigil.StatusPending}
	cancelled = StatusRule{Code: vigil.StatusCancelled}
)

func builtinLayouts() []Layout {
	return []Layout{
		northCarolina(), florida(), newYork(), pennsylvania(), ohio(),
		colorado(), washington(), michigan(), utah(), vermont(), delaware(), newJersey(), oklahoma(),
	}
}

// northCarolina is NCSBE ncvoter (2020 layout, with the 2012 names as aliases).
func northCarolina() Layout {
	return Layout{
		Name: "nc", Description: "North Carolina NCSBE ncvoter (tab, header)",
		Delimiter: '\t', Header: true, DateFormat: DateMDY,
		Columns: concat(cols(
			col("county_id", FieldIgnore),
			col("county_desc", FieldCounty),
			col("voter_reg_num", FieldLocalID),
			col("status_cd", FieldStatus),
			col("voter_status_desc", FieldIgnore),
			col("reason_cd", FieldIgnore),
			col("voter_status_reason_desc", FieldStatusReason),
			col("absent_ind", FieldIgnore),
			col("name_prefx_cd", FieldPrefix),
			col("last_name", FieldLast),
			col("first_name", FieldFirst),
			col("middle_name", FieldMiddle, "midl_name"),
			col("name_suffix_lbl", FieldSuffix, "name_sufx_cd"),
			col("res_street_address", FieldResLine1),
			col("res_city_desc", FieldResCity),
			col("state_cd", FieldResState),
			col("zip_code", FieldResZIP),
			col("mail_addr1", FieldMailLine1),
			col("mail_addr2", FieldMailLine2),
			col("mail_addr3", FieldMailLine3),
			col("mail_addr4", FieldMailLine4),
			col("mail_city", FieldMailCity),
			col("mail_state", FieldMailState),
			col("mail_zipcode", FieldMailZIP),
			col("full_phone_number", FieldPhone),
			col("race_code", FieldIgnore),
			col("ethnic_code", FieldIgnore),
			col("party_cd", FieldParty),
			col("gender_code", FieldGender),
			col("birth_age", FieldIgnore, "age"),
			col("birth_state", FieldIgnore, "birth_place"),
			col("drivers_lic", FieldIgnore), // a Y/N flag, not the number
			col("registr_dt", FieldRegistered),
			col("precinct_abbrv", FieldPrecinct),
			col("precinct_desc", FieldIgnore),
			col("municipality_abbrv", "district.municipality"),
			col("municipality_desc", FieldIgnore),
			col("ward_abbrv", "district.ward"),
			col("ward_desc", FieldIgnore),
			col("cong_dist_abbrv", "district.congressional"),
			col("super_court_abbrv", "district.superior-court"),
			col("judic_dist_abbrv", "district.judicial", "judic_dis_abbrv"),
			col("nc_senate_abbrv", "district.state-senate"),
			col("nc_house_abbrv", "district.state-house"),
			col("county_commiss_abbrv", "district.county-council"),
			col("county_commiss_desc", FieldIgnore),
			col("township_abbrv", "district.township"),
			col("township_desc", FieldIgnore),
			col("school_dist_abbrv", "district.school"),
			col("school_dist_desc", FieldIgnore),
			col("fire_dist_abbrv", "district.fire"),
			col("fire_dist_desc", FieldIgnore),
			col("water_dist_abbrv", "district.water"),
			col("water_dist_desc", FieldIgnore),
			col("sewer_dist_abbrv", "district.sewer"),
			col("sewer_dist_desc", FieldIgnore),
			col("sanit_dist_abbrv", "district.sanitation"),
			col("sanit_dist_desc", FieldIgnore),
			col("rescue_dist_abbrv", "district.rescue"),
			col("rescue_dist_desc", FieldIgnore),
			col("munic_dist_abbrv", "district.municipal-district"),
			col("munic_dist_desc", FieldIgnore),
			col("dist_1_abbrv", "district.prosecutorial"),
			col("dist_1_desc", FieldIgnore),
			col("dist_2_abbrv", FieldIgnore),
			col("dist_2_desc", FieldIgnore),
			col("confidential_ind", FieldConfidential),
			col("birth_year", FieldBirthYear),
			col("ncid", FieldID),
			col("vtd_abbrv", "district.vtd"),
			col("vtd_desc", FieldIgnore),
		)),
		Status: map[string]StatusRule{
			"A": active, "I": inactive, "S": active, // S: temporary (military, overseas)
			"D": {Code: vigil.StatusCancelled, Reason: vigil.ReasonUnverified}, // denied
			"R": cancelled,                                                     // removed; the reason column says why
		},
		State: "NC",
	}
}

// florida is the FL Division of Elections voter extract (tab, no header).
func florida() Layout {
	return Layout{
		Name: "fl", Description: "Florida voter extract (tab, no header)",
		Delimiter: '\t', Header: false, DateFormat: DateMDY,
		Columns: cols(
			col("County Code", FieldCounty),
			col("Voter ID", FieldID),
			col("Name Last", FieldLast),
			col("Name Suffix", FieldSuffix),
			col("Name First", FieldFirst),
			col("Name Middle", FieldMiddle),
			col("Requested public records exemption", FieldConfidential),
			col("Residence Address Line 1", FieldResLine1),
			col("Residence Address Line 2", FieldResLine2),
			col("Residence City (USPS)", FieldResCity),
			col("Residence State", FieldResState),
			col("Residence Zipcode", FieldResZIP),
			col("Mailing Address Line 1", FieldMailLine1),
			col("Mailing Address Line 2", FieldMailLine2),
			col("Mailing Address Line 3", FieldMailLine3),
			col("Mailing City", FieldMailCity),
			col("Mailing State", FieldMailState),
			col("Mailing Zipcode", FieldMailZIP),
			col("Mailing Country", FieldMailCountry),
			col("Gender", FieldGender),
			col("Race", FieldIgnore),
			col("Birth Date", FieldBirthDate),
			col("Registration Date", FieldRegistered),
			col("Party Affiliation", FieldParty),
			col("Precinct", FieldPrecinct),
			col("Precinct Group", FieldIgnore),
			col("Precinct Split", FieldPrecinctPart),
			col("Precinct Suffix", FieldIgnore),
			col("Voter Status", FieldStatus),
			col("Congressional District", "district.congressional"),
			col("House District", "district.state-house"),
			col("Senate District", "district.state-senate"),
			col("County Commission District", "district.county-council"),
			col("School Board District", "district.school"),
			col("Daytime Area Code", FieldPhoneArea),
			col("Daytime Phone Number", FieldPhone),
			col("Daytime Phone Extension", FieldIgnore),
			col("Email address", FieldEmail),
		),
		Status: map[string]StatusRule{
			"ACT": active, "INA": inactive,
			"PRE": {Code: vigil.StatusPending, Reason: vigil.ReasonUnderage}, // pre-registered
		},
		State: "FL",
	}
}

// newYork is the NYSVoter statewide export (comma, every field quoted, no header).
func newYork() Layout {
	return Layout{
		Name: "ny", Description: "New York NYSVoter export (comma, quoted, no header)",
		Delimiter: ',', Header: false, DateFormat: DateYMD,
		Columns: cols(
			col("LASTNAME", FieldLast),
			col("FIRSTNAME", FieldFirst),
			col("MIDDLENAME", FieldMiddle),
			col("NAMESUFFIX", FieldSuffix),
			col("RADDNUMBER", FieldResNumber),
			col("RHALFCODE", FieldResNumberSuffix),
			col("RAPARTMENT", FieldResUnit),
			col("RPREDIRECTION", FieldResPreDirection),
			col("RSTREETNAME", FieldResStreet),
			col("RPOSTDIRECTION", FieldResPostDirection),
			col("RCITY", FieldResCity),
			col("RZIP5", FieldResZIP),
			col("RZIP4", FieldResZIP4),
			col("MAILADD1", FieldMailLine1),
			col("MAILADD2", FieldMailLine2),
			col("MAILADD3", FieldMailLine3),
			col("MAILADD4", FieldMailLine4),
			col("DOB", FieldBirthDate),
			col("GENDER", FieldGender),
			col("ENROLLMENT", FieldParty),
			col("OTHERPARTY", FieldIgnore),
			col("COUNTYCODE", FieldCounty),
			col("ED", "district.election-district"),
			col("LD", "district.legislative"),
			col("TOWNCITY", "district.municipality"),
			col("WARD", "district.ward"),
			col("CD", "district.congressional"),
			col("SD", "district.state-senate"),
			col("AD", "district.state-house"),
			col("LASTVOTEDDATE", FieldIgnore),
			col("PREVYEARVOTED", FieldIgnore),
			col("PREVCOUNTY", FieldIgnore),
			col("PREVADDRESS", FieldIgnore),
			col("PREVNAME", FieldIgnore),
			col("COUNTYVRNUMBER", FieldLocalID),
			col("REGDATE", FieldRegistered),
			col("VRSOURCE", FieldIgnore),
			col("IDREQUIRED", FieldIgnore),
			col("IDMET", FieldIgnore),
			col("STATUS", FieldStatus),
			col("REASONCODE", FieldStatusReason),
			col("INACT_DATE", FieldIgnore),
			col("PURGE_DATE", FieldIgnore),
			col("SBOEID", FieldID),
			col("VoterHistory", FieldHistoryList),
		),
		Status: map[string]StatusRule{
			"A": active, "AM": active, "AF": active, "AP": active, "AU": active,
			"I": inactive, "P": cancelled,
			"17": {Code: vigil.StatusPending, Reason: vigil.ReasonUnderage},
		},
		State: "NY",
	}
}

// pennsylvania is the PA DOS "FVE" county extract (tab, no header, 153 columns).
// District columns mean what the county's zone file says; the defaults
// below are the common ones. History slots map to elections through the
// county's election-map file, which the extract does not carry, so entries
// are labelled by slot.
func pennsylvania() Layout {
	cs := cols(
		col("STATE_VOTER_REF", FieldID),
		col("TITLE", FieldPrefix),
		col("LAST_NAME", FieldLast),
		col("FIRST_NAME", FieldFirst),
		col("MIDDLE_NAME", FieldMiddle),
		col("NAME_SUFFIX", FieldSuffix),
		col("GENDER", FieldGender),
		col("BIRTHDATE", FieldBirthDate),
		col("REGISTRATION_DATE", FieldRegistered),
		col("REGISTRATION_STATUS", FieldStatus),
		col("STATUS_CHANGE_DATE", FieldStatusDate),
		col("PARTY_CODE", FieldParty),
		col("ADDRESS_NUMBER", FieldResNumber),
		col("ADDRESS_NUMBER_SUFFIX", FieldResNumberSuffix),
		col("STREET_NAME", FieldResStreet),
		col("ADDRESS_APARTMENT_NUM", FieldResUnit),
		col("ADDRESS_LINE2", FieldResLine2),
		col("REGISTRATION_CITY", FieldResCity),
		col("STATE_NAME", FieldResState),
		col("ZIP_CODE", FieldResZIP),
		col("MAIL_ADDRESS_LINE1", FieldMailLine1),
		col("MAIL_ADDRESS_LINE2", FieldMailLine2),
		col("MAIL_CITY", FieldMailCity),
		col("MAIL_STATE", FieldMailState),
		col("MAIL_ZIP_CODE", FieldMailZIP),
		col("LASTVOTE", FieldIgnore),
		col("PRECINCT_CODE", FieldPrecinct),
		col("PRECINCT_SPLIT", FieldPrecinctPart),
		col("LAST_CHANGE_DATE", FieldIgnore),
		col("LEGACY_SYSTEM_ID", FieldLocalID),
	)
	zone := map[int]Field{3: "district.school", 6: "district.state-house", 7: "district.state-senate", 8: "district.congressional"}
	for i := 1; i <= 40; i++ {
		f, ok := zone[i]
		switch {
		case i == 1 || i == 13: // precinct and split repeat PRECINCT_CODE/SPLIT
			f = FieldIgnore
		case !ok:
			f = Field(fmt.Sprintf("district.pa-zone-%d", i))
		}
		cs = append(cs, col(fmt.Sprintf("DISTRICT%d", i), f))
	}
	for i := 1; i <= 40; i++ {
		cs = append(cs,
			col(fmt.Sprintf("VOTE_METHOD%d", i), Field(fmt.Sprintf("history.%d.method", i))),
			col(fmt.Sprintf("PARTY_AT_VOTE%d", i), Field(fmt.Sprintf("history.%d.party", i))))
	}
	cs = append(cs, col("PHONE", FieldPhone), col("COUNTYCODE", FieldCounty), col("MAIL_COUNTRY", FieldMailCountry))
	return Layout{
		Name: "pa", Description: "Pennsylvania FVE county extract (tab, no header, 153 columns)",
		Delimiter: '\t', Header: false, DateFormat: DateMDY, Columns: cs,
		Status:  map[string]StatusRule{"A": active, "I": inactive},
		Methods: map[string]vigil.VotingMethod{"AP": vigil.MethodInPerson, "AB": vigil.MethodAbsentee, "P": vigil.MethodProvisional},
		State:   "PA",
	}
}

// ohio is the Ohio SOS statewide file (comma, header, one column per election).
func ohio() Layout {
	return Layout{
		Name: "oh", Description: "Ohio SOS statewide voter file (comma, header)",
		Delimiter: ',', Header: true, DateFormat: DateISO,
		Columns: cols(
			col("SOS_VOTERID", FieldID),
			col("COUNTY_NUMBER", FieldCounty),
			col("COUNTY_ID", FieldLocalID),
			col("LAST_NAME", FieldLast),
			col("FIRST_NAME", FieldFirst),
			col("MIDDLE_NAME", FieldMiddle),
			col("SUFFIX", FieldSuffix),
			col("DATE_OF_BIRTH", FieldBirthDate),
			col("REGISTRATION_DATE", FieldRegistered),
			col("VOTER_STATUS", FieldStatus),
			col("PARTY_AFFILIATION", FieldParty),
			col("RESIDENTIAL_ADDRESS1", FieldResLine1),
			col("RESIDENTIAL_SECONDARY_ADDR", FieldResLine2),
			col("RESIDENTIAL_CITY", FieldResCity),
			col("RESIDENTIAL_STATE", FieldResState),
			col("RESIDENTIAL_ZIP", FieldResZIP),
			col("RESIDENTIAL_ZIP_PLUS4", FieldResZIP4),
			col("RESIDENTIAL_COUNTRY", FieldResCountry),
			col("RESIDENTIAL_POSTCODE", FieldIgnore),
			col("MAILING_ADDRESS1", FieldMailLine1),
			col("MAILING_SECONDARY_ADDRESS", FieldMailLine2),
			col("MAILING_CITY", FieldMailCity),
			col("MAILING_STATE", FieldMailState),
			col("MAILING_ZIP", FieldMailZIP),
			col("MAILING_ZIP_PLUS4", FieldMailZIP4),
			col("MAILING_COUNTRY", FieldMailCountry),
			col("MAILING_POSTAL_CODE", FieldIgnore),
			col("CAREER_CENTER", "district.career-center"),
			col("CITY", "district.city"),
			col("CITY_SCHOOL_DISTRICT", "district.school"),
			col("CONGRESSIONAL_DISTRICT", "district.congressional"),
			col("COUNTY_COURT_DISTRICT", "district.county-court"),
			col("COURT_OF_APPEALS", "district.judicial"),
			col("EDU_SERVICE_CENTER_DISTRICT", "district.education-service-center"),
			col("EXEMPTED_VILL_SCHOOL_DISTRICT", "district.exempted-village-school"),
			col("LIBRARY", "district.library"),
			col("LOCAL_SCHOOL_DISTRICT", "district.local-school"),
			col("MUNICIPAL_COURT_DISTRICT", "district.municipal-court"),
			col("PRECINCT_NAME", FieldIgnore),
			col("PRECINCT_CODE", FieldPrecinct),
			col("STATE_BOARD_OF_EDUCATION", "district.state-board-of-education"),
			col("STATE_REPRESENTATIVE_DISTRICT", "district.state-house"),
			col("STATE_SENATE_DISTRICT", "district.state-senate"),
			col("TOWNSHIP", "district.township"),
			col("VILLAGE", "district.village"),
			col("WARD", "district.ward"),
		),
		Status: map[string]StatusRule{
			"ACTIVE": active, "INACTIVE": inactive,
			"CONFIRMATION": {Code: vigil.StatusInactive, Reason: vigil.ReasonReturnedMail},
		},
		ElectionColumns: true, HistoryValue: HistoryParty,
		State: "OH",
	}
}

func colorado() Layout {
	return Layout{
		Name: "co", Description: "Colorado statewide voter file (comma, header)",
		Delimiter: ',', Header: true, DateFormat: DateMDY,
		Columns: concat(cols(
			col("VOTER_ID", FieldID),
			col("COUNTY_CODE", FieldCounty),
			col("COUNTY", FieldIgnore),
			col("LAST_NAME", FieldLast),
			col("FIRST_NAME", FieldFirst),
			col("MIDDLE_NAME", FieldMiddle),
			col("NAME_SUFFIX", FieldSuffix),
			col("VOTER_NAME", FieldIgnore),
			col("STATUS_CODE", FieldStatus),
			col("PRECINCT_NAME", FieldIgnore),
			col("ADDRESS_LIBRARY_ID", FieldIgnore),
			col("HOUSE_NUM", FieldResNumber),
			col("HOUSE_SUFFIX", FieldResNumberSuffix),
			col("PRE_DIR", FieldResPreDirection),
			col("STREET_NAME", FieldResStreet),
			col("STREET_TYPE", FieldResStreetType),
			col("POST_DIR", FieldResPostDirection),
			col("UNIT_TYPE", FieldResUnitType),
			col("UNIT_NUM", FieldResUnit),
			col("ADDRESS_NON_STD", FieldIgnore),
			col("RESIDENTIAL_ADDRESS", FieldResLine1),
			col("RESIDENTIAL_CITY", FieldResCity),
			col("RESIDENTIAL_STATE", FieldResState),
			col("RESIDENTIAL_ZIP_CODE", FieldResZIP),
			col("RESIDENTIAL_ZIP_PLUS", FieldResZIP4),
			col("EFFECTIVE_DATE", FieldIgnore),
			col("REGISTRATION_DATE", FieldRegistered),
			col("STATUS", FieldIgnore),
			col("STATUS_REASON", FieldStatusReason),
			col("BIRTH_YEAR", FieldBirthYear),
			col("GENDER", FieldGender),
			col("PRECINCT", FieldPrecinct),
			col("SPLIT", FieldPrecinctPart),
			col("VOTER_STATUS_ID", FieldIgnore),
			col("PARTY", FieldParty),
			col("PARTY_AFFILIATION_DATE", FieldIgnore),
			col("PHONE_NUM", FieldPhone),
			col("MAIL_ADDR1", FieldMailLine1),
			col("MAIL_ADDR2", FieldMailLine2),
			col("MAIL_ADDR3", FieldMailLine3),
			col("MAILING_CITY", FieldMailCity),
			col("MAILING_STATE", FieldMailState),
			col("MAILING_ZIP_CODE", FieldMailZIP),
			col("MAILING_ZIP_PLUS", FieldMailZIP4),
			col("MAILING_COUNTRY", FieldMailCountry),
			col("SPL_ID", FieldIgnore),
			col("PERMANENT_MAIL_IN_VOTER", FieldIgnore),
			col("CONGRESSIONAL", "district.congressional"),
			col("STATE_SENATE", "district.state-senate"),
			col("STATE_HOUSE", "district.state-house"),
			col("ID_REQUIRED", FieldIgnore),
		)),
		Status: map[string]StatusRule{"A": active, "I": inactive, "P": pending},
		State:  "CO",
	}
}

func washington() Layout {
	return Layout{
		Name: "wa", Description: "Washington statewide voter file (tab, header)",
		Delimiter: '\t', Header: true, DateFormat: DateMDY,
		Columns: cols(
			col("StateVoterID", FieldID),
			col("CountyVoterID", FieldLocalID),
			col("Title", FieldPrefix),
			col("FName", FieldFirst),
			col("MName", FieldMiddle),
			col("LName", FieldLast),
			col("NameSuffix", FieldSuffix),
			col("Birthdate", FieldBirthDate),
			col("Gender", FieldGender),
			col("RegStNum", FieldResNumber),
			col("RegStFrac", FieldResNumberSuffix),
			col("RegStName", FieldResStreet),
			col("RegStType", FieldResStreetType),
			col("RegUnitType", FieldResUnitType),
			col("RegStPreDirection", FieldResPreDirection),
			col("RegStPostDirection", FieldResPostDirection),
			col("RegUnitNum", FieldResUnit),
			col("RegCity", FieldResCity),
			col("RegState", FieldResState),
			col("RegZipCode", FieldResZIP),
			col("CountyCode", FieldCounty),
			col("PrecinctCode", FieldPrecinct),
			col("PrecinctPart", FieldPrecinctPart),
			col("LegislativeDistrict", "district.legislative"),
			col("CongressionalDistrict", "district.congressional"),
			col("Mail1", FieldMailLine1),
			col("Mail2", FieldMailLine2),
			col("Mail3", FieldMailLine3),
			col("Mail4", FieldMailLine4),
			col("MailCity", FieldMailCity),
			col("MailZip", FieldMailZIP),
			col("MailState", FieldMailState),
			col("MailCountry", FieldMailCountry),
			col("Registrationdate", FieldRegistered),
			col("AbsenteeType", FieldIgnore),
			col("LastVoted", FieldIgnore),
			col("StatusCode", FieldStatus),
			col("Dflag", FieldIgnore),
		),
		Status: map[string]StatusRule{"A": active, "I": inactive, "P": pending},
		State:  "WA",
	}
}

func michigan() Layout {
	return Layout{
		Name: "mi", Description: "Michigan QVF extract as CSV (comma, header)",
		Delimiter: ',', Header: true, DateFormat: DateMDYPlain,
		Columns: cols(
			col("LAST_NAME", FieldLast),
			col("FIRST_NAME", FieldFirst),
			col("MIDDLE_NAME", FieldMiddle),
			col("NAME_SUFFIX", FieldSuffix),
			col("BIRTH_YEAR", FieldBirthYear),
			col("GENDER", FieldGender),
			col("DATE_OF_REGISTRATION", FieldRegistered),
			col("HOUSE_NUM_CHARACTER", FieldIgnore),
			col("RESIDENCE_STREET_NUMBER", FieldResNumber),
			col("HOUSE_SUFFIX", FieldResNumberSuffix),
			col("PRE_DIRECTION", FieldResPreDirection),
			col("STREET_NAME", FieldResStreet),
			col("STREET_TYPE", FieldResStreetType),
			col("SUFFIX_DIRECTION", FieldResPostDirection),
			col("RESIDENCE_EXTENSION", FieldResUnit),
			col("CITY", FieldResCity),
			col("STATE", FieldResState),
			col("ZIP", FieldResZIP),
			col("MAIL_ADDR_1", FieldMailLine1),
			col("MAIL_ADDR_2", FieldMailLine2),
			col("MAIL_ADDR_3", FieldMailCity),
			col("MAIL_ADDR_4", FieldMailState),
			col("MAIL_ADDR_5", FieldMailZIP),
			col("STATE_VOTER_REF", FieldID),
			col("COUNTYCODE", FieldCounty),
			col("JURISDICTION", "district.municipality"),
			col("WARD_PRECINCT", FieldPrecinct),
			col("SCHOOL_CODE", "district.school"),
			col("LOWER_HOUSE_DIST", "district.state-house"),
			col("UPPER_HOUSE_DIST", "district.state-senate"),
			col("CONGRESSIONAL_DIST", "district.congressional"),
			col("COUNTY_BOARD_DIST", "district.county-council"),
			col("VILLAGE_CODE", "district.village"),
			col("VILLAGE_PRECINCT", FieldIgnore),
			col("SCHOOL_PRECINCT", FieldIgnore),
			col("PERMANENT_ABSENTEE_IND", FieldIgnore),
			col("REGISTRATION_STATUS", FieldStatus),
			col("UOCAVA_STATUS", FieldIgnore),
			col("ELECTION_DATE", FieldIgnore),
			col("ELECTION_TYPE", FieldIgnore),
			col("ABSENTEE_TYPE", FieldIgnore),
		),
		// QVF: A active, V verified (active), CH challenged, C cancelled.
		Status: map[string]StatusRule{
			"A": active, "V": active, "CH": inactive, "I": inactive,
			"C": cancelled, "R": {Code: vigil.StatusCancelled, Reason: vigil.ReasonUnverified}, // rejected
		},
		State: "MI",
	}
}

func utah() Layout {
	return Layout{
		Name: "ut", Description: "Utah statewide voter file (comma, header, one column per election)",
		Delimiter: ',', Header: true, DateFormat: DateMDY,
		Columns: cols(
			col("Voter ID", FieldID),
			col("Last Name", FieldLast),
			col("First Name", FieldFirst),
			col("Middle Name", FieldMiddle),
			col("Name Suffix", FieldSuffix),
			col("Status", FieldStatus),
			col("Absentee", FieldIgnore),
			col("UOCAVA", FieldIgnore),
			col("Registration Date", FieldRegistered),
			col("Original Registration Date", FieldIgnore),
			col("Party", FieldParty),
			col("Phone", FieldPhone),
			col("Mailing Address", FieldMailLine1),
			col("Mailing city, state  zip", FieldMailCityStateZIP),
			col("County ID", FieldCounty),
			col("Precinct", FieldPrecinct),
			col("House Number", FieldResNumber),
			col("House Number Suffix", FieldResNumberSuffix),
			col("Direction Prefix", FieldResPreDirection),
			col("Street", FieldResStreet),
			col("Direction Suffix", FieldResPostDirection),
			col("Street Type", FieldResStreetType),
			col("Unit Type", FieldResUnitType),
			col("Unit Number", FieldResUnit),
			col("City", FieldResCity),
			col("Zip", FieldResZIP),
			col("DOB", FieldBirthDate),
			col("Congressional", "district.congressional"),
			col("State House", "district.state-house"),
			col("State Senate", "district.state-senate"),
			col("State Schoolboard", "district.state-school-board"),
			col("Local Schoolboard", "district.school"),
			col("County Council", "district.county-council"),
			col("City Council", "district.city-council"),
		),
		ElectionColumns: true, HistoryValue: HistoryFlag,
		State: "UT",
	}
}

func vermont() Layout {
	return Layout{
		Name: "vt", Description: "Vermont statewide checklist (pipe, header)",
		Delimiter: '|', Header: true, DateFormat: DateMDY,
		Columns: cols(
			col("VoterID", FieldID),
			col("Last Name", FieldLast),
			col("First Name", FieldFirst),
			col("Middle Name", FieldMiddle),
			col("Suffix", FieldSuffix),
			col("Legal Address Line 1", FieldResLine1),
			col("Legal Address Line 2", FieldResLine2),
			col("Legal Address City", FieldResCity),
			col("Legal Address State", FieldResState),
			col("Legal Address Zip", FieldResZIP),
			col("Mailing Address Line 1", FieldMailLine1),
			col("Mailing Address Line 2", FieldMailLine2),
			col("Mailing Address in care of", FieldIgnore),
			col("Mailing Address City", FieldMailCity),
			col("Mailing Address State", FieldMailState),
			col("Mailing Address Zip", FieldMailZIP),
			col("Year of Birth", FieldBirthYear),
			col("Date of Registration", FieldRegistered),
			col("Date last Voted", FieldIgnore),
			col("Status", FieldStatus),
			col("Telephone", FieldPhone),
			col("County", FieldCounty),
			col("Town of Registration", "district.town"),
			col("Town-Nemrc Number", FieldIgnore),
			col("Voting District", FieldPrecinct),
			col("Ward", "district.ward"),
			col("Village", "district.village"),
			col("Senate District", "district.state-senate"),
			col("School District", "district.school"),
			col("Fire District", "district.fire"),
			col("Water District", "district.water"),
			col("Sewer District", "district.sewer"),
			col("Police District", "district.police"),
			col("Garbage District", "district.garbage"),
			col("Polling Location", FieldIgnore),
		),
		Status:          map[string]StatusRule{"CHALLENGED": inactive},
		ElectionColumns: true, HistoryValue: HistoryFlag,
		State: "VT",
	}
}

func delaware() Layout {
	cs := cols(
		col("UNIQUE-ID", FieldID),
		col("LAST-NAME", FieldLast),
		col("FIRST-NAME", FieldFirst),
		col("MID-INIT", FieldMiddle),
		col("SUFFIX", FieldSuffix),
		col("YEAR-OF-BIRTH", FieldBirthYear),
		col("DOB", FieldBirthDate),
		col("PHONE", FieldPhone),
		col("HOME-NO", FieldResNumber),
		col("HOME-APT", FieldResUnit),
		col("HOME-STREET", FieldResStreet),
		col("HOME-DEV", FieldIgnore),
		col("HOME-CITY", FieldResCity),
		col("HOME-ZIPCODE", FieldResZIP),
		col("COUNTY", FieldCounty),
		col("ED", "district.election-district"),
		col("RD", "district.state-house"),
		col("SD", "district.state-senate"),
		col("CNLEVY", "district.county-council"),
		col("WILM", "district.city-council"),
		col("CODE-HOME-CITY", "district.municipality"),
		col("SCH-DIST", "district.school"),
		col("PARTY", FieldParty),
		col("DATE-REG", FieldRegistered),
	)
	names := map[string]string{}
	for _, h := range []struct {
		prefix, key, label string
		n                  int
	}{{"PP-HIST-", "pp", "PRESIDENTIAL PRIMARY", 2}, {"PR-HIST-", "pr", "PRIMARY", 3}, {"GEN-HIST-", "gen", "GENERAL", 5}} {
		for i := 1; i <= h.n; i++ {
			key := fmt.Sprintf("%s%d", h.key, i)
			cs = append(cs, col(fmt.Sprintf("%s%d", h.prefix, i), Field("history."+key+".date")))
			names[key] = h.label
		}
	}
	cs = append(cs,
		col("MAIL-NO", FieldMailNumber),
		col("MAIL-APT", FieldMailUnit),
		col("MAIL-STR", FieldMailStreet),
		col("MAIL-CITY", FieldMailCity),
		col("MAIL-STATE", FieldMailState),
		col("MAIL-ZIP", FieldMailZIP),
		col("DATE-LAST-CHG", FieldIgnore),
		col("CODE-CHANGE", FieldIgnore),
		col("STATUS", FieldStatus),
	)
	// The positional order is the official one (DOB in place of
	// YEAR-OF-BIRTH); the NVF sample carries a header, so both are listed
	// and the header decides.
	return Layout{
		Name: "de", Description: "Delaware statewide voter file (comma, header)",
		Delimiter: ',', Header: true, DateFormat: DateYMD, Columns: cs,
		Status:       map[string]StatusRule{"A": active, "I": inactive},
		HistoryNames: names,
		State:        "DE",
	}
}

func newJersey() Layout {
	return Layout{
		Name: "nj", Description: "New Jersey statewide voter file (pipe, no header)",
		Delimiter: '|', Header: false, DateFormat: DateMDY,
		Columns: cols(
			col("COUNTY", FieldCounty),
			col("VOTER ID", FieldID),
			col("LEGACY ID", FieldLocalID),
			col("LAST NAME", FieldLast),
			col("FIRST NAME", FieldFirst),
			col("MIDDLE NAME", FieldMiddle),
			col("SUFFIX", FieldSuffix),
			col("STREET NUMBER", FieldResNumber),
			col("SUFF A", FieldResNumberSuffix),
			col("SUFF B", FieldIgnore),
			col("STREET NAME", FieldResStreet),
			col("APT/UNIT NO", FieldResUnit),
			col("CITY", FieldResCity),
			col("MUNICIPALITY", "district.municipality"),
			col("ZIP", FieldResZIP),
			col("DOB", FieldBirthDate),
			col("PARTY CODE", FieldParty),
			col("WARD", "district.ward"),
			col("DISTRICT", FieldPrecinct),
			col("STATUS", FieldStatus),
			col("CONGRESSIONAL", "district.congressional"),
			col("LEGISLATIVE", "district.legislative"),
			col("FREEHOLDER", "district.county-council"),
			col("SCHOOL", "district.school"),
			col("REGIONAL SCHOOL", "district.regional-school"),
			col("FIRE", "district.fire"),
		),
		Status: map[string]StatusRule{"A": active, "AD": active, "AF": active, "I": inactive, "ID": inactive, "IF": inactive, "P": pending},
		State:  "NJ",
	}
}

func oklahoma() Layout {
	cs := cols(
		col("Precinct", FieldPrecinct),
		col("LastName", FieldLast),
		col("FirstName", FieldFirst),
		col("MiddleName", FieldMiddle),
		col("Suffix", FieldSuffix),
		col("VoterID", FieldID),
		col("PolitalAff", FieldParty, "PoliticalAff"),
		col("Status", FieldStatus),
		col("StreetNum", FieldResNumber),
		col("StreetDir", FieldResPreDirection),
		col("StreetName", FieldResStreet),
		col("StreetType", FieldResStreetType),
		col("BldgNum", FieldResUnit),
		col("City", FieldResCity),
		col("Zip", FieldResZIP),
		col("DateOfBirth", FieldBirthDate),
		col("OriginalRegistration", FieldRegistered),
		col("MailStreet1", FieldMailLine1),
		col("MailStreet2", FieldMailLine2),
		col("MailCity", FieldMailCity),
		col("MailState", FieldMailState),
		col("MailZip", FieldMailZIP),
		col("Muni", "district.municipality"),
		col("MuniSub", FieldIgnore),
		col("School", "district.school"),
		col("SchoolSub", FieldIgnore),
		col("TechCenter", "district.tech-center"),
		col("TechCenterSub", FieldIgnore),
		col("CountyComm", "district.county-council"),
	)
	for i := 1; i <= 10; i++ {
		cs = append(cs,
			col(fmt.Sprintf("VoterHist%d", i), Field(fmt.Sprintf("history.%d.date", i))),
			col(fmt.Sprintf("HistMethod%d", i), Field(fmt.Sprintf("history.%d.method", i))))
	}
	return Layout{
		Name: "ok", Description: "Oklahoma statewide voter file (comma, header)",
		Delimiter: ',', Header: true, DateFormat: DateMDY, Columns: cs,
		Status: map[string]StatusRule{"A": active, "I": inactive},
		State:  "OK",
	}
}
