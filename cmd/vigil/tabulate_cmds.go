package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/paper"
	"github.com/vigil-elections/vigil/sqlite"
	"github.com/vigil-elections/vigil/tabulate"
)

// tabulation is the tabulation service of an open node.
func tabulation(n *node.Node) *sqlite.Tabulation {
	t := sqlite.NewTabulation(n.DB, n, n.Now)
	t.Bulk, t.WaitApplied = n.Log, n.WaitApplied
	return t
}

// importMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit)
// of a process that imports CVRs into a node, unless GOMEMLIMIT sets one: a
// million-ballot import keeps a few hundred MiB live (mostly the log's
// write buffers), and without a limit the garbage between collections grows
// the process past 1 GiB. The limit is soft: the runtime may exceed it
// rather than stall.
const importMemoryLimit = 700 << 20

func limitImportMemory() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
}

func (m *Main) electionCmd() *cobra.Command {
	c := &cobra.Command{Use: "election", Short: "The election definition CVRs are counted against"}
	c.AddCommand(m.electionImportCmd())
	return c
}

func (m *Main) cvrsCmd() *cobra.Command {
	c := &cobra.Command{Use: "cvrs", Short: "Cast vote records exported by scanners"}
	c.AddCommand(m.cvrsImportCmd())
	return c
}

func (m *Main) manifestCmd() *cobra.Command {
	c := &cobra.Command{Use: "manifest", Short: "The ballot manifest: how many paper ballots each batch holds"}
	c.AddCommand(m.manifestImportCmd())
	return c
}

func (m *Main) resultsCmd() *cobra.Command {
	c := &cobra.Command{Use: "results", Short: "Published results"}
	c.AddCommand(m.resultsPublishCmd())
	return c
}

// openFiles opens paths as tabulate files named by their base names.
func openFiles(paths []string) ([]tabulate.File, func(), error) {
	var files []tabulate.File
	var open []*os.File
	done := func() {
		for _, f := range open {
			f.Close()
		}
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			done()
			return nil, nil, vigil.Errorf(vigil.Invalid, "open", "cannot read %s: %v", p, err)
		}
		open = append(open, f)
		files = append(files, tabulate.File{Name: filepath.Base(p), Reader: f})
	}
	return files, done, nil
}

func (m *Main) electionImportCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Import an election definition (NIST SP 1500-100 v2 JSON or XML, or vigil JSON); it replaces the current one",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			files, done, err := openFiles(args)
			if err != nil {
				return err
			}
			defer done()
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			e, err := tabulation(n).ImportElection(c.Context(), operator(n.Origin()), files[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "election %q: %d contests, %d ballot styles, %d precincts\n",
				e.Name, len(e.Contests), len(e.BallotStyles), len(e.Precincts))
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionTabulationImport)
}

func formatNames() string {
	var s []string
	for _, f := range tabulate.Formats {
		s = append(s, strings.ToLower(string(f)))
	}
	return strings.Join(s, "|")
}

func (m *Main) cvrsImportCmd() *cobra.Command {
	var dir, format, county string
	c := &cobra.Command{
		Use:   "import --format " + formatNames() + " FILE…",
		Short: "Import one export of cast vote records, all or nothing",
		Long: `Import cast vote records. The files are read twice: the first pass checks
every record (contests and choices against the election definition, ballot
ids unique in the files and against earlier imports) and stores nothing if
anything is wrong; the second appends the records in batches. Without an
election definition, the contests and choices in the files become it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := tabulate.ParseFormat(format)
			if err != nil {
				return err
			}
			var names []string
			for _, a := range args {
				names = append(names, filepath.Base(a))
			}
			limitImportMemory()
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			res, err := tabulation(n).ImportCVRs(c.Context(), operator(n.Origin()), sqlite.CVRImport{
				Format: f, Names: names, County: county,
				Open: func() ([]tabulate.File, func(), error) { return openFiles(args) }})
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if res.ElectionLearned {
				fmt.Fprintln(out, "no election definition was imported: the contests and choices of these files define it")
			}
			fmt.Fprintf(out, "imported %d CVRs in %d entries; import %s\n", res.Records, res.Batches, res.ID)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&format, "format", "", "the export format: "+formatNames())
	c.Flags().StringVar(&county, "county", "", "the county the CVRs belong to")
	return withAction(c, access.ActionTabulationImport)
}

func (m *Main) manifestImportCmd() *cobra.Command {
	var dir, county string
	c := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a ballot manifest CSV (it replaces the current one) and check the CVRs against it",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			files, done, err := openFiles(args)
			if err != nil {
				return err
			}
			defer done()
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			batches, rep, err := tabulation(n).ImportManifest(c.Context(), operator(n.Origin()), files[0], county)
			if err != nil {
				return err
			}
			total := 0
			for _, b := range batches {
				total += b.Ballots
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "manifest: %d batches, %d ballots\n", len(batches), total)
			if rep.CVRs > 0 {
				writeManifestReport(out, rep)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "the county the manifest belongs to")
	return withAction(c, access.ActionTabulationImport)
}

func writeManifestReport(w io.Writer, rep *tabulate.ManifestReport) {
	if rep.OK() {
		fmt.Fprintf(w, "CVRs match the manifest: %d ballots, %d CVRs\n", rep.ManifestBallots, rep.CVRs)
		return
	}
	fmt.Fprintf(w, "CVRs do not match the manifest: %d ballots, %d CVRs\n", rep.ManifestBallots, rep.CVRs)
	for _, b := range rep.Mismatched {
		fmt.Fprintf(w, "batch %s/%s: manifest %d, CVRs %d\n", b.Tabulator, b.Batch, b.Manifest, b.CVRs)
	}
	for _, b := range rep.Missing {
		fmt.Fprintf(w, "missing: %s\n", b)
	}
	for _, b := range rep.Extra {
		fmt.Fprintf(w, "extra: %s\n", b)
	}
	if rep.Unlisted > 0 {
		fmt.Fprintf(w, "… and %d more not listed\n", rep.Unlisted)
	}
}

// checkpointText is the checkpoint of n as one line (origin, size, root),
// signed now. The count must have been computed at entry seq; when the log
// has grown since, the checkpoint says so by its size.
func checkpointText(c *cobra.Command, n *node.Node) (string, error) {
	b, err := n.Checkpoint(c.Context())
	if err != nil {
		return "", err
	}
	body, _, _ := strings.Cut(string(b), "\n\n")
	return strings.Join(strings.Fields(body), " "), nil
}

func (m *Main) tallyCmd() *cobra.Command {
	var dir, contest, format, by, county, out string
	c := &cobra.Command{
		Use:   "tally [--contest ID] [--by precinct|style|batch] [--county ID] [--format text|csv|json|nist|pdf --out FILE]",
		Short: "Count the imported CVRs (every complete import) and name the log checkpoint of the count",
		Long: `Count the imported CVRs and name the log checkpoint the count was computed at.

--format csv prints contest,choice,votes; with --by it adds the grouping's
column in front (precinct, ballot_style, counting_group; for batch two
columns, tabulator and batch). --by takes one grouping for csv, several
(comma-separated) for text and json. --format pdf writes a report to --out.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			dims, err := tabulate.ParseDimensions(by)
			if err != nil {
				return err
			}
			switch format {
			case "text", "json", "nist":
			case "csv":
				if len(dims) > 1 {
					return vigil.FieldError("tally", "by", "csv holds one grouping at a time; name one of %q", by)
				}
			case "pdf":
				if out == "" {
					return vigil.FieldError("tally", "out", "name the PDF file to write with --out FILE")
				}
			default:
				return vigil.FieldError("tally", "format", "use text, csv, json, nist or pdf, not %q", format)
			}
			if county != "" {
				if err := vigil.CountyScope(county).Validate(); err != nil {
					return vigil.FieldError("tally", "county", "%q is not a county id", county)
				}
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			t := tabulation(n).InCounty(county)
			res, _, err := t.Tally(c.Context(), dims...)
			if err != nil {
				return err
			}
			if res.Checkpoint, err = checkpointText(c, n); err != nil {
				return err
			}
			if contest != "" {
				if err := sqlite.FilterContest(res, vigil.ContestID(contest)); err != nil {
					return err
				}
			}
			w := c.OutOrStdout()
			switch format {
			case "text":
				if err := res.WriteText(w); err != nil {
					return err
				}
				for _, d := range dims {
					if err := res.WriteGroupsCSV(w, d); err != nil {
						return err
					}
				}
				fmt.Fprintf(w, "checkpoint: %s\n", res.Checkpoint)
				return nil
			case "csv":
				if len(dims) == 1 {
					return res.WriteGroupsCSV(w, dims[0])
				}
				return res.WriteCSV(w)
			case "json":
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			case "pdf":
				if err := writePDF(out, func(f io.Writer) error {
					return paper.Results(f, res, paper.ResultsStamp{County: county, Printed: n.Now()})
				}); err != nil {
					return err
				}
				fmt.Fprintf(w, "wrote %s: %d ballots at checkpoint %s\n", out, res.Ballots, res.Checkpoint)
				return nil
			}
			e, err := t.Election(c.Context())
			if err != nil {
				return err
			}
			return res.WriteNISTXML(w, tabulate.NISTExport{Issuer: "vigil", IssuerAbbreviation: "vigil",
				Generated: n.Now(), Date: e.Date, Election: e})
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&contest, "contest", "", "count one contest (id or name)")
	c.Flags().StringVar(&format, "format", "text", "text, csv (contest,choice,votes), json, nist (SP 1500-100 XML) or pdf (with --out)")
	c.Flags().StringVar(&by, "by", "", "also count by precinct, ballot_style (style), batch or counting_group; csv adds the column")
	c.Flags().StringVar(&county, "county", "", "count one county's ballots (default: every county)")
	c.Flags().StringVar(&out, "out", "", "the file --format pdf writes")
	return withAction(c, access.ActionTabulationRead)
}

func (m *Main) resultsPublishCmd() *cobra.Command {
	var dir, county string
	c := &cobra.Command{
		Use:   "publish",
		Short: "Publish the current count: everyone may then read it, as of the checkpoint it names",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			t := tabulation(n).InCounty(county)
			res, _, err := t.Tally(c.Context(), publishDims...)
			if err != nil {
				return err
			}
			ck, err := checkpointText(c, n)
			if err != nil {
				return err
			}
			if err := t.Publish(c.Context(), operator(n.Origin()), res, ck); err != nil {
				return err
			}
			if county != "" {
				fmt.Fprintf(c.OutOrStdout(), "county %s: ", county)
			}
			fmt.Fprintf(c.OutOrStdout(), "published %d ballots at checkpoint %s\n", res.Ballots, ck)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "publish one county's count (default: every county's, statewide)")
	return withAction(c, access.ActionResultsPublish)
}

// publishDims are the groupings a publication carries besides the totals
// (as the web's publish does): precinct and ballot style.
var publishDims = []tabulate.Dimension{tabulate.ByPrecinct, tabulate.ByBallotStyle}

func (m *Main) reconcileCmd() *cobra.Command {
	var dir, election, county string
	var threshold int
	var record bool
	c := &cobra.Command{
		Use:   "reconcile",
		Short: "Compare pollbook check-ins with counted ballots and the manifest, by precinct and polling place",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			if threshold < 0 {
				return vigil.FieldError("reconcile", "threshold", "must be 0 or more ballots, not %d", threshold)
			}
			t := tabulation(n).InCounty(county)
			lines, err := t.Reconcile(c.Context(), election, threshold)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "kind\tid\tcheck-ins\tprovisional\tballots\tmanifest\tdifference\t")
			flagged := 0
			for _, l := range lines {
				mark := ""
				if l.Flagged {
					mark, flagged = "DISCREPANCY", flagged+1
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%+d\t%s\n", l.Kind, l.ID, l.CheckIns, l.Provisionals, l.Ballots, l.Manifest, l.Difference, mark)
			}
			tw.Flush()
			fmt.Fprintf(out, "%d discrepancies above %d\n", flagged, threshold)
			if record && flagged > 0 {
				k, err := t.RecordDiscrepancies(c.Context(), operator(n.Origin()), lines)
				if err != nil {
					return err
				}
				if k == 0 {
					fmt.Fprintln(out, "every discrepancy was already recorded")
				} else {
					fmt.Fprintf(out, "recorded %d new reconciliation.discrepancy events\n", k)
				}
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&election, "election", "", "the pollbook election whose check-ins count (default: all)")
	c.Flags().StringVar(&county, "county", "", "reconcile one county (default: every county)")
	c.Flags().IntVar(&threshold, "threshold", 0, "list differences larger than this many ballots")
	c.Flags().BoolVar(&record, "record", true, "append a reconciliation.discrepancy event for each new discrepancy")
	// It appends events (the discrepancies), so it is a tabulation write.
	return withAction(c, access.ActionTabulationImport)
}

func (m *Main) benchTallyCmd() *cobra.Command {
	var o bench.TallyOptions
	c := &cobra.Command{
		Use:   "tally",
		Short: "Import and tally 1,000,000 Dominion CSV CVRs: time, peak memory, ratio to encoding/csv alone",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			limitImportMemory()
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-tally-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunTally(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "file: %d CVRs, 10 contests, %.0f MB (Dominion CSV)\n", r.CVRs, float64(r.FileBytes)/1e6)
			fmt.Fprintf(out, "encoding/csv alone: %.2f s\n", r.CSVTime.Seconds())
			fmt.Fprintf(out, "import and tally (parse, validate, count by precinct): %.2f s, %.0f CVRs/s; ratio to encoding/csv %.2f\n",
				r.TallyTime.Seconds(), float64(r.CVRs)/r.TallyTime.Seconds(), r.Ratio)
			fmt.Fprintf(out, "memory: peak Go heap %.0f MiB, peak RSS %.0f MiB (target < 1 GiB)\n",
				float64(r.PeakHeap)/(1<<20), float64(r.PeakRSS)/(1<<20))
			if r.NodeCVRs > 0 {
				fmt.Fprintf(out, "through a node (log + projections): %d CVRs imported in %.1f s (%.0f CVRs/s), tallied from SQLite in %.1f s; peak RSS %.0f MiB\n",
					r.NodeCVRs, r.NodeImportTime.Seconds(), float64(r.NodeCVRs)/r.NodeImportTime.Seconds(), r.NodeTallyTime.Seconds(), float64(r.NodePeakRSS)/(1<<20))
				fmt.Fprintf(out, "import and tally through a node: %.1f s (target < 20 s), ratio to encoding/csv %.1f; peak RSS %.0f MiB (target < 1024)\n",
					(r.NodeImportTime + r.NodeTallyTime).Seconds(), r.NodeRatio, float64(r.NodePeakRSS)/(1<<20))
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().IntVar(&o.CVRs, "cvrs", 1_000_000, "CVRs in the generated export")
	c.Flags().IntVar(&o.NodeCVR, "node-cvrs", 1_000_000, "CVRs also imported through a node and tallied from its projections (0: skip)")
	return withAction(c, access.ActionBench)
}
