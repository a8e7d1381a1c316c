package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
)

// benchBackupCmd is `vigil bench backup`.
func (m *Main) benchBackupCmd() *cobra.Command {
	var o bench.BackupOptions
	c := &cobra.Command{
		Use:   "backup",
		Short: "Backup, verify and restore of a node filled with demo voters, against restic on the same data",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-backup-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunBackup(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "node: %d voters, %d entries, %d events; data directory %.1f MB; archive %.1f MB (tar %.1f MB)\n",
				r.Voters, r.Entries, r.Events, float64(r.DataBytes)/1e6, float64(r.ArchiveBytes)/1e6, float64(r.PlainBytes)/1e6)
			fmt.Fprintf(out, "vigil backup:  %.2f s, %.0f MB/s, peak heap %.0f MB\n", r.BackupTime.Seconds(), bench.MBps(r.DataBytes, r.BackupTime), float64(r.BackupHeap)/1e6)
			fmt.Fprintf(out, "vigil verify:  %.2f s, %.0f MB/s\n", r.VerifyTime.Seconds(), bench.MBps(r.DataBytes, r.VerifyTime))
			fmt.Fprintf(out, "vigil restore: %.2f s, %.0f MB/s, peak heap %.0f MB\n", r.RestoreTime.Seconds(), bench.MBps(r.DataBytes, r.RestoreTime), float64(r.RestoreHeap)/1e6)
			if r.ResticNote != "" {
				fmt.Fprintf(out, "restic anchor: %s\n", r.ResticNote)
			} else if o.Restic {
				fmt.Fprintf(out, "restic backup:  %.2f s, %.0f MB/s (vigil/restic %.2f)\n", r.ResticBackup.Seconds(),
					bench.MBps(r.DataBytes, r.ResticBackup), r.ResticBackup.Seconds()/r.BackupTime.Seconds())
				fmt.Fprintf(out, "restic restore: %.2f s, %.0f MB/s (vigil/restic %.2f)\n", r.ResticRestore.Seconds(),
					bench.MBps(r.DataBytes, r.ResticRestore), r.ResticRestore.Seconds()/r.RestoreTime.Seconds())
			}
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().IntVar(&o.Voters, "voters", 100_000, "demo voters in the node")
	c.Flags().Uint64Var(&o.Seed, "seed", 1, "demo county seed")
	c.Flags().BoolVar(&o.Restic, "restic", true, "time restic backup and restore of the same data directory as the anchor")
	return withAction(c, access.ActionBench)
}
