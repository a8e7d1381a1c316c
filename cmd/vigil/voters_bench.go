package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
)

func (m *Main) benchVotersCmd() *cobra.Command {
	var o bench.VoterOptions
	var searchOnly bool
	c := &cobra.Command{
		Use:   "voters",
		Short: "Voter file import (rows/s, against the sqlite3 shell's .import), typo search p99, duplicate finding",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if searchOnly {
				if o.Dir == "" {
					return vigil.FieldError("bench voters", "dir", "--search-only times the searches on the node a run with --dir left there")
				}
				r, err := bench.SearchExisting(c.Context(), o)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "search with a typo at %d voters: p50 %.2f ms, p99 %.2f ms; the voter in the top 10: %.1f%%, first hit has the voter's name: %.1f%%\n",
					r.Rows, float64(r.SearchP50.Microseconds())/1000, float64(r.SearchP99.Microseconds())/1000, 100*r.SearchFound, 100*r.SearchNamed)
				return nil
			}
			limitVoterImportMemory()
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-voters-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunVoters(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "import: %d rows (%.0f MB, NC layout) in %.1f s: %.0f rows/s (%.0f µs CPU per row), %d events, peak RSS %.0f MiB\n",
				r.Rows, float64(r.FileBytes)/1e6, r.ImportTime.Seconds(), r.ImportRowsPerS,
				float64(r.ImportCPU.Microseconds())/float64(max(r.Rows, 1)), r.Events, float64(r.PeakRSS)/(1<<20))
			fmt.Fprintf(out, "phases: checking pass %.1f s, appending pass %.1f s, projection catching up and search keys %.1f s\n",
				r.ImportCheck.Seconds(), r.ImportAppend.Seconds(), r.ImportFinish.Seconds())
			fmt.Fprintf(out, "memory: Go heap %.0f MiB of the peak RSS\n", float64(r.GoHeapSys)/(1<<20))
			if r.AnchorRowsPerS > 0 {
				fmt.Fprintf(out, "anchor: %.0f rows/s %s; ratio %.2f\n", r.AnchorRowsPerS, r.AnchorNote, r.ImportRowsPerS/r.AnchorRowsPerS)
			} else {
				fmt.Fprintf(out, "anchor: not measured %s\n", r.AnchorNote)
			}
			fmt.Fprintf(out, "search with a typo at %d voters: p50 %.2f ms, p99 %.2f ms; the voter in the top 10: %.1f%%, first hit has the voter's name: %.1f%%\n",
				r.Rows, float64(r.SearchP50.Microseconds())/1000, float64(r.SearchP99.Microseconds())/1000, 100*r.SearchFound, 100*r.SearchNamed)
			if r.DupVoters > 0 {
				fmt.Fprintf(out, "duplicates over %d voters: %.1f s, %v\n", r.DupVoters, r.DupTime.Seconds(), r.DupAccuracy)
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().IntVar(&o.Rows, "rows", 100_000, "rows in the generated voter file")
	c.Flags().IntVar(&o.Searches, "searches", 1000, "typo searches to time")
	c.Flags().IntVar(&o.Duplicates, "duplicates", 100_000, "voters in the generated roll for duplicate finding (0: skip)")
	c.Flags().BoolVar(&searchOnly, "search-only", false, "only time the searches again, on the node an earlier run left in --dir")
	c.Flags().StringVar(&o.SQLite3, "sqlite3", "", "the sqlite3 shell for the anchor (default: from PATH; skipped if missing)")
	c.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the import to this file")
	c.Flags().StringVar(&o.MemProfile, "memprofile", "", "write a heap profile (allocations) after the import to this file")
	return withAction(c, access.ActionBench)
}
