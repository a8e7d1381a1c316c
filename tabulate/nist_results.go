package tabulate

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/vigil-elections/vigil"
)

// NISTExport describes the report WriteNISTXML and WriteNISTJSON write.
type NISTExport struct {
	Issuer             string    // who publishes the results, e.g. "Story County Auditor"
	IssuerAbbreviation string    // e.g. "IA-Story"
	Generated          time.Time // when the report was made; required (no clock is read here)
	Date               string    // election date YYYY-MM-DD; default the Generated date
	// Election, when set, is the definition counted; its write-in choices
	// are exported with IsWriteIn. Without it a choice named like a
	// write-in line ("Write-in", "WRITE-IN 2") is taken as one.
	Election *vigil.Election
	// Status is a ResultsStatus: unofficial-partial, unofficial-complete
	// (the default), certified, recount, correction.
	Status string
}

// errVigilID and errCheckpoint are the OtherType of the ExternalIdentifiers
// that carry a contest's vigil id and the results' log checkpoint.
const (
	errVigilID    = "vigil-id"
	errCheckpoint = "vigil-log-checkpoint"
	errNS         = "http://itl.nist.gov/ns/voting/1500-100/v2"
)

// Report types: field order follows the XSD's xsd:sequence, which XML
// validation enforces. XSIType is the xsi:type in XML; JSONType the @type
// in JSON.
type errReport struct {
	XMLName             xml.Name      `xml:"ElectionReport" json:"-"`
	XMLNS               string        `xml:"xmlns,attr" json:"-"`
	XSI                 string        `xml:"xmlns:xsi,attr" json:"-"`
	JSONType            string        `xml:"-" json:"@type"`
	Election            []errOutElect `xml:"Election" json:"Election"`
	ExternalIdentifier  []errExtID    `xml:"ExternalIdentifier,omitempty" json:"ExternalIdentifier,omitempty"`
	Format              string        `xml:"Format" json:"Format"`
	GeneratedDate       string        `xml:"GeneratedDate" json:"GeneratedDate"`
	GpUnit              []errOutUnit  `xml:"GpUnit" json:"GpUnit"`
	Issuer              string        `xml:"Issuer" json:"Issuer"`
	IssuerAbbreviation  string        `xml:"IssuerAbbreviation" json:"IssuerAbbreviation"`
	SequenceStart       int           `xml:"SequenceStart" json:"SequenceStart"`
	SequenceEnd         int           `xml:"SequenceEnd" json:"SequenceEnd"`
	Status              string        `xml:"Status" json:"Status"`
	VendorApplicationID string        `xml:"VendorApplicationId" json:"VendorApplicationId"`
}

type errOutElect struct {
	JSONType        string          `xml:"-" json:"@type"`
	Candidate       []errOutCand    `xml:"Candidate,omitempty" json:"Candidate,omitempty"`
	Contest         []errOutContest `xml:"Contest" json:"Contest"`
	ElectionScopeID string          `xml:"ElectionScopeId" json:"ElectionScopeId"`
	Name            errOutText      `xml:"Name" json:"Name"`
	StartDate       string          `xml:"StartDate" json:"StartDate"`
	EndDate         string          `xml:"EndDate" json:"EndDate"`
	Type            string          `xml:"Type" json:"Type"`
	OtherType       string          `xml:"OtherType,omitempty" json:"OtherType,omitempty"`
}

type errOutCand struct {
	ID         string     `xml:"ObjectId,attr" json:"@id"`
	JSONType   string     `xml:"-" json:"@type"`
	BallotName errOutText `xml:"BallotName" json:"BallotName"`
}

type errOutContest struct {
	ID                 string        `xml:"ObjectId,attr" json:"@id"`
	XSIType            string        `xml:"xsi:type,attr" json:"-"`
	JSONType           string        `xml:"-" json:"@type"`
	ContestSelection   []errOutSel   `xml:"ContestSelection" json:"ContestSelection"`
	ElectionDistrictID string        `xml:"ElectionDistrictId" json:"ElectionDistrictId"`
	ExternalIdentifier []errExtID    `xml:"ExternalIdentifier" json:"ExternalIdentifier"`
	Name               string        `xml:"Name" json:"Name"`
	OtherCounts        []errOutOther `xml:"OtherCounts" json:"OtherCounts"`
	VoteVariation      string        `xml:"VoteVariation,omitempty" json:"VoteVariation,omitempty"`
	NumberElected      int           `xml:"NumberElected,omitempty" json:"NumberElected,omitempty"`
	VotesAllowed       int           `xml:"VotesAllowed,omitempty" json:"VotesAllowed,omitempty"` // CandidateContest only
}

type errOutSel struct {
	ID           string        `xml:"ObjectId,attr" json:"@id"`
	XSIType      string        `xml:"xsi:type,attr" json:"-"`
	JSONType     string        `xml:"-" json:"@type"`
	VoteCounts   []errOutCount `xml:"VoteCounts" json:"VoteCounts"`
	CandidateIDs string        `xml:"CandidateIds,omitempty" json:"-"`
	CandidateArr []string      `xml:"-" json:"CandidateIds,omitempty"`
	IsWriteIn    bool          `xml:"IsWriteIn,omitempty" json:"IsWriteIn,omitempty"`
	Selection    *errOutText   `xml:"Selection,omitempty" json:"Selection,omitempty"` // BallotMeasureSelection
}

type errOutCount struct {
	JSONType string `xml:"-" json:"@type"`
	GpUnitID string `xml:"GpUnitId" json:"GpUnitId"`
	Round    int    `xml:"Round,omitempty" json:"Round,omitempty"`
	Type     string `xml:"Type" json:"Type"`
	Count    int64  `xml:"Count" json:"Count"`
}

type errOutOther struct {
	JSONType   string `xml:"-" json:"@type"`
	GpUnitID   string `xml:"GpUnitId" json:"GpUnitId"`
	Overvotes  int64  `xml:"Overvotes" json:"Overvotes"`
	Undervotes int64  `xml:"Undervotes" json:"Undervotes"`
}

type errOutUnit struct {
	ID        string     `xml:"ObjectId,attr" json:"@id"`
	XSIType   string     `xml:"xsi:type,attr" json:"-"`
	JSONType  string     `xml:"-" json:"@type"`
	Name      errOutText `xml:"Name" json:"Name"`
	Type      string     `xml:"Type" json:"Type"`
	OtherType string     `xml:"OtherType,omitempty" json:"OtherType,omitempty"`
}

type errExtID struct {
	JSONType  string `xml:"-" json:"@type"`
	Type      string `xml:"Type" json:"Type"`
	OtherType string `xml:"OtherType,omitempty" json:"OtherType,omitempty"`
	Value     string `xml:"Value" json:"Value"`
}

type errOutText struct {
	JSONType string          `xml:"-" json:"@type"`
	Text     []errOutLangStr `xml:"Text" json:"Text"`
}

type errOutLangStr struct {
	JSONType string `xml:"-" json:"@type"`
	Language string `xml:"Language,attr" json:"Language"`
	Content  string `xml:",chardata" json:"Content"`
}

func errText1(s string) errOutText {
	return errOutText{JSONType: "ElectionResults.InternationalizedText", Text: []errOutLangStr{{JSONType: "ElectionResults.LanguageString", Language: "en", Content: s}}}
}

// nistReport builds the report. Object ids are generated ("vc1", "vc1-s2")
// because vigil ids need not be XML names; each contest carries its vigil
// id as an ExternalIdentifier of OtherType "vigil-id". Totals are counted
// against the election-scope GpUnit; ByPrecinct groups, when the tally
// kept them, add one GpUnit (type precinct) and one count each
// (Format precinct-level). A ranked-choice contest's counts are its first
// round; later rounds are added with their Round number. Results.Checkpoint,
// when set, is an ExternalIdentifier of the report with OtherType
// "vigil-log-checkpoint".
func (r *Results) nistReport(opt NISTExport) (*errReport, error) {
	if opt.Generated.IsZero() {
		return nil, vigil.FieldError("results.export", "generated", "the report needs the time it was generated")
	}
	if opt.Status == "" {
		opt.Status = "unofficial-complete"
	}
	if opt.Date == "" {
		opt.Date = opt.Generated.Format(time.DateOnly)
	}
	if opt.Issuer == "" {
		opt.Issuer = "vigil"
	}
	if opt.IssuerAbbreviation == "" {
		opt.IssuerAbbreviation = opt.Issuer
	}
	rep := &errReport{XMLNS: errNS, XSI: "http://www.w3.org/2001/XMLSchema-instance", JSONType: "ElectionResults.ElectionReport",
		Format: "summary-contest", GeneratedDate: opt.Generated.UTC().Format("2006-01-02T15:04:05Z"),
		Issuer: opt.Issuer, IssuerAbbreviation: opt.IssuerAbbreviation, SequenceStart: 1, SequenceEnd: 1, Status: opt.Status, VendorApplicationID: "vigil"}
	if r.Checkpoint != "" {
		rep.ExternalIdentifier = []errExtID{{JSONType: "ElectionResults.ExternalIdentifier", Type: "other", OtherType: errCheckpoint, Value: r.Checkpoint}}
	}
	const scope = "vg-scope"
	rep.GpUnit = append(rep.GpUnit, errOutUnit{ID: scope, XSIType: "ReportingUnit", JSONType: "ElectionResults.ReportingUnit", Name: errText1(r.Election), Type: "other", OtherType: "election-scope"})
	// Precinct groups: GpUnit ids by group name, and each group's counts by contest id.
	precinct := map[string]string{}
	byContest := map[vigil.ContestID][]struct {
		unit string
		c    ContestResult
	}{}
	for _, g := range r.Groups {
		if g.By != ByPrecinct {
			continue
		}
		rep.Format = "precinct-level"
		id := "vg-p" + strconv.Itoa(len(precinct)+1)
		precinct[g.Name] = id
		rep.GpUnit = append(rep.GpUnit, errOutUnit{ID: id, XSIType: "ReportingUnit", JSONType: "ElectionResults.ReportingUnit", Name: errText1(g.Name), Type: "precinct"})
		for _, c := range g.Contests {
			byContest[c.ID] = append(byContest[c.ID], struct {
				unit string
				c    ContestResult
			}{id, c})
		}
	}
	el := errOutElect{JSONType: "ElectionResults.Election", ElectionScopeID: scope, Name: errText1(r.Election), StartDate: opt.Date, EndDate: opt.Date, Type: "other", OtherType: "unspecified"}
	count := func(unit string, round int, v int64) errOutCount {
		return errOutCount{JSONType: "ElectionResults.VoteCounts", GpUnitID: unit, Round: round, Type: "total", Count: v}
	}
	for i, c := range r.Contests {
		cid := "vc" + strconv.Itoa(i+1)
		con := errOutContest{ID: cid, ElectionDistrictID: scope, Name: c.Name,
			ExternalIdentifier: []errExtID{{JSONType: "ElectionResults.ExternalIdentifier", Type: "other", OtherType: errVigilID, Value: string(c.ID)}},
			OtherCounts:        []errOutOther{{JSONType: "ElectionResults.OtherCounts", GpUnitID: scope, Overvotes: c.Overvotes, Undervotes: c.Undervotes}}}
		for _, g := range byContest[c.ID] {
			con.OtherCounts = append(con.OtherCounts, errOutOther{JSONType: "ElectionResults.OtherCounts", GpUnitID: g.unit, Overvotes: g.c.Overvotes, Undervotes: g.c.Undervotes})
		}
		measure := c.Kind == vigil.BallotMeasure
		if measure {
			con.XSIType = "BallotMeasureContest"
		} else {
			con.XSIType = "CandidateContest"
			con.VotesAllowed, con.VoteVariation = c.VoteFor, "n-of-m"
			if c.VoteFor == 1 {
				con.VoteVariation = "plurality"
			}
			if c.Kind == vigil.RankedChoice {
				con.VoteVariation, con.NumberElected = "rcv", c.VoteFor
				con.VotesAllowed = max(len(c.Choices), 1)
			}
		}
		con.JSONType = "ElectionResults." + con.XSIType
		for j, ch := range c.Choices {
			sel := errOutSel{ID: fmt.Sprintf("%s-s%d", cid, j+1), VoteCounts: []errOutCount{count(scope, 0, ch.Votes)}}
			if c.IRV != nil {
				sel.VoteCounts[0].Round = 1
				for k, rd := range c.IRV.Rounds[min(1, len(c.IRV.Rounds)):] {
					for _, v := range rd.Votes {
						if v.ID == ch.ID {
							sel.VoteCounts = append(sel.VoteCounts, count(scope, k+2, v.Votes))
						}
					}
				}
			}
			for _, g := range byContest[c.ID] {
				for _, gc := range g.c.Choices {
					if gc.ID == ch.ID {
						sel.VoteCounts = append(sel.VoteCounts, count(g.unit, 0, gc.Votes))
					}
				}
			}
			if measure {
				sel.XSIType = "BallotMeasureSelection"
				t := errText1(ch.Name)
				sel.Selection = &t
			} else {
				sel.XSIType = "CandidateSelection"
				kid := fmt.Sprintf("%s-k%d", cid, j+1)
				sel.CandidateIDs, sel.CandidateArr = kid, []string{kid}
				sel.IsWriteIn = isWriteIn(ch.Name)
				if opt.Election != nil {
					if ec := opt.Election.Contest(c.ID); ec != nil {
						if ech := ec.Choice(ch.ID); ech != nil {
							sel.IsWriteIn = ech.WriteIn
						}
					}
				}
				el.Candidate = append(el.Candidate, errOutCand{ID: kid, JSONType: "ElectionResults.Candidate", BallotName: errText1(ch.Name)})
			}
			sel.JSONType = "ElectionResults." + sel.XSIType
			con.ContestSelection = append(con.ContestSelection, sel)
		}
		el.Contest = append(el.Contest, con)
	}
	rep.Election = []errOutElect{el}
	return rep, nil
}

// WriteNISTXML writes the results as a NIST SP 1500-100 v2 ElectionReport
// that validates against NIST_V2_election_results_reporting.xsd.
func (r *Results) WriteNISTXML(w io.Writer, opt NISTExport) error {
	rep, err := r.nistReport(opt)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n")
	return err
}

// WriteNISTJSON writes the same report in the NIST v2 JSON encoding.
func (r *Results) WriteNISTJSON(w io.Writer, opt NISTExport) error {
	rep, err := r.nistReport(opt)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
