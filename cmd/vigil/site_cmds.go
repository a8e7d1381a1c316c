package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	var dir, hub, credFile, secretsFile, caFile, addr, certFile, keyFile, level string
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
			ctx := c.Context()
			if !node.IsMirrorDir(dir) {
				if _, err := os.Stat(filepath.Join(dir, "vigil.json")); err == nil {
					return vigil.Errorf(vigil.Conflict, "site",
						"%s holds a vigil node that is not a polling-place site; start a site in an empty directory", dir)
				}
				if err := m.initSite(ctx, dir, hub, credFile, secretsFile, caFile); err != nil {
					return err
				}
			}
			return m.runSite(ctx, dir, addr, certFile, keyFile, level)
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&hub, "hub", "", "first run: HOST:PORT of the hub's site listener")
	c.Flags().StringVar(&credFile, "credential", "", "first run: the credential file from `vigil site allow` on the hub")
	c.Flags().StringVar(&secretsFile, "secrets-key", "", "first run: a copy of the hub's keyring/secrets.key")
	c.Flags().StringVar(&caFile, "hub-ca", "", "first run: CA of the hub's certificate, when the hub uses an operator's certificate")
	c.Flags().StringVar(&addr, "addr", "0.0.0.0:8080", "HTTP listen address of the pollbook pages and API (the tablets reach it)")
	c.Flags().StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate")
	c.Flags().StringVar(&keyFile, "tls-key", "", "key for --tls-cert")
	c.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	withAction(c, access.ActionSiteRun)
	c.AddCommand(m.siteAllowCmd(), m.revokeLinkCmd("site", "close its link", access.ActionSiteAllow), m.siteStatusCmd())
	return c
}

func (m *Main) initSite(ctx context.Context, dir, hub, credFile, secretsFile, caFile string) error {
	const op = "site"
	if hub == "" || credFile == "" || secretsFile == "" {
		return vigil.Errorf(vigil.Invalid, op,
			"%s is not a site yet: give --hub HOST:PORT, --credential FILE (from `vigil site allow` on the hub) and --secrets-key FILE (the hub's keyring/secrets.key)", dir)
	}
	cred, secrets, err := readMirrorCredential(op, credFile, secretsFile)
	if err != nil {
		return err
	}
	if cred.Place == "" {
		return vigil.Errorf(vigil.Invalid, op, "%s is a mirror's credential, not a site's: issue one with `vigil site allow --place ID`", credFile)
	}
	if _, err := node.InitMirror(ctx, node.MirrorInitOptions{Dir: dir, Hub: hub, Credential: cred, CAFile: caFile, SecretsKey: secrets}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "%s is now the polling-place site %s (%s) of %s\n", dir, cred.Name, cred.Place, hub)
	return nil
}

func (m *Main) runSite(ctx context.Context, dir, addr, certFile, keyFile, level string) error {
	log := m.logger(level)
	n, err := m.openNode(ctx, node.Options{Dir: dir, Listen: true, Mirror: true, Site: true, Logger: log})
	if err != nil {
		return err
	}
	if !n.Owner {
		return vigil.Errorf(vigil.Conflict, "site", "another vigil process is already running %s", dir)
	}
	checker, err := n.NewMirrorChecker()
	if err != nil {
		return err
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); checker.Run(cctx) }()
	m.onClose(func() error { cancel(); wg.Wait(); return nil })

	srv, err := vhttp.New(ctx, vhttp.Config{Node: n, Logger: log})
	if err != nil {
		return err
	}
	ln, err := srv.Listen(addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if certFile != "" {
		url = "https://" + ln.Addr().String()
	}
	n.SetHTTPAddr(ln.Addr().String())
	st, _ := n.SiteStatus(ctx)
	log.Info("site serving", "site", st.Name, "place", st.Place, "hub", st.Hub, "url", url, "data", dir)
	fmt.Fprintf(m.Stdout, "vigil site %s (%s) of %s is serving %s at %s\n", st.Name, st.Place, st.Hub, dir, url)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	return srv.Serve(ctx, certFile, keyFile)
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
