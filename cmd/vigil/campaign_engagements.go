package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// The desk's engagements from the node's shell: which firm may see which
// campaign, and the emergency stop when a firm must lose access now (the
// web desk down, a firm's account compromised).

func newCampaignEngagementsCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "engagements",
		Short: "List which security firm may see which campaign, and until when",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := node.Open(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			defer n.Close()
			rows, err := n.DB.Engagements(c.Context(), "", "")
			if err != nil {
				return err
			}
			now := n.Now()
			tw := tabwriter.NewWriter(c.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ENGAGEMENT\tCAMPAIGN\tFIRM\tFROM\tUNTIL\tSTATE")
			for _, e := range rows {
				state := "active"
				switch {
				case !e.Revoked.IsZero():
					state = "revoked " + e.Revoked.Format(time.RFC3339) + " by " + e.RevokedBy
				case !e.Active(now):
					state = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.Campaign, e.Firm,
					e.NotBefore.Format(time.RFC3339), e.NotAfter.Format(time.RFC3339), state)
			}
			return tw.Flush()
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionCampaignRead)
}

func newCampaignRevokeCmd() *cobra.Command {
	var dir, reason string
	c := &cobra.Command{
		Use:   "revoke ENGAGEMENT",
		Short: "End an engagement at once: the firm loses access to the campaign",
		Long: `Revokes an engagement (see "vigil campaign engagements"). The firm's next
request to the campaign's data is refused; the campaign sees the revocation,
by the operator, on its page. The reason is sealed in the log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			n, err := node.Open(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			defer n.Close()
			e, err := n.DB.Engagement(c.Context(), args[0])
			if err != nil {
				return err
			}
			desk := sqlite.NewDesk(n.DB, n, n.Keys, n.Now)
			if err := desk.RevokeEngagement(c.Context(), operator(n.Origin()), e.Campaign, e.ID, reason); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "revoked %s: firm %s no longer sees campaign %s\n", e.ID, e.Firm, e.Campaign)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&reason, "reason", "", "why, for the campaign and the officer")
	return withAction(c, access.ActionEngagementRevoke)
}
