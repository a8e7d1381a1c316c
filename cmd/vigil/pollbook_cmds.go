package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
)

// benchCheckInCmd is `vigil bench checkin`: durable check-ins from many
// simulated pollbooks on one embedded node (issue 4's speed target).
func (m *Main) benchCheckInCmd() *cobra.Command {
	var o bench.CheckInOptions
	c := &cobra.Command{
		Use:   "checkin",
		Short: "Durable check-ins from simulated pollbooks; then re-tries from a second pollbook, and the log read back",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-checkin-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunCheckIn(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "fsync anchor: %.0f writes/s\n", r.FsyncPerSec)
			fmt.Fprintf(out, "check-ins: %d in %.1f s from %d pollbooks, one claimed entry each (claims share syncs in atomic batches); ratio to anchor %.2f; p50 %.1f ms; %d errors\n",
				r.CheckIns, r.Elapsed.Seconds(), o.Pollbooks, r.PerSec/r.FsyncPerSec, ms(r.P50), r.Errors)
			fmt.Fprintf(out, "re-tried from a second pollbook: %d voters, %d refused naming the first check-in; log holds %d check-ins\n",
				r.Retried, r.RetryRefused, r.LogCheckIns)
			if b := r.Batched; b != nil {
				fmt.Fprintf(out, "experiment, bare claims: one per publish %.0f/s (ratio %.2f); in atomic batches %.0f/s (ratio %.2f), %d accepted twice\n",
					b.SinglePerSec, b.SinglePerSec/r.FsyncPerSec, b.PerSec, b.PerSec/r.FsyncPerSec, b.AcceptedTwice)
			}
			fmt.Fprintf(out, "checkins/s %.0f; p99 ms %.1f; accepted twice %d; lost %d\n", r.PerSec, ms(r.P99), r.AcceptedTwice, r.Lost)
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, "how long check-ins are sustained")
	c.Flags().IntVar(&o.Pollbooks, "pollbooks", 100, "simulated pollbooks (concurrent check-ins)")
	c.Flags().IntVar(&o.Voters, "voters", 80_000, "voters in the synthetic county (bounds the check-ins)")
	c.Flags().BoolVar(&o.BatchedClaims, "batched-claims", false, "also measure bare claims through the log, one publish each and in atomic batches")
	c.Flags().DurationVar(&o.Anchor, "anchor", 3*time.Second, "how long the disk's sync rate is measured")
	c.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the sustained phase to this file")
	return withAction(c, access.ActionBench)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
