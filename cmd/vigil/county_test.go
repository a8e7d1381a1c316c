package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil/node"
)

func TestCountyPolicyFromTheCLI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	pollbookCounty(t, dir, 50)
	for _, bad := range []struct{ args, want string }{
		{"--county ADAMS --same-day-registration maybe --reason law", "on or off"},
		{"--county ADAMS --same-day-registration on", "reason"},
		{"--county NOWHERE --same-day-registration on --reason law", "no county"},
	} {
		out, err := run(t, append([]string{"county", "policy", "--data", dir}, strings.Fields(bad.args)...)...)
		if err == nil || !strings.Contains(err.Error()+out, bad.want) {
			t.Fatalf("%s: %v %s", bad.args, err, out)
		}
	}
	out, err := run(t, "county", "policy", "--data", dir, "--county", "ADAMS", "--same-day-registration", "on", "--reason", "state law")
	if err != nil || !strings.Contains(out, "same-day registration on") {
		t.Fatal(err, out)
	}
	n, err := node.Open(context.Background(), node.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if on, err := n.DB.SameDayRegistration(t.Context(), "ADAMS"); err != nil || !on {
		t.Fatalf("after `county policy … on`: %v %v", on, err)
	}
}
