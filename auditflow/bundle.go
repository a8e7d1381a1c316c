package auditflow

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// BundleFormat names the bundle's format; it is written into audit.json.
const BundleFormat = "vigil-audit-bundle/1"

// BundleReadme documents the bundle. It is written into every bundle, so
// a bundle explains itself to whoever downloads it.
const BundleReadme = `vigil risk-limiting audit — public verification bundle (format ` + BundleFormat + `)

This bundle holds everything needed to recompute the audit's sample and
every risk measure, and no voter data. Check it with

    vigil audit verify BUNDLE.zip      (or a directory holding these files)

Files (UTF-8; CSV files have a header row):

audit.json
    format, settings {id, name, kind (bravo|minerva|comparison|batch), risk_limit
    (percent), contests [{id, targeted}], jurisdictions}, seed (the digits of
    the public dice ceremony), boards [{board, jurisdiction, members}],
    reported [{id, name, targeted, winners, ballots, choices [{id, name,
    votes}]}] (the reported results the audit tests), rounds [{round, size,
    status, next_size, results [{contest, targeted, risk, confirmed, o1, o2,
    u1, u2, votes}]}].

manifest.csv  jurisdiction,container,tabulator,batch,ballots
    The ballot manifest the sample was drawn from. The sampler names each
    batch "jurisdiction/tabulator/batch" and its ballots 1..ballots.

sample.csv    round,ticket,jurisdiction,container,tabulator,batch,position,times,board
    Every draw in draw order. Round r holds draws n+1..n+size of Rivest's
    consistent sampler (as Arlo draws: SHA-256 tickets, 18 digits) on the
    seed and manifest, n being the draws of earlier rounds; ballot polling
    draws with replacement (times counts repeats), comparison without.

interpretations.csv  round,jurisdiction,tabulator,batch,position,board,contest,reading,cvr
    What the audit board read on each sampled ballot, per audited contest:
    not_found, not_on_ballot, blank, overvote, or the choice ids joined by
    "|". cvr (comparison audits) is what the cast vote record said, in the
    same notation, or "none" when the ballot had no CVR.

batches.csv   jurisdiction,tabulator,batch,ballots,choice,votes
    Batch comparison: the reported tally of the audited contest in every
    batch (ballots holding the contest, and each choice's votes).

batch_counts.csv  round,jurisdiction,tabulator,batch,board,ballots,choice,votes
    Batch comparison: the boards' hand counts of the drawn batches.

Batch comparison draws whole batches (position 0 in sample.csv) with
probability proportional to each batch's error bound u_p (PPEB): draw k
(counting across rounds from 1) takes the first 8 bytes of
SHA-256(seed + "," + k) as a number x in [0, 1) (top 53 bits / 2^53) and
picks the first batch, in jurisdiction/tabulator/batch order, whose running
total of u_p exceeds x times their sum. Its risk is Stark's MACRO bound.

Risk measures: BRAVO (cumulative votes), Minerva (votes per round) and the
super-simple Kaplan-Markov P-value (comparison, with one- and two-vote over-
and understatements on the closest winner-loser pair; a ballot not found or
without a CVR counts as a two-vote overstatement; in polling audits a ballot
not found counts as a vote for every reported loser).
`

type bundleAudit struct {
	Format   string                       `json:"format"`
	Settings vigil.AuditSettings          `json:"settings"`
	Seed     string                       `json:"seed"`
	Boards   []vigil.AuditBoard           `json:"boards"`
	Reported []vigil.AuditReportedContest `json:"reported"`
	Rounds   []bundleRound                `json:"rounds"`
}

type bundleRound struct {
	Round    int                        `json:"round"`
	Size     int                        `json:"size"`
	Status   string                     `json:"status,omitempty"`
	NextSize int                        `json:"next_size,omitempty"`
	Results  []vigil.AuditContestResult `json:"results,omitempty"`
}

// BundleFiles returns the bundle's files by name.
func BundleFiles(r *Record) (map[string][]byte, error) {
	files := map[string][]byte{"README.txt": []byte(BundleReadme)}
	a := bundleAudit{Format: BundleFormat, Settings: r.Settings, Seed: r.Seed, Boards: r.Boards, Reported: r.Reported}
	for _, rd := range r.Rounds {
		br := bundleRound{Round: rd.Round, Size: rd.Size}
		if rd.Close != nil {
			br.Status, br.NextSize, br.Results = rd.Close.Status, rd.Close.NextSize, rd.Close.Results
		}
		a.Rounds = append(a.Rounds, br)
	}
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, err
	}
	files["audit.json"] = append(b, '\n')

	files["manifest.csv"] = csvBytes([]string{"jurisdiction", "container", "tabulator", "batch", "ballots"}, func(w func(...string)) {
		for _, m := range r.Manifest {
			w(m.Jurisdiction, m.Container, m.Tabulator, m.Batch, strconv.Itoa(m.Ballots))
		}
	})
	files["sample.csv"] = csvBytes([]string{"round", "ticket", "jurisdiction", "container", "tabulator", "batch", "position", "times", "board"}, func(w func(...string)) {
		for _, rd := range r.Rounds {
			for _, d := range rd.Draws {
				w(strconv.Itoa(rd.Round), d.Ticket, d.Jurisdiction, d.Container, d.Tabulator, d.Batch, strconv.Itoa(d.Position), strconv.Itoa(d.Times), d.Board)
			}
		}
	})
	comparison := r.Settings.Kind == vigil.AuditComparison
	files["interpretations.csv"] = csvBytes([]string{"round", "jurisdiction", "tabulator", "batch", "position", "board", "contest", "reading", "cvr"}, func(w func(...string)) {
		for _, rd := range r.Rounds {
			keys := make([]string, 0, len(rd.Readings))
			for k := range rd.Readings {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				in := rd.Readings[k]
				for _, c := range r.Reported {
					cvr := ""
					if comparison {
						cvr = "none"
						if rec, ok := rd.CVRs[k]; ok {
							cvr = joinChoices(rec[c.ID])
							if cvr == "" {
								cvr = "blank"
							}
						}
					}
					b := in.Ballot
					w(strconv.Itoa(rd.Round), b.Jurisdiction, b.Tabulator, b.Batch, strconv.Itoa(b.Position), in.Board, string(c.ID), FormatReading(in, c.ID), cvr)
				}
			}
		}
	})
	files["batches.csv"] = csvBytes([]string{"jurisdiction", "tabulator", "batch", "ballots", "choice", "votes"}, func(w func(...string)) {
		for _, b := range sortedBatches(r.Batches) {
			for _, c := range r.Reported {
				for _, ch := range c.Choices {
					w(b.Jurisdiction, b.Tabulator, b.Batch, strconv.Itoa(b.Ballots), string(ch.ID), strconv.Itoa(b.Votes[ch.ID]))
				}
			}
		}
	})
	files["batch_counts.csv"] = csvBytes([]string{"round", "jurisdiction", "tabulator", "batch", "board", "ballots", "choice", "votes"}, func(w func(...string)) {
		for _, rd := range r.Rounds {
			keys := make([]string, 0, len(rd.Counts))
			for k := range rd.Counts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				cnt := rd.Counts[k]
				for _, c := range r.Reported {
					for _, ch := range c.Choices {
						w(strconv.Itoa(rd.Round), cnt.Jurisdiction, cnt.Tabulator, cnt.Batch, cnt.Board, strconv.Itoa(cnt.Ballots), string(ch.ID), strconv.Itoa(cnt.Votes[ch.ID]))
					}
				}
			}
		}
	})
	return files, nil
}

func joinChoices(c []vigil.ChoiceID) string {
	s := make([]string, len(c))
	for i, x := range c {
		s[i] = string(x)
	}
	return strings.Join(s, "|")
}

func csvBytes(header []string, rows func(w func(...string))) []byte {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(header)
	rows(func(f ...string) { cw.Write(f) })
	cw.Flush()
	return buf.Bytes()
}

// WriteBundle writes the bundle as a zip archive.
func WriteBundle(w io.Writer, r *Record) error {
	files, err := BundleFiles(r)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, name := range []string{"README.txt", "audit.json", "manifest.csv", "sample.csv", "interpretations.csv", "batches.csv", "batch_counts.csv"} {
		f, err := zw.Create(name)
		if err != nil {
			return err
		}
		if _, err := f.Write(files[name]); err != nil {
			return err
		}
	}
	return zw.Close()
}

// maxBundleFile bounds each file read from a bundle.
const maxBundleFile = 256 << 20

// ReadBundleFiles reads a bundle from a zip file or a directory.
func ReadBundleFiles(path string) (map[string][]byte, error) {
	const op = "audit.verify"
	files := map[string][]byte{}
	st, err := os.Stat(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.Invalid, op, "cannot read the bundle %s: %v", path, err)
	}
	names := []string{"audit.json", "manifest.csv", "sample.csv", "interpretations.csv", "batches.csv", "batch_counts.csv"}
	if st.IsDir() {
		for _, n := range names {
			b, err := os.ReadFile(filepath.Join(path, n))
			if err != nil {
				return nil, vigil.FieldError(op, n, "the bundle lacks %s: %v", n, err)
			}
			files[n] = b
		}
		return files, nil
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.Invalid, op, "%s is neither a directory nor a zip archive: %v", path, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, vigil.FieldError(op, f.Name, "cannot read: %v", err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, maxBundleFile+1))
		rc.Close()
		if err != nil || len(b) > maxBundleFile {
			return nil, vigil.FieldError(op, f.Name, "cannot read, or larger than %d bytes", maxBundleFile)
		}
		files[f.Name] = b
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			return nil, vigil.FieldError(op, n, "the bundle lacks %s", n)
		}
	}
	return files, nil
}

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
	rows, err := readCSV("manifest.csv", files["manifest.csv"], []string{"jurisdiction", "container", "tabulator", "batch", "ballots"})
	if err != nil {
		return v, err
	}
	for i, r := range rows {
		n, err := atoi("manifest.csv", i+2, "ballots", r[4])
		if err != nil {
			return v, err
		}
		rec.Manifest = append(rec.Manifest, vigil.AuditManifestBatch{Jurisdiction: r[0], Container: r[1], Tabulator: r[2], Batch: r[3], Ballots: n})
	}
	batchRows, err := readCSV("batches.csv", files["batches.csv"], []string{"jurisdiction", "tabulator", "batch", "ballots", "choice", "votes"})
	if err != nil {
		return v, err
	}
	reportedBatches, err := parseTallies("batches.csv", batchRows, false)
	if err != nil {
		return v, err
	}
	for _, b := range reportedBatches {
		rec.Batches = append(rec.Batches, b.AuditBatchTally)
	}
	countRows, err := readCSV("batch_counts.csv", files["batch_counts.csv"], []string{"round", "jurisdiction", "tabulator", "batch", "board", "ballots", "choice", "votes"})
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
		rd := Round{Round: br.Round, Size: br.Size, Readings: map[string]vigil.AuditInterpretation{}, Counts: map[string]vigil.AuditBatchCount{},
			CVRs: map[string]map[vigil.ContestID][]vigil.ChoiceID{}}
		if br.Round != v.Rounds {
			bad("audit.json", "round %d is numbered %d", v.Rounds, br.Round)
		}
		var want []vigil.AuditDraw
		if a.Settings.Kind == vigil.AuditBatch && len(rec.Reported) == 1 {
			want, err = DrawBatches(a.Seed, rec.Manifest, rec.Batches, rec.Reported[0], a.Boards, rec.Drawn(br.Round), br.Size)
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
		if a.Settings.Kind == vigil.AuditComparison && r[8] != "none" {
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

	// The hand counts, attached to the drawn batches of their round.
	counts, err := parseTallies("batch_counts.csv", countRows, true)
	if err != nil {
		return v, err
	}
	for _, c := range counts {
		if c.Round < 1 || c.Round > len(rec.Rounds) || !drawn[strconv.Itoa(c.Round)+"/"+vigil.AuditBallot{Jurisdiction: c.Jurisdiction, Tabulator: c.Tabulator, Batch: c.Batch}.Key()] {
			bad("batch_counts.csv", "batch %s was not drawn in round %d", c.BatchKey(), c.Round)
			continue
		}
		c.Audit = a.Settings.ID
		rec.Rounds[c.Round-1].Counts[c.BatchKey()] = c
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
			if b.O1 != g.O1 || b.O2 != g.O2 || b.U1 != g.U1 || b.U2 != g.U2 {
				bad("audit.json", "round %d contest %s: discrepancies o1=%d o2=%d u1=%d u2=%d, but %s give o1=%d o2=%d u1=%d u2=%d",
					br.Round, g.Contest, b.O1, b.O2, b.U1, b.U2, source, g.O1, g.O2, g.U1, g.U2)
			}
		}
	}
	return v, nil
}

// sameRisk compares risk measures to 1e-9, relative: JSON keeps a
// float64 exactly, but a verifier on another machine may differ in the
// last bits of a logarithm.
func sameRisk(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

// parseTallies reads batch tally rows into one tally per round and batch,
// in file order. Rows of batches.csv are jurisdiction,tabulator,batch,
// ballots,choice,votes; rows of batch_counts.csv (counts) start with the
// round and have the board after the batch.
func parseTallies(name string, rows [][]string, counts bool) ([]vigil.AuditBatchCount, error) {
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
		ballots, err := atoi(name, i+2, "ballots", r[3])
		if err != nil {
			return nil, err
		}
		votes, err := atoi(name, i+2, "votes", r[5])
		if err != nil {
			return nil, err
		}
		key := strconv.Itoa(round) + "/" + r[0] + "/" + r[1] + "/" + r[2]
		k, ok := idx[key]
		if !ok {
			k = len(out)
			idx[key] = k
			out = append(out, vigil.AuditBatchCount{Round: round, Board: board,
				AuditBatchTally: vigil.AuditBatchTally{Jurisdiction: r[0], Tabulator: r[1], Batch: r[2], Ballots: ballots, Votes: map[vigil.ChoiceID]int{}}})
		}
		out[k].Votes[vigil.ChoiceID(r[4])] += votes
	}
	return out, nil
}
