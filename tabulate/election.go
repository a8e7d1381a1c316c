package tabulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vigil-elections/vigil"
)

// ParseElection reads an election definition: a NIST SP 1500-100 v2
// ElectionReport (XML, or JSON with "@type": "ElectionResults.ElectionReport")
// or vigil's own JSON (the json tags of vigil.Election). The result is
// validated with vigil.Election.Validate. Options.MaxFileBytes bounds the
// file; the other options are not used.
//
// From a NIST report the first Election is read: contests with their
// ObjectIds as ids (a BallotMeasureContest or RetentionContest is a ballot
// measure; VoteVariation "rcv" is ranked choice, VotesAllowed giving the
// ranks and NumberElected the seats), selections named after their
// candidates' BallotNames (" / " between a ticket's), their Selection text
// or their parties; the GpUnits of type precinct or split-precinct become
// precincts, each contest's ElectionDistrictId a district made of the
// precincts it is composed of (through ComposingGpUnitIds, to any depth),
// and each BallotStyle a ballot style named by its first
// ExternalIdentifier (else "style-N") with its precinct GpUnitIds and its
// OrderedContest contests.
func ParseElection(f File, opt Options) (*vigil.Election, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = defaultMaxFile
	}
	br := bufio.NewReaderSize(f.Reader, 4096)
	first := sniff(br)
	data, err := readAll(opElection, f.Name, br, opt.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	var e *vigil.Election
	switch {
	case first == '<':
		e, err = parseNISTElection(&nistDoc{op: opElection, name: f.Name, data: data, root: "ElectionReport"})
	case first == '{' && isNISTJSON(data):
		e, err = parseNISTElection(&nistDoc{op: opElection, name: f.Name, data: data, json: true, root: "ElectionReport"})
	case first == '{':
		e = new(vigil.Election)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(e); err != nil {
			doc := &nistDoc{op: opElection, name: f.Name, data: data, json: true}
			if strings.HasPrefix(err.Error(), "json: unknown field") {
				return nil, parseErr(opElection, f.Name, doc.lineAt(dec.InputOffset()), "", "%s; vigil's election JSON has id, name, date, contests, ballotStyles, precincts and districts", strings.TrimPrefix(err.Error(), "json: "))
			}
			return nil, doc.jsonErr(err, "")
		}
	default:
		return nil, parseErr(opElection, f.Name, 1, "", "an election definition is a JSON object or an XML ElectionReport; this file starts with neither")
	}
	if err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		field := ""
		if ve, ok := err.(*vigil.Error); ok {
			field = ve.Field
			err = fmt.Errorf("%s", ve.Message)
		}
		return nil, parseErr(opElection, f.Name, 0, field, "the definition is not valid: %v", err)
	}
	return e, nil
}

// isNISTJSON tells a NIST JSON report from vigil's JSON by its @type.
func isNISTJSON(data []byte) bool {
	var probe struct {
		Type string `json:"@type"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&probe); err != nil {
		return bytes.Contains(data[:min(len(data), 4096)], []byte(`"ElectionResults.`))
	}
	return strings.HasPrefix(probe.Type, "ElectionResults.")
}

// The part of NIST SP 1500-100 v2 that defines an election.
type errElection struct {
	Name        errText        `json:"Name" xml:"Name"`
	StartDate   string         `json:"StartDate" xml:"StartDate"`
	Candidate   []errCandidate `json:"Candidate" xml:"Candidate"`
	Contest     []errContest   `json:"Contest" xml:"Contest"`
	BallotStyle []struct {
		ExternalIdentifier []nistCode `json:"ExternalIdentifier" xml:"ExternalIdentifier"`
		GpUnitIDs          idrefs     `json:"GpUnitIds" xml:"GpUnitIds"`
		OrderedContent     []struct {
			ContestID string `json:"ContestId" xml:"ContestId"`
		} `json:"OrderedContent" xml:"OrderedContent"`
	} `json:"BallotStyle" xml:"BallotStyle"`
	ExternalIdentifier []nistCode `json:"ExternalIdentifier" xml:"ExternalIdentifier"`
}

type errCandidate struct {
	ID         string  `json:"@id" xml:"ObjectId,attr"`
	BallotName errText `json:"BallotName" xml:"BallotName"`
	PartyID    string  `json:"PartyId" xml:"PartyId"`
}

type errContest struct {
	ID               string `json:"@id" xml:"ObjectId,attr"`
	Type             string `json:"@type" xml:"type,attr"`
	Name             string `json:"Name" xml:"Name"`
	ContestSelection []struct {
		ID           string  `json:"@id" xml:"ObjectId,attr"`
		CandidateIDs idrefs  `json:"CandidateIds" xml:"CandidateIds"`
		PartyIDs     idrefs  `json:"PartyIds" xml:"PartyIds"`
		IsWriteIn    bool    `json:"IsWriteIn" xml:"IsWriteIn"`
		Selection    errText `json:"Selection" xml:"Selection"`
	} `json:"ContestSelection" xml:"ContestSelection"`
	ElectionDistrictID string `json:"ElectionDistrictId" xml:"ElectionDistrictId"`
	VoteVariation      string `json:"VoteVariation" xml:"VoteVariation"`
	VotesAllowed       int    `json:"VotesAllowed" xml:"VotesAllowed"`
	NumberElected      int    `json:"NumberElected" xml:"NumberElected"`
}

type errGpUnit struct {
	ID                 string  `json:"@id" xml:"ObjectId,attr"`
	Name               errText `json:"Name" xml:"Name"`
	Type               string  `json:"Type" xml:"Type"`
	ComposingGpUnitIDs idrefs  `json:"ComposingGpUnitIds" xml:"ComposingGpUnitIds"`
}

type errParty struct {
	ID   string  `json:"@id" xml:"ObjectId,attr"`
	Name errText `json:"Name" xml:"Name"`
}

// errText is an InternationalizedText; a plain string is accepted too.
type errText struct {
	Text []struct {
		Content  string `json:"Content" xml:",chardata"`
		Language string `json:"Language" xml:"Language,attr"`
	} `json:"Text" xml:"Text"`
	Plain string `json:"-" xml:",chardata"`
}

func (t *errText) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &t.Plain)
	}
	type plain errText
	return json.Unmarshal(b, (*plain)(t))
}

// String prefers English, then the first text.
func (t errText) String() string {
	for _, x := range t.Text {
		if strings.HasPrefix(strings.ToLower(x.Language), "en") && normSpace(x.Content) != "" {
			return normSpace(x.Content)
		}
	}
	for _, x := range t.Text {
		if s := normSpace(x.Content); s != "" {
			return s
		}
	}
	return normSpace(t.Plain)
}

func parseNISTElection(doc *nistDoc) (*vigil.Election, error) {
	var elections []errElection
	var units []errGpUnit
	var parties []errParty
	err := doc.walk(func(el *nistElem) error {
		switch el.name {
		case "Election":
			return el.each(func(_ int, decode func(v any) error) error {
				var v errElection
				err := decode(&v)
				elections = append(elections, v)
				return err
			})
		case "GpUnit":
			return el.each(func(_ int, decode func(v any) error) error {
				var v errGpUnit
				err := decode(&v)
				units = append(units, v)
				return err
			})
		case "Party":
			return el.each(func(_ int, decode func(v any) error) error {
				var v errParty
				err := decode(&v)
				parties = append(parties, v)
				return err
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(elections) == 0 {
		return nil, parseErr(doc.op, doc.name, 0, "Election", "the report defines no Election")
	}
	src := elections[0]
	e := &vigil.Election{ID: codeValue(src.ExternalIdentifier), Name: src.Name.String(), Date: strings.TrimSpace(src.StartDate)}
	partyName := map[string]string{}
	for _, p := range parties {
		partyName[p.ID] = firstNonEmpty(p.Name.String(), p.ID)
	}
	candidates := map[string]errCandidate{}
	for _, c := range src.Candidate {
		candidates[c.ID] = c
	}
	unit := map[string]*errGpUnit{}
	isPrecinct := map[string]bool{}
	for i := range units {
		u := &units[i]
		unit[u.ID] = u
		if t := strings.TrimSpace(u.Type); t == "precinct" || t == "split-precinct" {
			isPrecinct[u.ID] = true
			e.Precincts = append(e.Precincts, vigil.Precinct{ID: vigil.PrecinctID(u.ID), Name: u.Name.String()})
		}
	}
	// precinctsOf lists the precincts a GpUnit is made of, at any depth.
	precinctsOf := func(id string) []vigil.PrecinctID {
		var out []vigil.PrecinctID
		seen := map[string]bool{}
		stack := []string{id}
		for len(stack) > 0 {
			g := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[g] {
				continue
			}
			seen[g] = true
			if isPrecinct[g] {
				out = append(out, vigil.PrecinctID(g))
			}
			if u := unit[g]; u != nil {
				stack = append(stack, u.ComposingGpUnitIDs...)
			}
		}
		return out
	}
	districts := map[string]bool{}
	for i, c := range src.Contest {
		path := fmt.Sprintf("Election.Contest[%d]", i)
		con := vigil.Contest{ID: vigil.ContestID(c.ID), Name: firstNonEmpty(normSpace(c.Name), c.ID), VoteFor: max(c.VotesAllowed, 1)}
		switch t := typeName(c.Type); {
		case t == "BallotMeasureContest" || t == "RetentionContest":
			con.Kind, con.VoteFor = vigil.BallotMeasure, 1
		case strings.EqualFold(strings.TrimSpace(c.VoteVariation), "rcv"):
			con.Kind, con.VoteFor = vigil.RankedChoice, max(c.NumberElected, 1)
			con.Ranks = c.VotesAllowed
			if con.Ranks <= 1 {
				con.Ranks = len(c.ContestSelection)
			}
			if con.Ranks > maxRanks {
				return nil, parseErr(doc.op, doc.name, 0, path+".VotesAllowed", "%d ranks is more than the %d vigil counts", con.Ranks, maxRanks)
			}
		}
		if d := strings.TrimSpace(c.ElectionDistrictID); d != "" {
			con.District = vigil.DistrictID(d)
			if !districts[d] {
				districts[d] = true
				name := d
				if u := unit[d]; u != nil {
					name = firstNonEmpty(u.Name.String(), d)
				}
				e.Districts = append(e.Districts, vigil.District{ID: vigil.DistrictID(d), Name: name, Precincts: precinctsOf(d)})
			}
		}
		for _, s := range c.ContestSelection {
			var names, ps []string
			for _, id := range s.CandidateIDs {
				if cand, ok := candidates[id]; ok {
					names = append(names, firstNonEmpty(cand.BallotName.String(), id))
					if p := partyName[cand.PartyID]; p != "" {
						ps = append(ps, p)
					}
				}
			}
			for _, id := range s.PartyIDs {
				if p := partyName[id]; p != "" {
					ps = append(ps, p)
				}
			}
			name := strings.Join(names, " / ")
			if name == "" && len(s.PartyIDs) > 0 {
				name = strings.Join(ps, " / ")
			}
			name = firstNonEmpty(name, s.Selection.String())
			if name == "" && s.IsWriteIn {
				name = "Write-in"
			}
			con.Choices = append(con.Choices, vigil.Choice{ID: vigil.ChoiceID(s.ID), Name: firstNonEmpty(name, s.ID), Party: strings.Join(ps, " / "), WriteIn: s.IsWriteIn})
		}
		e.Contests = append(e.Contests, con)
	}
	for _, d := range e.Districts {
		if unit[string(d.ID)] == nil {
			return nil, parseErr(doc.op, doc.name, 0, "ElectionDistrictId", "ElectionDistrictId %q names no GpUnit of the report", d.ID)
		}
	}
	for i, bs := range src.BallotStyle {
		style := vigil.BallotStyle{ID: vigil.BallotStyleID(firstNonEmpty(codeValue(bs.ExternalIdentifier), fmt.Sprintf("style-%d", i+1)))}
		for _, g := range bs.GpUnitIDs {
			style.Precincts = append(style.Precincts, precinctsOf(g)...)
		}
		for _, oc := range bs.OrderedContent {
			if id := strings.TrimSpace(oc.ContestID); id != "" {
				style.Contests = append(style.Contests, vigil.ContestID(id))
			}
		}
		e.BallotStyles = append(e.BallotStyles, style)
	}
	return e, nil
}
