package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// vigil pollbook: the paper fallback from the console.

func (m *Main) pollbookCmd() *cobra.Command {
	c := &cobra.Command{Use: "pollbook", Short: "Pollbooks: switch a polling place to paper and back, enter paper check-ins"}
	c.AddCommand(m.pollbookPaperModeCmd(), m.pollbookPaperEntryCmd())
	return c
}

func (m *Main) openPollbook(c *cobra.Command, dir string) (*node.Node, *sqlite.Pollbook, error) {
	n, err := m.openNode(c.Context(), node.Options{Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	return n, sqlite.NewPollbook(n.DB, n, n.Now), nil
}

func (m *Main) pollbookPaperModeCmd() *cobra.Command {
	var dir, site, reason string
	var on, off bool
	c := &cobra.Command{
		Use:   "paper-mode --site county/ID/place/ID (--on --reason TEXT | --off)",
		Short: "Switch a polling place to the paper pollbook (its pollbooks refuse check-ins) or back",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if on == off {
				return vigil.FieldError("pollbook paper-mode", "on", "give --on (with --reason) or --off")
			}
			n, pb, err := m.openPollbook(c, dir)
			if err != nil {
				return err
			}
			if err := pb.SetPaperMode(c.Context(), operator(n.Origin()), vigil.Scope(site), on, reason); err != nil {
				return err
			}
			if on {
				fmt.Fprintf(c.OutOrStdout(), "%s is on paper: its pollbooks refuse check-ins\n", site)
			} else {
				fmt.Fprintf(c.OutOrStdout(), "%s is back on the electronic pollbooks; enter the paper check-ins with vigil pollbook paper-entry\n", site)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&site, "site", "", "the polling place: county/ID/place/ID")
	c.Flags().BoolVar(&on, "on", false, "switch to paper")
	c.Flags().BoolVar(&off, "off", false, "switch back to the electronic pollbooks")
	c.Flags().StringVar(&reason, "reason", "", "why (required with --on)")
	return withAction(c, access.ActionPollbookPaper)
}

func (m *Main) pollbookPaperEntryCmd() *cobra.Command {
	var dir, site string
	c := &cobra.Command{
		Use:   "paper-entry --site county/ID/place/ID FILE.csv",
		Short: "Enter a polling place's paper check-ins (CSV header voter[,time][,identity]); prints line,voter,outcome",
		Long: `Enters the check-ins written in the paper pollbook. Every line is checked first
(the voter exists and is registered in the site's county; no voter twice);
any problem refuses the whole file, naming the line. Then each voter is
claimed like a check-in; a voter checked in elsewhere meanwhile (or whose mail
ballot was received) becomes a conflict naming both, for the county to
resolve. Entering the same file again changes nothing.

Prints a CSV: line,voter,outcome (checked_in, already_entered, conflict), then
a summary line.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return vigil.Wrap("pollbook paper-entry", vigil.Invalid, err)
			}
			defer f.Close()
			n, pb, err := m.openPollbook(c, dir)
			if err != nil {
				return err
			}
			entries, err := sqlite.ReadPaperCheckIns(f, pb.Loc)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			results, err := pb.EnterPaperCheckIns(c.Context(), operator(n.Origin()), vigil.Scope(site), entries)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			out := c.OutOrStdout()
			fmt.Fprintln(out, "line,voter,outcome")
			counts := map[string]int{}
			for _, r := range results {
				fmt.Fprintf(out, "%d,%s,%s\n", r.Line, r.Voter, r.Outcome)
				counts[r.Outcome]++
			}
			fmt.Fprintf(out, "# %d checked in, %d already entered, %d conflicts for the county\n",
				counts["checked_in"], counts["already_entered"], counts["conflict"])
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&site, "site", "", "the polling place: county/ID/place/ID")
	return withAction(c, access.ActionPollbookPaper)
}
