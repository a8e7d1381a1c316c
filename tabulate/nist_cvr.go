package tabulate

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// A NIST SP 1500-103 CastVoteRecordReport, JSON or XML (told apart by the
// first byte), is read like this:
//
//   - Ids. A contest's vigil id is its Contest ObjectId ("_1GO"), a
//     choice's its ContestSelection ObjectId; names come from the Contest
//     Name (else its first Code, else the ObjectId) and from the
//     selection's candidates' Names (joined with " / " for a ticket), its
//     ballot measure Selection or its parties. With Options.Election a
//     contest or choice is matched by ObjectId first, then by name.
//   - The CVR's id is its UniqueId, else BallotPrePrintedId, else
//     BallotAuditId, else CurrentSnapshotId, else the ObjectId of the
//     snapshot read (ObjectIds are unique within a report). BallotStyleId is the ballot style;
//     BallotStyleUnitId (a GpUnit) is the precinct, as the ObjectId — or as
//     the id of the Options.Election precinct whose id or name is that
//     GpUnit's ObjectId, Name or Code. CreatingDeviceId gives the
//     tabulator (the ReportingDevice's SerialNumber, else its ObjectId),
//     BatchId and BatchSequenceId the batch and position; VotingWorks'
//     vxBallotType extension is the counting group.
//   - Snapshot. A CVR may hold several CVRSnapshots. The one read is the
//     latest stage of interpretation present: a "modified" snapshot (after
//     adjudication) over an "interpreted" one (after contest rules) over
//     the "original" scan. Among snapshots of that type, the one
//     CurrentSnapshotId names wins, else the last. So adjudication is
//     always honoured, and a raw scan is only counted when nothing else
//     was exported.
//   - Votes. A SelectionPosition is a vote when IsAllocable is "yes"; when
//     IsAllocable is "no" it is not; when it is "unknown" or absent (an
//     original snapshot, a write-in awaiting adjudication) it is a vote if
//     HasIndication is "yes". NumberVotes > 1 (cumulative voting) gives as
//     many marks. A contest with Overvotes > 0 or Status "overvoted" is
//     Overvoted; Undervotes is carried over.
//   - Write-ins. A selection position with CVRWriteIn, or whose
//     ContestSelection has IsWriteIn, is a write-in mark. A write-in
//     without ContestSelectionId counts for the contest's write-in
//     selection, or, if it defines none, for a learned "Write-in" choice.
//   - Ranked choice. Rank comes from SelectionPosition (else
//     CVRContestSelection); an unranked vote in a ranked contest is a first
//     choice, and ranks in other contests are dropped. A contest is ranked choice when its
//     VoteVariation is "rcv", or, when it declares no VoteVariation, when
//     its CVRs rank a choice second or lower; Ranks is the highest rank
//     seen (at least the number of selections for a declared rcv contest
//     without ranks) and VoteFor is NumberElected (default 1).

const (
	maxNumberVotes = 1000 // one selection's NumberVotes; cumulative voting never comes near
	// maxRanks bounds a rank: a runoff looks at every rank up to the
	// highest, so an absurd rank must not reach the tally.
	maxRanks = 1000
)

func (r *Reader) readNIST(f File, fn func(*vigil.CastVoteRecord) error) error {
	br := bufio.NewReaderSize(f.Reader, 4096)
	first := sniff(br)
	if first != '{' && first != '<' {
		return parseErr(opImport, f.Name, 1, "", "a NIST SP 1500-103 report is a JSON object or an XML document; this file starts with neither")
	}
	data, err := readAll(opImport, f.Name, br, r.opt.MaxFileBytes)
	if err != nil {
		return err
	}
	doc := &nistDoc{op: opImport, name: f.Name, data: data, json: first == '{', root: "CastVoteRecordReport"}
	n, err := r.nistIndex(doc)
	if err != nil {
		return err
	}
	var cvr vigil.CastVoteRecord
	var src nistCVR
	count := 0
	return doc.walk(func(el *nistElem) error {
		if el.name != "CVR" {
			return nil
		}
		return el.each(func(line int, decode func(v any) error) error {
			src = nistCVR{}
			if err := decode(&src); err != nil {
				return err
			}
			count++
			if err := n.convert(&src, count, line, &cvr); err != nil {
				return err
			}
			return r.emit(f.Name, line, &cvr, fn)
		})
	})
}

// nistIndex resolves one report's object ids.
type nistIndex struct {
	r          *Reader
	doc        *nistDoc
	contests   map[string]*nistContestRef
	candidates map[string]*nistCandidate
	parties    map[string]string
	units      map[string]vigil.PrecinctID
	devices    map[string]string
	claimed    map[int]bool // contests of the definition matched by some ObjectId of this report
}

type nistContestRef struct {
	src     *nistContest
	ci      int // index into the definition; -1 until first used
	kind    vigil.ContestKind
	maxRank int
	sels    map[string]*nistSelection
	choices map[string]vigil.ChoiceID // ObjectId ("" for an unlinked write-in) → choice
	claimed map[vigil.ChoiceID]bool
	writeIn string // the ObjectId of the contest's only write-in selection, "" if none or several
}

func (r *Reader) nistIndex(doc *nistDoc) (*nistIndex, error) {
	var rep nistReport
	sawCVR, sawElection := false, false
	err := doc.walk(func(el *nistElem) error {
		switch el.name {
		case "CVR":
			sawCVR = true
		case "Election":
			sawElection = true
			return el.each(func(_ int, decode func(v any) error) error {
				var v nistElection
				err := decode(&v)
				rep.Election = append(rep.Election, v)
				return err
			})
		case "GpUnit":
			return el.each(func(_ int, decode func(v any) error) error {
				var v nistGpUnit
				err := decode(&v)
				rep.GpUnit = append(rep.GpUnit, v)
				return err
			})
		case "Party":
			return el.each(func(_ int, decode func(v any) error) error {
				var v nistParty
				err := decode(&v)
				rep.Party = append(rep.Party, v)
				return err
			})
		case "ReportingDevice":
			return el.each(func(_ int, decode func(v any) error) error {
				var v nistDevice
				err := decode(&v)
				rep.ReportingDevice = append(rep.ReportingDevice, v)
				return err
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sawElection && !sawCVR {
		return nil, parseErr(opImport, doc.name, 0, "", "the report has neither CVR nor Election elements; is this a NIST SP 1500-103 cast vote record report?")
	}
	n := &nistIndex{r: r, doc: doc, contests: map[string]*nistContestRef{}, candidates: map[string]*nistCandidate{},
		parties: map[string]string{}, units: map[string]vigil.PrecinctID{}, devices: map[string]string{}, claimed: map[int]bool{}}
	for _, p := range rep.Party {
		n.parties[p.ID] = firstNonEmpty(normSpace(p.Name), strings.TrimSpace(p.Abbreviation), p.ID)
	}
	for _, d := range rep.ReportingDevice {
		n.devices[d.ID] = firstNonEmpty(strings.TrimSpace(d.SerialNumber), codeValue(d.Code), d.ID)
	}
	for _, g := range rep.GpUnit {
		n.units[g.ID] = r.precinctFor(g.ID, normSpace(g.Name), codeValue(g.Code))
	}
	var order []*nistContestRef
	for ei := range rep.Election {
		e := &rep.Election[ei]
		for i := range e.Candidate {
			n.candidates[e.Candidate[i].ID] = &e.Candidate[i]
		}
		for i := range e.Contest {
			c := &e.Contest[i]
			path := fmt.Sprintf("Election[%s].Contest[%d]", e.ID, i)
			if c.ID == "" {
				return nil, parseErr(opImport, doc.name, 0, path, "a Contest has no ObjectId")
			}
			if _, dup := n.contests[c.ID]; dup {
				return nil, parseErr(opImport, doc.name, 0, path, "two contests share the ObjectId %q", c.ID)
			}
			ref := &nistContestRef{src: c, ci: -1, sels: map[string]*nistSelection{}, choices: map[string]vigil.ChoiceID{}, claimed: map[vigil.ChoiceID]bool{}}
			writeIns := 0
			for j := range c.ContestSelection {
				s := &c.ContestSelection[j]
				if s.ID == "" {
					return nil, parseErr(opImport, doc.name, 0, fmt.Sprintf("%s.ContestSelection[%d]", path, j), "a ContestSelection of contest %q has no ObjectId", c.ID)
				}
				ref.sels[s.ID] = s
				if s.IsWriteIn {
					writeIns++
					ref.writeIn = s.ID
				}
			}
			if writeIns != 1 {
				ref.writeIn = ""
			}
			switch t := typeName(c.Type); {
			case t == "BallotMeasureContest" || t == "RetentionContest":
				ref.kind = vigil.BallotMeasure
			case strings.EqualFold(c.VoteVariation, "rcv"):
				ref.kind = vigil.RankedChoice
			}
			n.contests[c.ID] = ref
			order = append(order, ref)
		}
	}
	if !r.def.learn {
		return n, nil
	}
	// Learning: a contest's kind must be known before its first ballot is
	// counted, and ranks are only visible in the CVRs, so look at them
	// first when some contest could be ranked.
	scan := false
	for _, ref := range order {
		if ref.kind == vigil.RankedChoice || (ref.kind == vigil.Plurality && ref.src.VoteVariation == "") {
			scan = true
		}
	}
	if scan && bytes.Contains(doc.data, []byte("Rank")) {
		if err := n.scanRanks(); err != nil {
			return nil, err
		}
	}
	for _, ref := range order {
		if ref.kind == vigil.Plurality && ref.src.VoteVariation == "" && ref.maxRank > 1 {
			ref.kind = vigil.RankedChoice
		}
		if _, err := n.contest(ref, "", 0); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// scanRanks records the highest rank each contest's CVRs use.
func (n *nistIndex) scanRanks() error {
	var src nistCVR
	return n.doc.walk(func(el *nistElem) error {
		if el.name != "CVR" {
			return nil
		}
		return el.each(func(line int, decode func(v any) error) error {
			src = nistCVR{}
			if err := decode(&src); err != nil {
				return err
			}
			snap := nistCurrent(&src)
			if snap == nil {
				return nil
			}
			for _, c := range snap.CVRContest {
				ref := n.contests[c.ContestID]
				if ref == nil {
					continue
				}
				for _, s := range c.CVRContestSelection {
					for _, p := range s.SelectionPosition {
						ref.maxRank = max(ref.maxRank, p.Rank, s.Rank)
					}
					if ref.maxRank > maxRanks {
						return parseErr(opImport, n.doc.name, line, "Rank", "a Rank of %d in contest %q is more than the %d ranks vigil counts", ref.maxRank, c.ContestID, maxRanks)
					}
				}
			}
			return nil
		})
	})
}

// precinctFor maps a GpUnit to a precinct of Options.Election by id, name
// or code; without a match (or a definition) the ObjectId is the precinct.
func (r *Reader) precinctFor(id, name, code string) vigil.PrecinctID {
	if !r.def.learn {
		for _, p := range r.def.e.Precincts {
			for _, s := range []string{id, name, code} {
				if s != "" && (string(p.ID) == s || key(p.Name) == key(s)) {
					return p.ID
				}
			}
		}
	}
	return vigil.PrecinctID(id)
}

// contest resolves a contest to its index in the definition.
func (n *nistIndex) contest(ref *nistContestRef, path string, line int) (int, error) {
	if ref.ci >= 0 {
		return ref.ci, nil
	}
	c := ref.src
	name := firstNonEmpty(normSpace(c.Name), codeValue(c.Code), c.ID)
	d := n.r.def
	ci, ok := d.contests[c.ID]
	if !ok {
		if i, byName := d.contests[key(name)]; byName && !n.claimed[i] {
			ci, ok = i, true
		}
	}
	if !ok {
		if !d.learn {
			return 0, parseErr(opImport, n.doc.name, line, path, "contest %q (%s) is not in the election definition; check the export or the definition", c.ID, name)
		}
		proto := vigil.Contest{ID: vigil.ContestID(c.ID), Name: name, Kind: ref.kind, VoteFor: max(c.VotesAllowed, 1)}
		if ref.kind == vigil.RankedChoice {
			proto.VoteFor = max(c.NumberElected, 1)
			proto.Ranks = ref.maxRank
			if proto.Ranks == 0 {
				proto.Ranks = max(len(c.ContestSelection), 1)
			}
		}
		var err error
		if ci, err = d.contest(c.ID, proto); err != nil {
			return 0, parseErr(opImport, n.doc.name, line, path, "%v", err)
		}
		for j := range c.ContestSelection {
			s := &c.ContestSelection[j]
			if _, err := n.choice(ref, ci, s, path, line); err != nil {
				return 0, err
			}
		}
	}
	n.claimed[ci] = true
	ref.ci = ci
	return ci, nil
}

// choice resolves a selection (nil: an unlinked write-in) of a contest.
func (n *nistIndex) choice(ref *nistContestRef, ci int, s *nistSelection, path string, line int) (vigil.ChoiceID, error) {
	sid := ""
	if s != nil {
		sid = s.ID
	}
	if id, ok := ref.choices[sid]; ok {
		return id, nil
	}
	name, party, writeIn := "Write-in", "", true
	if s != nil {
		name, party = n.selectionName(s)
		writeIn = s.IsWriteIn || isWriteIn(name)
	}
	d := n.r.def
	m := d.choices[ci]
	var id vigil.ChoiceID
	j, ok := 0, false
	if sid != "" {
		j, ok = m[sid]
	}
	if !ok {
		if k, byName := m[key(name)]; byName && !ref.claimed[d.e.Contests[ci].Choices[k].ID] {
			j, ok = k, true
		}
	}
	if !ok && s == nil {
		// An unlinked write-in joins the definition's write-in choice.
		for k, ch := range d.e.Contests[ci].Choices {
			if ch.WriteIn {
				j, ok = k, true
				break
			}
		}
	}
	switch {
	case ok:
		id = d.e.Contests[ci].Choices[j].ID
	case !d.learn:
		what := fmt.Sprintf("selection %q (%s)", sid, name)
		if s == nil {
			what = "a write-in"
		}
		return "", parseErr(opImport, n.doc.name, line, path, "%s of contest %q is not in the election definition; check the export or the definition", what, d.e.Contests[ci].Name)
	default:
		proto := vigil.Choice{ID: vigil.ChoiceID(sid), Name: name, Party: party, WriteIn: writeIn}
		if s == nil {
			proto.ID = "write-in"
		}
		if d.e.Contests[ci].Choice(proto.ID) != nil {
			proto.ID += vigil.ChoiceID("~" + strconv.Itoa(len(d.e.Contests[ci].Choices)))
		}
		if _, byName := m[key(name)]; byName {
			proto.Name = name + " (" + string(proto.ID) + ")"
		}
		var err error
		if id, err = d.choice(ci, string(proto.ID), proto); err != nil {
			return "", parseErr(opImport, n.doc.name, line, path, "%v", err)
		}
	}
	ref.claimed[id] = true
	ref.choices[sid] = id
	return id, nil
}

// selectionName names a ContestSelection after what it selects.
func (n *nistIndex) selectionName(s *nistSelection) (name, party string) {
	var names, parties []string
	for _, cid := range s.CandidateIDs {
		c := n.candidates[cid]
		if c == nil {
			continue
		}
		names = append(names, firstNonEmpty(normSpace(c.Name), codeValue(c.Code), c.ID))
		if p := n.parties[c.PartyID]; p != "" {
			parties = append(parties, p)
		}
	}
	for _, pid := range s.PartyIDs {
		if p := n.parties[pid]; p != "" {
			parties = append(parties, p)
		}
	}
	name = strings.Join(names, " / ")
	party = strings.Join(parties, " / ")
	if name == "" && len(s.PartyIDs) > 0 {
		name = party
	}
	if name == "" {
		name = normSpace(s.Selection)
	}
	if name == "" && s.IsWriteIn {
		name = "Write-in"
	}
	if name == "" {
		name = firstNonEmpty(codeValue(s.Code), s.ID)
	}
	return name, party
}

// nistCurrent picks the snapshot to count; see the comment at the top.
func nistCurrent(c *nistCVR) *nistSnapshot {
	var best *nistSnapshot
	bestRank := -1
	for i := range c.CVRSnapshot {
		s := &c.CVRSnapshot[i]
		rank := 0
		switch strings.TrimSpace(s.Type) {
		case "interpreted":
			rank = 1
		case "modified":
			rank = 2
		}
		switch {
		case rank > bestRank:
			best, bestRank = s, rank
		case rank == bestRank && (best.ID != c.CurrentSnapshotID || s.ID == c.CurrentSnapshotID):
			best = s
		}
	}
	return best
}

// convert turns the n-th CVR of the report (starting on line) into out.
func (n *nistIndex) convert(src *nistCVR, count, line int, out *vigil.CastVoteRecord) error {
	path := fmt.Sprintf("CVR[%d]", count)
	snap := nistCurrent(src)
	if snap == nil {
		return parseErr(opImport, n.doc.name, line, path+".CVRSnapshot", "the CVR has no CVRSnapshot; every CVR needs at least one")
	}
	id := firstNonEmpty(strings.TrimSpace(src.UniqueID), strings.TrimSpace(src.BallotPrePrintedID), strings.TrimSpace(src.BallotAuditID), strings.TrimSpace(src.CurrentSnapshotID), snap.ID)
	if id == "" {
		return parseErr(opImport, n.doc.name, line, path+".UniqueId", "the CVR has no UniqueId, BallotPrePrintedId, BallotAuditId or snapshot ObjectId to identify it")
	}
	if src.BatchSequenceID < 0 {
		return parseErr(opImport, n.doc.name, line, path+".BatchSequenceId", "BatchSequenceId %d is negative", src.BatchSequenceID)
	}
	*out = vigil.CastVoteRecord{ID: vigil.CVRID(id), Batch: strings.TrimSpace(src.BatchID), Position: src.BatchSequenceID,
		ImprintedID: firstNonEmpty(strings.TrimSpace(src.BallotPrePrintedID), strings.TrimSpace(src.BallotAuditID)),
		BallotStyle: vigil.BallotStyleID(strings.TrimSpace(src.BallotStyleID)), CountingGroup: strings.TrimSpace(src.VxBallotType),
		Contests: out.Contests[:0]}
	if u := strings.TrimSpace(src.BallotStyleUnitID); u != "" {
		p, ok := n.units[u]
		if !ok {
			return parseErr(opImport, n.doc.name, line, path+".BallotStyleUnitId", "BallotStyleUnitId %q names no GpUnit of the report", u)
		}
		out.Precinct = p
	}
	if d := strings.TrimSpace(src.CreatingDeviceID); d != "" {
		t, ok := n.devices[d]
		if !ok {
			t = d
		}
		out.Tabulator = t
	}
	spath := fmt.Sprintf("%s.CVRSnapshot[%s]", path, snap.ID)
	for i, c := range snap.CVRContest {
		cpath := fmt.Sprintf("%s.CVRContest[%d]", spath, i)
		ref := n.contests[c.ContestID]
		if ref == nil {
			return parseErr(opImport, n.doc.name, line, cpath+".ContestId", "ContestId %q names no Contest of the report's Election", c.ContestID)
		}
		ci, err := n.contest(ref, cpath+".ContestId", line)
		if err != nil {
			return err
		}
		cid := n.r.def.e.Contests[ci].ID
		for _, prev := range out.Contests {
			if prev.Contest == cid {
				return parseErr(opImport, n.doc.name, line, cpath+".ContestId", "contest %q appears twice in one snapshot", c.ContestID)
			}
		}
		if c.Overvotes < 0 || c.Undervotes < 0 {
			return parseErr(opImport, n.doc.name, line, cpath, "Overvotes and Undervotes must not be negative")
		}
		cv := vigil.ContestVote{Contest: cid, Overvoted: c.Overvotes > 0, Undervotes: c.Undervotes}
		for _, st := range c.Status {
			if strings.TrimSpace(st) == "overvoted" {
				cv.Overvoted = true
			}
		}
		if len(out.Contests) < cap(out.Contests) {
			cv.Marks = out.Contests[:len(out.Contests)+1][len(out.Contests)].Marks[:0]
		}
		for j, sel := range c.CVRContestSelection {
			selPath := fmt.Sprintf("%s.CVRContestSelection[%d]", cpath, j)
			var s *nistSelection
			if sid := strings.TrimSpace(sel.ContestSelectionID); sid != "" {
				s = ref.sels[sid]
				if s == nil {
					return parseErr(opImport, n.doc.name, line, selPath+".ContestSelectionId", "ContestSelectionId %q is not a selection of contest %q", sid, c.ContestID)
				}
			}
			for k, p := range sel.SelectionPosition {
				ppath := fmt.Sprintf("%s.SelectionPosition[%d]", selPath, k)
				votes, err := nistVotes(p)
				if err != nil {
					return parseErr(opImport, n.doc.name, line, ppath, "%v", err)
				}
				if votes == 0 {
					continue
				}
				writeIn := p.CVRWriteIn != nil || (s != nil && s.IsWriteIn)
				target := s
				if target == nil {
					if !writeIn {
						return parseErr(opImport, n.doc.name, line, selPath+".ContestSelectionId", "a counted selection names no ContestSelectionId and is not a write-in")
					}
					if ref.writeIn != "" {
						target = ref.sels[ref.writeIn]
					}
				}
				choice, err := n.choice(ref, ci, target, selPath+".ContestSelectionId", line)
				if err != nil {
					return err
				}
				rank := p.Rank
				if rank == 0 {
					rank = sel.Rank
				}
				if rank < 0 {
					return parseErr(opImport, n.doc.name, line, ppath+".Rank", "Rank %d is negative", rank)
				}
				if con := &n.r.def.e.Contests[ci]; con.Kind != vigil.RankedChoice {
					rank = 0 // a vendor's "Rank 1" in a plurality contest means nothing
				} else if rank == 0 {
					rank = 1 // an unranked mark in a ranked contest is a first choice
				} else if rank > con.Ranks || rank > maxRanks {
					return parseErr(opImport, n.doc.name, line, ppath+".Rank", "Rank %d is beyond the %d ranks contest %q offers", rank, con.Ranks, con.Name)
				}
				for range votes {
					cv.Marks = append(cv.Marks, vigil.Mark{Choice: choice, Rank: rank, WriteIn: writeIn})
				}
			}
		}
		out.Contests = append(out.Contests, cv)
	}
	return nil
}

// nistVotes is how many votes a selection position gives.
func nistVotes(p nistPosition) (int, error) {
	counted := false
	switch strings.TrimSpace(p.IsAllocable) {
	case "yes":
		counted = true
	case "no":
	case "", "unknown":
		counted = strings.TrimSpace(p.HasIndication) == "yes"
	default:
		return 0, fmt.Errorf("IsAllocable is %q; use yes, no or unknown", p.IsAllocable)
	}
	if !counted {
		return 0, nil
	}
	if p.NumberVotes == nil {
		return 1, nil
	}
	v := *p.NumberVotes
	if v < 0 || v > maxNumberVotes {
		return 0, fmt.Errorf("NumberVotes is %d; it must be between 0 and %d", v, maxNumberVotes)
	}
	return v, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
