package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// The audit workflow on a node's data directory: create, seed, boards,
// draw, retrieval lists, interpretations, sign-offs, round close, report
// and bundle; and verify, which needs only the bundle. Each command is
// one matrix action and acts as the node's operator.

func (m *Main) addAuditWorkflow(c *cobra.Command) {
	c.AddCommand(
		withAction(m.auditCreateCmd(), access.ActionAuditManage),
		withAction(m.auditSeedCmd(), access.ActionAuditManage),
		withAction(m.auditBoardCmd(), access.ActionAuditManage),
		withAction(m.auditDrawCmd(), access.ActionAuditManage),
		withAction(m.auditRetrievalCmd(), access.ActionAuditRetrieval),
		withAction(m.auditEnterCmd(), access.ActionAuditEnter),
		withAction(m.auditCountCmd(), access.ActionAuditEnter),
		withAction(m.auditSignOffCmd(), access.ActionAuditEnter),
		withAction(m.auditCloseCmd(), access.ActionAuditManage),
		withAction(m.auditHandCountCmd(), access.ActionAuditManage),
		withAction(m.auditReportCmd(), access.ActionAuditReport),
		withAction(m.auditBundleCmd(), access.ActionAuditReport),
		withAction(newAuditVerifyCmd(), access.ActionFileCompute),
	)
}

// auditNode opens the node and its audit service.
func (m *Main) auditNode(c *cobra.Command, dir string) (*node.Node, *sqlite.AuditService, error) {
	n, err := m.openNode(c.Context(), node.Options{Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	return n, sqlite.NewAuditService(n.DB, n, n.Now), nil
}

func auditFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVar(dst, "audit", "", "the audit's id")
}

func needAudit(op, id string) error {
	if id == "" {
		return vigil.FieldError(op, "audit", "name the audit with --audit ID")
	}
	return nil
}

func (m *Main) auditCreateCmd() *cobra.Command {
	var dir, id, name, kind, noCVR string
	var risk int
	var targeted, opportunistic, jurisdictions []string
	c := &cobra.Command{
		Use:   "create --audit ID --kind bravo|minerva|comparison|batch|hybrid --risk-limit PCT --contest C… --jurisdiction J… [--no-cvr-tally FILE]",
		Short: "Create a risk-limiting audit of imported contests",
		Long: `A hybrid audit (SUITE) audits the ballots of manifest batches with CVRs by
ballot comparison and those of batches marked CVR: N by ballot polling. The
tabulation knows only the CVRs, so --no-cvr-tally FILE gives each audited
contest's reported result in the batches without CVRs: a CSV
contest,ballots,choice,votes (ballots: those of the no-CVR batches that
hold the contest, the same on each of the contest's rows).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			set := vigil.AuditSettings{ID: vigil.AuditID(id), Name: name, Kind: vigil.AuditKind(kind), RiskLimit: risk, Jurisdictions: jurisdictions}
			if noCVR != "" {
				t, err := readContestTallies("audit.create", noCVR)
				if err != nil {
					return err
				}
				set.NoCVR = t
			}
			if set.Name == "" {
				set.Name = id
			}
			for _, t := range targeted {
				set.Contests = append(set.Contests, vigil.AuditContest{ID: vigil.ContestID(t), Targeted: true})
			}
			for _, o := range opportunistic {
				set.Contests = append(set.Contests, vigil.AuditContest{ID: vigil.ContestID(o)})
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			if err := svc.Create(c.Context(), operator(n.Origin()), set); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "audit %s created: %s, risk limit %d%%, %d contests, jurisdictions %s\n",
				set.ID, set.Kind, set.RiskLimit, len(set.Contests), strings.Join(set.Jurisdictions, ", "))
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&name, "name", "", "a name for the audit (default: the id)")
	c.Flags().StringVar(&kind, "kind", "bravo", "bravo, minerva (ballot polling), comparison (ballot comparison), batch (batch comparison, MACRO across the contests) or hybrid (comparison where batches have CVRs, polling where not)")
	c.Flags().StringVar(&noCVR, "no-cvr-tally", "", "hybrid: the contests' reported results in the batches without CVRs (CSV contest,ballots,choice,votes)")
	c.Flags().IntVar(&risk, "risk-limit", 10, "the risk limit in percent")
	c.Flags().StringArrayVar(&targeted, "contest", nil, "a targeted contest (repeat)")
	c.Flags().StringArrayVar(&opportunistic, "opportunistic", nil, "a contest measured from the same sample (repeat)")
	c.Flags().StringArrayVar(&jurisdictions, "jurisdiction", nil, "a county whose manifest and CVRs the audit uses (repeat)")
	return c
}

func (m *Main) auditSeedCmd() *cobra.Command {
	var dir, id string
	var finish bool
	c := &cobra.Command{
		Use:   "seed --audit ID [DIGITS] [--finish]",
		Short: "Enter the digits rolled on ten-sided dice in the public seed ceremony; --finish makes them the seed",
		Long: `Each digit is one event in the log, shown live on the audit's page as it is
entered. --finish closes the ceremony: the digits entered so far, in order,
become the seed; it needs at least 20.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "audit.seed"
			if err := needAudit(op, id); err != nil {
				return err
			}
			if len(args) == 0 && !finish {
				return vigil.FieldError(op, "digits", "give the digits rolled, or --finish")
			}
			var digits []int
			if len(args) == 1 {
				for _, r := range args[0] {
					if r == ' ' || r == '-' {
						continue
					}
					if r < '0' || r > '9' {
						return vigil.FieldError(op, "digits", "%q is not a digit of a ten-sided die", r)
					}
					digits = append(digits, int(r-'0'))
				}
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			a := operator(n.Origin())
			for _, d := range digits {
				i, err := svc.SeedDigit(c.Context(), a, vigil.AuditID(id), d)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "digit %d: %d\n", i, d)
			}
			if finish {
				seed, err := svc.FinishSeed(c.Context(), a, vigil.AuditID(id))
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "seed: %s\n", seed)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().BoolVar(&finish, "finish", false, "finish the ceremony: the digits entered become the seed")
	return c
}

func (m *Main) auditBoardCmd() *cobra.Command {
	var dir, id, board, jur string
	var members []string
	c := &cobra.Command{
		Use:   "board --audit ID --board NAME --jurisdiction J --member USER --member USER",
		Short: "Create an audit board of two members (never the seed's author)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := needAudit("audit.board", id); err != nil {
				return err
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			b := vigil.AuditBoard{Audit: vigil.AuditID(id), Board: board, Jurisdiction: jur, Members: members}
			if err := svc.CreateBoard(c.Context(), operator(n.Origin()), b); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "board %s (%s): %s\n", board, jur, strings.Join(members, ", "))
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&board, "board", "", "the board's name")
	c.Flags().StringVar(&jur, "jurisdiction", "", "the county the board works in")
	c.Flags().StringArrayVar(&members, "member", nil, "a member's user name (twice)")
	return c
}

func (m *Main) auditDrawCmd() *cobra.Command {
	var dir, id string
	var size int
	c := &cobra.Command{
		Use:   "draw --audit ID [--size N]",
		Short: "Draw the next round's sample (round 1: from the manifests and reported results, frozen from then on)",
		Long: `Without --size, round 1 draws the size that finishes the audit in one round
with a 90 % chance if the reported outcome is right, and later rounds the
size the previous round closed with.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := needAudit("audit.draw", id); err != nil {
				return err
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			r, err := svc.StartRound(c.Context(), operator(n.Origin()), vigil.AuditID(id), size)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "round %d: %d draws\n", r.Round, len(r.Draws))
			if r.CVRSize+r.NoCVRSize > 0 {
				fmt.Fprintf(c.OutOrStdout(), "ballots with CVRs (comparison): %d, without CVRs (polling): %d\n", r.CVRSize, r.NoCVRSize)
			}
			var boards []string
			for _, d := range r.Draws {
				if !slices.Contains(boards, d.Board) {
					boards = append(boards, d.Board)
				}
			}
			slices.Sort(boards)
			for _, b := range boards {
				fmt.Fprintf(c.OutOrStdout(), "board %s: %d ballots to retrieve\n", b, len(auditflow.Retrieval(r.Draws, b)))
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().IntVar(&size, "size", 0, "the number of ballots to draw (default: computed)")
	return c
}

func (m *Main) auditRetrievalCmd() *cobra.Command {
	var dir, id, board string
	c := &cobra.Command{
		Use:   "retrieval --audit ID --board NAME",
		Short: "Print a board's retrieval list for the current round (CSV, sorted by container, tabulator, batch, position)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := needAudit("audit.retrieval", id); err != nil {
				return err
			}
			n, _, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			st, err := n.DB.Audit(c.Context(), vigil.AuditID(id))
			if err != nil {
				return err
			}
			if st.Board(board) == nil {
				return vigil.FieldError("audit.retrieval", "board", "audit %s has no board %q", id, board)
			}
			cur := st.Current()
			if cur == nil {
				return vigil.Errorf(vigil.Conflict, "audit.retrieval", "nothing is drawn yet: run vigil audit draw")
			}
			return auditflow.WriteRetrievalCSV(c.OutOrStdout(), board, auditflow.Retrieval(cur.Draws, board))
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&board, "board", "", "the board")
	return c
}

// readingsHeader is the header of the file vigil audit enter reads.
var readingsHeader = []string{"tabulator", "batch", "position", "contest", "reading"}

func (m *Main) auditEnterCmd() *cobra.Command {
	var dir, id, board string
	c := &cobra.Command{
		Use:   "enter --audit ID --board NAME FILE",
		Short: "Enter a board's interpretations from a CSV (tabulator,batch,position,contest,reading)",
		Long: `FILE holds one row per sampled ballot and audited contest. reading is
not_found, not_on_ballot, blank, overvote, or the choice ids marked joined
by "|". A ballot that is not in the board's part of the current round's
sample is refused, naming it; nothing after the refused ballot is entered.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "audit.enter"
			if err := needAudit(op, id); err != nil {
				return err
			}
			rows, err := readCSVFile(op, args[0], readingsHeader)
			if err != nil {
				return err
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			st, err := n.DB.Audit(c.Context(), vigil.AuditID(id))
			if err != nil {
				return err
			}
			b := st.Board(board)
			if b == nil {
				return vigil.FieldError(op, "board", "audit %s has no board %q", id, board)
			}
			var order []string
			byBallot := map[string]*vigil.AuditInterpretation{}
			for i, r := range rows[1:] {
				if len(r) != len(readingsHeader) {
					return vigil.FieldError(op, "file", "line %d has %d fields, not %d", i+2, len(r), len(readingsHeader))
				}
				pos, err := strconv.Atoi(r[2])
				if err != nil {
					return vigil.FieldError(op, "position", "line %d: %q is not a position", i+2, r[2])
				}
				ballot := vigil.AuditBallot{Jurisdiction: b.Jurisdiction, Tabulator: r[0], Batch: r[1], Position: pos}
				in := byBallot[ballot.Key()]
				if in == nil {
					in = &vigil.AuditInterpretation{Audit: vigil.AuditID(id), Board: board, Ballot: ballot}
					byBallot[ballot.Key()] = in
					order = append(order, ballot.Key())
				}
				if r[4] == "not_found" {
					in.NotFound = true
					continue
				}
				rd := vigil.AuditContestReading{Contest: vigil.ContestID(r[3])}
				switch r[4] {
				case vigil.AuditNotOnBallot, vigil.AuditBlank, vigil.AuditOvervote:
					rd.Result = r[4]
				default:
					for _, ch := range strings.Split(r[4], "|") {
						rd.Choices = append(rd.Choices, vigil.ChoiceID(ch))
					}
				}
				in.Contests = append(in.Contests, rd)
			}
			a := operator(n.Origin())
			for i, k := range order {
				if err := svc.Interpret(c.Context(), a, *byBallot[k]); err != nil {
					return fmt.Errorf("ballot %s (%d entered before it): %w", k, i, err)
				}
			}
			fmt.Fprintf(c.OutOrStdout(), "entered %d ballots for board %s\n", len(order), board)
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&board, "board", "", "the board that read the ballots")
	return c
}

// countsHeader is the header of the file vigil audit count reads; an
// audit of one contest may leave the contest column out
// (countsHeaderOneContest).
var (
	countsHeader           = []string{"tabulator", "batch", "contest", "ballots", "choice", "votes"}
	countsHeaderOneContest = []string{"tabulator", "batch", "ballots", "choice", "votes"}
)

func (m *Main) auditCountCmd() *cobra.Command {
	var dir, id, board string
	c := &cobra.Command{
		Use:   "count --audit ID --board NAME FILE",
		Short: "Enter a board's hand counts of drawn batches (batch comparison) from a CSV (tabulator,batch,contest,ballots,choice,votes)",
		Long: `FILE holds one row per counted batch, contest and choice: the ballots in the
batch that hold the contest, and the choice's votes. Every audited contest of
a drawn batch is counted (0 ballots for a contest the batch lacks). An audit
of one contest also takes the header tabulator,batch,ballots,choice,votes. A
batch that is not in the board's part of the current round's sample is
refused, naming it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "audit.count"
			if err := needAudit(op, id); err != nil {
				return err
			}
			rows, err := readCSVFile(op, args[0], countsHeader)
			if err != nil {
				old, err2 := readCSVFile(op, args[0], countsHeaderOneContest)
				if err2 != nil {
					return err
				}
				for i, r := range old {
					if len(r) >= 2 {
						old[i] = append([]string{r[0], r[1], ""}, r[2:]...)
					}
				}
				rows = old
			}
			var order []string
			counts := map[string]*vigil.AuditBatchCount{}
			for i, r := range rows[1:] {
				if len(r) != len(countsHeader) {
					return vigil.FieldError(op, "file", "line %d has %d fields, not %d", i+2, len(r), len(countsHeader))
				}
				ballots, err1 := strconv.Atoi(r[3])
				votes, err2 := strconv.Atoi(r[5])
				if err1 != nil || err2 != nil {
					return vigil.FieldError(op, "file", "line %d: ballots and votes are numbers", i+2)
				}
				k := r[0] + "/" + r[1] + "#" + r[2]
				cnt := counts[k]
				if cnt == nil {
					cnt = &vigil.AuditBatchCount{Audit: vigil.AuditID(id), Board: board,
						AuditBatchTally: vigil.AuditBatchTally{Tabulator: r[0], Batch: r[1], Contest: vigil.ContestID(r[2]), Ballots: ballots, Votes: map[vigil.ChoiceID]int{}}}
					counts[k] = cnt
					order = append(order, k)
				}
				cnt.Votes[vigil.ChoiceID(r[4])] += votes
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			a := operator(n.Origin())
			for i, k := range order {
				if err := svc.CountBatch(c.Context(), a, *counts[k]); err != nil {
					return fmt.Errorf("batch %s (%d entered before it): %w", k, i, err)
				}
			}
			fmt.Fprintf(c.OutOrStdout(), "entered %d batch counts for board %s\n", len(order), board)
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&board, "board", "", "the board that counted the batches")
	return c
}

func (m *Main) auditSignOffCmd() *cobra.Command {
	var dir, id, board, member string
	var batches []string
	var all bool
	c := &cobra.Command{
		Use:   "signoff --audit ID --board NAME --member USER (--batch TABULATOR/BATCH… | --all)",
		Short: "Record one board member's sign-off of batches on the board's retrieval list",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			const op = "audit.signoff"
			if err := needAudit(op, id); err != nil {
				return err
			}
			if member == "" {
				return vigil.FieldError(op, "member", "name the member who signs with --member USER")
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			st, err := n.DB.Audit(c.Context(), vigil.AuditID(id))
			if err != nil {
				return err
			}
			b := st.Board(board)
			if b == nil {
				return vigil.FieldError(op, "board", "audit %s has no board %q", id, board)
			}
			type tb struct{ tab, batch string }
			var todo []tb
			if all {
				if cur := st.Current(); cur != nil {
					seen := map[tb]bool{}
					for _, l := range auditflow.Retrieval(cur.Draws, board) {
						k := tb{l.Tabulator, l.Batch}
						if !seen[k] {
							seen[k] = true
							todo = append(todo, k)
						}
					}
				}
			}
			for _, s := range batches {
				t, bt, ok := strings.Cut(s, "/")
				if !ok {
					return vigil.FieldError(op, "batch", "%q is not TABULATOR/BATCH", s)
				}
				todo = append(todo, tb{t, bt})
			}
			if len(todo) == 0 {
				return vigil.FieldError(op, "batch", "name the batches with --batch TABULATOR/BATCH, or --all")
			}
			a := operator(n.Origin())
			for _, x := range todo {
				so := vigil.AuditSignOff{Audit: vigil.AuditID(id), Board: board, Jurisdiction: b.Jurisdiction, Tabulator: x.tab, Batch: x.batch, Member: member}
				if err := svc.SignOff(c.Context(), a, so); err != nil {
					return err
				}
			}
			fmt.Fprintf(c.OutOrStdout(), "%s signed off %d batches of board %s\n", member, len(todo), board)
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&board, "board", "", "the board")
	c.Flags().StringVar(&member, "member", "", "the member who signs")
	c.Flags().StringArrayVar(&batches, "batch", nil, "a batch as TABULATOR/BATCH (repeat)")
	c.Flags().BoolVar(&all, "all", false, "every batch on the board's list")
	return c
}

func (m *Main) auditCloseCmd() *cobra.Command {
	var dir, id string
	c := &cobra.Command{
		Use:   "close --audit ID",
		Short: "Close the open round: each contest's risk measure, the audit's status and the next round's size",
		Long: `Prints a CSV with the header "round,contest,targeted,risk,confirmed" and one row
per contest, then a row "status,STATUS" and, when another round is needed,
"next_size,N". The round is refused while any sampled ballot is unread or
any batch lacks a board member's sign-off.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := needAudit("audit.close", id); err != nil {
				return err
			}
			n, svc, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			res, err := svc.CloseRound(c.Context(), operator(n.Origin()), vigil.AuditID(id))
			if err != nil {
				return err
			}
			w := csv.NewWriter(c.OutOrStdout())
			w.Write([]string{"round", "contest", "targeted", "risk", "confirmed"})
			for _, r := range res.Results {
				w.Write([]string{strconv.Itoa(res.Round), string(r.Contest), strconv.FormatBool(r.Targeted), strconv.FormatFloat(r.Risk, 'g', 6, 64), strconv.FormatBool(r.Confirmed)})
			}
			w.Write([]string{"status", res.Status})
			if res.NextSize > 0 {
				w.Write([]string{"next_size", strconv.Itoa(res.NextSize)})
			}
			if res.NextCVR+res.NextNoCVR > 0 {
				w.Write([]string{"next_size_cvr", strconv.Itoa(res.NextCVR)})
				w.Write([]string{"next_size_no_cvr", strconv.Itoa(res.NextNoCVR)})
			}
			w.Flush()
			return w.Error()
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	return c
}

// readCSVFile reads a whole CSV file whose first row must be header.
func readCSVFile(op, path string, header []string) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, vigil.FieldError(op, "file", "cannot read %s: %v", path, err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, vigil.FieldError(op, "file", "%s is not CSV: %v", path, err)
	}
	if len(rows) == 0 || strings.Join(rows[0], ",") != strings.Join(header, ",") {
		return nil, vigil.FieldError(op, "file", "the header must be %s", strings.Join(header, ","))
	}
	return rows, nil
}
