package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/access"
	"github.com/vigil-elections/vigil/backup"
	"github.com/vigil-elections/vigil/node"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/term"
)

func (m *Main) backupCmd() *cobra.Command {
	var dir, out string
	var recipients []string
	var remote sftpFlags
	c := &cobra.Command{
		Use:   "backup",
		Short: "Write an encrypted backup of the node: log, checkpoints, projections, keys",
		Long: `Write one archive, encrypted with age to every --recipient (age1… or
post-quantum age1pq1… public keys, or files listing them), holding the event
log up to a signed checkpoint, the checkpoint stream, the projection
database, the node's checkpoint and secrets keys, and a manifest of SHA-256
sums signed by the node key. Works while ` + "`vigil serve`" + ` runs.
--out names a file, or a directory to create vigil-NODE-TIME.vigil.age in.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			rs, err := parseRecipients(recipients)
			if err != nil {
				return err
			}
			target, err := remote.target()
			if err != nil {
				return err
			}
			if out == "" {
				return vigil.FieldError("backup", "out", "name the archive file or a directory for it (--out)")
			}
			n, err := m.openNode(c.Context(), node.Options{Dir: dir})
			if err != nil {
				return err
			}
			bar := m.progress("backup")
			start := time.Now()
			path, res, err := backup.WriteFile(c.Context(), n, out, backup.Options{Recipients: rs, Progress: bar.bytes})
			bar.finish()
			if err != nil {
				return err
			}
			recordBackup(c.Context(), n, path, res)
			if target != nil {
				if err := target.Upload(c.Context(), path); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "copied to %s\n", target.URL)
			}
			secs := time.Since(start).Seconds()
			fmt.Fprintf(c.OutOrStdout(), "backup written: %s\nentries: %d (%d events), checkpoint of %d entries\nparts: %d, %d bytes before encryption, %.1f s (%.1f MB/s)\n",
				path, res.Meta.Entries, res.Events, res.Meta.Entries, res.Parts, res.Bytes, secs, float64(res.Bytes)/1e6/secs)
			return nil
		},
	}
	dataFlag(c, &dir)
	c.Flags().StringVar(&out, "out", "", "archive file, or directory to write a new archive in")
	c.Flags().StringArrayVar(&recipients, "recipient", nil, "age public key (age1…, age1pq1…) or a file of them; repeat for several")
	remote.add(c, "")
	c.AddCommand(m.backupVerifyCmd())
	return withAction(c, access.ActionBackupRun)
}

// recordBackup logs the backup as an event; the archive is complete
// whether or not this succeeds.
func recordBackup(ctx context.Context, n *node.Node, path string, res backup.Result) {
	ev, err := vigil.NewEvent(operator(n.Origin()), vigil.EventBackupCompleted, filepath.Base(path), n.Now(), map[string]any{
		"file": filepath.Base(path), "entries": res.Meta.Entries, "events": res.Events, "bytes": res.Bytes, "node": res.Meta.NodeName})
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		n.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{})
	}
}

type verifyFlags struct {
	identities []string
	checkpoint string
	verifier   string
	nodeURL    string
}

func (f *verifyFlags) add(c *cobra.Command) {
	c.Flags().StringArrayVar(&f.identities, "identity", nil, "age identity file (AGE-SECRET-KEY-…) of a recipient; repeat for several")
	c.Flags().StringVar(&f.checkpoint, "checkpoint", "", "a signed checkpoint kept elsewhere: the backup must be consistent with it")
	c.Flags().StringVar(&f.verifier, "verifier", "", "the node's checkpoint verifier key, or a file holding it (default: the key in the archive)")
	c.Flags().StringVar(&f.nodeURL, "node", "", "the node's URL, to fetch a consistency proof when --checkpoint is newer than the backup")
}

func (f *verifyFlags) options() (backup.VerifyOptions, error) {
	var o backup.VerifyOptions
	var err error
	if o.Identities, err = parseIdentities(f.identities); err != nil {
		return o, err
	}
	if f.checkpoint != "" {
		if o.Checkpoint, err = os.ReadFile(f.checkpoint); err != nil {
			return o, vigil.FieldError("backup verify", "checkpoint", "cannot read %s: %v", f.checkpoint, err)
		}
	}
	if f.verifier != "" {
		o.VerifierKey = f.verifier
		if b, err := os.ReadFile(f.verifier); err == nil {
			o.VerifierKey = strings.TrimSpace(string(b))
		}
	}
	if f.nodeURL != "" {
		o.FetchProof = func(oldSize, newSize int64) (tlog.TreeProof, error) { return fetchProof(f.nodeURL, oldSize, newSize) }
	}
	return o, nil
}

func (m *Main) backupVerifyCmd() *cobra.Command {
	var vf verifyFlags
	c := &cobra.Command{
		Use:   "verify FILE",
		Short: "Decrypt a backup and check every part, the signature and the Merkle tree",
		Long: `Decrypt FILE and check: the manifest's signature by the node key, the SHA-256
of every part, the order of the parts, the log entries against the signed
checkpoint (the Merkle tree is recomputed), and, with --checkpoint, that the
backup is consistent with a checkpoint kept elsewhere. Exits 7 naming the
damaged part if any byte differs.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := vf.options()
			if err != nil {
				return err
			}
			f, err := openArchive(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			bar := m.progress("verify")
			o.Progress = bar.done
			rep, err := backup.Verify(c.Context(), f, o)
			bar.finish()
			if err != nil {
				return err
			}
			printReport(c.OutOrStdout(), rep)
			fmt.Fprintln(c.OutOrStdout(), "backup verified: OK")
			return nil
		},
	}
	vf.add(c)
	return withAction(c, access.ActionBackupVerify)
}

func printReport(w io.Writer, rep backup.Report) {
	fmt.Fprintf(w, "node: %s\nlog: %s\ncreated: %s\nentries: %d (%d events), checkpoints: %d\nroot: %x\nparts: %d, %d bytes\n",
		rep.Meta.NodeName, rep.Meta.Origin, rep.Meta.Created.Format(time.RFC3339), rep.Meta.Entries, rep.Events,
		rep.Checkpoints, rep.Root[:], rep.Parts, rep.Bytes)
	if rep.VerifierFromArchive {
		fmt.Fprintf(w, "signed by: %s (the key in the archive; pass --verifier or --checkpoint to pin it)\n", rep.Meta.VerifierKey)
	} else {
		fmt.Fprintf(w, "signed by: %s\n", rep.Meta.VerifierKey)
	}
	if rep.External != "" {
		fmt.Fprintln(w, "checkpoint:", rep.External)
	}
}

func (m *Main) restoreCmd() *cobra.Command {
	var dir string
	var vf verifyFlags
	c := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into a new data directory",
		Long: `Verify FILE while rebuilding a data directory from it, and move the result to
--data only if everything verified. The target must not exist or be empty.
The restored node has a new store key; it keeps the backed-up node's
checkpoint and secrets keys, so it signs as the old node did.`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			o, err := vf.options()
			if err != nil {
				return err
			}
			f, err := openArchive(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			bar := m.progress("restore")
			o.Progress = bar.done
			start := time.Now()
			rep, err := backup.Restore(c.Context(), f, backup.RestoreOptions{VerifyOptions: o, Dir: dir})
			bar.finish()
			if err != nil {
				return err
			}
			secs := time.Since(start).Seconds()
			printReport(c.OutOrStdout(), rep)
			fmt.Fprintf(c.OutOrStdout(), "restored into %s in %.1f s (%.1f MB/s)\nnext: vigil log verify --data %s && vigil verify --data %s\n",
				dir, secs, float64(rep.Bytes)/1e6/secs, dir, dir)
			return nil
		},
	}
	c.Flags().StringVar(&dir, "data", "", "the new data directory (must not exist or be empty)")
	c.MarkFlagRequired("data")
	vf.add(c)
	return withAction(c, access.ActionBackupRestore)
}

func (m *Main) drillCmd() *cobra.Command {
	var backupDir, scratch string
	var vf verifyFlags
	c := &cobra.Command{
		Use:   "drill",
		Short: "Restore the latest backup into a scratch directory, verify it and report the recovery time",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			o, err := vf.options()
			if err != nil {
				return err
			}
			file, err := backup.Latest(backupDir)
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp(scratch, "vigil-drill-")
			if err != nil {
				return vigil.Wrap("drill", vigil.Unavailable, err)
			}
			defer os.RemoveAll(tmp)
			target := filepath.Join(tmp, "data")
			f, err := openArchive(file)
			if err != nil {
				return err
			}
			defer f.Close()
			out := c.OutOrStdout()
			fmt.Fprintf(out, "drill: restoring %s\n", file)
			t0 := time.Now()
			rep, err := backup.Restore(ctx, f, backup.RestoreOptions{VerifyOptions: o, Dir: target})
			if err != nil {
				return err
			}
			restored := time.Since(t0)
			n, err := node.Open(ctx, node.Options{Dir: target, Inspect: true})
			if err != nil {
				return err
			}
			defer n.Close()
			ck, _ := os.ReadFile(filepath.Join(target, "ledger", "checkpoint"))
			lr, err := n.VerifyLog(ctx, ck)
			if err != nil {
				return err
			}
			diffs, cursor, err := n.VerifyProjections(ctx, tmp)
			if err != nil {
				return err
			}
			total := time.Since(t0)
			printReport(out, rep)
			fmt.Fprintf(out, "restore: %.2f s\nlog verify: %d entries, %d checkpoints verified, ok=%v\nprojections rebuilt from entries 1..%d: %d differences\n",
				restored.Seconds(), lr.Entries, lr.Checkpoints, lr.OK(), cursor, len(diffs))
			for _, p := range lr.Problems {
				fmt.Fprintln(out, "PROBLEM:", p)
			}
			for _, d := range diffs {
				fmt.Fprintln(out, "DIFFERENCE:", d)
			}
			if !lr.OK() || len(diffs) > 0 || lr.Entries != rep.Meta.Entries {
				return vigil.Errorf(vigil.Integrity, "drill", "the restored node FAILED verification")
			}
			fmt.Fprintf(out, "recovery time: %.2f s (restore and full verification of a backup %s old)\ndrill: OK\n",
				total.Seconds(), time.Since(rep.Meta.Created).Round(time.Second))
			return nil
		},
	}
	c.Flags().StringVar(&backupDir, "backup-dir", "", "directory of scheduled backups (the newest is restored)")
	c.Flags().StringVar(&scratch, "scratch", "", "where to create the scratch directory (default: the system's temporary directory)")
	c.MarkFlagRequired("backup-dir")
	vf.add(c)
	return withAction(c, access.ActionBackupVerify)
}

func openArchive(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, vigil.Errorf(vigil.NotFound, "backup", "cannot open backup %s: %v", path, err)
	}
	return f, nil
}

// parseRecipients reads age public keys given inline or as files.
func parseRecipients(args []string) ([]age.Recipient, error) {
	const op = "backup"
	var out []age.Recipient
	for _, a := range args {
		src := io.Reader(strings.NewReader(a))
		what := "recipient " + a
		if !strings.HasPrefix(a, "age1") {
			f, err := os.Open(a)
			if err != nil {
				return nil, vigil.FieldError(op, "recipient", "%q is neither an age public key (age1…) nor a readable file", a)
			}
			defer f.Close()
			src, what = f, "recipients file "+a
		}
		rs, err := age.ParseRecipients(src)
		if err != nil {
			return nil, vigil.FieldError(op, "recipient", "%s: %v", what, err)
		}
		out = append(out, rs...)
	}
	if len(out) == 0 {
		return nil, vigil.FieldError(op, "recipient", "give at least one --recipient: the offline public keys that may decrypt the backup")
	}
	return out, nil
}

// parseIdentities reads age identity files. Secret keys are never taken
// on the command line, where other users could read them.
func parseIdentities(files []string) ([]age.Identity, error) {
	const op = "backup"
	if len(files) == 0 {
		return nil, vigil.FieldError(op, "identity", "give --identity FILE: the age secret key of one of the backup's recipients")
	}
	var out []age.Identity
	for _, p := range files {
		if strings.HasPrefix(p, "AGE-SECRET-KEY-") {
			return nil, vigil.FieldError(op, "identity", "pass a file holding the secret key, not the key itself")
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, vigil.FieldError(op, "identity", "cannot read identity file %s: %v", p, err)
		}
		ids, err := age.ParseIdentities(f)
		f.Close()
		if err != nil {
			return nil, vigil.FieldError(op, "identity", "%s: %v", p, err)
		}
		out = append(out, ids...)
	}
	return out, nil
}

// fetchProof asks a node for a consistency proof (the public API).
func fetchProof(base string, oldSize, newSize int64) (tlog.TreeProof, error) {
	url := fmt.Sprintf("%s/api/v1/log/proof/consistency?old=%d&new=%d", strings.TrimRight(base, "/"), oldSize, newSize)
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	var body struct {
		Proof []string `json:"proof"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&body); err != nil {
		return nil, err
	}
	proof := make(tlog.TreeProof, len(body.Proof))
	for i, s := range body.Proof {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			return nil, fmt.Errorf("malformed proof hash %d", i)
		}
		copy(proof[i][:], b)
	}
	return proof, nil
}

// progress shows a bar on a terminal and nothing otherwise.
type progress struct {
	bar *progressbar.ProgressBar
	mu  sync.Mutex
}

func (m *Main) progress(what string) *progress {
	f, ok := m.Stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{}
	}
	return &progress{bar: progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f), progressbar.OptionSetDescription(what),
		progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())}
}

func (p *progress) bytes(done, total int64) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar.GetMax64() != total {
		p.bar.ChangeMax64(total)
	}
	p.bar.Set64(done)
}

func (p *progress) done(n int64) {
	if p.bar != nil {
		p.bar.Set64(n)
	}
}

func (p *progress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}

// backupSchedule is `vigil serve`'s --backup-* flags.
type backupSchedule struct {
	dir, every string
	keep       int
	recipients []string
	remote     sftpFlags
	sched      backup.Schedule
}

// sftpFlags name an off-site SFTP target.
type sftpFlags struct{ url, key, knownHosts string }

func (f *sftpFlags) add(c *cobra.Command, prefix string) {
	c.Flags().StringVar(&f.url, prefix+"sftp", "", "also copy the backup to sftp://user@host[:port]/directory")
	c.Flags().StringVar(&f.key, prefix+"sftp-key", "", "private key (OpenSSH format) for the SFTP server")
	c.Flags().StringVar(&f.knownHosts, prefix+"sftp-known-hosts", "", "known_hosts file holding the SFTP server's host key")
}

func (f *sftpFlags) target() (*backup.SFTPTarget, error) {
	if f.url == "" {
		return nil, nil
	}
	t := &backup.SFTPTarget{URL: f.url, KeyFile: f.key, KnownHosts: f.knownHosts}
	return t, t.Check()
}

// addBackupFlags adds the scheduled-backup flags to serve and checks them
// before the node starts.
func addBackupFlags(c *cobra.Command) *backupSchedule {
	s := &backupSchedule{}
	c.Flags().StringVar(&s.dir, "backup-dir", "", "take scheduled backups into this directory")
	c.Flags().StringVar(&s.every, "backup-every", "1h", "interval between scheduled backups")
	c.Flags().IntVar(&s.keep, "backup-keep", 24, "how many scheduled backups to keep (0: all)")
	c.Flags().StringArrayVar(&s.recipients, "backup-recipient", nil, "age public key or file of keys for scheduled backups; repeat for several")
	s.remote.add(c, "backup-")
	c.PreRunE = func(c *cobra.Command, args []string) error {
		if s.dir == "" {
			if len(s.recipients) > 0 {
				return vigil.FieldError("serve", "backup-dir", "--backup-recipient needs --backup-dir")
			}
			return nil
		}
		every, err := time.ParseDuration(s.every)
		if err != nil || every < time.Second {
			return vigil.FieldError("serve", "backup-every", "%q is not an interval of at least 1s (e.g. 30m, 6h)", s.every)
		}
		rs, err := parseRecipients(s.recipients)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return vigil.FieldError("serve", "backup-dir", "cannot create %s: %v", s.dir, err)
		}
		remote, err := s.remote.target()
		if err != nil {
			return err
		}
		s.sched = backup.Schedule{Dir: s.dir, Every: every, Keep: s.keep, Recipients: rs, Remote: remote}
		return nil
	}
	return s
}

// startScheduledBackups runs serve's scheduled backups until the node closes.
func (m *Main) startScheduledBackups(ctx context.Context, n *node.Node, log *slog.Logger) {
	if m.backups == nil || m.backups.sched.Dir == "" {
		return
	}
	s := m.backups.sched
	s.Logger = log
	s.Done = func(path string, res backup.Result, err error) {
		if err == nil {
			recordBackup(ctx, n, path, res)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx, n) }()
	m.onClose(func() error { cancel(); <-done; return nil })
	log.Info("scheduled backups", "dir", s.Dir, "every", s.Every.String(), "keep", s.Keep)
}
