package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// vigil county: a county's election-day rules.
func (m *Main) countyCmd() *cobra.Command {
	c := &cobra.Command{Use: "county", Short: "A county's election-day rules"}
	c.AddCommand(m.countyPolicyCmd())
	return c
}

func (m *Main) countyPolicyCmd() *cobra.Command {
	var dir, county, sameDay, reason string
	c := &cobra.Command{
		Use:   "policy --county ID --same-day-registration on|off --reason TEXT",
		Short: "Allow or refuse same-day registration at the county's polling places (its state's law)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			const op = "county policy"
			if county == "" {
				return vigil.FieldError(op, "county", "name the county (--county ID)")
			}
			var on bool
			switch sameDay {
			case "on":
				on = true
			case "off":
			default:
				return vigil.FieldError(op, "same-day-registration", "say on or off")
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			p := vigil.CountyPolicy{County: county, SameDayRegistration: on, Reason: reason}
			if err := sqlite.SetCountyPolicy(c.Context(), n.DB, n, operator(n.Origin()), p, n.Now()); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "county %s: same-day registration %s\n", county, sameDay)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "the county's id")
	c.Flags().StringVar(&sameDay, "same-day-registration", "", "on: poll workers may register a voter not on the roll and check them in; off: provisional ballot")
	c.Flags().StringVar(&reason, "reason", "", "why (the law or decision), recorded with the change")
	return withAction(c, access.ActionCountyPolicy)
}
