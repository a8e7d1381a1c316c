package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/demo"
	"github.com/vigil-elections/vigil/node"
)

func TestPaperCommandsWritePDFs(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) is not installed")
	}
	dir := filepath.Join(t.TempDir(), "data")
	if _, err := node.Init(t.Context(), node.InitOptions{Dir: dir, Name: "paper-cli"}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(t.Context(), node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	county := demo.Generate(demo.Options{Seed: 1, Voters: 300, Today: time.Now()})
	loadCounty(t, n, county)
	n.Close()
	out := t.TempDir()
	text := func(pdf string) string {
		b, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext %s: %v", pdf, err)
		}
		return string(b)
	}
	pb := filepath.Join(out, "pollbook.pdf")
	mustBackupCLI(t, "wrote", "paper", "pollbook", "--data", dir, "--polling-place", "P01", "--out", pb)
	if s := text(pb); !strings.Contains(s, "PAPER POLLBOOK") || !strings.Contains(s, "Polling place P01") || !strings.Contains(s, "checkpoint") {
		t.Fatalf("pollbook:\n%s", s[:min(len(s), 2000)])
	}
	env := filepath.Join(out, "env.pdf")
	mustBackupCLI(t, "PV-P01-00003", "paper", "envelopes", "--data", dir, "--polling-place", "P01", "--count", "3", "--out", env)
	if s := text(env); strings.Count(s, "PROVISIONAL BALLOT ENVELOPE") != 3 {
		t.Fatalf("envelopes:\n%s", s)
	}
	voted := filepath.Join(out, "voted.pdf")
	mustBackupCLI(t, "0 voters checked in", "paper", "voted", "--data", dir, "--polling-place", "P01", "--out", voted)
	idFile, _ := writeIdentity(t)
	ks := filepath.Join(out, "keys.pdf")
	o := mustBackupCLI(t, "1 key sheets", "paper", "keysheet", "--identity", idFile, "--label", "State key 1", "--out", ks)
	check := mustBackupCLI(t, "fingerprint", "paper", "keysheet", "--identity", idFile, "--check")
	fp := strings.TrimSpace(check[strings.Index(check, "fingerprint:")+len("fingerprint:"):])
	if s := text(ks); !strings.Contains(s, "State key 1") || !strings.Contains(s, fp) || !strings.Contains(o, fp) {
		t.Fatalf("key sheet lacks fingerprint %q:\n%s", fp, s)
	}
	_, err = runBackupCLI(t, "paper", "pollbook", "--data", dir, "--polling-place", "NOPE", "--out", filepath.Join(out, "x.pdf"))
	if exitCode(err) != 3 {
		t.Fatalf("unknown polling place: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "x.pdf")); err == nil {
		t.Fatal("a failed print left a file")
	}
}

// loadCounty appends a demo county's events, without its accounts (their
// password hashing is slow on a busy machine).
func loadCounty(t *testing.T, n *node.Node, c demo.County) {
	t.Helper()
	actor := vigil.Actor{Name: "test", Role: vigil.RoleOperator, Scope: vigil.ScopeState, Origin: n.Origin()}
	if err := demo.LoadRoll(t.Context(), n, actor, c, n.Now(), nil); err != nil {
		t.Fatal(err)
	}
}
