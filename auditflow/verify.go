package auditflow

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Verify: an observer's recomputation of an audit from its public bundle
// alone (the bundle's format is in bundle.go and its README).

// readCSV parses one bundle CSV with the given header.
func readCSV(name string, data []byte, header []string) ([][]string, error) {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, vigil.FieldError("audit.verify", name, "not valid CSV: %v", err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(header, ",") {
		return nil, vigil.FieldError("audit.verify", name, "the header must be %s", strings.Join(header, ","))
	}
	for i, r := range rows[1:] {
		if len(r) != len(header) {
			return nil, vigil.FieldError("audit.verify", name, "line %d has %d fields, not %d", i+2, len(r), len(header))
		}
	}
	return rows[1:], nil
}

func atoi(name string, line int, col, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, vigil.FieldError("audit.verify", name, "line %d, column %s: %q is not a number", line, col, s)
	}
	return n, nil
}

// parseReading is the inverse of FormatReading for one contest.
func parseReading(s string, c vigil.ContestID) (notFound bool, rd vigil.AuditContestReading) {
	rd.Contest = c
	switch s {
	case "not_found":
		return true, rd
	case vigil.AuditNotOnBallot, vigil.AuditBlank, vigil.AuditOvervote:
		rd.Result = s
		return false, rd
	}
	for _, x := range strings.Split(s, "|") {
		rd.Choices = append(rd.Choices, vigil.ChoiceID(x))
	}
	return false, rd
}

// Mismatch is one difference Verify found, naming the bundle part.
type Mismatch struct {
	Part   string // the bundle file
	Detail string
}

func (m Mismatch) String() string { return m.Part + ": " + m.Detail }

// Verification is the outcome of Verify.
type Verification struct {
	Rounds     int
	Draws      int
	Contests   int
	HandCounts int // full hand counts recorded after an escalation
	Mismatches []Mismatch
}

// OK reports whether everything matched.
func (v Verification) OK() bool { return len(v.Mismatches) == 0 }

// Verify recomputes the audit from a bundle's files alone: the sample of
// every round from the seed and manifest, and every round's risk
// measures, status and next size from the readings. It returns each
// difference, naming the part of the bundle that disagrees. Errors: a
// bundle that cannot be read at all (Invalid, naming the file).
func Verify(files map[string][]byte) (Verification, error) {
	const op = "audit.verify"
	var v Verification
	var a bundleAudit
	d := json.NewDecoder(bytes.NewReader(files["audit.json"]))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return v, vigil.FieldError(op, "audit.json", "not a bundle description: %v", err)
	}
	if a.Format != BundleFormat {
		return v, vigil.FieldError(op, "audit.json", "format %q is not %s", a.Format, BundleFormat)
	}
	rec := &Record{Settings: a.Settings, Seed: a.Seed, Boards: a.Boards, Reported: a.Reported}
	rows, err := readManifest(files["manifest.csv"])
	if err != nil {
		return v, err
	}
	for i, r := range rows {
		n, err := atoi("manifest.csv", i+2, "ballots", r[4])
		if err != nil {
			return v, err
		}
		b := vigil.AuditManifestBatch{Jurisdiction: r[0], Container: r[1], Tabulator: r[2], Batch: r[3], Ballots: n}
		if len(r) > 5 {
			switch r[5] {
			case "Y":
			case "N":
				b.NoCVR = true
			default:
				return v, vigil.FieldError(op, "manifest.csv", "line %d, column cvr: %q is neither Y nor N", i+2, r[5])
			}
		}
		rec.Manifest = append(rec.Manifest, b)
	}
	batchRows, err := readTallyCSV("batches.csv", files["batches.csv"], batchesHeader, 3)
	if err != nil {
		return v, err
	}
	reportedBatches, err := parseTallies("batches.csv", batchRows, false, rec.Reported)
	if err != nil {
		return v, err
	}
	for _, b := range reportedBatches {
		rec.Batches = append(rec.Batches, b.AuditBatchTally)
	}
	countRows, err := readTallyCSV("batch_counts.csv", files["batch_counts.csv"], countsHeader, 5)
	if err != nil {
		return v, err
	}
	sample, err := readCSV("sample.csv", files["sample.csv"], []string{"round", "ticket", "jurisdiction", "container", "tabulator", "batch", "position", "times", "board"})
	if err != nil {
		return v, err
	}
	inter, err := readCSV("interpretations.csv", files["interpretations.csv"], []string{"round", "jurisdiction", "tabulator", "batch", "position", "board", "contest", "reading", "cvr"})
	if err != nil {
		return v, err
	}
	bad := func(part, format string, args ...any) {
		v.Mismatches = append(v.Mismatches, Mismatch{part, fmt.Sprintf(format, args...)})
	}
	if err := a.Settings.Validate(); err != nil {
		bad("audit.json", "settings: %s", vigil.ErrorMessage(err))
	}
	if err := vigil.ValidateSeed(a.Seed); err != nil {
		bad("audit.json", "%s", vigil.ErrorMessage(err))
	}
	v.Contests = len(a.Reported)

	// The sample: recompute round by round and compare line by line.
	line := 0
	for _, br := range a.Rounds {
		v.Rounds++
		rd := Round{Round: br.Round, Size: br.Size, CVRSize: br.CVRSize, NoCVRSize: br.NoCVRSize, Readings: map[string]vigil.AuditInterpretation{}, Counts: map[string]vigil.AuditBatchCount{},
			CVRs: map[string]map[vigil.ContestID][]vigil.ChoiceID{}}
		if br.Round != v.Rounds {
			bad("audit.json", "round %d is numbered %d", v.Rounds, br.Round)
		}
		var want []vigil.AuditDraw
		if a.Settings.Kind == vigil.AuditHybrid {
			if br.CVRSize+br.NoCVRSize != br.Size {
				bad("audit.json", "round %d: cvr_size %d and no_cvr_size %d do not add up to size %d", br.Round, br.CVRSize, br.NoCVRSize, br.Size)
			}
			pc, pn := rec.DrawnByStratum(br.Round)
			want, err = DrawHybrid(a.Seed, rec.Manifest, a.Boards, pc, pn, br.CVRSize, br.NoCVRSize)
		} else if a.Settings.Kind == vigil.AuditBatch {
			want, err = DrawBatches(a.Seed, rec.Manifest, rec.Batches, rec.Reported, a.Boards, rec.Drawn(br.Round), br.Size)
		} else {
			want, err = Draw(a.Seed, rec.Manifest, a.Boards, a.Settings.Kind.Polling(), rec.Drawn(br.Round), br.Size)
		}
		if err != nil {
			bad("sample.csv", "round %d cannot be redrawn: %s", br.Round, vigil.ErrorMessage(err))
		}
		for i, w := range want {
			if line >= len(sample) {
				bad("sample.csv", "round %d has %d draws, not %d", br.Round, i, len(want))
				break
			}
			s := sample[line]
			line++
			got := strings.Join(s, ",")
			exp := strings.Join([]string{strconv.Itoa(br.Round), w.Ticket, w.Jurisdiction, w.Container, w.Tabulator, w.Batch, strconv.Itoa(w.Position), strconv.Itoa(w.Times), w.Board}, ",")
			if got != exp && len(v.Mismatches) < 20 {
				bad("sample.csv", "line %d: the bundle says %s, the seed and manifest give %s", line+1, got, exp)
			}
		}
		rd.Draws = want
		rec.Rounds = append(rec.Rounds, rd)
	}
	if line < len(sample) {
		bad("sample.csv", "%d draws beyond the rounds' sizes", len(sample)-line)
	}
	v.Draws = line

	// The readings, attached to the recomputed draws.
	drawn := map[string]bool{}
	for _, rd := range rec.Rounds {
		for _, d := range rd.Draws {
			drawn[strconv.Itoa(rd.Round)+"/"+d.Key()] = true
		}
	}
	for i, r := range inter {
		round, err := atoi("interpretations.csv", i+2, "round", r[0])
		if err != nil {
			return v, err
		}
		pos, err := atoi("interpretations.csv", i+2, "position", r[4])
		if err != nil {
			return v, err
		}
		ballot := vigil.AuditBallot{Jurisdiction: r[1], Tabulator: r[2], Batch: r[3], Position: pos}
		if round < 1 || round > len(rec.Rounds) || !drawn[r[0]+"/"+ballot.Key()] {
			bad("interpretations.csv", "line %d: ballot %s was not drawn in round %s", i+2, ballot.Key(), r[0])
			continue
		}
		rd := &rec.Rounds[round-1]
		in := rd.Readings[ballot.Key()]
		in.Audit, in.Round, in.Board, in.Ballot = a.Settings.ID, round, r[5], ballot
		nf, reading := parseReading(r[7], vigil.ContestID(r[6]))
		if nf {
			in.NotFound = true
		} else {
			in.Contests = append(in.Contests, reading)
		}
		rd.Readings[ballot.Key()] = in
		if (a.Settings.Kind == vigil.AuditComparison && r[8] != "none") || (a.Settings.Kind == vigil.AuditHybrid && r[8] != "none" && r[8] != "") {
			if rd.CVRs[ballot.Key()] == nil {
				rd.CVRs[ballot.Key()] = map[vigil.ContestID][]vigil.ChoiceID{}
			}
			var marks []vigil.ChoiceID
			if r[8] != "blank" && r[8] != "" {
				for _, x := range strings.Split(r[8], "|") {
					marks = append(marks, vigil.ChoiceID(x))
				}
			}
			rd.CVRs[ballot.Key()][vigil.ContestID(r[6])] = marks
		}
	}
	for i := range rec.Rounds {
		for k, in := range rec.Rounds[i].Readings {
			if in.NotFound {
				in.Contests = nil
				rec.Rounds[i].Readings[k] = in
			} else if err := CheckReading(rec.Reported, in); err != nil {
				bad("interpretations.csv", "round %d ballot %s: %s", i+1, k, vigil.ErrorMessage(err))
			}
		}
	}

	// The reported batch tallies cannot hold more votes than the contests'
	// reported results (batches without CVRs are reported without votes).
	sums := map[vigil.ContestID]map[vigil.ChoiceID]int{}
	for _, b := range rec.Batches {
		if sums[b.Contest] == nil {
			sums[b.Contest] = map[vigil.ChoiceID]int{}
		}
		for ch, n := range b.Votes {
			sums[b.Contest][ch] += n
		}
	}
	for _, c := range rec.Reported {
		for _, ch := range c.Choices {
			if got := sums[c.ID][ch.ID]; got > ch.Votes {
				bad("batches.csv", "contest %s: the batches give %s %d votes, more than the %d reported in audit.json", c.ID, ch.ID, got, ch.Votes)
			}
		}
	}

	// The hand counts, attached to the drawn batches of their round.
	counts, err := parseTallies("batch_counts.csv", countRows, true, rec.Reported)
	if err != nil {
		return v, err
	}
	for _, c := range counts {
		if c.Round < 1 || c.Round > len(rec.Rounds) || !drawn[strconv.Itoa(c.Round)+"/"+vigil.AuditBallot{Jurisdiction: c.Jurisdiction, Tabulator: c.Tabulator, Batch: c.Batch}.Key()] {
			bad("batch_counts.csv", "batch %s was not drawn in round %d", c.BatchKey(), c.Round)
			continue
		}
		known := false
		for _, rc := range rec.Reported {
			known = known || rc.ID == c.Contest
		}
		if !known {
			bad("batch_counts.csv", "batch %s: contest %q is not audited", c.BatchKey(), c.Contest)
			continue
		}
		c.Audit = a.Settings.ID
		rec.Rounds[c.Round-1].Counts[CountKey(c.BatchKey(), c.Contest)] = c
	}

	// Every closed round's risk measures, status and next size.
	source := "the readings in interpretations.csv"
	if a.Settings.Kind == vigil.AuditBatch {
		source = "batches.csv and batch_counts.csv"
	}
	for i, br := range a.Rounds {
		if br.Status == "" {
			continue // still open
		}
		got, err := Measure(rec, i+1)
		if err != nil {
			bad("audit.json", "round %d is closed, but %s cannot measure it: %s", br.Round, source, vigil.ErrorMessage(err))
			continue
		}
		if got.Status != br.Status {
			bad("audit.json", "round %d: status %s, but %s give %s", br.Round, br.Status, source, got.Status)
		}
		if got.NextSize != br.NextSize {
			bad("audit.json", "round %d: next round size %d, but %s give %d", br.Round, br.NextSize, source, got.NextSize)
		}
		if got.NextCVR != br.NextCVR || got.NextNoCVR != br.NextNoCVR {
			bad("audit.json", "round %d: next round's strata %d + %d, but %s give %d + %d", br.Round, br.NextCVR, br.NextNoCVR, source, got.NextCVR, got.NextNoCVR)
		}
		if len(got.Results) != len(br.Results) {
			bad("audit.json", "round %d lists %d contest results, not %d", br.Round, len(br.Results), len(got.Results))
			continue
		}
		for j, g := range got.Results {
			b := br.Results[j]
			if b.Contest != g.Contest {
				bad("audit.json", "round %d result %d is contest %s, not %s", br.Round, j+1, b.Contest, g.Contest)
				continue
			}
			if !sameRisk(b.Risk, g.Risk) || b.Confirmed != g.Confirmed {
				bad("audit.json", "round %d contest %s: risk measure %.6g (confirmed %v), but %s give %.6g (confirmed %v)",
					br.Round, g.Contest, b.Risk, b.Confirmed, source, g.Risk, g.Confirmed)
			}
			if b.CVRSampled != g.CVRSampled || b.NoCVRSampled != g.NoCVRSampled {
				bad("audit.json", "round %d contest %s: strata sampled %d + %d, but %s give %d + %d",
					br.Round, g.Contest, b.CVRSampled, b.NoCVRSampled, source, g.CVRSampled, g.NoCVRSampled)
			}
			if b.O1 != g.O1 || b.O2 != g.O2 || b.U1 != g.U1 || b.U2 != g.U2 {
				bad("audit.json", "round %d contest %s: discrepancies o1=%d o2=%d u1=%d u2=%d, but %s give o1=%d o2=%d u1=%d u2=%d",
					br.Round, g.Contest, b.O1, b.O2, b.U1, b.U2, source, g.O1, g.O2, g.U1, g.U2)
			}
		}
	}
	verifyStrata(rec, bad)
	verifyHandCounts(rec, a.Rounds, a.HandCounts, bad)
	v.HandCounts = len(a.HandCounts)
	return v, nil
}

// manifestHeader is manifest.csv's header; bundles written before hybrid
// audits lack the cvr column, and every batch of theirs has CVRs.
var manifestHeader = []string{"jurisdiction", "container", "tabulator", "batch", "ballots", "cvr"}

func readManifest(data []byte) ([][]string, error) {
	rows, err := readCSV("manifest.csv", data, manifestHeader)
	if err == nil {
		return rows, nil
	}
	if old, err2 := readCSV("manifest.csv", data, manifestHeader[:5]); err2 == nil {
		return old, nil
	}
	return nil, err
}

// sameRisk compares risk measures to 1e-9, relative: JSON keeps a
// float64 exactly, but a verifier on another machine may differ in the
// last bits of a logarithm.
func sameRisk(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// The batch tally files' headers. Bundles written before batch audits of
// several contests lack the contest column, after the batch (batches.csv)
// or the board (batch_counts.csv); their one contest is meant.
var (
	batchesHeader = []string{"jurisdiction", "tabulator", "batch", "contest", "ballots", "choice", "votes"}
	countsHeader  = []string{"round", "jurisdiction", "tabulator", "batch", "board", "contest", "ballots", "choice", "votes"}
)

// readTallyCSV reads a batch tally file with its header, or the older one
// without the contest column at index at, giving those rows an empty
// contest there.
func readTallyCSV(name string, data []byte, header []string, at int) ([][]string, error) {
	rows, err := readCSV(name, data, header)
	if err == nil {
		return rows, nil
	}
	old := append(append([]string(nil), header[:at]...), header[at+1:]...)
	rows, err2 := readCSV(name, data, old)
	if err2 != nil {
		return nil, err
	}
	for i, r := range rows {
		rows[i] = append(append(append([]string(nil), r[:at]...), ""), r[at:]...)
	}
	return rows, nil
}

// parseTallies reads batch tally rows into one tally per round, batch and
// contest, in file order. Rows of batches.csv are jurisdiction,tabulator,
// batch,contest,ballots,choice,votes; rows of batch_counts.csv (counts)
// start with the round and have the board after the batch.
func parseTallies(name string, rows [][]string, counts bool, reported []vigil.AuditReportedContest) ([]vigil.AuditBatchCount, error) {
	var out []vigil.AuditBatchCount
	idx := map[string]int{}
	for i, r := range rows {
		round, board := 0, ""
		if counts {
			n, err := atoi(name, i+2, "round", r[0])
			if err != nil {
				return nil, err
			}
			round, board, r = n, r[4], append(r[1:4:4], r[5:]...)
		}
		ballots, err := atoi(name, i+2, "ballots", r[4])
		if err != nil {
			return nil, err
		}
		votes, err := atoi(name, i+2, "votes", r[6])
		if err != nil {
			return nil, err
		}
		t := vigil.AuditBatchTally{Jurisdiction: r[0], Tabulator: r[1], Batch: r[2], Contest: vigil.ContestID(r[3]), Ballots: ballots, Votes: map[vigil.ChoiceID]int{}}
		t.Contest = TallyContest(reported, t)
		key := strconv.Itoa(round) + "/" + CountKey(t.BatchKey(), t.Contest)
		k, ok := idx[key]
		if !ok {
			k = len(out)
			idx[key] = k
			out = append(out, vigil.AuditBatchCount{Round: round, Board: board, AuditBatchTally: t})
		}
		out[k].Votes[vigil.ChoiceID(r[5])] += votes
	}
	return out, nil
}

// verifyStrata checks a hybrid audit's reported results: each contest's
// strata add up to its reported ballots and votes, and the no-CVR stratum
// is the one its settings reported.
func verifyStrata(rec *Record, bad func(part, format string, args ...any)) {
	if rec.Settings.Kind != vigil.AuditHybrid || len(rec.Rounds) == 0 {
		return
	}
	for _, c := range rec.Reported {
		if c.CVR == nil || c.NoCVR == nil {
			bad("audit.json", "contest %s has no reported result per stratum", c.ID)
			continue
		}
		if c.CVR.Ballots+c.NoCVR.Ballots != c.Ballots {
			bad("audit.json", "contest %s: the strata hold %d + %d ballots, not the %d reported", c.ID, c.CVR.Ballots, c.NoCVR.Ballots, c.Ballots)
		}
		for _, ch := range c.Choices {
			if got := c.CVR.Votes[ch.ID] + c.NoCVR.Votes[ch.ID]; got != ch.Votes {
				bad("audit.json", "contest %s: the strata give %s %d votes, not the %d reported", c.ID, ch.ID, got, ch.Votes)
			}
		}
		for _, t := range rec.Settings.NoCVR {
			if t.Contest != c.ID {
				continue
			}
			same := t.Ballots == c.NoCVR.Ballots && len(t.Votes) <= len(c.Choices)
			for _, ch := range c.Choices {
				same = same && t.Votes[ch.ID] == c.NoCVR.Votes[ch.ID]
			}
			if !same {
				bad("audit.json", "contest %s: the no-CVR stratum differs from the one the settings reported", c.ID)
			}
		}
	}
}
