package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
)

func (m *Main) benchCmd() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Measure vigil against its targets (see docs/BENCHMARKS.md)"}
	c.AddCommand(m.benchLogCmd())
	c.AddCommand(m.benchCheckInCmd())
	c.AddCommand(m.benchDetectCmd())
	c.AddCommand(m.benchVotersCmd())
	c.AddCommand(m.benchBackupCmd())
	c.AddCommand(m.benchTallyCmd())
	c.AddCommand(m.benchMirrorCmd())
	c.AddCommand(m.benchSitesCmd())
	return c
}

func (m *Main) benchLogCmd() *cobra.Command {
	var o bench.LogOptions
	c := &cobra.Command{
		Use:   "log",
		Short: "Durable appends (single, group-committed, batched), log verify and start-up time",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunLog(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "fsync anchor: %.0f writes/s\n", r.FsyncPerSec)
			fmt.Fprintf(out, "one entry per event: %.0f events/s (ratio to anchor %.2f)\n", r.SingleEntryPerS, r.SingleEntryPerS/r.FsyncPerSec)
			fmt.Fprintf(out, "group-committed single events: %.0f events/s, p99 %.1f ms (ratio to anchor %.2f)\n",
				r.GroupPerSec, float64(r.GroupP99.Microseconds())/1000, r.GroupPerSec/r.FsyncPerSec)
			fmt.Fprintf(out, "batched appends: %.0f events/s\n", r.BatchedPerSec)
			fmt.Fprintf(out, "log verify: %d events (%d entries) in %.2f s, ok=%v\n", r.VerifyEvents, r.VerifyEntries, r.VerifyTime.Seconds(), r.VerifyOK)
			fmt.Fprintf(out, "ready after restart: %.2f s\n", r.ReadyTime.Seconds())
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().DurationVar(&o.Duration, "duration", 5*time.Second, "length of each append phase")
	c.Flags().IntVar(&o.Concurrency, "concurrency", 100, "concurrent appenders")
	c.Flags().IntVar(&o.Batch, "batch", 100, "events per append in the batched phase")
	c.Flags().IntVar(&o.VerifyN, "verify-events", 1_000_000, "events in the log for the verify and restart phases")
	return withAction(c, access.ActionBench)
}

// scratchDir makes a temporary directory for a benchmark when *dir is
// empty (removed by cleanup); a directory the operator named is made if
// missing, and kept.
func scratchDir(dir *string, prefix string) (cleanup func(), err error) {
	if *dir != "" {
		return func() {}, os.MkdirAll(*dir, 0o700)
	}
	d, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, err
	}
	*dir = d
	return func() { os.RemoveAll(d) }, nil
}
