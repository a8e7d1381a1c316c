package main

import (
	"bufio"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil/campaign"
)

// newCampaignCmd is "vigil campaign": tools for a campaign's security desk
// (domains and email need no data directory; engagements and revoke do).
func newCampaignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Campaign security: lookalike domains, email records graded, engagements",
	}
	cmd.AddCommand(newCampaignDomainsCmd(), newCampaignEmailCmd(), newCampaignEngagementsCmd(), newCampaignRevokeCmd())
	return cmd
}

func newCampaignDomainsCmd() *cobra.Command {
	var explain bool
	cmd := &cobra.Command{
		Use:   "domains DOMAIN",
		Short: "List the lookalike domains an attacker could register",
		Long: `Prints the lookalike domains of DOMAIN, one per line, for a monitoring
service or a registrar watch list: letters left out, added, swapped or
replaced by a neighbouring key, lookalike letters (rn for m, Cyrillic а for
a), hyphens, and the same name under other top-level domains.

The list is deduplicated and always in the same order, so two runs can be
compared with diff. Internationalized (Unicode) lookalikes are printed in
their Punycode form (xn--…), which is what registries, DNS and certificate
transparency logs record; --explain adds the technique and, for those, the
Unicode form.`,
		Example: "  vigil campaign domains smithforsenate.com",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := campaign.Lookalikes(args[0])
			if err != nil {
				return err
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			for _, l := range list {
				switch {
				case !explain:
					fmt.Fprintln(w, l.Domain)
				case l.Unicode != "":
					fmt.Fprintf(w, "%s\t%s\t%s\n", l.Domain, l.Technique, l.Unicode)
				default:
					fmt.Fprintf(w, "%s\t%s\n", l.Domain, l.Technique)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&explain, "explain", false, "also print each domain's technique and Unicode form")
	return cmd
}
