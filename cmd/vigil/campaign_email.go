package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/campaign"
)

func newCampaignEmailCmd() *cobra.Command {
	var spf, dkim, dmarc string
	cmd := &cobra.Command{
		Use:   "email --spf RECORD --dkim RECORD --dmarc RECORD",
		Short: "Grade a domain's SPF, DKIM and DMARC records",
		Long: `Grades the SPF, DKIM and DMARC records given (their TXT values, with or
without the zone file's quotes) and prints each record's grade, A (best) to
F, with one line per finding saying what to change. Nothing is looked up in
DNS: only the text given is judged. Give at least one record.`,
		Example: `  vigil campaign email --spf 'v=spf1 include:_spf.google.com ~all' --dmarc 'v=DMARC1; p=none'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(spf+dkim+dmarc) == "" {
				return vigil.FieldError("campaign email", "spf", "give at least one record: --spf, --dkim or --dmarc")
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			for _, g := range []struct {
				text  string
				grade func(string) campaign.Report
			}{{spf, campaign.GradeSPF}, {dkim, campaign.GradeDKIM}, {dmarc, campaign.GradeDMARC}} {
				if strings.TrimSpace(g.text) == "" {
					continue
				}
				rep := g.grade(g.text)
				fmt.Fprintf(w, "%s: grade %s\n", rep.Record, rep.Grade)
				for _, f := range rep.Findings {
					fmt.Fprintf(w, "  %s %s: %s\n", f.Severity, f.Code, f.Message)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&spf, "spf", "", "the SPF record (v=spf1 …)")
	cmd.Flags().StringVar(&dkim, "dkim", "", "the DKIM key record (v=DKIM1; k=rsa; p=…)")
	cmd.Flags().StringVar(&dmarc, "dmarc", "", "the DMARC record (v=DMARC1; p=…)")
	return cmd
}
