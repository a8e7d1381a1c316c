package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
	vhttp "github.com/vigil-elections/vigil/http"
	"github.com/vigil-elections/vigil/node"
)

// vigil site: a polling-place node (docs/decisions/0008-sites.md).
func (m *Main) siteCmd() *cobra.Command {
	var f linkFlags
	c := &cobra.Command{
		Use:   "site",
		Short: "Run a polling-place site: a leaf of the hub that keeps checking voters in when cut off",
		Long: `Run a polling-place site node. It is a NATS leaf node of the hub with its own
JetStream domain; it holds the hub's log (and so the county's roster) in its own
store and serves the pollbook pages and API to the place's tablets on the local
network.

While the link to the hub is up, every check-in is claimed on the hub's log, so a
voter is never checked in twice anywhere. When the link is cut, the site goes on:
its pollbooks still claim each voter in the site's own log (never twice here),
every page says the site is offline and how long since it last heard from the
hub, and when the link is back the site sends what it did; the hub merges it and
records each cross-site duplicate as a conflict for the county, keeping both.

The first run in an empty directory needs the hub's listener (--hub HOST:PORT),
the credential from ` + "`vigil site allow`" + ` on the hub (--credential FILE) and a copy
of the hub's keyring/secrets.key (--secrets-key FILE); later runs need only --data.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, log, _, err := m.openLinked(c.Context(), "site", &f)
			if err != nil {
				return err
			}
			srv, err := vhttp.New(c.Context(), vhttp.Config{Node: n, Logger: log})
			if err != nil {
				return err
			}
			st, _ := n.SiteStatus(c.Context())
			return m.serveLinked(c.Context(), &f, n, srv, log, fmt.Sprintf("vigil site %s (%s) of %s", st.Name, st.Place, st.Hub))
		},
	}
	f.add(c, "site", "0.0.0.0:8080", "HTTP listen address of the pollbook pages and API (the tablets reach it)")
	withAction(c, access.ActionSiteRun)
	c.AddCommand(m.siteAllowCmd(), m.revokeLinkCmd("site", "close its link", access.ActionSiteAllow), m.siteStatusCmd())
	return c
}

func (m *Main) siteAllowCmd() *cobra.Command {
	var dir, name, place string
	var f listenerFlags
	c := &cobra.Command{
		Use:   "allow",
		Short: "On the hub: admit a polling-place site and write its credential (takes effect when `vigil serve` next starts)",
		Long: `On the hub: admit the polling-place site --name for the place --place and write its
credential to --out. The hub's ` + "`vigil serve`" + ` then listens for sites (and mirrors) on
--listen HOST:PORT with TLS. The site may send only its own check-ins and records,
for its own place; the hub checks each one and records what it refuses
(site.entry_refused, an alert). The credential is a secret: carry it to the site.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if f.out == "" {
				return vigil.FieldError("site allow", "out", "say where to write the credential (--out FILE)")
			}
			cred, err := node.AllowSite(c.Context(), node.AllowMirrorOptions{Dir: dir, Name: name, Listen: f.listen,
				CertFile: f.certFile, KeyFile: f.keyFile}, place)
			if err != nil {
				return err
			}
			if err := writeCredential("site allow", f.out, cred); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "site %s allowed for %s; credential written to %s (a secret: carry it to the site)\n"+
				"restart `vigil serve --data %s` to admit it\n", name, cred.Place, f.out, dir)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&name, "name", "", "the site's name (lower-case letters, digits, dashes)")
	c.Flags().StringVar(&place, "place", "", "the polling place the site serves (its id)")
	f.add(c, "sites")
	return withAction(c, access.ActionSiteAllow)
}

func (m *Main) siteStatusCmd() *cobra.Command {
	var dir string
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show a site's link to the hub, the time since it last heard from it, and what waits to be sent",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			st, at, err := node.ReadSiteStatus(dir)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(st)
			}
			link := "online"
			if !st.Online {
				link = "OFFLINE"
			}
			fmt.Fprintf(out, "site %s (%s) of %s: %s\n", st.Name, st.Place, st.Hub, link)
			if !st.LastSync.IsZero() {
				fmt.Fprintf(out, "last heard from the hub: %s (%s before this status)\n", st.LastSync.Format(time.RFC3339),
					time.Duration(st.SinceSync*float64(time.Second)).Round(time.Second))
			}
			fmt.Fprintf(out, "check-ins made here: %d, held by the hub: %d; entries waiting to be sent: %d\n", st.CheckIns, st.HubHolds, st.Waiting)
			for _, l := range st.Laptops {
				fmt.Fprintf(out, "laptop %s: %s\n", l.Name, map[bool]string{true: "linked", false: "not linked"}[l.Connected])
			}
			if st.Problem != "" {
				fmt.Fprintf(out, "PROBLEM: %s\n", st.Problem)
			}
			if age := time.Since(at); age > 10*time.Second {
				fmt.Fprintf(out, "(written %s ago: the site is not running)\n", age.Round(time.Second))
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return withAction(c, access.ActionSiteRead)
}

func (m *Main) benchSitesCmd() *cobra.Command {
	var o bench.SitesOptions
	c := &cobra.Command{
		Use:   "sites",
		Short: "A hub and three polling-place sites: propagation across sites online, catch-up after a site was cut off",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunSites(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			out := c.OutOrStdout()
			fmt.Fprintf(out, "online: %d check-ins at 3 sites; propagation to the other sites p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 1000 ms)\n",
				r.Online, ms(r.PropP50), ms(r.PropP99), ms(r.PropMx))
			fmt.Fprintf(out, "offline: %d check-ins at the cut-off site, %.0f/s\n", r.OfflineMade, r.OfflinePerSec)
			fmt.Fprintf(out, "propagation p99 ms %.1f; offline %d caught up in s %.2f; accepted twice %d; lost %d\n",
				ms(r.PropP99), r.OfflineMade, r.CatchUp.Seconds(), r.AcceptedTwice, r.Lost)
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().IntVar(&o.Voters, "voters", 70000, "county size (the cut-off site's place needs --offline active voters)")
	c.Flags().IntVar(&o.Rate, "rate", 100, "online check-ins per second over the three sites")
	c.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, "length of the online phase")
	c.Flags().IntVar(&o.Offline, "offline", 10000, "check-ins made at the cut-off site")
	c.Flags().StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the catch-up to this file")
	return withAction(c, access.ActionBench)
}
