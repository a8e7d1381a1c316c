package main

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
	_ "modernc.org/sqlite"
)

// run executes one vigil command in-process and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Stdin: strings.NewReader("")}
	m.ParseFlags(args)
	err := m.Run(t.Context())
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return out.String(), err
}

func TestVerifyCommandsFromTheCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if out, err := run(t, "init", "--data", dir, "--name", "cli-test"); err != nil {
		t.Fatal(err, out)
	}
	for _, u := range []string{"alice", "bob"} {
		if out, err := run(t, "user", "add", u, "--data", dir); err != nil {
			t.Fatal(err, out)
		}
	}
	if out, err := run(t, "user", "grant", "alice", "--role", "state_admin", "--scope", "state", "--data", dir); err != nil {
		t.Fatal(err, out)
	}
	ckpt, err := run(t, "log", "checkpoint", "--data", dir)
	if err != nil || !strings.Contains(ckpt, "vigil.log/") {
		t.Fatal(err, ckpt)
	}
	ckptFile := filepath.Join(t.TempDir(), "ckpt.txt")
	os.WriteFile(ckptFile, []byte(ckpt), 0o600)

	t.Run("log verify passes against a kept checkpoint", func(t *testing.T) {
		out, err := run(t, "log", "verify", "--data", dir, "--checkpoint", ckptFile)
		if err != nil || !strings.Contains(out, "log verified: OK") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("log verify fails on a forged checkpoint", func(t *testing.T) {
		lines := strings.SplitN(ckpt, "\n", 3)
		forged := filepath.Join(t.TempDir(), "forged.txt")
		os.WriteFile(forged, []byte(lines[0]+"\n"+lines[1]+"\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"+lines[2][strings.Index(lines[2], "\n")+1:]), 0o600)
		out, err := run(t, "log", "verify", "--data", dir, "--checkpoint", forged)
		if vigil.ErrorKind(err) != vigil.Integrity || exitCode(err) != 7 {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("verify names a projection row edited with SQL and exits 7", func(t *testing.T) {
		db, err := sql.Open("sqlite", node.DBPath(dir))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE users SET disabled = 1 WHERE name = 'bob'`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		out, err := run(t, "verify", "--data", dir)
		if exitCode(err) != 7 || !strings.Contains(out, "DIFFERENCE: table users, row name=bob, column disabled") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("verification is itself recorded as a privileged action", func(t *testing.T) {
		db, _ := sql.Open("sqlite", node.DBPath(dir))
		defer db.Close()
		n, _ := node.Open(t.Context(), node.Options{Dir: dir})
		n.Close()
		var count int
		db.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'access.privileged' AND role = 'operator'`).Scan(&count)
		if count < 2 {
			t.Fatalf("%d privileged events", count)
		}
	})
}
