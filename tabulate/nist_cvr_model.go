package tabulate

import (
	"encoding/json"
	"strings"
)

// The subset of NIST SP 1500-103 (CastVoteRecordReport, schema
// NIST_V0_cast_vote_records) that counting needs. One set of Go types
// serves both encodings: JSON keys are the XML element names, and the XML
// ObjectId and xsi:type attributes are JSON's "@id" and "@type". Elements
// not listed here (images, hashes, mark metrics, annotations) are skipped.

// nistReport is a report minus its CVRs, which are streamed.
type nistReport struct {
	Election        []nistElection `json:"Election" xml:"Election"`
	GpUnit          []nistGpUnit   `json:"GpUnit" xml:"GpUnit"`
	Party           []nistParty    `json:"Party" xml:"Party"`
	ReportingDevice []nistDevice   `json:"ReportingDevice" xml:"ReportingDevice"`
}

type nistCode struct {
	Type  string `json:"Type" xml:"Type"`
	Value string `json:"Value" xml:"Value"`
}

type nistElection struct {
	ID        string          `json:"@id" xml:"ObjectId,attr"`
	Name      string          `json:"Name" xml:"Name"`
	Candidate []nistCandidate `json:"Candidate" xml:"Candidate"`
	Contest   []nistContest   `json:"Contest" xml:"Contest"`
}

type nistCandidate struct {
	ID      string     `json:"@id" xml:"ObjectId,attr"`
	Name    string     `json:"Name" xml:"Name"`
	PartyID string     `json:"PartyId" xml:"PartyId"`
	Code    []nistCode `json:"Code" xml:"Code"`
}

type nistContest struct {
	ID               string          `json:"@id" xml:"ObjectId,attr"`
	Type             string          `json:"@type" xml:"type,attr"` // xsi:type: CandidateContest, BallotMeasureContest, …
	Name             string          `json:"Name" xml:"Name"`
	Code             []nistCode      `json:"Code" xml:"Code"`
	ContestSelection []nistSelection `json:"ContestSelection" xml:"ContestSelection"`
	VoteVariation    string          `json:"VoteVariation" xml:"VoteVariation"`
	VotesAllowed     int             `json:"VotesAllowed" xml:"VotesAllowed"`
	NumberElected    int             `json:"NumberElected" xml:"NumberElected"`
}

type nistSelection struct {
	ID           string     `json:"@id" xml:"ObjectId,attr"`
	Type         string     `json:"@type" xml:"type,attr"`
	CandidateIDs idrefs     `json:"CandidateIds" xml:"CandidateIds"`
	IsWriteIn    bool       `json:"IsWriteIn" xml:"IsWriteIn"`
	Selection    string     `json:"Selection" xml:"Selection"` // BallotMeasureSelection
	PartyIDs     idrefs     `json:"PartyIds" xml:"PartyIds"`   // PartySelection
	Code         []nistCode `json:"Code" xml:"Code"`
}

type nistGpUnit struct {
	ID   string     `json:"@id" xml:"ObjectId,attr"`
	Name string     `json:"Name" xml:"Name"`
	Code []nistCode `json:"Code" xml:"Code"`
}

type nistParty struct {
	ID           string `json:"@id" xml:"ObjectId,attr"`
	Name         string `json:"Name" xml:"Name"`
	Abbreviation string `json:"Abbreviation" xml:"Abbreviation"`
}

type nistDevice struct {
	ID           string     `json:"@id" xml:"ObjectId,attr"`
	SerialNumber string     `json:"SerialNumber" xml:"SerialNumber"`
	Code         []nistCode `json:"Code" xml:"Code"`
}

type nistCVR struct {
	UniqueID           string         `json:"UniqueId" xml:"UniqueId"`
	BallotAuditID      string         `json:"BallotAuditId" xml:"BallotAuditId"`
	BallotPrePrintedID string         `json:"BallotPrePrintedId" xml:"BallotPrePrintedId"`
	BallotStyleID      string         `json:"BallotStyleId" xml:"BallotStyleId"`
	BallotStyleUnitID  string         `json:"BallotStyleUnitId" xml:"BallotStyleUnitId"`
	BatchID            string         `json:"BatchId" xml:"BatchId"`
	BatchSequenceID    int            `json:"BatchSequenceId" xml:"BatchSequenceId"`
	CreatingDeviceID   string         `json:"CreatingDeviceId" xml:"CreatingDeviceId"`
	CurrentSnapshotID  string         `json:"CurrentSnapshotId" xml:"CurrentSnapshotId"`
	CVRSnapshot        []nistSnapshot `json:"CVRSnapshot" xml:"CVRSnapshot"`
	VxBallotType       string         `json:"vxBallotType" xml:"vxBallotType"` // VotingWorks extension: precinct, absentee, provisional
}

type nistSnapshot struct {
	ID         string           `json:"@id" xml:"ObjectId,attr"`
	Type       string           `json:"Type" xml:"Type"` // original, interpreted, modified
	CVRContest []nistCVRContest `json:"CVRContest" xml:"CVRContest"`
}

type nistCVRContest struct {
	ContestID           string             `json:"ContestId" xml:"ContestId"`
	CVRContestSelection []nistCVRSelection `json:"CVRContestSelection" xml:"CVRContestSelection"`
	Overvotes           int                `json:"Overvotes" xml:"Overvotes"`
	Undervotes          int                `json:"Undervotes" xml:"Undervotes"`
	Status              []string           `json:"Status" xml:"Status"`
}

type nistCVRSelection struct {
	ContestSelectionID string         `json:"ContestSelectionId" xml:"ContestSelectionId"`
	Rank               int            `json:"Rank" xml:"Rank"`
	SelectionPosition  []nistPosition `json:"SelectionPosition" xml:"SelectionPosition"`
}

type nistPosition struct {
	HasIndication string    `json:"HasIndication" xml:"HasIndication"` // yes, no, unknown
	IsAllocable   string    `json:"IsAllocable" xml:"IsAllocable"`     // yes, no, unknown
	NumberVotes   *int      `json:"NumberVotes" xml:"NumberVotes"`
	Rank          int       `json:"Rank" xml:"Rank"`
	CVRWriteIn    *struct{} `json:"CVRWriteIn" xml:"CVRWriteIn"`
}

// idrefs is an xsd:IDREFS: space-separated in XML, an array in JSON.
type idrefs []string

func (r *idrefs) UnmarshalText(b []byte) error {
	*r = strings.Fields(string(b))
	return nil
}

func (r *idrefs) UnmarshalJSON(b []byte) error {
	var a []string
	if err := json.Unmarshal(b, &a); err == nil {
		*r = a
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*r = strings.Fields(s)
	return nil
}

// typeName strips the namespace from an xsi:type ("cdf:CandidateContest")
// or a JSON @type ("CVR.CandidateContest").
func typeName(s string) string {
	if i := strings.LastIndexAny(s, ":."); i >= 0 {
		return s[i+1:]
	}
	return strings.TrimSpace(s)
}

// codeValue is the first non-empty code of an object, "" if none.
func codeValue(codes []nistCode) string {
	for _, c := range codes {
		if v := strings.TrimSpace(c.Value); v != "" {
			return v
		}
	}
	return ""
}
