package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
)

func (m *Main) votersHistoryCmd() *cobra.Command {
	var dir, election, county string
	c := &cobra.Command{
		Use:   "history --election ID [--county ID]",
		Short: "After an election, write who voted, how and where back to the roll (voting history)",
		Long: `Adds the election to the voting history of every voter the pollbooks recorded:
checked in (in person or early, with the polling place), a mail ballot
received, or a provisional ballot accepted. Each change is a voter.changed
event with the reason voting-history, so every voter's history is readable
from the log. Runs only after the voting period ends; running it again adds
nothing. Prints: voting history of ID: N voters, N added, N already recorded,
N not on the roll, N events.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			res, err := voterService(n).WriteVotingHistory(c.Context(), operator(n.Origin()), election, county)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "voting history of %s: %d voters, %d added, %d already recorded, %d not on the roll, %d events\n",
				res.Election, res.Voters, res.Added, res.Already, res.Missing, res.Events)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&election, "election", "", "the election's id")
	c.Flags().StringVar(&county, "county", "", "only this county's voters (default: every county)")
	return withAction(c, access.ActionVoterHistory)
}
