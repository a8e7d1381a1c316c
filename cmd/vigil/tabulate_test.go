package main

import (
	"encoding/xml"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

const cvrSamples = "../../../shared/data/cvr"

func TestTabulationCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "tabulation-test")
	dominion := func(name string) string { return filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", name) }

	t.Run("a tally before any import says what to import", func(t *testing.T) {
		_, err := runVigil(t, "tally", "--data", dir)
		if err == nil || !strings.Contains(err.Error(), "import") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("dominion CVRs import and define the election", func(t *testing.T) {
		out := mustVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS.csv"))
		if !strings.Contains(out, "imported 14 CVRs in 1 entries") {
			t.Fatal(out)
		}
	})
	t.Run("tally as csv prints contest,choice,votes rows", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "csv", "--data", dir)
		want := "contest,choice,votes\nContest 1,Choice 1-1,7\nContest 1,Choice 1-2,3\nContest 2,Choice 2-1,12\nContest 2,Choice 2-2,5\nContest 2,Choice 2-3,7\n"
		if out != want {
			t.Fatalf("got\n%s\nwant\n%s", out, want)
		}
	})
	t.Run("tally of one contest names the checkpoint it was computed at", func(t *testing.T) {
		out := mustVigil(t, "tally", "--contest", "Contest 2", "--data", dir)
		if strings.Contains(out, "Choice 1-1") || !strings.Contains(out, "Choice 2-3") || !strings.Contains(out, "checkpoint: vigil.log/") {
			t.Fatal(out)
		}
	})
	t.Run("tally as nist is an SP 1500-100 report carrying the checkpoint", func(t *testing.T) {
		out := mustVigil(t, "tally", "--format", "nist", "--data", dir)
		d := xml.NewDecoder(strings.NewReader(out))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("not XML: %v", err)
			}
		}
		if !strings.Contains(out, "ElectionReport") || !strings.Contains(out, "vigil.log/") {
			t.Fatal(out[:min(len(out), 600)])
		}
	})
	t.Run("a duplicate ballot id stores nothing", func(t *testing.T) {
		_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS.csv"))
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "TEST_CVRS.csv, record 1, ballot id") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
	})
	t.Run("an unknown choice is named by file, line and column and stores nothing", func(t *testing.T) {
		_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir, dominion("TEST_CVRS_WITH_EXTRA_CHOICE.csv"))
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "TEST_CVRS_WITH_EXTRA_CHOICE.csv, line 3, column Contest 1") {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		out := mustVigil(t, "tally", "--format", "json", "--data", dir)
		if !strings.Contains(out, `"Ballots": 14`) {
			t.Fatal(out)
		}
	})
	t.Run("the manifest import lists the ballot the CVRs lack", func(t *testing.T) {
		out := mustVigil(t, "manifest", "import", "--data", dir, filepath.Join(cvrSamples, "arlo-fixtures", "manifest-for-TEST_CVRS.csv"))
		if !strings.Contains(out, "manifest: 4 batches, 15 ballots") || !strings.Contains(out, `missing: tabulator "TABULATOR2" batch "BATCH2" position 3`) {
			t.Fatal(out)
		}
	})
	t.Run("reconcile lists precincts whose ballots have no check-ins", func(t *testing.T) {
		out := mustVigil(t, "reconcile", "--threshold", "0", "--data", dir)
		if !strings.Contains(out, "DISCREPANCY") || !strings.Contains(out, "recorded 1 new") {
			t.Fatal(out)
		}
		out = mustVigil(t, "reconcile", "--threshold", "0", "--data", dir)
		if !strings.Contains(out, "already recorded") {
			t.Fatalf("recorded the same discrepancies twice:\n%s", out)
		}
	})
	t.Run("publish, then verify rebuilds every tabulation table", func(t *testing.T) {
		out := mustVigil(t, "results", "publish", "--data", dir)
		if !strings.Contains(out, "published 14 ballots at checkpoint vigil.log/") {
			t.Fatal(out)
		}
		if out := mustVigil(t, "verify", "--data", dir); !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}

func TestElectionImportCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "election-test")
	out := mustVigil(t, "election", "import", "--data", dir,
		filepath.Join(cvrSamples, "..", "nist", "err-v2-samples", "hiltonroscoe_validation_target.xml"))
	if !strings.Contains(out, "contests") {
		t.Fatal(out)
	}
	_, err := runVigil(t, "cvrs", "import", "--format", "dominion", "--data", dir,
		filepath.Join(cvrSamples, "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"))
	if exitCode(err) != 2 {
		t.Fatalf("CVRs of another election were accepted: %v", err)
	}
}
