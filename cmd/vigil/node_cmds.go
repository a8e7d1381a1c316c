package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	vhttp "github.com/vigil-elections/vigil/http"
	"github.com/vigil-elections/vigil/keyring"
	vnats "github.com/vigil-elections/vigil/nats"
	"github.com/vigil-elections/vigil/node"
)

func (m *Main) versionCmd() *cobra.Command {
	return withAction(&cobra.Command{
		Use:   "version",
		Short: "Print vigil's version and data format",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			fmt.Fprintf(c.OutOrStdout(), "vigil %s (commit %s, data format %d)\n", vigil.Version, vigil.Commit, vigil.FormatVersion)
			return nil
		},
	}, access.ActionPublic)
}

type natsFlags struct {
	url, token, creds, ca, cert, key string
	replicas                         int
	secretsKey                       string
}

func (f *natsFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.url, "nats", "", "use an external NATS cluster at this URL instead of the embedded engine")
	c.Flags().StringVar(&f.token, "nats-token", "", "token for the external NATS cluster")
	c.Flags().StringVar(&f.creds, "nats-creds", "", "credentials file for the external NATS cluster")
	c.Flags().StringVar(&f.ca, "nats-ca", "", "CA certificate to trust for TLS to NATS")
	c.Flags().StringVar(&f.cert, "nats-cert", "", "client certificate for TLS to NATS")
	c.Flags().StringVar(&f.key, "nats-key", "", "client key for TLS to NATS")
	c.Flags().IntVar(&f.replicas, "replicas", 3, "stream replicas on an external cluster")
	c.Flags().StringVar(&f.secretsKey, "secrets-key", "", "joining an existing log: a copy of keyring/secrets.key from one of its nodes")
}

// initOptions builds node.InitOptions from the flags.
func (f *natsFlags) initOptions(dir, name string) (node.InitOptions, error) {
	o := node.InitOptions{Dir: dir, Name: name, NATS: f.options(), Replicas: f.replicas}
	if f.secretsKey != "" {
		k, err := keyring.ReadSecretsKey(f.secretsKey)
		if err != nil {
			return o, err
		}
		o.SecretsKey = k
	}
	return o, nil
}

func (f *natsFlags) options() vnats.ClientOptions {
	return vnats.ClientOptions{URL: f.url, Token: f.token, CredsFile: f.creds, CAFile: f.ca, CertFile: f.cert, KeyFile: f.key, Name: "vigil init"}
}

func (m *Main) initCmd() *cobra.Command {
	var dir, name string
	var nf natsFlags
	c := &cobra.Command{
		Use:   "init",
		Short: "Create a node's data directory: keys, log streams, projections",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			o, err := nf.initOptions(dir, name)
			if err != nil {
				return err
			}
			meta, err := node.Init(c.Context(), o)
			if err != nil {
				return err
			}
			pub, _ := os.ReadFile(filepath.Join(dir, "keyring", "node.pub"))
			fmt.Fprintf(c.OutOrStdout(), "initialized %s as node %s\ncheckpoint verifier key: %s", dir, meta.NodeName, pub)
			fmt.Fprintf(c.OutOrStdout(), "back up %s: without store.key the log cannot be read\n", filepath.Join(dir, "keyring"))
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&name, "name", "", "node name (default vigil-HOSTNAME)")
	nf.add(c)
	return withAction(c, access.ActionNodeAdmin)
}

// ensureInit initializes dir if it holds nothing at all; a directory with
// a store but no metadata is refused, never started empty.
func ensureInit(ctx context.Context, dir string, nf natsFlags) error {
	if _, err := os.Stat(filepath.Join(dir, "vigil.json")); err == nil {
		return nil
	}
	if _, err := os.Stat(node.StoreDir(dir)); !errors.Is(err, fs.ErrNotExist) {
		return vigil.Errorf(vigil.Integrity, "serve",
			"%s holds a log store but no vigil.json; restore vigil.json from a backup — vigil will not start an empty log over it", dir)
	}
	o, err := nf.initOptions(dir, "")
	if err != nil {
		return err
	}
	_, err = node.Init(ctx, o)
	return err
}

func (m *Main) serveCmd() *cobra.Command {
	var dir, addr, certFile, keyFile, level string
	var nf natsFlags
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run a node: event log, projections and the web UI and API",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if err := ensureInit(c.Context(), dir, nf); err != nil {
				return err
			}
			return m.serve(c.Context(), dir, addr, certFile, keyFile, level, false)
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	c.Flags().StringVar(&certFile, "tls-cert", "", "serve HTTPS with this certificate")
	c.Flags().StringVar(&keyFile, "tls-key", "", "key for --tls-cert")
	c.Flags().StringVar(&level, "log-level", "info", "debug, info, warn or error")
	nf.add(c)
	m.backups = addBackupFlags(c)
	return withAction(c, access.ActionNodeAdmin)
}

// serve runs a node until ctx ends.
func (m *Main) serve(ctx context.Context, dir, addr, certFile, keyFile, level string, demo bool) error {
	log := m.logger(level)
	n, err := m.openNode(ctx, node.Options{Dir: dir, Listen: true, Logger: log})
	if err != nil {
		return err
	}
	if !n.Owner {
		return vigil.Errorf(vigil.Conflict, "serve", "another vigil process is already serving %s", dir)
	}
	m.startScheduledBackups(ctx, n, log)
	srv, err := vhttp.New(ctx, vhttp.Config{Node: n, Logger: log, Demo: demo})
	if err != nil {
		return err
	}
	m.startDetect(ctx, n, log)
	ln, err := srv.Listen(addr)
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String()
	if certFile != "" {
		url = "https://" + ln.Addr().String()
	}
	n.SetHTTPAddr(ln.Addr().String())
	log.Info("serving", "url", url, "data", dir, "entries", n.Tree.Size())
	fmt.Fprintf(m.Stdout, "vigil is serving %s at %s\n", dir, url)
	if m.Ready != nil {
		m.Ready(ln.Addr().String())
	}
	return srv.Serve(ctx, certFile, keyFile)
}
