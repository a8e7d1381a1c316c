package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil/access"
)

func TestEveryCommandIsInTheMatrix(t *testing.T) {
	m := NewMain()
	root := m.newRoot()
	leaves := leafCommands(root)
	if len(leaves) < 12 {
		t.Fatalf("only %d commands", len(leaves))
	}
	for _, c := range leaves {
		a := access.Action(c.Annotations[actionKey])
		if _, ok := access.Matrix[a]; !ok {
			t.Errorf("command %q names action %q, which is not in the permission matrix", c.CommandPath(), a)
		}
	}
}

func TestCommandsFailWithClearMessages(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"log verify on a directory that is not a node", []string{"log", "verify", "--data", dir}, 3, "vigil init"},
		{"a grant with an unknown role", []string{"user", "grant", "x", "--role", "king", "--data", dir}, 3, "vigil init"},
		{"an unknown command", []string{"frobnicate"}, 1, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			m := &Main{Stdout: &out, Stderr: &out}
			m.ParseFlags(tt.args)
			err := m.Run(t.Context())
			m.Close()
			if err == nil {
				t.Fatal("succeeded")
			}
			if got := exitCode(err); got != tt.code {
				t.Errorf("exit code %d, want %d (%v)", got, tt.code, err)
			}
			if !strings.Contains(userMessage(err), tt.want) {
				t.Errorf("message %q does not mention %q", userMessage(err), tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags([]string{"version"})
	if err := m.Run(t.Context()); err != nil || !strings.HasPrefix(out.String(), "vigil ") {
		t.Fatalf("%v %q", err, out.String())
	}
}
