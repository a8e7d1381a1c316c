package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/rla"
)

// The audit commands run the risk-limiting audit math on plain files, so
// that anyone can recompute a published audit without a data directory.
// The output formats (CSV with a fixed header) are a contract: operators'
// scripts parse them.

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Risk-limiting audit: draw samples, size rounds, measure risk",
	}
	cmd.AddCommand(newAuditSampleCmd(), newAuditSampleSizeCmd(), newAuditRiskCmd())
	return cmd
}

func newAuditSampleCmd() *cobra.Command {
	var (
		seed, manifest string
		count, ballots int
		without        bool
	)
	cmd := &cobra.Command{
		Use:   "sample --seed SEED --manifest FILE --count N [--without-replacement]",
		Short: "Draw ballots from a manifest exactly as Arlo draws them",
		Long: `Draws ballots with Rivest's consistent sampler, as Arlo does: each ballot,
named (batch, position) with positions 1..ballots, gets a SHA-256 ticket
from the public seed and ballots are drawn in ticket order.

The manifest is a CSV file with the header "batch,ballots". The output is a
CSV with the header "ticket,batch,position", one row per draw in draw order;
with replacement (the default, for ballot polling) a ballot drawn twice
appears twice. Use --without-replacement for ballot comparison.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "audit.sample"
			if err := rla.CheckSeed(seed); err != nil {
				return vigil.FieldError(op, "seed", "the seed has too few digits: roll at least %d ten-sided dice in the ceremony and use every digit", rla.MinSeedDigits)
			}
			if count < 1 || count > maxDraws {
				return vigil.FieldError(op, "count", "draw between 1 and %d ballots", maxDraws)
			}
			batches, err := readFile(op, "manifest", manifest, parseManifest)
			if err != nil {
				return err
			}
			total := 0
			for _, b := range batches {
				total += b.Ballots
			}
			if total == 0 {
				return vigil.FieldError(op, "manifest", "the manifest lists no ballots")
			}
			if cmd.Flags().Changed("ballots") && total != ballots {
				return vigil.FieldError(op, "ballots", "the manifest's batches add up to %d ballots, not %d; correct the manifest or the count", total, ballots)
			}
			draws, err := rla.Sample(seed, batches, count, !without)
			if err != nil {
				return vigil.Wrap(op, vigil.Invalid, err)
			}
			w := csv.NewWriter(cmd.OutOrStdout())
			w.Write([]string{"ticket", "batch", "position"})
			for _, d := range draws {
				w.Write([]string{d.Ticket, d.Ballot.Batch, strconv.Itoa(d.Ballot.Position)})
			}
			w.Flush()
			return w.Error()
		},
	}
	f := cmd.Flags()
	f.StringVar(&seed, "seed", "", "the public random seed (at least 20 decimal digits)")
	f.StringVar(&manifest, "manifest", "", "ballot manifest CSV with header batch,ballots")
	f.IntVar(&count, "count", 0, "number of ballots to draw")
	f.BoolVar(&without, "without-replacement", false, "draw each ballot at most once (ballot comparison)")
	f.IntVar(&ballots, "ballots", 0, "if set, the total the manifest must add up to")
	cmd.MarkFlagRequired("seed")
	cmd.MarkFlagRequired("manifest")
	cmd.MarkFlagRequired("count")
	return cmd
}

// contestFlags are the flags that describe the reported outcome.
type contestFlags struct {
	method    string
	riskLimit float64
	tally     string
	ballots   int
	winners   int
}

func (cf *contestFlags) register(cmd *cobra.Command, methods string) {
	f := cmd.Flags()
	f.StringVar(&cf.method, "method", "", "audit method: "+methods)
	f.Float64Var(&cf.riskLimit, "risk-limit", 0, "risk limit in percent (10 = 10 %)")
	f.StringVar(&cf.tally, "tally", "", "reported tally CSV with header choice,votes")
	f.IntVar(&cf.ballots, "ballots", 0, "ballots cast in the contest")
	f.IntVar(&cf.winners, "winners", 1, "number of winners (vote for N)")
	for _, name := range []string{"method", "risk-limit", "tally", "ballots"} {
		cmd.MarkFlagRequired(name)
	}
}

// contest validates the flags and reads the tally.
func (cf *contestFlags) contest(op string, methods ...string) (rla.Contest, float64, error) {
	known := false
	for _, m := range methods {
		known = known || cf.method == m
	}
	if !known {
		return rla.Contest{}, 0, vigil.FieldError(op, "method", "unknown method %q; use one of %s", cf.method, strings.Join(methods, ", "))
	}
	if !(cf.riskLimit > 0 && cf.riskLimit < 100) {
		return rla.Contest{}, 0, vigil.FieldError(op, "risk-limit", "the risk limit is a percentage between 0 and 100, such as 10")
	}
	if cf.ballots < 1 {
		return rla.Contest{}, 0, vigil.FieldError(op, "ballots", "give the number of ballots cast in the contest")
	}
	tf, err := readFile(op, "tally", cf.tally, parseTally)
	if err != nil {
		return rla.Contest{}, 0, err
	}
	tally := tf.choices
	if cf.winners < 1 || cf.winners > len(tally) {
		return rla.Contest{}, 0, vigil.FieldError(op, "winners", "the number of winners must be between 1 and the %d choices of the tally", len(tally))
	}
	for i, ch := range tally {
		if ch.Votes > cf.ballots {
			return rla.Contest{}, 0, vigil.FieldError(op, "tally", "line %d, field votes: %q has %d votes, more than the %d ballots cast", tf.lines[i], clip(ch.Name), ch.Votes, cf.ballots)
		}
	}
	c := rla.Contest{Ballots: cf.ballots, Winners: cf.winners, Tally: tally}
	if _, losers := c.Outcome(); len(losers) == 0 {
		return rla.Contest{}, 0, vigil.FieldError(op, "winners", "every choice of the tally is a winner, so there is no outcome to audit")
	}
	return c, cf.riskLimit / 100, nil
}

func newAuditSampleSizeCmd() *cobra.Command {
	var cf contestFlags
	cmd := &cobra.Command{
		Use:   "sample-size --method bravo|minerva|supersimple --risk-limit PCT --tally FILE --ballots N [--winners N]",
		Short: "Size the first round of an audit",
		Long: `Prints a CSV with the header "option,size". For bravo the rows are asn
(the average sample number) and 0.7, 0.8, 0.9: the sizes that finish the
audit in one round with that chance if the reported outcome is right; for
minerva the rows 0.7, 0.8, 0.9; for supersimple one row, size. When a full
hand count is the better plan (a tie, or BRAVO needing a quarter of a large
election), every row gives the number of ballots.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "audit.sample-size"
			c, alpha, err := cf.contest(op, "bravo", "minerva", "supersimple")
			if err != nil {
				return err
			}
			var rows [][2]string
			switch cf.method {
			case "bravo":
				s, err := rla.BRAVOSampleSizes(c, alpha, nil)
				if err != nil {
					return vigil.Wrap(op, vigil.Invalid, err)
				}
				rows = append(rows, [2]string{"asn", strconv.Itoa(s.ASN)})
				rows = append(rows, probRows(s)...)
			case "minerva":
				s, err := rla.MinervaSampleSizes(c, alpha, nil)
				if err != nil {
					return vigil.Wrap(op, vigil.Invalid, err)
				}
				rows = probRows(s)
			case "supersimple":
				n, err := rla.SuperSimpleSampleSize(c, alpha, 0, rla.Discrepancies{})
				if err != nil {
					return vigil.Wrap(op, vigil.Invalid, err)
				}
				rows = append(rows, [2]string{"size", strconv.Itoa(n)})
			}
			w := csv.NewWriter(cmd.OutOrStdout())
			w.Write([]string{"option", "size"})
			for _, r := range rows {
				w.Write(r[:])
			}
			w.Flush()
			return w.Error()
		},
	}
	cf.register(cmd, "bravo, minerva or supersimple")
	return cmd
}

func probRows(s rla.SampleSizes) [][2]string {
	var rows [][2]string
	for i, p := range rla.StopProbabilities {
		rows = append(rows, [2]string{strconv.FormatFloat(p, 'f', -1, 64), strconv.Itoa(s.Sizes[i])})
	}
	return rows
}

func newAuditRiskCmd() *cobra.Command {
	var (
		cf                      contestFlags
		samples                 []string
		sampled, o1, o2, u1, u2 int
	)
	cmd := &cobra.Command{
		Use:   "risk --method bravo|minerva|supersimple --risk-limit PCT --tally FILE --ballots N (--sample FILE... | --sampled N --o1 N --o2 N --u1 N --u2 N)",
		Short: "Measure the risk left after auditing a sample",
		Long: `Prints a CSV with the header "winner,loser,p", one row per reported winner and
loser (for supersimple, the closest pair), then the row "confirmed,true" or
"confirmed,false": true when every p is at or below the risk limit.

Ballot polling (bravo, minerva) reads the audited ballots' votes from
--sample, a CSV with the header "choice,votes". Repeat --sample once per
round, in order, each file holding that round's votes; BRAVO adds them up,
Minerva needs the rounds. Ballot comparison (supersimple) takes the number
of ballots sampled and the counts of one- and two-vote overstatements (o1,
o2) and understatements (u1, u2).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "audit.risk"
			c, alpha, err := cf.contest(op, "bravo", "minerva", "supersimple")
			if err != nil {
				return err
			}
			var r rla.Risk
			switch cf.method {
			case "bravo", "minerva":
				if len(samples) == 0 {
					return vigil.FieldError(op, "sample", "give the audited ballots' votes with --sample FILE")
				}
				var rounds []map[string]int
				for _, name := range samples {
					votes, err := readFile(op, "sample", name, func(r io.Reader) (map[string]int, error) {
						return parseSampleVotes(r, c.Tally)
					})
					if err != nil {
						return err
					}
					rounds = append(rounds, votes)
				}
				if cf.method == "bravo" {
					r, err = rla.BRAVO(c, alpha, sumRounds(rounds))
				} else {
					r, err = rla.MinervaRisk(c, alpha, rounds)
				}
				if err != nil {
					return vigil.Wrap(op, vigil.Invalid, err)
				}
			case "supersimple":
				for name, v := range map[string]int{"sampled": sampled, "o1": o1, "o2": o2, "u1": u1, "u2": u2} {
					if v < 0 {
						return vigil.FieldError(op, name, "a count cannot be negative")
					}
				}
				d := rla.Discrepancies{O1: o1, O2: o2, U1: u1, U2: u2}
				if o1+o2+u1+u2 > sampled {
					return vigil.FieldError(op, "sampled", "%d discrepancies were counted in only %d sampled ballots; check the counts", o1+o2+u1+u2, sampled)
				}
				p, ok, err := rla.SuperSimpleRisk(c, alpha, sampled, d)
				if err != nil {
					return vigil.Wrap(op, vigil.Invalid, err)
				}
				winners, losers := c.Outcome()
				pair := rla.Pair{Winner: winners[len(winners)-1].Name, Loser: losers[0].Name}
				r = rla.Risk{Pairs: []rla.PairRisk{{Pair: pair, Risk: p}}, Max: p, Confirmed: ok}
			}
			w := csv.NewWriter(cmd.OutOrStdout())
			w.Write([]string{"winner", "loser", "p"})
			for _, p := range r.Pairs {
				w.Write([]string{p.Winner, p.Loser, strconv.FormatFloat(p.Risk, 'g', -1, 64)})
			}
			w.Write([]string{"confirmed", strconv.FormatBool(r.Confirmed)})
			w.Flush()
			return w.Error()
		},
	}
	cf.register(cmd, "bravo, minerva or supersimple")
	f := cmd.Flags()
	f.StringArrayVar(&samples, "sample", nil, "audited votes CSV with header choice,votes; repeat once per round")
	f.IntVar(&sampled, "sampled", 0, "supersimple: ballots sampled (draws, with multiplicity)")
	f.IntVar(&o1, "o1", 0, "supersimple: one-vote overstatements")
	f.IntVar(&o2, "o2", 0, "supersimple: two-vote overstatements")
	f.IntVar(&u1, "u1", 0, "supersimple: one-vote understatements")
	f.IntVar(&u2, "u2", 0, "supersimple: two-vote understatements")
	return cmd
}

func sumRounds(rounds []map[string]int) map[string]int {
	total := map[string]int{}
	for _, r := range rounds {
		for k, v := range r {
			total[k] += v
		}
	}
	return total
}

// Input files are bounded so that a wrong path (a disk image, a log)
// fails fast instead of filling memory.
const (
	maxInputBytes = 256 << 20
	maxInputRows  = 5_000_000
	maxCount      = 1_000_000_000
	maxDraws      = 10_000_000
)

// readFile opens the file named by flag and parses it. Errors name the
// flag so the user knows which file is wrong.
func readFile[T any](op, flag, name string, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(name)
	if err != nil {
		return zero, vigil.FieldError(op, flag, "cannot open %q: %v", name, errors.Unwrap(err))
	}
	defer f.Close()
	v, err := parse(io.LimitReader(f, maxInputBytes+1))
	if err != nil {
		var e *vigil.Error
		if errors.As(err, &e) {
			e.Op, e.Field = op, flag
			return zero, e
		}
		return zero, vigil.FieldError(op, flag, "%v", err)
	}
	return v, nil
}

// csvRows reads a two-column CSV whose header must be want, calling row
// for each data line with its 1-based line number. Fields are trimmed of
// surrounding spaces; a UTF-8 byte order mark is ignored.
func csvRows(r io.Reader, want [2]string, row func(line int, a, b string) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return lineError(0, "", "cannot be read: %v", err)
	}
	if len(data) > maxInputBytes {
		return lineError(0, "", "is larger than %d MiB; is it the right file?", maxInputBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return lineError(0, "", "is not UTF-8 text")
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	for n := 0; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			if n == 0 {
				return lineError(1, "", "the file is empty; the first line must be the header %s,%s", want[0], want[1])
			}
			return nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return lineError(pe.Line, "", "is not valid CSV: %v", pe.Err)
		}
		if err != nil {
			return lineError(0, "", "is not valid CSV: %v", err)
		}
		line, _ := cr.FieldPos(0)
		if n >= maxInputRows {
			return lineError(line, "", "too many lines (more than %d)", maxInputRows)
		}
		if len(rec) != 2 {
			return lineError(line, "", "has %d fields; each line needs exactly two: %s,%s", len(rec), want[0], want[1])
		}
		a, b := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if n == 0 {
			if !strings.EqualFold(a, want[0]) || !strings.EqualFold(b, want[1]) {
				return lineError(line, "", "the header must be %s,%s", want[0], want[1])
			}
			continue
		}
		if err := row(line, a, b); err != nil {
			return err
		}
	}
}

// lineError is an Invalid error whose message names the line and the
// field; readFile fills in the op and the flag naming the file.
func lineError(line int, field, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	switch {
	case line > 0 && field != "":
		msg = fmt.Sprintf("line %d, field %s: %s", line, field, msg)
	case line > 0:
		msg = fmt.Sprintf("line %d: %s", line, msg)
	default:
		msg = "the file " + msg
	}
	return &vigil.Error{Kind: vigil.Invalid, Message: msg}
}

// parseCount parses a non-negative whole number of at most maxCount.
func parseCount(line int, field, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, lineError(line, field, "%q is not a whole number of zero or more", clip(s))
	}
	if n > maxCount {
		return 0, lineError(line, field, "%d is more than %d; is the column right?", n, maxCount)
	}
	return n, nil
}

// clip shortens what is echoed back from the input.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	for i := 40; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}

// parseManifest reads a ballot manifest: header batch,ballots, one line
// per batch. Batches with no ballots are allowed (they cannot be drawn)
// and left out; names must be unique.
func parseManifest(r io.Reader) ([]rla.Batch, error) {
	var out []rla.Batch
	seen := map[string]int{}
	total := 0
	err := csvRows(r, [2]string{"batch", "ballots"}, func(line int, name, count string) error {
		if name == "" {
			return lineError(line, "batch", "the batch name is empty")
		}
		if first, dup := seen[name]; dup {
			return lineError(line, "batch", "batch %q is listed twice (first on line %d); each batch needs one line", clip(name), first)
		}
		seen[name] = line
		n, err := parseCount(line, "ballots", count)
		if err != nil {
			return err
		}
		total += n
		if total > maxCount {
			return lineError(line, "ballots", "the manifest adds up to more than %d ballots", maxCount)
		}
		if n > 0 {
			out = append(out, rla.Batch{Name: name, Ballots: n})
		}
		return nil
	})
	return out, err
}

// tallyFile is a parsed tally and the line of each choice.
type tallyFile struct {
	choices []rla.Choice
	lines   []int
}

// parseTally reads a reported tally: header choice,votes.
func parseTally(r io.Reader) (tallyFile, error) {
	var out tallyFile
	seen := map[string]int{}
	err := csvRows(r, [2]string{"choice", "votes"}, func(line int, name, votes string) error {
		if name == "" {
			return lineError(line, "choice", "the choice name is empty")
		}
		if first, dup := seen[name]; dup {
			return lineError(line, "choice", "choice %q is listed twice (first on line %d)", clip(name), first)
		}
		seen[name] = line
		n, err := parseCount(line, "votes", votes)
		if err != nil {
			return err
		}
		out.choices = append(out.choices, rla.Choice{Name: name, Votes: n})
		out.lines = append(out.lines, line)
		return nil
	})
	if err == nil && len(out.choices) == 0 {
		err = lineError(0, "", "lists no choices")
	}
	return out, err
}

// parseSampleVotes reads the votes found on audited ballots: header
// choice,votes, every choice one of the tally's. Choices not listed had
// no votes in the sample.
func parseSampleVotes(r io.Reader, tally []rla.Choice) (map[string]int, error) {
	known := map[string]bool{}
	for _, ch := range tally {
		known[ch.Name] = true
	}
	out := map[string]int{}
	seen := map[string]int{}
	err := csvRows(r, [2]string{"choice", "votes"}, func(line int, name, votes string) error {
		if !known[name] {
			return lineError(line, "choice", "%q is not a choice of the tally; check the spelling", clip(name))
		}
		if first, dup := seen[name]; dup {
			return lineError(line, "choice", "choice %q is listed twice (first on line %d)", clip(name), first)
		}
		seen[name] = line
		n, err := parseCount(line, "votes", votes)
		if err != nil {
			return err
		}
		out[name] = n
		return nil
	})
	return out, err
}
