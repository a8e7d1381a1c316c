package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
)

func (m *Main) logCmd() *cobra.Command {
	c := &cobra.Command{Use: "log", Short: "Inspect and verify the tamper-evident event log"}
	c.AddCommand(m.logVerifyCmd(), m.logCheckpointCmd())
	return c
}

func (m *Main) logVerifyCmd() *cobra.Command {
	var dir, ckptFile string
	c := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the Merkle tree from the stored events and check every checkpoint",
		Long: `Recompute the Merkle tree from the stored log entries, check every stored
checkpoint and, with --checkpoint, one kept elsewhere (by an observer, a
mirror, or printed on a paper backup). Exits 0 only when everything holds;
otherwise names the first bad entry and exits 7.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var external []byte
			if ckptFile != "" {
				b, err := os.ReadFile(ckptFile)
				if err != nil {
					return vigil.Errorf(vigil.Invalid, "log verify", "cannot read --checkpoint: %v", err)
				}
				external = b
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir, Inspect: true})
			if err != nil {
				return err
			}
			rep, err := n.VerifyLog(c.Context(), external)
			if err != nil {
				return err
			}
			recordPrivileged(c.Context(), n, access.ActionLogVerify, fmt.Sprintf("log verify ok=%v entries=%d", rep.OK(), rep.Entries))
			out := c.OutOrStdout()
			fmt.Fprintf(out, "entries: %d (%d events)\nroot: %x\ncheckpoints verified: %d\n", rep.Entries, rep.Events, rep.Root[:], rep.Checkpoints)
			if rep.OK() {
				fmt.Fprintln(out, "log verified: OK")
				return nil
			}
			for _, p := range rep.Problems {
				fmt.Fprintln(out, "PROBLEM:", p)
			}
			if rep.FirstBad >= 0 {
				fmt.Fprintf(out, "first bad entry: index %d (entry %d)\n", rep.FirstBad, rep.FirstBad+1)
			}
			return vigil.Errorf(vigil.Integrity, "log verify", "the log FAILED verification (%d problems)", len(rep.Problems))
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&ckptFile, "checkpoint", "", "a signed checkpoint kept elsewhere, to check the log against")
	return withAction(c, access.ActionLogVerify)
}

// recordPrivileged logs a privileged action taken from the command line.
// It is best effort: verification of a damaged log must still report.
func recordPrivileged(ctx context.Context, n *node.Node, a access.Action, detail string) {
	ev, err := vigil.NewEvent(operator(n.Origin()), vigil.EventAccessPrivileged, string(a), n.Now(),
		vigil.Privileged{Action: string(a), Detail: detail})
	if err == nil {
		n.Log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
}

func (m *Main) logCheckpointCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the latest signed checkpoint (keep it to verify the log later)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			ck, err := n.Checkpoint(c.Context())
			if err != nil {
				return err
			}
			if ck == nil {
				return vigil.Errorf(vigil.NotFound, "log checkpoint", "the log is empty")
			}
			_, err = c.OutOrStdout().Write(ck)
			return err
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionLogRead)
}

func (m *Main) verifyCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "verify",
		Short: "Rebuild every projection from the log and report each difference from the live ones",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			scratch, err := os.MkdirTemp("", "vigil-verify-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(scratch)
			diffs, cursor, err := n.VerifyProjections(c.Context(), scratch)
			if err != nil {
				return err
			}
			recordPrivileged(c.Context(), n, access.ActionLogVerify, fmt.Sprintf("verify differences=%d", len(diffs)))
			out := c.OutOrStdout()
			fmt.Fprintf(out, "rebuilt projections from entries 1..%d\n", cursor)
			if len(diffs) == 0 {
				fmt.Fprintln(out, "projections verified: OK")
				return nil
			}
			for _, d := range diffs {
				fmt.Fprintln(out, "DIFFERENCE:", d)
			}
			return vigil.Errorf(vigil.Integrity, "verify", "%d differences between the live projections and the log", len(diffs))
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionLogVerify)
}
