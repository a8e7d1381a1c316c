package main

import (
	"bufio"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/node"
)

func (m *Main) userCmd() *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage accounts and their roles"}
	c.AddCommand(m.userAddCmd(), m.userListCmd(), m.userGrantCmd(false), m.userGrantCmd(true),
		m.userDisableCmd(true), m.userDisableCmd(false))
	return c
}

func (m *Main) users(c *cobra.Command, dir string) (*access.Users, vigil.Actor, error) {
	n, err := m.openNode(c.Context(), node.Options{Dir: dir})
	if err != nil {
		return nil, vigil.Actor{}, err
	}
	u := access.NewUsers(n.DB, n, n.Keys, n.Origin(), n.Now)
	return u, operator(n.Origin()), nil
}

func randomPassword() string {
	b := make([]byte, 15)
	rand.Read(b)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

func (m *Main) userAddCmd() *cobra.Command {
	var dir, display string
	var stdin bool
	c := &cobra.Command{
		Use:   "add NAME",
		Short: "Create an account (prints a generated password unless --password-stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			pw := ""
			if stdin {
				line, err := bufio.NewReader(c.InOrStdin()).ReadString('\n')
				if err != nil && line == "" {
					return vigil.FieldError("user add", "password", "none on standard input")
				}
				pw = strings.TrimRight(line, "\r\n")
			}
			generated := pw == ""
			if generated {
				pw = randomPassword()
			}
			if display == "" {
				display = args[0]
			}
			u, actor, err := m.users(c, dir)
			if err != nil {
				return err
			}
			if err := u.Create(c.Context(), actor, args[0], display, pw); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "created %s\n", args[0])
			if generated {
				fmt.Fprintf(c.OutOrStdout(), "initial password: %s\n", pw)
			}
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&display, "display-name", "", "full name")
	c.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from the first line of standard input")
	return withAction(c, access.ActionUserManage)
}

func (m *Main) userListCmd() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "list",
		Short: "List accounts and roles",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			users, err := n.DB.Users(c.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "USER\tNAME\tSTATUS\tROLES")
			for _, u := range users {
				var roles []string
				for _, g := range u.Grants {
					r := string(g.Role) + "@" + string(g.Scope)
					if !g.NotAfter.IsZero() {
						r += " until " + g.NotAfter.Format(time.RFC3339)
					}
					roles = append(roles, r)
				}
				status := "active"
				if u.Disabled {
					status = "disabled"
				}
				if u.MFA {
					status += ",2fa"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Name, u.DisplayName, status, strings.Join(roles, ", "))
			}
			return tw.Flush()
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionUserRead)
}

func (m *Main) userGrantCmd(revoke bool) *cobra.Command {
	var dir, role, scope, from, until string
	use, short := "grant NAME", "Grant a role in a scope"
	if revoke {
		use, short = "revoke NAME", "Revoke a role in a scope"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			g := vigil.Grant{Role: vigil.Role(role), Scope: vigil.Scope(scope)}
			for flag, pair := range map[string]struct {
				v   string
				dst *time.Time
			}{"from": {from, &g.NotBefore}, "until": {until, &g.NotAfter}} {
				if pair.v == "" {
					continue
				}
				t, err := time.Parse(time.RFC3339, pair.v)
				if err != nil {
					return vigil.FieldError("user grant", flag, "must be RFC 3339, like 2026-11-03T19:00:00-05:00")
				}
				*pair.dst = t
			}
			u, actor, err := m.users(c, dir)
			if err != nil {
				return err
			}
			if revoke {
				err = u.Revoke(c.Context(), actor, args[0], g)
			} else {
				err = u.Grant(c.Context(), actor, args[0], g)
			}
			if err != nil {
				return err
			}
			verb := "granted"
			if revoke {
				verb = "revoked"
			}
			fmt.Fprintf(c.OutOrStdout(), "%s %s in %s: %s\n", verb, role, scope, args[0])
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&role, "role", "", "role: "+rolesList())
	c.Flags().StringVar(&scope, "scope", "state", "scope: state, county/ID, county/ID/place/ID, campaign/ID, firm/ID")
	if !revoke {
		c.Flags().StringVar(&from, "from", "", "start of the role's time window (RFC 3339)")
		c.Flags().StringVar(&until, "until", "", "end of the role's time window (RFC 3339; required for poll workers)")
	}
	c.MarkFlagRequired("role")
	return withAction(c, access.ActionUserManage)
}

func rolesList() string {
	var s []string
	for _, r := range vigil.HumanRoles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func (m *Main) userDisableCmd(disable bool) *cobra.Command {
	var dir string
	use, short := "enable NAME", "Let a disabled account sign in again"
	if disable {
		use, short = "disable NAME", "Stop an account from signing in"
	}
	c := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			u, actor, err := m.users(c, dir)
			if err != nil {
				return err
			}
			if err := u.SetDisabled(c.Context(), actor, args[0], disable); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s: %s\n", strings.Fields(use)[0]+"d", args[0])
			return nil
		},
	}
	dataFlag(c, &dir)
	return withAction(c, access.ActionUserManage)
}
