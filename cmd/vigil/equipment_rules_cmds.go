package main

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// vigil equipment rules: the lifecycle rules in force (defaults with the
// jurisdiction's edits), and editing them. Every edit is an event.

func (m *Main) equipmentRulesCmd() *cobra.Command {
	var dir, format string
	c := &cobra.Command{
		Use:   "rules [--format text|csv]",
		Short: "Show the lifecycle rules in force: expected life per kind, OS end of support, withdrawn certifications",
		Long: `Shows the lifecycle rules in force, one per line (CSV header rule,subject,value,edited):
  life,KIND,YEARS           expected life of a kind ("default": every other kind)
  os,NAME,YYYY-MM-DD        first day without security updates
  withdrawn,SYSTEM@VERSION,YYYY-MM-DD  a withdrawn federal certification
edited is "yes" where the jurisdiction changed the default (vigil equipment rules set).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if format != "text" && format != "csv" {
				return vigil.FieldError("equipment rules", "format", "must be text or csv")
			}
			_, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			lines, err := eq.RuleLines(c.Context())
			if err != nil {
				return err
			}
			rows := make([][]string, len(lines))
			for i, l := range lines {
				edited := "no"
				if l.Edited {
					edited = "yes"
				}
				rows[i] = []string{l.Kind, l.Subject, l.Value, edited}
			}
			if format == "csv" {
				w := csv.NewWriter(c.OutOrStdout())
				w.Write([]string{"rule", "subject", "value", "edited"})
				w.WriteAll(rows)
				return w.Error()
			}
			for _, r := range rows {
				mark := ""
				if r[3] == "yes" {
					mark = "  (edited)"
				}
				fmt.Fprintf(c.OutOrStdout(), "%-10s %-40s %s%s\n", r[0], r[1], r[2], mark)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&format, "format", "text", "text or csv")
	c.AddCommand(m.equipmentRulesSetCmd())
	return withAction(c, access.ActionEquipmentRead)
}

func (m *Main) equipmentRulesSetCmd() *cobra.Command {
	var dir, life, osEnd, withdrawn string
	var remove bool
	c := &cobra.Command{
		Use:   "set (--life KIND=YEARS | --os-end NAME=YYYY-MM-DD | --withdrawn SYSTEM[@VERSION]=YYYY-MM-DD[:REASON]) [--remove]",
		Short: "Change one lifecycle rule (or, with --remove, go back to the default)",
		Long: `Changes one lifecycle rule; the change is an event and applies at once to the
outdated list, the replacement plan and the pollbook device check.
  --life pollbook=7                    pollbooks are replaced after 7 years ("default=12": every kind)
  --os-end "Windows 11 23H2=2025-11-11"  an operating system's end of security updates
  --withdrawn "EVS@6.0.4.0=2026-03-01:test lab finding"  a withdrawn certification
With --remove, give only the rule's subject (--life pollbook, --os-end "Windows 11 23H2").`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			r, err := parseRuleFlags(life, osEnd, withdrawn, remove)
			if err != nil {
				return err
			}
			n, eq, err := m.openEquipment(c, dir)
			if err != nil {
				return err
			}
			if err := eq.SetRule(c.Context(), operator(n.Origin()), r); err != nil {
				return err
			}
			if remove {
				fmt.Fprintf(c.OutOrStdout(), "rule %s removed: the default applies\n", r.Key())
			} else {
				fmt.Fprintf(c.OutOrStdout(), "rule %s set\n", r.Key())
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&life, "life", "", "KIND=YEARS: expected life of a device kind (KIND default: every kind)")
	c.Flags().StringVar(&osEnd, "os-end", "", "NAME=YYYY-MM-DD: first day without security updates")
	c.Flags().StringVar(&withdrawn, "withdrawn", "", "SYSTEM[@VERSION]=YYYY-MM-DD[:REASON]: a withdrawn certification")
	c.Flags().BoolVar(&remove, "remove", false, "remove the edit of this rule (the default applies again)")
	return withAction(c, access.ActionEquipmentPolicy)
}

// parseRuleFlags turns exactly one of the set flags into a rule edit.
func parseRuleFlags(life, osEnd, withdrawn string, remove bool) (vigil.LifecycleRule, error) {
	const op = "equipment rules set"
	n := 0
	for _, f := range []string{life, osEnd, withdrawn} {
		if f != "" {
			n++
		}
	}
	if n != 1 {
		return vigil.LifecycleRule{}, vigil.FieldError(op, "life", "give exactly one of --life, --os-end, --withdrawn")
	}
	split := func(flag, s string) (subject, value string, err error) {
		subject, value, found := strings.Cut(s, "=")
		subject = strings.TrimSpace(subject)
		if subject == "" || found == remove {
			if remove {
				return "", "", vigil.FieldError(op, flag, "with --remove give only the subject, without =VALUE")
			}
			return "", "", vigil.FieldError(op, flag, "must be SUBJECT=VALUE")
		}
		return subject, strings.TrimSpace(value), nil
	}
	date := func(flag, s string) (vigil.Date, error) {
		if remove {
			return vigil.Date{}, nil
		}
		d, err := vigil.ParseDate(s)
		if err != nil || d.YearOnly() || d.IsZero() || !d.Valid() {
			return vigil.Date{}, vigil.FieldError(op, flag, "%q is not a date YYYY-MM-DD", s)
		}
		return d, nil
	}
	r := vigil.LifecycleRule{Remove: remove}
	switch {
	case life != "":
		subject, value, err := split("life", life)
		if err != nil {
			return r, err
		}
		r.Rule = vigil.RuleLife
		if subject != "default" {
			r.Kind = vigil.DeviceKind(subject)
		}
		if !remove {
			if r.Years, err = strconv.Atoi(value); err != nil {
				return r, vigil.FieldError(op, "life", "%q is not a number of years", value)
			}
		}
	case osEnd != "":
		subject, value, err := split("os-end", osEnd)
		if err != nil {
			return r, err
		}
		r.Rule, r.OS = vigil.RuleOSEnd, subject
		if r.Date, err = date("os-end", value); err != nil {
			return r, err
		}
	default:
		subject, value, err := split("withdrawn", withdrawn)
		if err != nil {
			return r, err
		}
		r.Rule = vigil.RuleWithdrawn
		r.System, r.Version, _ = strings.Cut(subject, "@")
		when, reason, _ := strings.Cut(value, ":")
		r.Reason = strings.TrimSpace(reason)
		if r.Date, err = date("withdrawn", strings.TrimSpace(when)); err != nil {
			return r, err
		}
	}
	return r, r.Validate()
}
