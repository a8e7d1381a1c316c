package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/bench"
	vhttp "github.com/vigil-elections/vigil/http"
	"github.com/vigil-elections/vigil/keyring"
	"github.com/vigil-elections/vigil/node"
)

// vigil mirror: a remote mirror site (docs/decisions/0009-mirror.md).
func (m *Main) mirrorCmd() *cobra.Command {
	var f linkFlags
	c := &cobra.Command{
		Use:   "mirror",
		Short: "Run a remote mirror site of a hub: its log over TLS, checked checkpoints, read-only pages and API",
		Long: `Run a remote mirror site. The first run in an empty directory needs the hub's
mirror listener (--hub HOST:PORT), the credential the hub issued with
` + "`vigil mirror allow`" + ` (--credential FILE) and a copy of the hub's keyring/secrets.key
(--secrets-key FILE); later runs need only --data.

The mirror keeps JetStream mirrors of the hub's EVENTS and CHECKPOINTS streams,
encrypted at rest with its own store key; checks every checkpoint the hub signs
against the entries it holds and the previous checkpoint (a consistency proof)
and reports a rewritten or forked history to the hub as
log.checkpoint_inconsistent; and serves the web pages and API with every write
refused. After a disaster, stop it and run ` + "`vigil mirror promote`" + `.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, log, checker, err := m.openLinked(c.Context(), "mirror", &f)
			if err != nil {
				return err
			}
			hub, _ := n.Mirror()
			srv, err := vhttp.New(c.Context(), vhttp.Config{Node: n, Logger: log, ReadOnly: fmt.Sprintf(
				"this is a read-only mirror of the primary at %s: nothing can be changed here; make the change on the primary (after a disaster, an operator promotes this mirror with `vigil mirror promote`)", hub)})
			if err != nil {
				return err
			}
			srv.Handle("GET /api/v1/mirror", access.ActionLogRead, func(w http.ResponseWriter, r *http.Request) error {
				st, err := checker.Status(r.Context())
				if err != nil {
					return err
				}
				w.Header().Set("Content-Type", "application/json")
				return json.NewEncoder(w).Encode(st)
			})
			return m.serveLinked(c.Context(), &f, n, srv, log, fmt.Sprintf("vigil mirror of %s", hub))
		},
	}
	f.add(c, "mirror", "127.0.0.1:8081", "HTTP listen address of the read-only pages and API")
	withAction(c, access.ActionMirrorRun)
	c.AddCommand(m.mirrorAllowCmd(), m.revokeLinkCmd("mirror", "close its link and delete its consumers", access.ActionMirrorAllow), m.mirrorPromoteCmd(), m.mirrorStatusCmd())
	return c
}

// linkFlags are the options of a node linked to a hub: a mirror or a
// polling-place site.
type linkFlags struct {
	dir, hub, credFile, secretsFile, caFile string
	addr, certFile, keyFile, level          string
}

func (f *linkFlags) add(c *cobra.Command, kind, addr, addrHelp string) {
	dataFlag(c, &f.dir)
	c.Flags().StringVar(&f.hub, "hub", "", "first run: HOST:PORT of the hub's "+kind+" listener")
	c.Flags().StringVar(&f.credFile, "credential", "", "first run: the credential file from `vigil "+kind+" allow` on the hub")
	c.Flags().StringVar(&f.secretsFile, "secrets-key", "", "first run: a copy of the hub's keyring/secrets.key")
	c.Flags().StringVar(&f.caFile, "hub-ca", "", "first run: CA of the hub's certificate, when the hub uses an operator's certificate")
	c.Flags().StringVar(&f.addr, "addr", addr, addrHelp)
	c.Flags().StringVar(&f.certFile, "tls-cert", "", "serve HTTPS with this certificate")
	c.Flags().StringVar(&f.keyFile, "tls-key", "", "key for --tls-cert")
	c.Flags().StringVar(&f.level, "log-level", "info", "debug, info, warn or error")
}

// openLinked makes f.dir a mirror or site of the hub on its first run, then
// opens it as its owner and starts checking the hub's checkpoints.
func (m *Main) openLinked(ctx context.Context, kind string, f *linkFlags) (*node.Node, *slog.Logger, *node.MirrorChecker, error) {
	site := kind == "site"
	if !node.IsMirrorDir(f.dir) {
		if _, err := os.Stat(filepath.Join(f.dir, "vigil.json")); err == nil {
			return nil, nil, nil, vigil.Errorf(vigil.Conflict, kind,
				"%s holds a vigil node that is not a %s (a promoted mirror runs with `vigil serve`); start one in an empty directory", f.dir, kind)
		}
		if err := m.initLinked(ctx, kind, f); err != nil {
			return nil, nil, nil, err
		}
	}
	log := m.logger(f.level)
	n, err := m.openNode(ctx, node.Options{Dir: f.dir, Listen: true, Mirror: true, Site: site, Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	if !n.Owner {
		return nil, nil, nil, vigil.Errorf(vigil.Conflict, kind, "another vigil process is already running %s", f.dir)
	}
	checker, err := n.NewMirrorChecker()
	if err != nil {
		return nil, nil, nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); checker.Run(cctx) }()
	m.onClose(func() error { cancel(); wg.Wait(); return nil })
	return n, log, checker, nil
}

// initLinked makes an empty directory a mirror or a site of the hub, from
// the credential the hub issued for that kind.
func (m *Main) initLinked(ctx context.Context, kind string, f *linkFlags) error {
	if f.hub == "" || f.credFile == "" || f.secretsFile == "" {
		return vigil.Errorf(vigil.Invalid, kind,
			"%s is not a %s yet: give --hub HOST:PORT, --credential FILE (from `vigil %s allow` on the hub) and --secrets-key FILE (the hub's keyring/secrets.key)",
			f.dir, kind, kind)
	}
	cred, secrets, err := readMirrorCredential(kind, f.credFile, f.secretsFile)
	if err != nil {
		return err
	}
	switch {
	case kind == "mirror" && cred.Place != "":
		return vigil.Errorf(vigil.Invalid, kind, "%s is the credential of the polling-place site %s: run it with `vigil site`", f.credFile, cred.Name)
	case kind == "site" && cred.Place == "":
		return vigil.Errorf(vigil.Invalid, kind, "%s is a mirror's credential, not a site's: issue one with `vigil site allow --place ID`", f.credFile)
	}
	if _, err := node.InitMirror(ctx, node.MirrorInitOptions{Dir: f.dir, Hub: f.hub, Credential: cred, CAFile: f.caFile, SecretsKey: secrets}); err != nil {
		return err
	}
	if cred.Place != "" {
		fmt.Fprintf(m.Stdout, "%s is now the polling-place site %s (%s) of %s\n", f.dir, cred.Name, cred.Place, f.hub)
	} else {
		fmt.Fprintf(m.Stdout, "%s is now a mirror of %s\n", f.dir, f.hub)
	}
	return nil
}

// serveLinked serves a linked node's pages and API until ctx ends.
func (m *Main) serveLinked(ctx context.Context, f *linkFlags, n *node.Node, srv *vhttp.Server, log *slog.Logger, what string) error {
	ln, err := srv.Listen(f.addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if f.certFile != "" {
		url = "https://" + ln.Addr().String()
	}
	n.SetHTTPAddr(ln.Addr().String())
	log.Info(what+" serving", "url", url, "data", f.dir, "entries", n.Tree.Size())
	fmt.Fprintf(m.Stdout, "%s is serving %s at %s\n", what, f.dir, url)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	return srv.Serve(ctx, f.certFile, f.keyFile)
}

func (m *Main) mirrorAllowCmd() *cobra.Command {
	var dir, name string
	var f listenerFlags
	c := &cobra.Command{
		Use:   "allow",
		Short: "On the hub: admit a mirror and write its credential (takes effect when `vigil serve` next starts)",
		Long: `On the hub: admit a remote mirror called --name and write its credential to --out.
The hub's ` + "`vigil serve`" + ` then listens for mirrors on --listen HOST:PORT with TLS. Without
--tls-cert/--tls-key the hub makes a self-signed certificate (keyring/mirror-tls.crt)
which the credential carries, so the mirror trusts exactly that certificate; with
an operator's certificate, give the mirror its CA with ` + "`vigil mirror --hub-ca`" + `.
The credential is a secret: carry it to the mirror site by hand. Issuing again
for the same name replaces its password.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if f.out == "" {
				return vigil.FieldError("mirror allow", "out", "say where to write the credential (--out FILE)")
			}
			cred, err := node.AllowMirror(node.AllowMirrorOptions{Dir: dir, Name: name, Listen: f.listen, CertFile: f.certFile, KeyFile: f.keyFile})
			if err != nil {
				return err
			}
			if err := writeCredential("mirror allow", f.out, cred); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "mirror %s allowed; credential written to %s (a secret: carry it to the mirror site)\n"+
				"restart `vigil serve --data %s` to open the mirror listener\n", name, f.out, dir)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&name, "name", "", "the mirror's name (lower-case letters, digits, dashes)")
	f.add(c, "mirrors")
	return withAction(c, access.ActionMirrorAllow)
}

// listenerFlags are the hub's listener options of `mirror allow` and
// `site allow`, and where the credential goes.
type listenerFlags struct{ listen, certFile, keyFile, out string }

func (f *listenerFlags) add(c *cobra.Command, who string) {
	c.Flags().StringVar(&f.listen, "listen", "", "HOST:PORT where "+who+" reach this hub (TLS); kept from the last time if empty")
	c.Flags().StringVar(&f.certFile, "tls-cert", "", "the listener's certificate (default: a self-signed one, pinned by the credential)")
	c.Flags().StringVar(&f.keyFile, "tls-key", "", "key for --tls-cert")
	c.Flags().StringVar(&f.out, "out", "", "write the credential to this file")
}

// revokeLinkCmd is `mirror revoke` and `site revoke`: the hub stops
// admitting the named mirror or site when `vigil serve` next starts.
func (m *Main) revokeLinkCmd(kind, effect string, action access.Action) *cobra.Command {
	var dir, name string
	c := &cobra.Command{
		Use:   "revoke",
		Short: "On the hub (or, for a laptop, on its site): stop admitting a " + kind + " (a running node closes its link within a second)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := node.RevokeMirror(dir, name); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s %s revoked; the node running %s will %s within a second (or at its next start)\n", kind, name, dir, effect)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&name, "name", "", "the "+kind+"'s name")
	return withAction(c, action)
}

func (m *Main) mirrorPromoteCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "promote",
		Short: "Make a stopped mirror the primary after a disaster (then start it with `vigil serve`)",
		Long: `Make a stopped mirror the primary. Its mirrored streams become the ordinary
streams of a primary, holding every entry the mirror had stored, and stop pulling
from the old hub for good. Start the node with ` + "`vigil serve --data DIR`" + `: it signs
checkpoints of the same log with its own key. Check it with ` + "`vigil log verify`" + ` and
` + "`vigil verify`" + `. Never run the old primary again alongside it: point clients here.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := node.PromoteMirror(c.Context(), dir, operator(""))
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			fmt.Fprintf(out, "promoted %s (mirror of %s): %d entries, %d checkpoints of the old primary\n",
				dir, rep.Hub, rep.Entries, rep.Checkpoints)
			fmt.Fprintf(out, "%d of the old primary's checkpoints match the promoted entries\n", rep.Verified)
			if rep.HubSigned > int64(rep.Entries) {
				fmt.Fprintf(out, "LOST: the old primary had signed %d entries; entries %d..%d never reached this mirror\n",
					rep.HubSigned, rep.Entries+1, rep.HubSigned)
			}
			for _, p := range rep.Problems {
				fmt.Fprintf(out, "PROBLEM: %s\n", p)
			}
			fmt.Fprintf(out, "start it with `vigil serve --data %s`\n", dir)
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionMirrorPromote)
}

func (m *Main) mirrorStatusCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "status",
		Short: "Show a mirror's link, entries, last verified checkpoint and problems found",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			b, err := os.ReadFile(filepath.Join(dir, "mirror", "state.json"))
			if err != nil {
				return vigil.Errorf(vigil.NotFound, "mirror status", "%s has no mirror state yet (is it a mirror that has run?)", dir)
			}
			var st node.MirrorStatus
			if err := json.Unmarshal(b, &st); err != nil {
				return vigil.Errorf(vigil.Integrity, "mirror status", "the mirror's state file is damaged: %v", err)
			}
			if st.Verified != nil {
				fmt.Fprintf(c.OutOrStdout(), "last verified checkpoint: size %d root %s\n", st.Verified.Size, st.Verified.Root)
			}
			fmt.Fprintf(c.OutOrStdout(), "hub checkpoints checked: %d\n", st.Checked)
			for _, p := range st.Problems {
				fmt.Fprintf(c.OutOrStdout(), "PROBLEM %s: %s (reported to the hub: %v)\n", p.Time.Format("2006-01-02 15:04:05Z"), p.Message, p.Reported)
			}
			if len(st.Problems) > 0 {
				return vigil.Errorf(vigil.Integrity, "mirror status", "the hub's history is inconsistent with what this mirror holds")
			}
			fmt.Fprintln(c.OutOrStdout(), "no problems found")
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionLogRead)
}

func (m *Main) benchMirrorCmd() *cobra.Command {
	var o bench.MirrorOptions
	c := &cobra.Command{
		Use:   "mirror",
		Short: "Mirror lag (recovery point) while the primary takes a steady event rate",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			cleanup, err := scratchDir(&o.Dir, "vigil-bench-")
			if err != nil {
				return err
			}
			defer cleanup()
			r, err := bench.RunMirror(c.Context(), o, c.ErrOrStderr())
			if err != nil {
				return err
			}
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			out := c.OutOrStdout()
			fmt.Fprintf(out, "offered %d events/s: %d events in %d entries, %.0f events/s achieved\n", o.Rate, r.Events, r.Entries, r.EventsPerSec)
			fmt.Fprintf(out, "mirror lag: p50 %.1f ms, p99 %.1f ms, max %.1f ms (target p99 < 1000 ms)\n", ms(r.LagP50), ms(r.LagP99), ms(r.LagMax))
			fmt.Fprintf(out, "anchor, the primary's own follower: p50 %.1f ms, p99 %.1f ms\n", ms(r.LocalP50), ms(r.LocalP99))
			fmt.Fprintf(out, "caught up %.1f ms after the load stopped; the mirror resumed %.1f s after its start\n", ms(r.Drain), r.Resume.Seconds())
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "scratch directory (default: a new temporary one)")
	c.Flags().IntVar(&o.Rate, "rate", 5000, "events per second offered to the primary")
	c.Flags().DurationVar(&o.Duration, "duration", 10*time.Second, "length of the load")
	c.Flags().IntVar(&o.Concurrency, "concurrency", 64, "concurrent appenders on the primary")
	return withAction(c, access.ActionBench)
}

// readMirrorCredential reads a credential from `vigil mirror allow` or
// `vigil site allow` and the hub's secrets key.
func readMirrorCredential(op, credFile, secretsFile string) (node.MirrorCredential, string, error) {
	var cred node.MirrorCredential
	b, err := os.ReadFile(credFile)
	if err != nil {
		return cred, "", vigil.Errorf(vigil.Invalid, op, "cannot read the credential: %v", err)
	}
	if err := json.Unmarshal(b, &cred); err != nil {
		return cred, "", vigil.Errorf(vigil.Invalid, op, "%s is not a credential (JSON from `vigil mirror allow` or `vigil site allow`)", credFile)
	}
	secrets, err := keyring.ReadSecretsKey(secretsFile)
	return cred, secrets, err
}

// writeCredential writes a credential readable by its owner only.
func writeCredential(op, out string, cred node.MirrorCredential) error {
	b, _ := json.MarshalIndent(cred, "", "  ")
	if err := os.MkdirAll(filepath.Dir(out), 0o700); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	if err := os.WriteFile(out, append(b, '\n'), 0o600); err != nil {
		return vigil.Wrap(op, vigil.Unavailable, err)
	}
	return nil
}
