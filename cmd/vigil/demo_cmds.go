package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
)

const demoMarker = "DEMO"

func (m *Main) demoCmd() *cobra.Command {
	var dir, addr string
	var voters int
	var seed uint64
	c := &cobra.Command{
		Use:   "demo",
		Short: "Build a synthetic county, create one login per role, and serve it (MFA off)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			marker := filepath.Join(dir, demoMarker)
			_, err := os.Stat(filepath.Join(dir, "vigil.json"))
			fresh := errors.Is(err, fs.ErrNotExist)
			if !fresh {
				if _, err := os.Stat(marker); err != nil {
					return vigil.Errorf(vigil.Conflict, "demo", "%s holds a real (non-demo) node; choose another --data", dir)
				}
			}
			county := demo.Generate(demo.Options{Seed: seed, Voters: voters, Today: timeNow()})
			if fresh {
				if _, err := node.Init(ctx, node.InitOptions{Dir: dir, Name: "vigil-demo"}); err != nil {
					return err
				}
				n, err := node.Open(ctx, node.Options{Dir: dir})
				if err != nil {
					return err
				}
				users := access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now)
				fmt.Fprintf(m.Stderr, "building %s: %d precincts, %d polling places, %d voters (seed %d)\n",
					county.County.Name, len(county.Precincts), len(county.Places), len(county.Voters), seed)
				err = demo.Load(ctx, n, users, operator(n.Origin()), county, n.Now(), nil)
				if cerr := n.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return err
				}
				if err := os.WriteFile(marker, []byte(fmt.Sprintf("seed %d\n", seed)), 0o600); err != nil {
					return err
				}
			}
			prev := m.Ready
			m.Ready = func(a string) {
				out := m.Stdout
				fmt.Fprintf(out, "\nDEMO MODE: synthetic data, two-factor authentication OFF.\n")
				fmt.Fprintf(out, "Open http://%s/ and sign in as any of these (password %q):\n", a, demo.Password)
				for _, acc := range demo.Accounts(county) {
					fmt.Fprintf(out, "  %-14s %-18s %s\n", acc.Name, acc.Grant.Role, acc.Grant.Scope)
				}
				fmt.Fprintf(out, "A pollbook checks voters in only from an enrolled device: sign in as supervisor, open\n"+
					"http://%s/devices and issue a one-time code; then, as pollworker, type it at /devices/enrol.\n", a)
				if prev != nil {
					prev(a)
				}
			}
			return m.serve(ctx, dir, addr, "", "", "warn", true)
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "HTTP listen address")
	c.Flags().IntVar(&voters, "voters", 100000, "voters in the synthetic county")
	c.Flags().Uint64Var(&seed, "seed", 1, "random seed: the same seed builds the same county")
	return withAction(c, access.ActionNodeAdmin)
}
