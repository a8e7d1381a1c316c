package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/voter"
)

func (m *Main) votersCmd() *cobra.Command {
	c := &cobra.Command{Use: "voters", Short: "The voter roll: import, export, search, list maintenance, rosters"}
	c.AddCommand(m.votersImportCmd(), m.votersExportCmd(), m.votersSearchCmd(), m.votersDuplicatesCmd(),
		m.votersMergeCmd(), m.votersRosterCmd(), m.votersHistoryCmd())
	return c
}

// voterService is the roll service of an open node.
func voterService(n *node.Node) *sqlite.VoterService {
	s := sqlite.NewVoterService(n.DB, n, n.Keys, sqlite.FingerprintKey(n.Keys.StoreKey), n.Now)
	s.Bulk, s.WaitApplied = n.Log, n.WaitApplied
	return s
}

// isTerminal reports whether w is a terminal (progress is shown only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (m *Main) votersImportCmd() *cobra.Command {
	var dir, layout, mapping, rejects, header, encoding, delim string
	var maxReject float64
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a state voter file or a NIST SP 1500-102 document: only new and changed voters become events",
		Long: `Import a voter file. --layout names a state layout (` + layoutNames() + `),
nist-json, nist-xml, or csv with --mapping FILE. The file is read twice: a
first pass checks every row and applies nothing if more than --max-reject
percent of the rows are rejected; the second pass appends the new and
changed registrations in batches. Importing the same file again changes
nothing. Rejected rows are listed (file, line, field, reason) in --rejects.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "voters import"
			limitVoterImportMemory()
			file := args[0]
			if layout == "" {
				return vigil.FieldError(op, "layout", "name the file's layout: %s", layoutNames())
			}
			opts := sqlite.ImportOptions{Layout: layout, File: filepath.Base(file), MaxReject: maxReject / 100,
				Open: func() (io.ReadCloser, error) { return os.Open(file) }}
			if maxReject <= 0 {
				opts.MaxReject = 1e-12 // zero tolerance (0 would mean the default)
			}
			if _, err := os.Stat(file); err != nil {
				return vigil.Errorf(vigil.Invalid, op, "cannot read %s: %v", file, err)
			}
			if mapping != "" {
				f, err := os.Open(mapping)
				if err != nil {
					return vigil.Errorf(vigil.Invalid, op, "cannot read --mapping: %v", err)
				}
				l, err := voter.ParseMapping(f)
				f.Close()
				if err != nil {
					return err
				}
				opts.Reader.Mapping = l
			}
			switch header {
			case "auto":
			case "yes":
				opts.Reader.Header = voter.HeaderPresent
			case "no":
				opts.Reader.Header = voter.HeaderAbsent
			default:
				return vigil.FieldError(op, "header", "use auto, yes or no")
			}
			switch encoding {
			case "auto":
			case "utf8", "utf-8":
				opts.Reader.Encoding = voter.EncodingUTF8
			case "latin1":
				opts.Reader.Encoding = voter.EncodingLatin1
			default:
				return vigil.FieldError(op, "encoding", "use auto, utf8 or latin1")
			}
			switch delim {
			case "":
			case "tab":
				opts.Reader.Delimiter = '\t'
			case "pipe":
				opts.Reader.Delimiter = '|'
			case "comma":
				opts.Reader.Delimiter = ','
			case "semicolon":
				opts.Reader.Delimiter = ';'
			default:
				return vigil.FieldError(op, "delimiter", "use tab, pipe, comma or semicolon")
			}
			if isTerminal(c.ErrOrStderr()) {
				opts.Progress = progressPrinter(c.ErrOrStderr())
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			start := time.Now()
			res, err := voterService(n).Import(c.Context(), operator(n.Origin()), opts)
			if res.Report != nil && rejects != "" {
				if werr := writeRejects(rejects, res.Report); werr != nil && err == nil {
					err = werr
				}
			}
			if opts.Progress != nil {
				fmt.Fprintln(c.ErrOrStderr())
			}
			out := c.OutOrStdout()
			if res.Report != nil {
				fmt.Fprintf(out, "%s: %d rows, %d rejected\n", res.File, res.Rows, res.Report.Rejected)
				if rejects == "" {
					for i, r := range res.Report.Rejections {
						if i == 10 {
							fmt.Fprintf(out, "… %d more (write them all with --rejects FILE)\n", res.Report.Rejected-10)
							break
						}
						fmt.Fprintln(out, "rejected:", r)
					}
				}
			}
			if err != nil {
				return err
			}
			el := time.Since(start)
			fmt.Fprintf(out, "added %d, changed %d, unchanged %d in %d events (%.1f s, %.0f rows/s); import %s\n",
				res.Added, res.Changed, res.Unchanged, res.Events, el.Seconds(), float64(res.Rows)/el.Seconds(), res.ID)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&layout, "layout", "", "the file's layout: "+layoutNames())
	c.Flags().StringVar(&mapping, "mapping", "", "mapping file describing a csv layout (see voter.ParseMapping)")
	c.Flags().StringVar(&rejects, "rejects", "", "write the rejection report (file,line,field,reason) as CSV here")
	c.Flags().Float64Var(&maxReject, "max-reject", 100*voter.DefaultMaxRejectFraction, "apply nothing if more than this percentage of rows is rejected")
	c.Flags().StringVar(&header, "header", "auto", "whether the first row is a header: auto, yes, no")
	c.Flags().StringVar(&encoding, "encoding", "auto", "auto (UTF-8, Latin-1 lines detected), utf8 or latin1")
	c.Flags().StringVar(&delim, "delimiter", "", "force the delimiter: tab, pipe, comma, semicolon (default: detect)")
	return withAction(c, access.ActionVoterImport)
}

func layoutNames() string {
	var names []string
	for _, l := range voter.Layouts() {
		names = append(names, l.Name)
	}
	return strings.Join(append(names, voter.FormatNISTJSON, voter.FormatNISTXML, voter.FormatCSV), ", ")
}

func writeRejects(path string, rep *voter.Report) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return vigil.Errorf(vigil.Invalid, "voters import", "cannot write --rejects: %v", err)
	}
	if err := rep.WriteCSV(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// progressPrinter redraws one line on a terminal.
func progressPrinter(w io.Writer) func(pass, rows int) {
	start := time.Now()
	return func(pass, rows int) {
		what := "checking"
		if pass == 2 {
			what = "importing"
		}
		el := time.Since(start).Seconds()
		fmt.Fprintf(w, "\r%s: %d rows (%.0f rows/s)   ", what, rows, float64(rows)/max(el, 0.001))
	}
}

// targetScope parses --county into a scope (the whole state when empty).
func targetScope(county string) (vigil.Scope, error) {
	if county == "" {
		return vigil.ScopeState, nil
	}
	s := vigil.CountyScope(county)
	return s, s.Validate()
}

func (m *Main) votersExportCmd() *cobra.Command {
	var dir, format, county, outPath string
	c := &cobra.Command{
		Use:   "export",
		Short: "Export the roll (nist-json, nist-xml or csv); each export is an event in the log",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, err := targetScope(county)
			if err != nil {
				return err
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if outPath != "" {
				f, err := os.OpenFile(outPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
				if err != nil {
					return vigil.Errorf(vigil.Invalid, "voters export", "cannot write --out: %v", err)
				}
				defer f.Close()
				w = f
			}
			count, err := voterService(n).Export(c.Context(), operator(n.Origin()), format, target, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "exported %d voters\n", count)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&format, "format", voter.FormatNISTJSON, "nist-json, nist-xml or csv")
	c.Flags().StringVar(&county, "county", "", "export one county only")
	c.Flags().StringVar(&outPath, "out", "", "write to this file (default standard output)")
	return withAction(c, access.ActionVoterExport)
}

// logRead records a bulk read by the operator (search, duplicates).
func logRead(ctx context.Context, n *node.Node, action access.Action, detail string) error {
	ev, err := vigil.NewEvent(operator(n.Origin()), vigil.EventAccessPrivileged, "", n.Now(),
		vigil.Privileged{Action: string(action), Target: vigil.ScopeState, Detail: detail})
	if err != nil {
		return err
	}
	_, err = n.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	return err
}

func (m *Main) votersSearchCmd() *cobra.Command {
	var dir, county string
	var limit int
	c := &cobra.Command{
		Use:   "search QUERY",
		Short: "Find voters by name (typos and nicknames tolerated), birth date, voter ID or address, best first",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			q := strings.Join(args, " ")
			target, err := targetScope(county)
			if err != nil {
				return err
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			if err := logRead(c.Context(), n, access.ActionVoterExport, "search"); err != nil {
				return err
			}
			rs, err := n.DB.SearchVoters(c.Context(), q, []vigil.Scope{target}, limit)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if len(rs) == 0 {
				return vigil.Errorf(vigil.NotFound, "voters search", "no voter matches %q", q)
			}
			for _, r := range rs {
				v := r.Voter
				fmt.Fprintf(out, "%.3f\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Score, v.ID, v.Name.Full(), v.BirthDate, v.Residence, v.County, v.Status.Code)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "search one county only")
	c.Flags().IntVar(&limit, "limit", 20, "at most this many results")
	return withAction(c, access.ActionVoterExport)
}

func (m *Main) votersDuplicatesCmd() *cobra.Command {
	var dir, county string
	var threshold float64
	c := &cobra.Command{
		Use:   "duplicates",
		Short: "List likely duplicate registrations with a score and the reasons; nothing is merged",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, err := targetScope(county)
			if err != nil {
				return err
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			if err := logRead(c.Context(), n, access.ActionVoterExport, "duplicates"); err != nil {
				return err
			}
			pairs, err := voterService(n).Duplicates(c.Context(), []vigil.Scope{target}, voter.DuplicateOptions{Threshold: threshold})
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			for _, p := range pairs {
				fmt.Fprintf(out, "%.3f\t%s\t%s\t%s\n", p.Score, p.A, p.B, strings.Join(p.Reasons, "; "))
			}
			fmt.Fprintf(c.ErrOrStderr(), "%d candidate pairs; merge with: vigil voters merge KEEP DROP --reason TEXT\n", len(pairs))
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "one county only")
	c.Flags().Float64Var(&threshold, "threshold", 0, "lowest score listed (default 0.85)")
	return withAction(c, access.ActionVoterExport)
}

func (m *Main) votersMergeCmd() *cobra.Command {
	var dir, reason string
	c := &cobra.Command{
		Use:   "merge KEEP DROP",
		Short: "Cancel registration DROP as a duplicate of KEEP, with the reason",
		Args:  cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			err = voterService(n).Merge(c.Context(), operator(n.Origin()),
				vigil.VoterMerge{Keep: vigil.VoterID(args[0]), Drop: vigil.VoterID(args[1]), Detail: reason})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s cancelled as a duplicate of %s\n", args[1], args[0])
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&reason, "reason", "", "why the two registrations are one voter (required)")
	return withAction(c, access.ActionVoterMerge)
}

func (m *Main) votersRosterCmd() *cobra.Command {
	var dir, place, outPath string
	c := &cobra.Command{
		Use:   "roster",
		Short: "Write a polling place's roster as CSV with the ballot style of each voter (for pollbooks)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if place == "" {
				return vigil.FieldError("voters roster", "polling-place", "name the polling place")
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			var county string
			n.DB.QueryRowContext(c.Context(), `SELECT county FROM places WHERE id = ?`, place).Scan(&county)
			if county == "" {
				return vigil.Errorf(vigil.NotFound, "voters roster", "there is no polling place %s", place)
			}
			ev, err := vigil.NewEvent(operator(n.Origin()), vigil.EventVoterExported, place, n.Now(),
				vigil.VoterExport{Format: "roster-csv", Target: vigil.PlaceScope(county, place)})
			if err != nil {
				return err
			}
			if _, err := n.Append(c.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
				return err
			}
			w := c.OutOrStdout()
			if outPath != "" {
				f, err := os.OpenFile(outPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
				if err != nil {
					return vigil.Errorf(vigil.Invalid, "voters roster", "cannot write --out: %v", err)
				}
				defer f.Close()
				w = f
			}
			count, err := n.DB.WriteRoster(c.Context(), place, w)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "%d voters at %s\n", count, place)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&place, "polling-place", "", "the polling place's id")
	c.Flags().StringVar(&outPath, "out", "", "write to this file (default standard output)")
	return withAction(c, access.ActionVoterExport)
}

// voterImportMemoryLimit is the soft Go memory limit of a process importing
// a voter file, unless GOMEMLIMIT sets one. The live heap of a
// five-million-row import is a few hundred MiB (mostly the log's cache of
// the entries it just stored); without a limit the garbage between
// collections doubles it, and SQLite's page cache and sorter (outside the
// Go heap, about 250 MiB) come on top: together past 1 GiB. The limit is
// soft: the runtime may exceed it rather than stall.
const voterImportMemoryLimit = 560 << 20

func limitVoterImportMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(voterImportMemoryLimit)
	}
}
