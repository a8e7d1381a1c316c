package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
)

// Main is the vigil program: end-to-end tests start the same Main that
// main() does, with arguments, on port 0 in a temporary directory.
type Main struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	args           []string
	root           *cobra.Command

	mu      sync.Mutex
	closers []func() error
	// Ready, when set, is called with the HTTP address once serve or demo
	// is listening (tests use it instead of parsing output).
	Ready func(addr string)

	backups *backupSchedule // serve's --backup-* flags (backup_cmds.go)
}

// NewMain returns a Main writing to the process's standard streams.
func NewMain() *Main {
	return &Main{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin}
}

// ParseFlags records the command line; cobra parses it in Run.
func (m *Main) ParseFlags(args []string) { m.args = args }

// Run executes the command.
func (m *Main) Run(ctx context.Context) error {
	m.root = m.newRoot()
	m.root.SetArgs(m.args)
	m.root.SetOut(m.Stdout)
	m.root.SetErr(m.Stderr)
	m.root.SetIn(m.Stdin)
	return m.root.ExecuteContext(ctx)
}

// Close releases whatever the command opened.
func (m *Main) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for i := len(m.closers) - 1; i >= 0; i-- {
		errs = append(errs, m.closers[i]())
	}
	m.closers = nil
	return errors.Join(errs...)
}

func (m *Main) onClose(f func() error) {
	m.mu.Lock()
	m.closers = append(m.closers, f)
	m.mu.Unlock()
}

func (m *Main) newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "vigil",
		Short:         "Election infrastructure that defends, detects and recovers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(m.versionCmd(), m.initCmd(), m.serveCmd(), m.demoCmd(), m.userCmd(), m.logCmd(),
		m.verifyCmd(), m.benchCmd())
	root.AddCommand(m.backupCmd(), m.restoreCmd(), m.drillCmd(), m.paperCmd())
	root.AddCommand(m.mirrorCmd())
	root.AddCommand(m.siteCmd(), m.countyCmd())
	root.AddCommand(m.votersCmd())
	root.AddCommand(m.equipmentCmd(), m.devicesCmd(), m.pollbookCmd())
	root.AddCommand(m.detectCmd(), m.alertsCmd())
	root.AddCommand(m.electionCmd(), m.cvrsCmd(), m.manifestCmd(), m.tallyCmd(), m.resultsCmd(), m.reconcileCmd())
	// Commands that compute from files only (no data directory).
	audit := newAuditCmd()
	m.addAuditWorkflow(audit) // the workflow's commands carry their own actions
	for _, c := range []*cobra.Command{audit, newCampaignCmd()} {
		for _, leaf := range leafCommands(c) {
			if leaf.Annotations[actionKey] == "" {
				withAction(leaf, access.ActionFileCompute)
			}
		}
		root.AddCommand(c)
	}
	// Default deny: a command without a matrix action does not run.
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error { return authorizeCLI(c) }
	return root
}

// actionKey annotates every runnable command with its matrix action.
const actionKey = "vigil.action"

func withAction(c *cobra.Command, a access.Action) *cobra.Command {
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[actionKey] = string(a)
	return c
}

// operator is who runs the CLI on a node's data directory: whoever can read
// DIR/keyring already holds the node's keys, so the CLI acts as the node's
// operator — still through the matrix, and still logged.
func operator(origin string) vigil.Actor {
	name := "operator"
	if u, err := user.Current(); err == nil {
		name = "cli:" + u.Username
	}
	return vigil.Actor{Name: name, Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: origin}
}

// authorizeCLI checks the command's action against the operator's grant.
func authorizeCLI(c *cobra.Command) error {
	a := access.Action(c.Annotations[actionKey])
	d := access.Authorize([]vigil.Grant{{Role: vigil.RoleOperator, Scope: vigil.ScopeState}}, a, "", time.Now())
	if !d.Allowed {
		return vigil.Errorf(vigil.Permission, c.CommandPath(), "the operator may not %s: %s", a, d.Reason)
	}
	return nil
}

// leafCommands lists every runnable command, for the matrix test.
func leafCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.Runnable() {
		out = append(out, c)
	}
	for _, sub := range c.Commands() {
		out = append(out, leafCommands(sub)...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CommandPath() < out[j].CommandPath() })
	return out
}

func (m *Main) logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(m.Stderr, &slog.HandlerOptions{Level: l}))
}

func userMessage(err error) string {
	var e *vigil.Error
	if errors.As(err, &e) {
		return vigil.ErrorMessage(err)
	}
	return err.Error()
}

// exitCode maps error kinds to exit codes, documented in the README.
func exitCode(err error) int {
	switch vigil.ErrorKind(err) {
	case vigil.Invalid:
		return 2
	case vigil.NotFound:
		return 3
	case vigil.Conflict:
		return 4
	case vigil.Permission, vigil.Unauthenticated:
		return 5
	case vigil.Unavailable:
		return 6
	case vigil.Integrity:
		return 7
	}
	return 1
}
