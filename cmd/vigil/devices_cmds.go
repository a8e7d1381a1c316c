package main

import (
	"encoding/csv"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

// The devices commands enrol and revoke pollbook devices from the node's
// own console (the same as the /devices page).

func (m *Main) devicesCmd() *cobra.Command {
	c := &cobra.Command{Use: "devices", Short: "Pollbook devices: one-time enrolment codes, the enrolled devices, revocation"}
	c.AddCommand(m.devicesCodeCmd(), m.devicesListCmd(), m.devicesRevokeCmd())
	return c
}

func (m *Main) openDevices(c *cobra.Command, dir string) (*node.Node, *sqlite.Devices, error) {
	n, err := m.openNode(c.Context(), node.Options{Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	return n, sqlite.NewDevices(n.DB, n, n.Now, sqlite.NewEquipment(n.DB, n, n.Now)), nil
}

func (m *Main) devicesCodeCmd() *cobra.Command {
	var dir, site, name string
	c := &cobra.Command{
		Use:   "code --site county/ID/place/ID --name LABEL",
		Short: "Issue a one-time enrolment code for a pollbook at a polling place (valid 24 hours)",
		Long: `Issues a one-time enrolment code. On the tablet, a poll worker of that
polling place signs in, opens /devices/enrol and types the code; a laptop's
client posts it to /api/v1/devices/enrol and keeps the token it gets. The
log keeps only the code's hash. Prints the code, then its expiry.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			n, d, err := m.openDevices(c, dir)
			if err != nil {
				return err
			}
			code, expires, err := d.IssueCode(c.Context(), operator(n.Origin()), vigil.Scope(site), name)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), code)
			fmt.Fprintf(c.OutOrStdout(), "for %s (%s), once, until %s\n", site, name, expires.Format("2006-01-02 15:04 MST"))
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&site, "site", "", "the polling place: county/ID/place/ID")
	c.Flags().StringVar(&name, "name", "", "a label for the device, e.g. \"Table 3 tablet\"")
	return withAction(c, access.ActionDeviceManage)
}

func (m *Main) devicesListCmd() *cobra.Command {
	var dir, county string
	c := &cobra.Command{
		Use:   "list [--county ID]",
		Short: "List enrolled pollbook devices as CSV: id,site,name,version,os,status,enrolled,reported",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			_, d, err := m.openDevices(c, dir)
			if err != nil {
				return err
			}
			list, err := d.List(c.Context(), county)
			if err != nil {
				return err
			}
			w := csv.NewWriter(c.OutOrStdout())
			w.Write([]string{"id", "site", "name", "version", "os", "status", "enrolled", "reported"})
			for _, dv := range list {
				w.Write([]string{dv.ID, string(dv.Site), dv.Name, dv.Version, dv.OS, dv.Status,
					dv.Enrolled.UTC().Format("2006-01-02T15:04:05Z"), dv.Reported.UTC().Format("2006-01-02T15:04:05Z")})
			}
			w.Flush()
			return w.Error()
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&county, "county", "", "only this county's devices")
	return withAction(c, access.ActionDeviceRead)
}

func (m *Main) devicesRevokeCmd() *cobra.Command {
	var dir, reason string
	c := &cobra.Command{
		Use:   "revoke DEVICE --reason TEXT",
		Short: "Revoke a pollbook device: it is refused from its next request on",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			n, d, err := m.openDevices(c, dir)
			if err != nil {
				return err
			}
			if err := d.Revoke(c.Context(), operator(n.Origin()), args[0], reason, nil); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "device %s revoked\n", args[0])
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&reason, "reason", "", "why (lost, stolen, replaced …)")
	return withAction(c, access.ActionDeviceManage)
}
