package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
	"github.com/vigil-elections/vigil/detect"
	"github.com/vigil-elections/vigil/node"
)

// startDetect runs the alert engine on a serving node until the command
// ends: it follows the log, raises alerts and delivers them.
func (m *Main) startDetect(ctx context.Context, n *node.Node, log *slog.Logger) {
	ctx, cancel := context.WithCancel(ctx)
	notifier := &detect.Notifier{Logger: log}
	notifier.Start(ctx)
	r := detect.NewRunner(detect.RunnerConfig{Log: n.Log, Appender: n, Origin: n.Origin(),
		RulesPath: detect.RulesPath(n.Dir), StatePath: detect.StatePath(n.Dir),
		SeqAtTime: n.DB.SeqAtTime, Verify: n.VerifyStatus, Deliver: notifier.Deliver, Logger: log, Now: n.Now})
	notifier.Targets = r.Targets
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := r.Run(ctx); err != nil {
			log.Error("detection stopped", "err", err)
		}
	}()
	m.onClose(func() error {
		cancel()
		wg.Wait()
		notifier.Wait()
		return nil
	})
}

func (m *Main) detectCmd() *cobra.Command {
	c := &cobra.Command{Use: "detect", Short: "Anomaly detection rules: check a rule file, print the built-in rules"}
	var dir string
	check := &cobra.Command{
		Use:   "check [FILE]",
		Short: "Validate a rule file, naming every bad line (default: the node's DIR/detect/rules)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			path := detect.RulesPath(dir)
			if len(args) == 1 {
				path = args[0]
			} else if _, err := os.Stat(path); err != nil {
				return vigil.Errorf(vigil.NotFound, "detect check", "%s does not exist; the node runs the built-in rules (`vigil detect rules` prints them)", path)
			}
			if _, err := os.Stat(path); err != nil {
				return vigil.Errorf(vigil.NotFound, "detect check", "cannot read %s", path)
			}
			rs, err := detect.LoadFile(path)
			if err != nil {
				if pe, ok := asParseError(err); ok {
					for _, le := range pe {
						fmt.Fprintf(c.OutOrStdout(), "%s:%d: %s\n", path, le.Line, le.Msg)
					}
				}
				return vigil.Errorf(vigil.Invalid, "detect check", "%s has errors; the running node keeps its last good rules until they are fixed", path)
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %d rules, zone %s, ok\n", path, len(rs.Rules), rs.Zone)
			return nil
		},
	}
	dataFlag(check, &dir)
	rules := &cobra.Command{
		Use:   "rules",
		Short: "Print the built-in rules (a starting point for DIR/detect/rules)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			_, err := c.OutOrStdout().Write(detect.DefaultRulesText())
			return err
		},
	}
	c.AddCommand(withAction(check, access.ActionFileCompute), withAction(rules, access.ActionFileCompute))
	return c
}

func asParseError(err error) (detect.ParseError, bool) {
	var e *vigil.Error
	for err != nil {
		if pe, ok := err.(detect.ParseError); ok {
			return pe, true
		}
		if ve, ok := err.(*vigil.Error); ok {
			e = ve
			err = e.Err
			continue
		}
		break
	}
	return nil, false
}

func (m *Main) alertsCmd() *cobra.Command {
	c := &cobra.Command{Use: "alerts", Short: "List, acknowledge and resolve anomaly alerts"}
	var dir string
	var all bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List unresolved alerts (--all: every alert)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			alerts, err := n.DB.Alerts(c.Context(), all, 1000)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tSEVERITY\tSTATUS\tRAISED\tTITLE\tSUMMARY")
			for _, a := range alerts {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Severity, a.Status, a.Raised.Local().Format("2006-01-02 15:04"), a.Title, a.Summary)
			}
			return tw.Flush()
		},
	}
	dataFlag(list, &dir)
	list.Flags().BoolVar(&all, "all", false, "include resolved alerts")
	note := func(use string, typ vigil.EventType) *cobra.Command {
		var d, text string
		cmd := &cobra.Command{
			Use:   use + " ID --note TEXT",
			Short: strings.ToUpper(use[:1]) + use[1:] + " an alert, saying what was checked or done",
			Args:  cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				nt := vigil.AlertNote{ID: args[0], Note: strings.TrimSpace(text)}
				if err := nt.Validate(); err != nil {
					return err
				}
				n, err := m.openNode(c.Context(), node.Options{Dir: d})
				if err != nil {
					return err
				}
				a, err := n.DB.Alert(c.Context(), nt.ID)
				if err != nil {
					return err
				}
				if a.Status == vigil.AlertResolved {
					return vigil.Errorf(vigil.Conflict, "alerts "+use, "alert %s is already resolved by %s", a.ID, a.ResolvedBy)
				}
				ev, err := vigil.NewEvent(operator(n.Origin()), typ, nt.ID, n.Now(), nt)
				if err != nil {
					return err
				}
				if _, err := n.Append(c.Context(), []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "alert %s: %s\n", nt.ID, typ)
				return nil
			},
		}
		dataFlag(cmd, &d)
		cmd.Flags().StringVar(&text, "note", "", "what was checked or done (required)")
		return withAction(cmd, access.ActionAlertManage)
	}
	c.AddCommand(withAction(list, access.ActionAlertRead), note("acknowledge", vigil.EventAlertAcknowledged), note("resolve", vigil.EventAlertResolved))
	return c
}

func (m *Main) benchDetectCmd() *cobra.Command {
	var o bench.DetectOptions
	var rulesFile string
	c := &cobra.Command{
		Use:   "detect",
		Short: "Detection rate: a county's month with scripted interference, run through the alert engine",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			var rs *detect.Rules
			if rulesFile != "" {
				var err error
				if rs, err = detect.LoadFile(rulesFile); err != nil {
					return err
				}
			}
			start := time.Now()
			res, err := bench.RunDetect(o, rs, c.ErrOrStderr())
			if err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "done in %.1f s\n", time.Since(start).Seconds())
			res.Report(c.OutOrStdout())
			return nil
		},
	}
	c.Flags().IntVar(&o.Days, "days", 30, "simulated days (at least 16)")
	c.Flags().IntVar(&o.Voters, "voters", 50_000, "voters on the county's roll")
	c.Flags().Uint64Var(&o.Seed, "seed", 1, "random seed (the same seed, the same month)")
	c.Flags().StringVar(&o.Zone, "zone", "America/Denver", "the county's time zone")
	c.Flags().StringVar(&rulesFile, "rules", "", "a rule file to measure instead of the built-in rules")
	return withAction(c, access.ActionBench)
}
