package tabulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Dominion's JSON CVR export is a directory of files: one or more
// CvrExport*.json (split per batch or per N sessions) and manifests that
// name what the export only numbers. Give the manifests as extra files under
// their exported names (ContestManifest.json, CandidateManifest.json,
// PrecinctPortionManifest.json, BallotTypeManifest.json,
// CountingGroupManifest.json; others are accepted and ignored); they are
// read first whatever their place in the list.
//
//   - Each Session is one ballot. Its Modified element, when present, is the
//     state after adjudication and is read instead of Original.
//   - Contests and marks are listed directly (EMS 5.2) or per card (5.10 and
//     later; a multi-card ballot's cards are one CVR). A mark is a vote only
//     when IsVote is true; IsAmbiguous is carried over; Overvotes > 0 makes
//     the contest Overvoted.
//   - Ids are Dominion's numbers: contest "1", choice "5". With a
//     ContestManifest and CandidateManifest they get the manifests' names,
//     vote-for and ranks (NumOfRanks > 0 is ranked choice), and candidates
//     of Type WriteIn are write-ins. Without them the number is the name,
//     every contest is vote for 1, and a contest is ranked choice when a
//     mark in it (voted or not, original or modified) has a rank above 1 in
//     the first file that has the contest.
//   - The CVR id is "tabulator-batch-record", which is also the imprinted id
//     Dominion prints; RecordId "X" (a ballot whose record number was
//     reassigned) takes the record number from the ImageMask file name
//     (…\00001_00005_000119*.*). Position is the record number.
//   - Precinct, ballot style and counting group are the manifests'
//     Descriptions, or the numbers without them.

type domExport struct {
	Version  string       `json:"Version"`
	Sessions []domSession `json:"Sessions"`
}

type domSession struct {
	TabulatorID            flexID     `json:"TabulatorId"`
	BatchID                flexID     `json:"BatchId"`
	RecordID               flexID     `json:"RecordId"`
	CountingGroupID        flexID     `json:"CountingGroupId"`
	ImageMask              string     `json:"ImageMask"`
	UniqueVotingIdentifier string     `json:"UniqueVotingIdentifier"`
	Original               *domBallot `json:"Original"`
	Modified               *domBallot `json:"Modified"`
}

type domBallot struct {
	PrecinctPortionID flexID           `json:"PrecinctPortionId"`
	BallotTypeID      flexID           `json:"BallotTypeId"`
	Contests          []domJSONContest `json:"Contests"`
	Cards             []struct {
		Contests []domJSONContest `json:"Contests"`
	} `json:"Cards"`
}

type domJSONContest struct {
	ID         flexID    `json:"Id"`
	Undervotes int       `json:"Undervotes"`
	Overvotes  int       `json:"Overvotes"`
	Marks      []domMark `json:"Marks"`
}

type domMark struct {
	CandidateID flexID `json:"CandidateId"`
	Rank        int    `json:"Rank"`
	IsAmbiguous bool   `json:"IsAmbiguous"`
	IsVote      bool   `json:"IsVote"`
}

type domManifest struct {
	List []domManifestItem `json:"List"`
}

type domManifestItem struct {
	Description string `json:"Description"`
	ID          flexID `json:"Id"`
	VoteFor     int    `json:"VoteFor"`
	NumOfRanks  int    `json:"NumOfRanks"`
	ContestID   flexID `json:"ContestId"`
	Type        string `json:"Type"`
}

// flexID is a Dominion id: a JSON number or, sometimes ("X"), a string.
type flexID string

func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexID(n.String())
	return nil
}

// domNames is what the manifests say.
type domNames struct {
	contests   []domManifestItem
	candidates []domManifestItem
	precincts  map[flexID]string
	styles     map[flexID]string
	groups     map[flexID]string
	contest    map[flexID]int                       // Dominion contest id → definition index
	choice     map[flexID]map[flexID]vigil.ChoiceID // contest → candidate → choice
	writeIn    map[flexID]bool                      // candidate ids of write-in lines
}

// domManifestKind tells a manifest from an export by its file name.
func domManifestKind(name string) string {
	base := strings.ToLower(strings.TrimSuffix(path.Base(strings.ReplaceAll(name, "\\", "/")), path.Ext(name)))
	switch base {
	case "contestmanifest", "candidatemanifest", "precinctportionmanifest", "ballottypemanifest", "countinggroupmanifest",
		"partymanifest", "tabulatormanifest", "ballottypecontestmanifest", "districtmanifest", "precinctmanifest",
		"electioneventmanifest", "outstackconditionmanifest", "configuration":
		return base
	}
	return ""
}

// readDominionFiles reads a Dominion export: manifests first, then the CSV
// or JSON CVR files in order.
func (r *Reader) readDominionFiles(files []File, fn func(*vigil.CastVoteRecord) error) error {
	names := &domNames{precincts: map[flexID]string{}, styles: map[flexID]string{}, groups: map[flexID]string{},
		contest: map[flexID]int{}, choice: map[flexID]map[flexID]vigil.ChoiceID{}, writeIn: map[flexID]bool{}}
	var rest []File
	manifests := 0
	for _, f := range files {
		kind := domManifestKind(f.Name)
		if kind == "" {
			rest = append(rest, f)
			continue
		}
		manifests++
		data, err := readAll(opImport, f.Name, f.Reader, r.opt.MaxFileBytes)
		if err != nil {
			return err
		}
		var m domManifest
		if kind != "configuration" {
			doc := &nistDoc{op: opImport, name: f.Name, data: data, json: true}
			if err := json.Unmarshal(data, &m); err != nil {
				return doc.jsonErr(err, "List")
			}
		}
		for i, it := range m.List {
			if it.ID == "" {
				return parseErr(opImport, f.Name, 0, fmt.Sprintf("List[%d].Id", i), "a manifest entry has no Id")
			}
		}
		switch kind {
		case "contestmanifest":
			names.contests = m.List
		case "candidatemanifest":
			names.candidates = m.List
		case "precinctportionmanifest":
			fillNames(names.precincts, m.List)
		case "ballottypemanifest":
			fillNames(names.styles, m.List)
		case "countinggroupmanifest":
			fillNames(names.groups, m.List)
		}
	}
	if len(rest) == 0 {
		return vigil.FieldError(opImport, "files", "only manifests were given; add the CvrExport JSON files")
	}
	if names.candidates != nil && names.contests == nil {
		return parseErr(opImport, "CandidateManifest.json", 0, "", "a CandidateManifest needs its ContestManifest; give both")
	}
	if err := r.domDefine(names); err != nil {
		return err
	}
	for _, f := range rest {
		br := bufio.NewReaderSize(f.Reader, 64<<10)
		if sniff(br) == '{' {
			if err := r.readDominionJSON(File{Name: f.Name, Reader: br}, names, fn); err != nil {
				return err
			}
			continue
		}
		if err := r.readDominion(File{Name: f.Name, Reader: br}, fn); err != nil {
			return err
		}
	}
	return nil
}

func fillNames(m map[flexID]string, list []domManifestItem) {
	for _, it := range list {
		if d := normSpace(it.Description); d != "" {
			m[it.ID] = d
		}
	}
}

// domDefine resolves the manifests' contests and candidates.
func (r *Reader) domDefine(n *domNames) error {
	const file = "ContestManifest.json"
	for i, c := range n.contests {
		name := firstNonEmpty(normSpace(c.Description), string(c.ID))
		proto := vigil.Contest{ID: vigil.ContestID(c.ID), Name: name, VoteFor: max(c.VoteFor, 1)}
		if c.NumOfRanks > 0 {
			if c.NumOfRanks > maxRanks {
				return parseErr(opImport, file, 0, fmt.Sprintf("List[%d].NumOfRanks", i), "NumOfRanks %d is more than the %d ranks vigil counts", c.NumOfRanks, maxRanks)
			}
			proto.Kind, proto.Ranks = vigil.RankedChoice, c.NumOfRanks
		}
		ci, ok := r.def.contests[string(c.ID)]
		if !ok {
			var err error
			if ci, err = r.def.contest(name, proto); err != nil {
				return parseErr(opImport, file, 0, fmt.Sprintf("List[%d]", i), "%v", err)
			}
		}
		n.contest[c.ID] = ci
		n.choice[c.ID] = map[flexID]vigil.ChoiceID{}
	}
	for i, c := range n.candidates {
		ci, ok := n.contest[c.ContestID]
		if !ok {
			return parseErr(opImport, "CandidateManifest.json", 0, fmt.Sprintf("List[%d].ContestId", i), "candidate %s names contest %s, which the ContestManifest does not list", c.ID, c.ContestID)
		}
		name := firstNonEmpty(normSpace(c.Description), string(c.ID))
		t := strings.ToLower(c.Type)
		writeIn := t == "writein" || t == "write-in"
		id, err := r.domChoice(ci, string(c.ID), name, writeIn)
		if err != nil {
			return parseErr(opImport, "CandidateManifest.json", 0, fmt.Sprintf("List[%d]", i), "%v", err)
		}
		n.choice[c.ContestID][c.ID] = id
		n.writeIn[c.ID] = writeIn
	}
	for _, ci := range n.contest {
		if r.def.learn {
			markBallotMeasure(&r.def.e.Contests[ci])
		}
	}
	return nil
}

// domChoice finds a choice by Dominion id, then by name; learning, adds it.
func (r *Reader) domChoice(ci int, id, name string, writeIn bool) (vigil.ChoiceID, error) {
	if j, ok := r.def.choices[ci][id]; ok {
		return r.def.e.Contests[ci].Choices[j].ID, nil
	}
	return r.def.choice(ci, name, vigil.Choice{ID: vigil.ChoiceID(id), Name: name, WriteIn: writeIn || isWriteIn(name)})
}

func (r *Reader) readDominionJSON(f File, names *domNames, fn func(*vigil.CastVoteRecord) error) error {
	data, err := readAll(opImport, f.Name, f.Reader, r.opt.MaxFileBytes)
	if err != nil {
		return err
	}
	doc := &nistDoc{op: opImport, name: f.Name, data: data, json: true, root: "CvrExport"}
	sawSessions := false
	sessions := func(visit func(s *domSession, i, line int) error) error {
		var s domSession
		return doc.walk(func(el *nistElem) error {
			if el.name != "Sessions" {
				return nil
			}
			sawSessions = true
			i := 0
			return el.each(func(line int, decode func(v any) error) error {
				s = domSession{}
				if err := decode(&s); err != nil {
					return err
				}
				i++
				return visit(&s, i, line)
			})
		})
	}
	// Without a ContestManifest only the marks tell a ranked contest.
	ranked := map[flexID]int{}
	if names.contests == nil && r.def.learn {
		err := sessions(func(s *domSession, i, line int) error {
			// Both states: a rank above 1 marks a ranked contest even on a
			// mark adjudication removed.
			orig := *s
			orig.Modified = nil
			for _, c := range append(domContests(s), domContests(&orig)...) {
				for _, m := range c.Marks {
					if m.Rank > maxRanks {
						return parseErr(opImport, f.Name, line, fmt.Sprintf("Sessions[%d].Marks.Rank", i-1), "Rank %d is more than the %d ranks vigil counts", m.Rank, maxRanks)
					}
					ranked[c.ID] = max(ranked[c.ID], m.Rank)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if !sawSessions {
			return parseErr(opImport, f.Name, 1, "Sessions", "no Sessions array; is this a Dominion CvrExport JSON file?")
		}
	}
	var cvr vigil.CastVoteRecord
	err = sessions(func(s *domSession, i, line int) error {
		if err := r.domSession(f.Name, s, i-1, line, names, ranked, &cvr); err != nil {
			return err
		}
		return r.emit(f.Name, line, &cvr, fn)
	})
	if err != nil {
		return err
	}
	if !sawSessions {
		return parseErr(opImport, f.Name, 1, "Sessions", "no Sessions array; is this a Dominion CvrExport JSON file?")
	}
	return nil
}

// domContests lists the contests of the state a session counts with.
func domContests(s *domSession) []domJSONContest {
	b := s.Original
	if s.Modified != nil {
		b = s.Modified
	}
	if b == nil {
		return nil
	}
	if len(b.Cards) == 0 {
		return b.Contests
	}
	var out []domJSONContest
	out = append(out, b.Contests...)
	for _, c := range b.Cards {
		out = append(out, c.Contests...)
	}
	return out
}

func (r *Reader) domSession(file string, s *domSession, i, line int, names *domNames, ranked map[flexID]int, cvr *vigil.CastVoteRecord) error {
	at := fmt.Sprintf("Sessions[%d]", i)
	errf := func(field, format string, args ...any) error {
		return parseErr(opImport, file, line, at+"."+field, format, args...)
	}
	b := s.Original
	if s.Modified != nil {
		b = s.Modified
	}
	if b == nil {
		return errf("Original", "the session has neither Original nor Modified; every session needs its ballot")
	}
	if s.TabulatorID == "" || s.BatchID == "" {
		return errf("TabulatorId", "the session needs a TabulatorId and a BatchId")
	}
	rec := string(s.RecordID)
	if rec == "" || !allDigits(rec) {
		rec = domRecordFromMask(s.ImageMask)
		if rec == "" {
			return errf("RecordId", "RecordId is %q and the ImageMask %q does not end in tabulator_batch_record; cannot tell which ballot this is", s.RecordID, s.ImageMask)
		}
	}
	pos, err := strconv.Atoi(rec)
	if err != nil || pos < 0 {
		return errf("RecordId", "record number %q is not a whole number", rec)
	}
	id := string(s.TabulatorID) + "-" + string(s.BatchID) + "-" + strconv.Itoa(pos)
	lookup := func(m map[flexID]string, k flexID) string {
		if v, ok := m[k]; ok {
			return v
		}
		return string(k)
	}
	*cvr = vigil.CastVoteRecord{ID: vigil.CVRID(id), Tabulator: string(s.TabulatorID), Batch: string(s.BatchID), Position: pos, ImprintedID: id,
		BallotStyle: vigil.BallotStyleID(lookup(names.styles, b.BallotTypeID)), Precinct: vigil.PrecinctID(lookup(names.precincts, b.PrecinctPortionID)),
		CountingGroup: lookup(names.groups, s.CountingGroupID), Contests: cvr.Contests[:0]}
	for k, c := range domContests(s) {
		cat := fmt.Sprintf("Contests[%d]", k)
		ci, err := r.domContest(c.ID, names, ranked)
		if err != nil {
			return errf(cat+".Id", "%v", err)
		}
		con := &r.def.e.Contests[ci]
		cv := vigil.ContestVote{Contest: con.ID, Overvoted: c.Overvotes > 0, Undervotes: max(c.Undervotes, 0)}
		if len(cvr.Contests) < cap(cvr.Contests) {
			cv.Marks = cvr.Contests[: len(cvr.Contests)+1 : len(cvr.Contests)+1][len(cvr.Contests)].Marks[:0]
		}
		for j := range cvr.Contests {
			if cvr.Contests[j].Contest == con.ID {
				return errf(cat+".Id", "contest %s appears twice on one ballot", c.ID)
			}
		}
		for j, m := range c.Marks {
			if !m.IsVote {
				continue
			}
			choice, err := r.domCandidate(ci, c.ID, m.CandidateID, names)
			if err != nil {
				return errf(fmt.Sprintf("%s.Marks[%d].CandidateId", cat, j), "%v", err)
			}
			rank := 0
			if con.Kind == vigil.RankedChoice {
				rank = max(m.Rank, 1)
				if rank > con.Ranks {
					return errf(fmt.Sprintf("%s.Marks[%d].Rank", cat, j), "Rank %d is beyond the %d ranks contest %q offers", m.Rank, con.Ranks, con.Name)
				}
			} else if m.Rank > 1 {
				return errf(fmt.Sprintf("%s.Marks[%d].Rank", cat, j), "Rank %d in contest %q, which was read as not ranked choice; give the ContestManifest.json", m.Rank, con.Name)
			}
			cv.Marks = append(cv.Marks, vigil.Mark{Choice: choice, Rank: rank, WriteIn: names.writeIn[m.CandidateID], Ambiguous: m.IsAmbiguous})
		}
		cvr.Contests = append(cvr.Contests, cv)
	}
	return nil
}

// domRecordFromMask reads the record number from an ImageMask such as
// "D:\…\Images\00001_00005_000119*.*".
func domRecordFromMask(mask string) string {
	base := mask[strings.LastIndexAny(mask, `\/`)+1:]
	parts := strings.Split(base, "_")
	if len(parts) < 3 {
		return ""
	}
	rec := strings.TrimRight(parts[2], "*.")
	rec = strings.TrimLeft(rec, "0")
	if rec == "" && strings.Trim(parts[2], "*.") != "" {
		rec = "0"
	}
	if rec == "" || !allDigits(rec) || len(rec) > 18 {
		return ""
	}
	return rec
}

func (r *Reader) domContest(id flexID, names *domNames, ranked map[flexID]int) (int, error) {
	if ci, ok := names.contest[id]; ok {
		return ci, nil
	}
	if names.contests != nil {
		return 0, fmt.Errorf("contest %s is not in the ContestManifest", id)
	}
	if id == "" {
		return 0, fmt.Errorf("a contest has no Id")
	}
	proto := vigil.Contest{ID: vigil.ContestID(id), Name: string(id), VoteFor: 1}
	if ranked[id] > 1 {
		proto.Kind, proto.Ranks = vigil.RankedChoice, ranked[id]
	}
	ci, ok := r.def.contests[string(id)]
	if !ok {
		var err error
		if ci, err = r.def.contest(string(id), proto); err != nil {
			return 0, err
		}
	}
	names.contest[id] = ci
	names.choice[id] = map[flexID]vigil.ChoiceID{}
	return ci, nil
}

func (r *Reader) domCandidate(ci int, contest, id flexID, names *domNames) (vigil.ChoiceID, error) {
	if ch, ok := names.choice[contest][id]; ok {
		return ch, nil
	}
	if names.candidates != nil {
		return "", fmt.Errorf("candidate %s of contest %s is not in the CandidateManifest", id, contest)
	}
	if id == "" {
		return "", fmt.Errorf("a mark has no CandidateId")
	}
	ch, err := r.domChoice(ci, string(id), string(id), false)
	if err != nil {
		return "", err
	}
	names.choice[contest][id] = ch
	return ch, nil
}
