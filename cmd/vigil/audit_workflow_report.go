package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// The audit's report and public bundle, and verify, which needs only the
// bundle.

func (m *Main) auditReportCmd() *cobra.Command {
	var dir, id, format, out string
	c := &cobra.Command{
		Use:   "report --audit ID [--format csv|pdf] [--out FILE]",
		Short: "Write the audit report: settings, seed, contests, rounds, samples, discrepancies, risk measures",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			const op = "audit.report"
			if err := needAudit(op, id); err != nil {
				return err
			}
			if format != "csv" && format != "pdf" {
				return vigil.FieldError(op, "format", "use csv or pdf, not %q", format)
			}
			n, _, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			st, err := n.DB.Audit(c.Context(), vigil.AuditID(id))
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if format == "csv" {
				err = auditflow.WriteReportCSV(&buf, &st.Record)
			} else {
				err = auditflow.WriteReportPDF(&buf, &st.Record, n.Now(), n.Applied())
			}
			if err != nil {
				return err
			}
			return writeOut(c, out, buf.Bytes())
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&format, "format", "csv", "csv or pdf")
	c.Flags().StringVar(&out, "out", "", "the file to write (default: standard output)")
	return c
}

func writeOut(c *cobra.Command, out string, b []byte) error {
	if out == "" {
		_, err := c.OutOrStdout().Write(b)
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return vigil.Errorf(vigil.Unavailable, "write", "cannot write %s: %v", out, err)
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s (%d bytes)\n", out, len(b))
	return nil
}

func (m *Main) auditBundleCmd() *cobra.Command {
	var dir, id, out string
	c := &cobra.Command{
		Use:   "bundle --audit ID --out FILE.zip",
		Short: "Write the public verification bundle (no voter data); check it with vigil audit verify",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			const op = "audit.bundle"
			if err := needAudit(op, id); err != nil {
				return err
			}
			if out == "" {
				return vigil.FieldError(op, "out", "name the zip file to write with --out")
			}
			n, _, err := m.auditNode(c, dir)
			if err != nil {
				return err
			}
			st, err := n.DB.Audit(c.Context(), vigil.AuditID(id))
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := auditflow.WriteBundle(&buf, &st.Record); err != nil {
				return err
			}
			return writeOut(c, out, buf.Bytes())
		},
	}
	dataFlag(c, &dir)
	auditFlag(c, &id)
	c.Flags().StringVar(&out, "out", "", "the zip file to write")
	return c
}

func newAuditVerifyCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "verify BUNDLE",
		Short: "Recompute an audit's sample and every risk measure from its public bundle (zip or directory) and compare",
		Long: `Reads the bundle alone (see its README.txt), redraws every round from the
seed and manifest, recomputes every round's risk measures, status and next
size from the boards' readings, and prints "verified: …" or one line per
difference naming the bundle file that disagrees. Exits non-zero (7) on any
difference.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			files, err := auditflow.ReadBundleFiles(args[0])
			if err != nil {
				return err
			}
			v, err := auditflow.Verify(files)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if v.OK() {
				fmt.Fprintf(out, "verified: %d rounds, %d draws and the risk measures of %d contests match\n", v.Rounds, v.Draws, v.Contests)
				if v.HandCounts > 0 {
					fmt.Fprintf(out, "verified: the outcomes of %d full hand counts\n", v.HandCounts)
				}
				return nil
			}
			var parts []string
			seen := map[string]bool{}
			for _, mm := range v.Mismatches {
				fmt.Fprintf(out, "MISMATCH %s\n", mm)
				if !seen[mm.Part] {
					seen[mm.Part] = true
					parts = append(parts, mm.Part)
				}
			}
			return vigil.Errorf(vigil.Integrity, "audit.verify", "the bundle does not verify: %d differences, in %s", len(v.Mismatches), strings.Join(parts, ", "))
		},
	}
}
