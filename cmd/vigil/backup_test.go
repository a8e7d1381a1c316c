package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/backup"
	"github.com/vigil-elections/vigil/ledger"
	vnats "github.com/vigil-elections/vigil/nats"
)

// run runs one vigil command in-process and returns its output.
func runBackupCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags(args)
	err := m.Run(t.Context())
	m.Close()
	return out.String(), err
}

func mustBackupCLI(t *testing.T, want string, args ...string) string {
	t.Helper()
	out, err := runBackupCLI(t, args...)
	if err != nil || !strings.Contains(out, want) {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// startServeWith is startServe with extra flags.
func startServeWith(t *testing.T, dir string, extra ...string) *child {
	t.Helper()
	args := append([]string{"serve", "--data", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIGIL_EXEC_MAIN=1")
	out, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), " at http://"); i >= 0 {
				ready <- strings.TrimPrefix(sc.Text()[i:], " at http://")
			}
		}
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case c.addr = <-ready:
	case err := <-c.done:
		t.Fatalf("vigil serve exited: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("vigil serve did not start\n%s", stderr.String())
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	return c
}

func writeIdentity(t *testing.T) (idFile, recipient string) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile = filepath.Join(t.TempDir(), "offline.key")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return idFile, id.Recipient().String()
}

func appendLoad(ctx context.Context, log *vnats.Log, prefix string, n int) error {
	for i := 0; i < n && ctx.Err() == nil; i++ {
		ev, _ := vigil.NewEvent(vigil.Actor{Name: "load", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: "backup-test"},
			"load.appended", fmt.Sprintf("%s-%d", prefix, i), time.Now(), map[string]string{"pad": strings.Repeat("x", 200)})
		if _, err := log.Append(ctx, []vigil.Event{ev}, vigil.AppendOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func TestBackupWhileServingThenVerifyRestoreDrill(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	backups := filepath.Join(t.TempDir(), "backups")
	idFile, rcpt := writeIdentity(t)
	c := startServeWith(t, dir, "--backup-dir", backups, "--backup-every", "1s", "--backup-keep", "2", "--backup-recipient", rcpt)
	log, closeLog := connectLog(t, dir)
	defer closeLog()
	if err := appendLoad(t.Context(), log, "before", 300); err != nil {
		t.Fatal(err)
	}
	// Keep writing while the backup runs.
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			appendLoad(ctx, log, fmt.Sprintf("during-%d", i), 20)
		}
	}()
	archive := filepath.Join(t.TempDir(), "manual.vigil.age")
	out := mustBackupCLI(t, "backup written", "backup", "--data", dir, "--out", archive, "--recipient", rcpt)
	stop()
	wg.Wait()
	t.Log(out)

	mustBackupCLI(t, "backup verified: OK", "backup", "verify", archive, "--identity", idFile)
	// A newer checkpoint from the live node (it signs every few seconds):
	// consistent, with a proof.
	appendLoad(t.Context(), log, "after", 10)
	var ck string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ck = mustBackupCLI(t, "vigil.log/", "log", "checkpoint", "--data", dir)
		if c, err := ledger.ParseCheckpoint(ck[:strings.Index(ck, "\n\n")+1]); err == nil && c.Size > entriesOf(t, out) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node signed no newer checkpoint than the backup's: %s", ck)
		}
	}
	ckFile := filepath.Join(t.TempDir(), "ckpt.txt")
	os.WriteFile(ckFile, []byte(ck), 0o600)
	out = mustBackupCLI(t, "consistency proof checked", "backup", "verify", archive, "--identity", idFile,
		"--checkpoint", ckFile, "--node", "http://"+c.addr)
	t.Log(out)

	target := filepath.Join(t.TempDir(), "restored")
	mustBackupCLI(t, "restored into", "restore", archive, "--identity", idFile, "--data", target)
	mustBackupCLI(t, "log verified: OK", "log", "verify", "--data", target)
	mustBackupCLI(t, "projections verified: OK", "verify", "--data", target)
	out, err := runBackupCLI(t, "restore", archive, "--identity", idFile, "--data", target)
	if exitCode(err) != 4 || !strings.Contains(userMessage(err), "not empty") {
		t.Fatalf("restore over a restored node: %v\n%s", err, out)
	}

	// Scheduled backups: at least three taken, two kept, the newest drills.
	deadline := time.Now().Add(30 * time.Second)
	for {
		files, _ := backup.List(backups)
		events := countEvents(t, log, vigil.EventBackupCompleted)
		if events >= 4 && len(files) == 2 { // the manual one plus three scheduled
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scheduled backups: %d files %v, %d backup.completed events", len(files), files, events)
		}
		time.Sleep(200 * time.Millisecond)
	}
	out = mustBackupCLI(t, "drill: OK", "drill", "--backup-dir", backups, "--identity", idFile)
	t.Log(out)
	c.stop(t)
}

// entriesOf reads "entries: N" from a command's output.
func entriesOf(t *testing.T, out string) int64 {
	i := strings.Index(out, "entries: ")
	if i < 0 {
		t.Fatalf("no entry count in %q", out)
	}
	var n int64
	fmt.Sscanf(out[i:], "entries: %d", &n)
	return n
}

// countEvents counts events of one type in the log.
func countEvents(t *testing.T, log *vnats.Log, typ vigil.EventType) int {
	last, err := log.LastSeq(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	log.Read(t.Context(), 1, last, func(seq uint64, data []byte) error {
		if bytes.Contains(data, []byte(`"`+string(typ)+`"`)) {
			n++
		}
		return nil
	})
	return n
}

func TestBackupCommandsFailClearly(t *testing.T) {
	idFile, rcpt := writeIdentity(t)
	wrongID, _ := writeIdentity(t)
	dir := filepath.Join(t.TempDir(), "data")
	mustBackupCLI(t, "initialized", "init", "--data", dir)
	mustBackupCLI(t, "created", "user", "add", "alice", "--display-name", "Alice", "--data", dir)
	archive := filepath.Join(t.TempDir(), "a.vigil.age")
	mustBackupCLI(t, "backup written", "backup", "--data", dir, "--out", archive, "--recipient", rcpt)
	corrupt := filepath.Join(t.TempDir(), "corrupt.vigil.age")
	b, _ := os.ReadFile(archive)
	b[len(b)/2] ^= 1
	os.WriteFile(corrupt, b, 0o600)
	truncated := filepath.Join(t.TempDir(), "truncated.vigil.age")
	os.WriteFile(truncated, b[:len(b)/2], 0o600)

	other := filepath.Join(t.TempDir(), "other")
	mustBackupCLI(t, "initialized", "init", "--data", other)
	mustBackupCLI(t, "created", "user", "add", "bob", "--display-name", "Bob", "--data", other)
	otherCk := filepath.Join(t.TempDir(), "other-ckpt.txt")
	os.WriteFile(otherCk, []byte(mustBackupCLI(t, "vigil.log/", "log", "checkpoint", "--data", other)), 0o600)

	empty := filepath.Join(t.TempDir(), "empty")
	mustBackupCLI(t, "initialized", "init", "--data", empty)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a node with an empty log", []string{"backup", "--data", empty, "--out", t.TempDir(), "--recipient", rcpt}, 3, "nothing to back up"},
		{"no recipient", []string{"backup", "--data", dir, "--out", t.TempDir()}, 2, "recipient"},
		{"a secret key given as a recipient", []string{"backup", "--data", dir, "--out", t.TempDir(), "--recipient", "AGE-SECRET-KEY-1XYZ"}, 2, "recipient"},
		{"a wrong identity", []string{"backup", "verify", archive, "--identity", wrongID}, 5, "not encrypted to this identity"},
		{"a corrupted file", []string{"backup", "verify", corrupt, "--identity", idFile}, 7, "damaged"},
		{"a truncated file", []string{"restore", truncated, "--identity", idFile, "--data", filepath.Join(t.TempDir(), "r")}, 7, "truncated"},
		{"a checkpoint of another election's log", []string{"backup", "verify", archive, "--identity", idFile, "--checkpoint", otherCk}, 7, "another"},
		{"a restore with the checkpoint of another log", []string{"restore", archive, "--identity", idFile, "--checkpoint", otherCk, "--data", filepath.Join(t.TempDir(), "r")}, 7, "another"},
		{"a missing file", []string{"backup", "verify", filepath.Join(t.TempDir(), "nope"), "--identity", idFile}, 3, "cannot open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runBackupCLI(t, tt.args...)
			if err == nil {
				t.Fatalf("succeeded:\n%s", out)
			}
			if exitCode(err) != tt.code || !strings.Contains(userMessage(err), tt.want) {
				t.Fatalf("exit %d %q, want %d mentioning %q", exitCode(err), userMessage(err), tt.code, tt.want)
			}
			for _, a := range tt.args {
				if strings.HasSuffix(a, "/r") {
					if _, err := os.Stat(a); err == nil {
						t.Fatalf("a failed restore created %s", a)
					}
				}
			}
		})
	}
}
