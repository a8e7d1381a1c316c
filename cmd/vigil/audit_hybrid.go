package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
	"github.com/vigil-elections/vigil/sqlite"
)

// Hybrid audits' no-CVR tallies and full hand counts: both are files of
// contest tallies, one row per contest and choice.

// readContestTallies reads a file of contest tallies
// (auditflow.ParseContestTallies).
func readContestTallies(op, path string) ([]vigil.AuditStratumTally, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, vigil.FieldError(op, "file", "cannot read %s: %v", path, err)
	}
	defer f.Close()
	return auditflow.ParseContestTallies(op, f)
}

func (m *Main) auditHandCountCmd() *cobra.Command {
	var dir, id string
	c := &cobra.Command{
		Use:   "hand-count --audit ID FILE",
		Short: "Record the full hand count of contests after the audit escalated to a full hand count (CSV contest,ballots,choice,votes)",
		Long: `FILE holds one row per contest and choice: the ballots counted that hold the
contest (the same on each of its rows) and the choice's hand-counted votes;
every choice of the contest needs a row. The hand count's outcome replaces
the reported one: each contest is printed as confirmed, OVERTURNED (the
hand count elects someone else, and its winners stand) or tied. Every
contest of the file is checked before any is recorded.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "audit.hand_count"
			if err := needAudit(op, id); err != nil {
				return err
			}
			tallies, err := readContestTallies(op, args[0])
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
			counts := make([]vigil.AuditHandCount, len(tallies))
			for i, t := range tallies {
				counts[i] = vigil.AuditHandCount{Audit: vigil.AuditID(id), Contest: t.Contest, Ballots: t.Ballots, Votes: t.Votes}
			}
			if err := sqlite.CheckHandCounts(st, counts); err != nil {
				return err
			}
			a := operator(n.Origin())
			for _, hc := range counts {
				got, err := svc.RecordHandCount(c.Context(), a, hc)
				if err != nil {
					return fmt.Errorf("contest %s: %w", hc.Contest, err)
				}
				fmt.Fprintln(c.OutOrStdout(), handCountLine(got))
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	return c
}

// handCountLine says plainly what a hand count decided.
func handCountLine(hc vigil.AuditHandCount) string {
	w := make([]string, len(hc.Winners))
	for i, x := range hc.Winners {
		w[i] = string(x)
	}
	winners := strings.Join(w, ", ")
	switch hc.Outcome {
	case vigil.HandCountConfirmed:
		return fmt.Sprintf("contest %s: confirmed by the full hand count (winners: %s)", hc.Contest, winners)
	case vigil.HandCountOverturned:
		return fmt.Sprintf("contest %s: OVERTURNED by the full hand count: the winners are %s", hc.Contest, winners)
	}
	return fmt.Sprintf("contest %s: the full hand count is tied for the last seat: break the tie as the law says", hc.Contest)
}
