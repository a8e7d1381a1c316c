package vigil

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// Typed names of the things an election definition and a cast vote record
// refer to. They are opaque strings: a vendor's number ("5"), a NIST object
// id ("_C1") or, when a format carries names only, the name itself.
type (
	ContestID     string
	ChoiceID      string
	BallotStyleID string
	PrecinctID    string
	DistrictID    string
	CVRID         string
)

// ContestKind says how a contest is counted.
//
// The list is append-only: a kind's value never changes meaning.
type ContestKind uint8

const (
	Plurality     ContestKind = iota // vote for up to VoteFor candidates; the most votes win
	BallotMeasure                    // yes/no (or more options) on a question
	RankedChoice                     // voters rank candidates; counted by instant runoff
)

var contestKindNames = [...]string{
	Plurality:     "plurality",
	BallotMeasure: "ballot_measure",
	RankedChoice:  "ranked_choice",
}

func (k ContestKind) String() string {
	if int(k) < len(contestKindNames) {
		return contestKindNames[k]
	}
	return fmt.Sprintf("contest_kind(%d)", k)
}

// ParseContestKind is the inverse of ContestKind.String.
func ParseContestKind(s string) (ContestKind, error) {
	for k, name := range contestKindNames {
		if s == name {
			return ContestKind(k), nil
		}
	}
	return 0, FieldError("contest.kind", "kind", "unknown contest kind %q; use plurality, ballot_measure or ranked_choice", s)
}

func (k ContestKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

func (k *ContestKind) UnmarshalText(b []byte) error {
	v, err := ParseContestKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// Election is an election definition: its contests and their choices, the
// ballot styles that group contests onto ballots, and the precincts and
// districts that say who gets which style.
type Election struct {
	ID           string        `json:"id"`
	Name         string        `json:"name"`
	Date         string        `json:"date,omitempty"` // YYYY-MM-DD, local to the jurisdiction
	Contests     []Contest     `json:"contests"`
	BallotStyles []BallotStyle `json:"ballotStyles,omitempty"`
	Precincts    []Precinct    `json:"precincts,omitempty"`
	Districts    []District    `json:"districts,omitempty"`
}

// Validate checks the definition on its own: required fields, unique ids,
// and that every reference (a ballot style's contests and precincts, a
// contest's district) names something defined here.
func (e Election) Validate() error {
	const op = "election.validate"
	if strings.TrimSpace(e.Name) == "" {
		return FieldError(op, "name", "an election needs a name")
	}
	contests := make(map[ContestID]bool, len(e.Contests))
	for i, c := range e.Contests {
		if err := c.Validate(); err != nil {
			return prefixField(err, fmt.Sprintf("contests[%d]", i))
		}
		if contests[c.ID] {
			return FieldError(op, fmt.Sprintf("contests[%d].id", i), "contest id %q is used twice; give each contest its own id", c.ID)
		}
		contests[c.ID] = true
	}
	precincts := make(map[PrecinctID]bool, len(e.Precincts))
	for i, p := range e.Precincts {
		if p.ID == "" {
			return FieldError(op, fmt.Sprintf("precincts[%d].id", i), "a precinct needs an id")
		}
		if precincts[p.ID] {
			return FieldError(op, fmt.Sprintf("precincts[%d].id", i), "precinct id %q is used twice", p.ID)
		}
		precincts[p.ID] = true
	}
	districts := make(map[DistrictID]bool, len(e.Districts))
	for i, d := range e.Districts {
		if d.ID == "" {
			return FieldError(op, fmt.Sprintf("districts[%d].id", i), "a district needs an id")
		}
		if districts[d.ID] {
			return FieldError(op, fmt.Sprintf("districts[%d].id", i), "district id %q is used twice", d.ID)
		}
		districts[d.ID] = true
		for j, p := range d.Precincts {
			if !precincts[p] {
				return FieldError(op, fmt.Sprintf("districts[%d].precincts[%d]", i, j), "precinct %q is not defined in this election", p)
			}
		}
	}
	for i, c := range e.Contests {
		if c.District != "" && !districts[c.District] {
			return FieldError(op, fmt.Sprintf("contests[%d].district", i), "district %q is not defined in this election", c.District)
		}
	}
	styles := make(map[BallotStyleID]bool, len(e.BallotStyles))
	for i, s := range e.BallotStyles {
		if s.ID == "" {
			return FieldError(op, fmt.Sprintf("ballotStyles[%d].id", i), "a ballot style needs an id")
		}
		if styles[s.ID] {
			return FieldError(op, fmt.Sprintf("ballotStyles[%d].id", i), "ballot style id %q is used twice", s.ID)
		}
		styles[s.ID] = true
		for j, c := range s.Contests {
			if !contests[c] {
				return FieldError(op, fmt.Sprintf("ballotStyles[%d].contests[%d]", i, j), "contest %q is not defined in this election", c)
			}
		}
		for j, p := range s.Precincts {
			if !precincts[p] {
				return FieldError(op, fmt.Sprintf("ballotStyles[%d].precincts[%d]", i, j), "precinct %q is not defined in this election", p)
			}
		}
	}
	return nil
}

// Contest returns the contest with the given id, or nil.
func (e *Election) Contest(id ContestID) *Contest {
	for i := range e.Contests {
		if e.Contests[i].ID == id {
			return &e.Contests[i]
		}
	}
	return nil
}

// Contest is one question on the ballot.
type Contest struct {
	ID       ContestID   `json:"id"`
	Name     string      `json:"name"`
	Kind     ContestKind `json:"kind"`
	VoteFor  int         `json:"voteFor"`         // choices a voter may mark; for ranked choice, the seats (1 for IRV)
	Ranks    int         `json:"ranks,omitempty"` // ranked choice: how many ranks the ballot offers
	District DistrictID  `json:"district,omitempty"`
	Choices  []Choice    `json:"choices"`
}

// Validate checks one contest.
func (c Contest) Validate() error {
	const op = "contest.validate"
	if c.ID == "" {
		return FieldError(op, "id", "a contest needs an id")
	}
	if strings.TrimSpace(c.Name) == "" {
		return FieldError(op, "name", "contest %q needs a name", c.ID)
	}
	if int(c.Kind) >= len(contestKindNames) {
		return FieldError(op, "kind", "contest %q has an unknown kind %d", c.ID, c.Kind)
	}
	if c.VoteFor < 1 {
		return FieldError(op, "voteFor", "contest %q must allow at least one vote (voteFor ≥ 1), not %d", c.ID, c.VoteFor)
	}
	if c.Kind == RankedChoice && c.Ranks < 1 {
		return FieldError(op, "ranks", "ranked-choice contest %q must offer at least one rank", c.ID)
	}
	if c.Kind != RankedChoice && c.Ranks != 0 {
		return FieldError(op, "ranks", "contest %q is not ranked choice but sets ranks", c.ID)
	}
	seen := make(map[ChoiceID]bool, len(c.Choices))
	for i, ch := range c.Choices {
		if err := ch.Validate(); err != nil {
			return prefixField(err, fmt.Sprintf("choices[%d]", i))
		}
		if seen[ch.ID] {
			return FieldError(op, fmt.Sprintf("choices[%d].id", i), "choice id %q is used twice in contest %q", ch.ID, c.ID)
		}
		seen[ch.ID] = true
	}
	return nil
}

// Choice returns the choice with the given id, or nil.
func (c *Contest) Choice(id ChoiceID) *Choice {
	for i := range c.Choices {
		if c.Choices[i].ID == id {
			return &c.Choices[i]
		}
	}
	return nil
}

// Choice is a candidate or a ballot-measure option. A write-in choice
// stands for every name written in on that line of the ballot.
type Choice struct {
	ID      ChoiceID `json:"id"`
	Name    string   `json:"name"`
	Party   string   `json:"party,omitempty"`
	WriteIn bool     `json:"writeIn,omitempty"`
}

// Validate checks one choice.
func (c Choice) Validate() error {
	if c.ID == "" {
		return FieldError("choice.validate", "id", "a choice needs an id")
	}
	if strings.TrimSpace(c.Name) == "" {
		return FieldError("choice.validate", "name", "choice %q needs a name", c.ID)
	}
	return nil
}

// BallotStyle is one layout of contests, given to voters of some precincts.
type BallotStyle struct {
	ID        BallotStyleID `json:"id"`
	Precincts []PrecinctID  `json:"precincts,omitempty"`
	Contests  []ContestID   `json:"contests,omitempty"`
}

// Precinct is the smallest area results are reported for.
type Precinct struct {
	ID   PrecinctID `json:"id"`
	Name string     `json:"name,omitempty"`
}

// District is the area a contest is decided in: a county, a city, a ward.
type District struct {
	ID        DistrictID   `json:"id"`
	Name      string       `json:"name,omitempty"`
	Precincts []PrecinctID `json:"precincts,omitempty"`
}

// CastVoteRecord is what a scanner recorded for one ballot: where the
// ballot is (tabulator, batch, position) and what it says, contest by
// contest.
type CastVoteRecord struct {
	ID            CVRID         `json:"id"`                      // unique within one export
	Tabulator     string        `json:"tabulator,omitempty"`     // scanner name or number, as the manifest spells it
	Batch         string        `json:"batch,omitempty"`         // batch name or number on that tabulator
	Position      int           `json:"position,omitempty"`      // 1-based place in the batch; 0 when the export does not say
	ImprintedID   string        `json:"imprintedId,omitempty"`   // the id printed on the paper, if any
	BallotStyle   BallotStyleID `json:"ballotStyle,omitempty"`   // ballot type / style
	Precinct      PrecinctID    `json:"precinct,omitempty"`      // precinct or precinct portion (split)
	CountingGroup string        `json:"countingGroup,omitempty"` // e.g. "Election Day", "Mail"
	Contests      []ContestVote `json:"contests"`                // contests on this ballot, voted or not
}

// Validate checks one record on its own (not against an election).
func (r CastVoteRecord) Validate() error {
	const op = "cvr.validate"
	if r.ID == "" {
		return FieldError(op, "id", "a cast vote record needs an id")
	}
	if r.Position < 0 {
		return FieldError(op, "position", "record %s has a negative position %d", r.ID, r.Position)
	}
	// A ballot lists a few dozen contests at most: comparing them pairwise
	// is cheaper than a map for each of a million records.
	var seen map[ContestID]bool
	if len(r.Contests) > 32 {
		seen = make(map[ContestID]bool, len(r.Contests))
	}
	for i, c := range r.Contests {
		if c.Contest == "" {
			return FieldError(op, fmt.Sprintf("contests[%d].contest", i), "record %s names a contest without an id", r.ID)
		}
		twice := seen[c.Contest]
		if seen == nil {
			for _, p := range r.Contests[:i] {
				twice = twice || p.Contest == c.Contest
			}
		}
		if twice {
			return FieldError(op, fmt.Sprintf("contests[%d].contest", i), "record %s lists contest %q twice", r.ID, c.Contest)
		}
		if seen != nil {
			seen[c.Contest] = true
		}
		if c.Undervotes < 0 {
			return FieldError(op, fmt.Sprintf("contests[%d].undervotes", i), "record %s: negative undervotes in contest %q", r.ID, c.Contest)
		}
		for j, m := range c.Marks {
			if m.Choice == "" {
				return FieldError(op, fmt.Sprintf("contests[%d].marks[%d].choice", i, j), "record %s: a mark in contest %q names no choice", r.ID, c.Contest)
			}
			if m.Rank < 0 {
				return FieldError(op, fmt.Sprintf("contests[%d].marks[%d].rank", i, j), "record %s: negative rank in contest %q", r.ID, c.Contest)
			}
		}
	}
	return nil
}

// ContestVote is one contest on one ballot. A contest that is on the ballot
// but left blank is present with no marks (an undervote); a contest that is
// not on the ballot is absent.
type ContestVote struct {
	Contest ContestID `json:"contest"`
	Marks   []Mark    `json:"marks,omitempty"`
	// Overvoted is set when the scanner reported an overvote without
	// listing the marks (ES&S "overvote", NIST Overvotes > 0). A contest
	// with more marks than its VoteFor is an overvote too; the tally
	// decides that from the election definition.
	Overvoted bool `json:"overvoted,omitempty"`
	// Undervotes is what the scanner reported, when it did; the tally
	// computes undervotes itself from VoteFor and the marks.
	Undervotes int `json:"undervotes,omitempty"`
}

// Mark is a vote for one choice: a filled target the tabulator counted.
// Marks the tabulator did not count as votes are not listed.
type Mark struct {
	Choice    ChoiceID `json:"choice"`
	Rank      int      `json:"rank,omitempty"`      // 1 = first choice; 0 outside ranked-choice contests
	WriteIn   bool     `json:"writeIn,omitempty"`   // a write-in line was marked
	Ambiguous bool     `json:"ambiguous,omitempty"` // the scanner flagged the mark as marginal
}

// ManifestBatch is one line of a ballot manifest: how many paper ballots
// one batch holds, and where the batch is.
type ManifestBatch struct {
	Container string `json:"container,omitempty"`
	Tabulator string `json:"tabulator,omitempty"`
	Batch     string `json:"batch"`
	Ballots   int    `json:"ballots"`
	// CVRs is false when the batch's ballots have no cast vote records
	// (a hybrid audit's "CVR: N" batches); true otherwise.
	CVRs bool `json:"cvrs"`
}

// Validate checks one manifest line.
func (b ManifestBatch) Validate() error {
	const op = "manifest.validate"
	if strings.TrimSpace(b.Batch) == "" {
		return FieldError(op, "batch", "a manifest line needs a batch name")
	}
	if b.Ballots < 0 {
		return FieldError(op, "ballots", "batch %q has a negative ballot count %d", b.Batch, b.Ballots)
	}
	return nil
}

// prefixField puts a path in front of the field an *Error names, so an
// error found in contests[3].choices[1] says so.
func prefixField(err error, prefix string) error {
	e, ok := err.(*Error)
	if !ok {
		return err
	}
	c := *e
	if c.Field != "" {
		c.Field = prefix + "." + c.Field
	} else {
		c.Field = prefix
	}
	return &c
}

// Tabulation events (issue 6). Names are noun.verb and never change.
const (
	// EventElectionImported replaces the election definition CVRs are
	// counted against. Payload: ElectionImport.
	EventElectionImported EventType = "election.imported"
	// EventCVRsImported carries one batch of an import's cast vote records
	// (thousands per entry). An import's records count only once its last
	// batch (Last set) is in the log, so a partial import publishes nothing.
	// Payload: CVRBatch.
	EventCVRsImported EventType = "cvrs.imported"
	// EventManifestImported replaces the ballot manifest. Payload:
	// ManifestImport.
	EventManifestImported EventType = "manifest.imported"
	// EventResultsPublished makes the results readable by everyone, as
	// counted at Checkpoint. Payload: ResultsPublication.
	EventResultsPublished EventType = "results.published"
	// EventReconciliationDiscrepancy records a precinct or polling place
	// whose check-ins, counted ballots and manifest disagree by more than
	// the threshold, for the detection engine. Payload: Discrepancy.
	EventReconciliationDiscrepancy EventType = "reconciliation.discrepancy"
)

// ElectionImport is the payload of election.imported.
type ElectionImport struct {
	File     string   `json:"file"`
	Election Election `json:"election"`
}

// CVRBatch is the payload of cvrs.imported: part Part of import Import.
//
// The records are in Records (each a CastVoteRecord as JSON) or, as imports
// write them, in the compact form Strings and Rows, about a fifth of the
// size: every byte of a million-ballot import is checked and copied
// several times on its way through the log. AllRecords reads either.
//
// A row is a JSON array
//
//	[id, imprintedId, position, tabulator, batch, ballotStyle, precinct, countingGroup, vote…]
//
// where id and imprintedId are strings, position an integer, and the next
// five indexes into Strings. Each vote (one contest on the ballot) is an
// array [contest, flags, undervotes, mark…]: contest is an index into
// Strings, flags 1 when the contest was overvoted, and each mark either the
// index of its choice in Strings or, when it has a rank or flags,
// [choice, rank, flags] with flags 1 for a write-in and 2 for an ambiguous
// mark.
type CVRBatch struct {
	Import  string            `json:"import"` // shared by every batch of one import
	Format  string            `json:"format"`
	Files   []string          `json:"files"`
	County  string            `json:"county,omitempty"`
	Part    int               `json:"part"`            // 1-based
	Last    bool              `json:"last,omitempty"`  // the import is complete with this batch
	Total   int               `json:"total,omitempty"` // on the last batch: records in the whole import
	Records []CastVoteRecord  `json:"records,omitempty"`
	Strings []string          `json:"strings,omitempty"` // the values rows refer to by index
	Rows    []json.RawMessage `json:"rows,omitempty"`
}

// AllRecords returns the batch's records, from Records and Rows. Errors:
// Integrity, naming the row that is malformed.
func (b *CVRBatch) AllRecords() ([]CastVoteRecord, error) {
	out := append([]CastVoteRecord(nil), b.Records...)
	for i, raw := range b.Rows {
		c, err := DecodeCVRRow(raw, b.Strings)
		if err != nil {
			return nil, &Error{Op: "cvrs.rows", Kind: Integrity, Field: fmt.Sprintf("rows[%d]", i), Message: err.Error()}
		}
		out = append(out, c)
	}
	return out, nil
}

// DecodeCVRRow reads one row of a CVRBatch (see there) with strs as the
// batch's Strings.
func DecodeCVRRow(raw []byte, strs []string) (CastVoteRecord, error) {
	var c CastVoteRecord
	var cells []json.RawMessage
	if err := json.Unmarshal(raw, &cells); err != nil {
		return c, fmt.Errorf("a row must be a JSON array: %v", err)
	}
	if len(cells) < 8 {
		return c, fmt.Errorf("a row needs at least 8 cells, not %d", len(cells))
	}
	str := func(cell json.RawMessage, what string) (string, error) {
		var i int
		if err := json.Unmarshal(cell, &i); err != nil || i < 0 || i >= len(strs) {
			return "", fmt.Errorf("%s %s is not an index into strings", what, cell)
		}
		return strs[i], nil
	}
	if err := json.Unmarshal(cells[0], (*string)(&c.ID)); err != nil {
		return c, fmt.Errorf("id: %v", err)
	}
	if err := json.Unmarshal(cells[1], &c.ImprintedID); err != nil {
		return c, fmt.Errorf("imprintedId: %v", err)
	}
	if err := json.Unmarshal(cells[2], &c.Position); err != nil {
		return c, fmt.Errorf("position: %v", err)
	}
	var err error
	for k, f := range []struct {
		dst  *string
		name string
	}{{&c.Tabulator, "tabulator"}, {&c.Batch, "batch"}, {(*string)(&c.BallotStyle), "ballotStyle"},
		{(*string)(&c.Precinct), "precinct"}, {&c.CountingGroup, "countingGroup"}} {
		if *f.dst, err = str(cells[3+k], f.name); err != nil {
			return c, err
		}
	}
	c.Contests = make([]ContestVote, 0, len(cells)-8)
	for _, cell := range cells[8:] {
		var parts []json.RawMessage
		if err := json.Unmarshal(cell, &parts); err != nil || len(parts) < 3 {
			return c, fmt.Errorf("vote %s must be [contest, flags, undervotes, mark…]", cell)
		}
		var cv ContestVote
		s, err := str(parts[0], "contest")
		if err != nil {
			return c, err
		}
		cv.Contest = ContestID(s)
		var flags int
		if err := json.Unmarshal(parts[1], &flags); err != nil || flags&^1 != 0 {
			return c, fmt.Errorf("vote flags %s must be 0 or 1", parts[1])
		}
		cv.Overvoted = flags == 1
		if err := json.Unmarshal(parts[2], &cv.Undervotes); err != nil {
			return c, fmt.Errorf("undervotes: %v", err)
		}
		for _, m := range parts[3:] {
			var mk Mark
			var triple []json.RawMessage
			if json.Unmarshal(m, &triple) == nil {
				if len(triple) != 3 {
					return c, fmt.Errorf("mark %s must be a choice or [choice, rank, flags]", m)
				}
				var mf int
				if err := json.Unmarshal(triple[1], &mk.Rank); err != nil {
					return c, fmt.Errorf("rank: %v", err)
				}
				if err := json.Unmarshal(triple[2], &mf); err != nil || mf&^3 != 0 {
					return c, fmt.Errorf("mark flags %s must be 0 to 3", triple[2])
				}
				mk.WriteIn, mk.Ambiguous = mf&1 != 0, mf&2 != 0
				m = triple[0]
			}
			s, err := str(m, "choice")
			if err != nil {
				return c, err
			}
			mk.Choice = ChoiceID(s)
			cv.Marks = append(cv.Marks, mk)
		}
		c.Contests = append(c.Contests, cv)
	}
	return c, nil
}

// CVRRows writes records in CVRBatch's compact form. The zero value is
// ready; Reset starts a new batch.
type CVRRows struct {
	Strings []string
	Rows    []byte // the rows, comma-separated (the inside of the JSON array)
	N       int    // rows written
	index   map[string]int
	strLen  int
}

// Size is about the JSON size of the rows and strings so far.
func (w *CVRRows) Size() int { return len(w.Rows) + w.strLen }

// Reset empties the rows and the strings.
func (w *CVRRows) Reset() {
	w.Strings, w.Rows, w.N, w.strLen = w.Strings[:0], w.Rows[:0], 0, 0
	clear(w.index)
}

func (w *CVRRows) ref(b []byte, s string) []byte {
	i, ok := w.index[s]
	if !ok {
		if w.index == nil {
			w.index = map[string]int{}
		}
		i = len(w.Strings)
		w.Strings = append(w.Strings, s)
		w.index[s] = i
		w.strLen += len(s) + 3
	}
	return strconv.AppendInt(b, int64(i), 10)
}

// Add appends c as one row.
func (w *CVRRows) Add(c *CastVoteRecord) {
	b := w.Rows
	if w.N > 0 {
		b = append(b, ',')
	}
	w.N++
	b = append(b, '[')
	b = appendJSONString(b, string(c.ID))
	b = append(b, ',')
	b = appendJSONString(b, c.ImprintedID)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(c.Position), 10)
	for _, s := range [...]string{c.Tabulator, c.Batch, string(c.BallotStyle), string(c.Precinct), c.CountingGroup} {
		b = append(b, ',')
		b = w.ref(b, s)
	}
	for i := range c.Contests {
		cv := &c.Contests[i]
		b = append(b, ',', '[')
		b = w.ref(b, string(cv.Contest))
		if cv.Overvoted {
			b = append(b, ",1,"...)
		} else {
			b = append(b, ",0,"...)
		}
		b = strconv.AppendInt(b, int64(cv.Undervotes), 10)
		for j := range cv.Marks {
			m := &cv.Marks[j]
			b = append(b, ',')
			if m.Rank == 0 && !m.WriteIn && !m.Ambiguous {
				b = w.ref(b, string(m.Choice))
				continue
			}
			b = append(b, '[')
			b = w.ref(b, string(m.Choice))
			b = append(b, ',')
			b = strconv.AppendInt(b, int64(m.Rank), 10)
			var f byte = '0'
			if m.WriteIn {
				f++
			}
			if m.Ambiguous {
				f += 2
			}
			b = append(b, ',', f, ']')
		}
		b = append(b, ']')
	}
	w.Rows = append(b, ']')
}

// appendJSONString appends s quoted: plain printable ASCII as is, anything
// else as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// ManifestImport is the payload of manifest.imported.
type ManifestImport struct {
	File    string          `json:"file"`
	County  string          `json:"county,omitempty"`
	Batches []ManifestBatch `json:"batches"`
}

// ResultsPublication is the payload of results.published.
type ResultsPublication struct {
	// County is the county whose ballots were counted; empty for a
	// statewide publication (every county's ballots).
	County     string `json:"county,omitempty"`
	Checkpoint string `json:"checkpoint"` // the log checkpoint the published count was computed at
	Ballots    int64  `json:"ballots"`
	// Results is the published count (tabulate.Results as JSON), so that
	// what was published is read back exactly, whatever arrives later.
	Results json.RawMessage `json:"results"`
}

// Discrepancy is one reconciliation line whose numbers disagree: pollbook
// check-ins (provisional ballots apart) against CVRs counted and the
// manifest. Kind is "precinct" or "place".
type Discrepancy struct {
	County       string `json:"county,omitempty"` // the county reconciled; empty: every county
	Kind         string `json:"kind"`
	ID           string `json:"id"`
	CheckIns     int    `json:"checkIns"`
	Provisionals int    `json:"provisionals"`
	Ballots      int    `json:"ballots"`            // CVRs counted
	Manifest     int    `json:"manifest,omitempty"` // manifest ballots, when batches map to it
	Difference   int    `json:"difference"`         // Ballots - CheckIns
}
