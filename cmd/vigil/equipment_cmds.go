package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/equipment"
	"github.com/vigil-elections/vigil/node"
	"github.com/vigil-elections/vigil/sqlite"
)

func (m *Main) equipmentCmd() *cobra.Command {
	c := &cobra.Command{Use: "equipment", Short: "The voting-technology register: inventory, advisories, outdated devices, replacement plan"}
	adv := &cobra.Command{Use: "advisories", Short: "Security advisories about voting equipment"}
	adv.AddCommand(m.equipmentAdvisoriesImportCmd())
	c.AddCommand(m.equipmentImportCmd(), m.equipmentExportCmd(), adv, m.equipmentOutdatedCmd(), m.equipmentPlanCmd(),
		m.equipmentMinimumCmd(), m.equipmentCostCmd(), m.equipmentCustodyCmd(), m.equipmentRulesCmd())
	return c
}

// openEquipment opens the node at dir and returns its register.
func (m *Main) openEquipment(c *cobra.Command, dir string) (*node.Node, *sqlite.Equipment, error) {
	n, err := m.openNode(c.Context(), node.Options{Dir: dir})
	if err != nil {
		return nil, nil, err
	}
	return n, sqlite.NewEquipment(n.DB, n, n.Now), nil
}

func (m *Main) equipmentImportCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Import an inventory CSV (vigil's columns or a Verifier machines export): all or nothing",
		Long: `Import an inventory. The file is vigil's inventory CSV (columns in the
README, "Equipment") or Verified Voting's verifier-machines.csv. Every row is
checked first; any problem (named by line and column) refuses the whole
file. New devices are recorded as device.registered, changed ones as
device.changed; importing the same file again changes nothing. A model that
is not in the catalog is accepted and listed as flagged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return vigil.Errorf(vigil.Invalid, "equipment import", "cannot read %s: %v", args[0], err)
			}
			defer f.Close()
			devices, err := sqlite.ReadDevices(f)
			if err != nil {
				return err
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			res, err := eq.Import(c.Context(), operator(n.Origin()), filepath.Base(args[0]), devices, nil)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "%d devices: added %d, changed %d, unchanged %d\n", res.Devices, res.Added, res.Changed, res.Unchanged)
			for _, id := range res.Unknown {
				fmt.Fprintf(out, "flagged: %s: model not in the catalog (accepted; check the manufacturer and model)\n", id)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionEquipmentWrite)
}

func (m *Main) equipmentExportCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "export",
		Short: "Write the inventory as CSV (the layout import reads)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			_, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			rows, err := eq.Devices(c.Context())
			if err != nil {
				return err
			}
			devices := make([]vigil.Device, len(rows))
			for i, r := range rows {
				devices[i] = r.Device
			}
			return equipment.WriteInventory(c.OutOrStdout(), devices)
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionEquipmentRead)
}

func (m *Main) equipmentAdvisoriesImportCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "import FILE.csv|FILE.json",
		Short: "Import security advisories (CSV or a JSON array): all or nothing",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			const op = "equipment advisories import"
			f, err := os.Open(args[0])
			if err != nil {
				return vigil.Errorf(vigil.Invalid, op, "cannot read %s: %v", args[0], err)
			}
			defer f.Close()
			var advs []vigil.Advisory
			switch strings.ToLower(filepath.Ext(args[0])) {
			case ".json":
				advs, err = equipment.ReadAdvisoriesJSON(f)
			case ".csv":
				advs, err = equipment.ReadAdvisoriesCSV(f)
			default:
				return vigil.Errorf(vigil.Invalid, op, "name a .csv or .json file")
			}
			if err != nil {
				return err
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			recorded, err := eq.ImportAdvisories(c.Context(), operator(n.Origin()), advs)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%d advisories: %d recorded, %d unchanged\n", len(advs), recorded, len(advs)-recorded)
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionEquipmentPolicy)
}

func formatFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVar(dst, "format", "text", "text or csv")
}

func checkFormat(op, format string) error {
	if format != "text" && format != "csv" {
		return vigil.FieldError(op, "format", "use text or csv")
	}
	return nil
}

func (m *Main) equipmentOutdatedCmd() *cobra.Command {
	var dir, format string
	c := &cobra.Command{
		Use:   "outdated",
		Short: "List every device that needs attention, with every reason (end of life, OS, certification, advisories, unknown model)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := checkFormat("equipment outdated", format); err != nil {
				return err
			}
			_, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			rows, err := eq.Devices(c.Context())
			if err != nil {
				return err
			}
			flags, err := eq.Outdated(c.Context(), rows)
			if err != nil {
				return err
			}
			if format == "csv" {
				return equipment.WriteFlagsCSV(c.OutOrStdout(), flags)
			}
			return equipment.WriteFlagsText(c.OutOrStdout(), flags)
		},
	}
	dataFlag(c, &dir)
	formatFlag(c, &format)
	return withAction(c, access.ActionEquipmentRead)
}

func (m *Main) equipmentPlanCmd() *cobra.Command {
	var dir, format string
	var years int
	c := &cobra.Command{
		Use:   "plan --years N",
		Short: "The replacement plan: per year from this one, the devices reaching end of life and the budget",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			const op = "equipment plan"
			if err := checkFormat(op, format); err != nil {
				return err
			}
			if years < 1 || years > 50 {
				return vigil.FieldError(op, "years", "give 1 to 50 years")
			}
			_, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			rows, err := eq.Devices(c.Context())
			if err != nil {
				return err
			}
			p, err := eq.Plan(c.Context(), rows, years)
			if err != nil {
				return err
			}
			if format == "csv" {
				return equipment.WritePlanCSV(c.OutOrStdout(), p)
			}
			return equipment.WritePlanText(c.OutOrStdout(), p)
		},
	}
	dataFlag(c, &dir)
	formatFlag(c, &format)
	c.Flags().IntVar(&years, "years", 10, "how many years to plan")
	return withAction(c, access.ActionEquipmentRead)
}

func (m *Main) equipmentMinimumCmd() *cobra.Command {
	var dir, version string
	c := &cobra.Command{
		Use:   "minimum --version V",
		Short: "Set the minimum vigil version a pollbook device must run to check voters in (\"\" removes it)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if !c.Flags().Changed("version") {
				return vigil.FieldError("equipment minimum", "version", "give --version (an empty value removes the minimum)")
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			if err := eq.SetMinimum(c.Context(), operator(n.Origin()), version); err != nil {
				return err
			}
			if version == "" {
				fmt.Fprintln(c.OutOrStdout(), "pollbook minimum version removed")
			} else {
				fmt.Fprintf(c.OutOrStdout(), "pollbook devices below %s are refused from now on\n", version)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&version, "version", "", "the minimum version, e.g. 1.4.0")
	return withAction(c, access.ActionEquipmentPolicy)
}

func (m *Main) equipmentCostCmd() *cobra.Command {
	var dir, kind, manufacturer, model, cost string
	c := &cobra.Command{
		Use:   "cost --kind K | --manufacturer M --model X  --cost DOLLARS",
		Short: "Set the unit replacement cost of a device kind or model (0 removes it)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cents, err := parseDollars(cost)
			if err != nil {
				return err
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			uc := vigil.UnitCost{Kind: vigil.DeviceKind(kind), Manufacturer: manufacturer, Model: model, Cents: cents}
			if err := eq.SetCost(c.Context(), operator(n.Origin()), uc); err != nil {
				return err
			}
			fmt.Fprintln(c.OutOrStdout(), "unit cost recorded")
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&kind, "kind", "", "device kind")
	c.Flags().StringVar(&manufacturer, "manufacturer", "", "manufacturer (with --model)")
	c.Flags().StringVar(&model, "model", "", "model")
	c.Flags().StringVar(&cost, "cost", "", "price per unit in dollars, e.g. 5250.00")
	return withAction(c, access.ActionEquipmentWrite)
}

// parseDollars reads "5250", "5250.5" or "5250.00" as cents.
func parseDollars(s string) (int64, error) {
	const op = "equipment cost"
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "$"))
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, vigil.FieldError(op, "cost", "at most two decimals")
	}
	frac += strings.Repeat("0", 2-len(frac))
	d, err1 := strconv.ParseInt(whole, 10, 64)
	c, err2 := strconv.ParseInt(frac, 10, 64)
	if s == "" || err1 != nil || err2 != nil || d < 0 || d > 1e12 {
		return 0, vigil.FieldError(op, "cost", "give a price in dollars, like 5250.00")
	}
	return d*100 + c, nil
}

func (m *Main) equipmentCustodyCmd() *cobra.Command {
	var dir, from, to, by, seals, note, at string
	c := &cobra.Command{
		Use:   "custody DEVICE --from WHERE --to WHERE --by WHO [--seals S1;S2] [--at TIME]",
		Short: "Record a hand-over of a device in its chain of custody",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			t := vigil.CustodyTransfer{Device: vigil.DeviceID(args[0]), From: from, To: to, By: by, Note: note}
			if seals != "" {
				t.Seals = strings.Split(seals, ";")
			}
			if at != "" {
				tm, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return vigil.FieldError("equipment custody", "at", "give a time like 2026-11-03T06:30:00-07:00")
				}
				t.Time = tm
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			if t.Time.IsZero() {
				t.Time = n.Now()
			}
			if err := eq.Transfer(c.Context(), operator(n.Origin()), t); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: custody from %s to %s recorded\n", t.Device, from, to)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&from, "from", "", "where or who the device leaves")
	c.Flags().StringVar(&to, "to", "", "where or who receives it")
	c.Flags().StringVar(&by, "by", "", "who carried it")
	c.Flags().StringVar(&seals, "seals", "", "seal numbers verified intact, separated by ';'")
	c.Flags().StringVar(&note, "note", "", "free text")
	c.Flags().StringVar(&at, "at", "", "when (RFC 3339; default now)")
	return withAction(c, access.ActionEquipmentWrite)
}
