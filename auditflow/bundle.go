package auditflow

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
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
    format, settings {id, name, kind (bravo|minerva|comparison|batch|hybrid),
    risk_limit (percent), contests [{id, targeted}], jurisdictions, no_cvr
    (hybrid: each contest's reported result in the ballots without CVRs)},
    seed (the digits of
    the public dice ceremony), boards [{board, jurisdiction, members}],
    reported [{id, name, targeted, winners, ballots, choices [{id, name,
    votes}], cvr and no_cvr (hybrid: the same split by stratum, {ballots,
    votes})}] (the reported results the audit tests), rounds [{round, size,
    cvr_size, no_cvr_size, status, next_size, next_cvr, next_no_cvr, results
    [{contest, targeted, risk, confirmed, o1, o2, u1, u2, votes, cvr_sampled,
    no_cvr_sampled}]}], hand_counts [{contest, ballots, votes, winners,
    outcome}] (the full hand counts recorded after an escalation to a full
    hand count: the hand count's outcome, confirmed or overturned, is the
    contest's outcome).

manifest.csv  jurisdiction,container,tabulator,batch,ballots,cvr
    The ballot manifest the sample was drawn from. The sampler names each
    batch "jurisdiction/tabulator/batch" and its ballots 1..ballots. cvr is
    Y, or N for a batch whose ballots have no cast vote records (a hybrid
    audit's no-CVR stratum).

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

batches.csv   jurisdiction,tabulator,batch,contest,ballots,choice,votes
    Batch comparison: the reported tally of each audited contest in every
    batch (ballots holding the contest, and each choice's votes).

batch_counts.csv  round,jurisdiction,tabulator,batch,board,contest,ballots,choice,votes
    Batch comparison: the boards' hand counts of the drawn batches, each
    audited contest.

Batch comparison draws whole batches (position 0 in sample.csv) with
probability proportional to each batch's error bound u_p (PPEB): draw k
(counting across rounds from 1) takes the first 8 bytes of
SHA-256(seed + "," + k) as a number x in [0, 1) (top 53 bits / 2^53) and
picks the first batch, in jurisdiction/tabulator/batch order, whose running
total of u_p exceeds x times their sum. With several contests u_p is the
largest over them, and each contest's risk is Stark's MACRO bound on its own
errors relative to that u_p.

A hybrid audit (SUITE) draws each stratum without replacement from its own
batches: round r draws cvr_size more ballots of the batches with cvr Y, then
no_cvr_size more of those with cvr N, each continuing its stratum's ticket
order. interpretations.csv gives the cvr column only for the CVR stratum's
ballots (empty for the others). The risk combines the CVR stratum's
Kaplan-Markov P-value and the no-CVR stratum's SPRT (without replacement)
with Fisher's function, maximised over the split of the margin's error
between the strata (Ottoboni, Stark, Lindeman and McBurnett, 2018), as Arlo
computes it; it counts only overstatements in the CVR stratum.

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
	// HandCounts are the full hand counts after an escalation.
	HandCounts []vigil.AuditHandCount `json:"hand_counts,omitempty"`
}

type bundleRound struct {
	Round     int                        `json:"round"`
	Size      int                        `json:"size"`
	CVRSize   int                        `json:"cvr_size,omitempty"`
	NoCVRSize int                        `json:"no_cvr_size,omitempty"`
	Status    string                     `json:"status,omitempty"`
	NextSize  int                        `json:"next_size,omitempty"`
	NextCVR   int                        `json:"next_cvr,omitempty"`
	NextNoCVR int                        `json:"next_no_cvr,omitempty"`
	Results   []vigil.AuditContestResult `json:"results,omitempty"`
}

// BundleFiles returns the bundle's files by name.
func BundleFiles(r *Record) (map[string][]byte, error) {
	files := map[string][]byte{"README.txt": []byte(BundleReadme)}
	a := bundleAudit{Format: BundleFormat, Settings: r.Settings, Seed: r.Seed, Boards: r.Boards, Reported: r.Reported, HandCounts: r.HandCounts}
	for _, rd := range r.Rounds {
		br := bundleRound{Round: rd.Round, Size: rd.Size, CVRSize: rd.CVRSize, NoCVRSize: rd.NoCVRSize}
		if rd.Close != nil {
			br.Status, br.NextSize, br.Results = rd.Close.Status, rd.Close.NextSize, rd.Close.Results
			br.NextCVR, br.NextNoCVR = rd.Close.NextCVR, rd.Close.NextNoCVR
		}
		a.Rounds = append(a.Rounds, br)
	}
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return nil, err
	}
	files["audit.json"] = append(b, '\n')

	files["manifest.csv"] = csvBytes(manifestHeader, func(w func(...string)) {
		for _, m := range r.Manifest {
			cvr := "Y"
			if m.NoCVR {
				cvr = "N"
			}
			w(m.Jurisdiction, m.Container, m.Tabulator, m.Batch, strconv.Itoa(m.Ballots), cvr)
		}
	})
	files["sample.csv"] = csvBytes([]string{"round", "ticket", "jurisdiction", "container", "tabulator", "batch", "position", "times", "board"}, func(w func(...string)) {
		for _, rd := range r.Rounds {
			for _, d := range rd.Draws {
				w(strconv.Itoa(rd.Round), d.Ticket, d.Jurisdiction, d.Container, d.Tabulator, d.Batch, strconv.Itoa(d.Position), strconv.Itoa(d.Times), d.Board)
			}
		}
	})
	comparison := r.Settings.Kind == vigil.AuditComparison || r.Settings.Kind == vigil.AuditHybrid
	noCVR := noCVRBatches(r.Manifest)
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
					if comparison && !noCVR[rd.Readings[k].Ballot.BatchKey()] {
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
	choices := func(id vigil.ContestID) []vigil.AuditReportedChoice {
		for _, c := range r.Reported {
			if c.ID == id {
				return c.Choices
			}
		}
		return nil
	}
	files["batches.csv"] = csvBytes(batchesHeader, func(w func(...string)) {
		for _, b := range sortedBatches(r.Batches) {
			c := TallyContest(r.Reported, b)
			for _, ch := range choices(c) {
				w(b.Jurisdiction, b.Tabulator, b.Batch, string(c), strconv.Itoa(b.Ballots), string(ch.ID), strconv.Itoa(b.Votes[ch.ID]))
			}
		}
	})
	files["batch_counts.csv"] = csvBytes(countsHeader, func(w func(...string)) {
		for _, rd := range r.Rounds {
			keys := make([]string, 0, len(rd.Counts))
			for k := range rd.Counts {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				cnt := rd.Counts[k]
				c := TallyContest(r.Reported, cnt.AuditBatchTally)
				for _, ch := range choices(c) {
					w(strconv.Itoa(rd.Round), cnt.Jurisdiction, cnt.Tabulator, cnt.Batch, cnt.Board, string(c), strconv.Itoa(cnt.Ballots), string(ch.ID), strconv.Itoa(cnt.Votes[ch.ID]))
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
