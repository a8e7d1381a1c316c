package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/node"
)

const voterSamples = "../../../shared/data/voterfiles"

func runVigil(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out}
	m.ParseFlags(args)
	err := m.Run(t.Context())
	m.Close()
	return out.String(), err
}

func mustVigil(t *testing.T, args ...string) string {
	t.Helper()
	out, err := runVigil(t, args...)
	if err != nil {
		t.Fatalf("vigil %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestVotersCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	mustVigil(t, "init", "--data", dir, "--name", "voters-test")
	nc := filepath.Join(voterSamples, "national-voter-file-test-data", "nc.csv")

	t.Run("import applies a state file and reports what it did", func(t *testing.T) {
		out := mustVigil(t, "voters", "import", "--layout", "nc", "--data", dir, nc)
		if !strings.Contains(out, "added 100, changed 0, unchanged 0") {
			t.Fatal(out)
		}
	})
	t.Run("the same file again changes nothing", func(t *testing.T) {
		out := mustVigil(t, "voters", "import", "--layout", "nc", "--data", dir, nc)
		if !strings.Contains(out, "added 0, changed 0, unchanged 100 in 0 events") {
			t.Fatal(out)
		}
	})
	t.Run("a file with too many bad rows applies nothing and writes the rejection report", func(t *testing.T) {
		bad := filepath.Join(t.TempDir(), "bad.txt")
		os.WriteFile(bad, []byte("this is not\ta voter file\n1\t2\n"), 0o600)
		rejects := filepath.Join(t.TempDir(), "rejects.csv")
		_, err := runVigil(t, "voters", "import", "--layout", "nc", "--header", "no", "--rejects", rejects, "--data", dir, bad)
		if exitCode(err) != 2 {
			t.Fatalf("exit %d: %v", exitCode(err), err)
		}
		b, _ := os.ReadFile(rejects)
		if !strings.HasPrefix(string(b), "file,line,field,reason\n") || !strings.Contains(string(b), "bad.txt,1,") {
			t.Fatalf("%s", b)
		}
	})
	t.Run("a generic csv with a mapping file imports", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "map.txt"), []byte("delimiter = comma\nheader = yes\ndate = YYYY-MM-DD\nstatus A = active\n"+
			"column ID = id\ncolumn LAST = name.last\ncolumn FIRST = name.first\ncolumn DOB = birth_date\ncolumn ST = status\ncolumn CTY = county\n"), 0o600)
		os.WriteFile(filepath.Join(d, "roll.csv"), []byte("ID,LAST,FIRST,DOB,ST,CTY\nX1,DOE,JANE,1980-01-02,A,ADAMS\nX2,ROE,RICHARD,1970-03-04,A,ADAMS\n"), 0o600)
		out := mustVigil(t, "voters", "import", "--layout", "csv", "--mapping", filepath.Join(d, "map.txt"), "--data", dir, filepath.Join(d, "roll.csv"))
		if !strings.Contains(out, "added 2") {
			t.Fatal(out)
		}
	})
	t.Run("search finds a voter with a typo", func(t *testing.T) {
		out := mustVigil(t, "voters", "search", "--data", dir, "rikhard", "roe")
		if !strings.Contains(out, "X2") {
			t.Fatal(out)
		}
	})
	t.Run("duplicates lists candidate pairs and merge cancels one with a reason", func(t *testing.T) {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, "map.txt"), []byte("delimiter = comma\nheader = yes\ndate = YYYY-MM-DD\nstatus A = active\n"+
			"column ID = id\ncolumn LAST = name.last\ncolumn FIRST = name.first\ncolumn DOB = birth_date\ncolumn ST = status\ncolumn CTY = county\ncolumn ADDR = res.line1\ncolumn ZIP = res.zip\n"), 0o600)
		os.WriteFile(filepath.Join(d, "roll.csv"), []byte("ID,LAST,FIRST,DOB,ST,CTY,ADDR,ZIP\nD1,KOWALSKI,WILLIAM,1961-07-08,A,ADAMS,5 PINE ST,80601\n"+
			"D2,KOWALSKY,BILL,1961-07-08,A,ADAMS,5 PINE ST,80601\n"), 0o600)
		mustVigil(t, "voters", "import", "--layout", "csv", "--mapping", filepath.Join(d, "map.txt"), "--data", dir, filepath.Join(d, "roll.csv"))
		out := mustVigil(t, "voters", "duplicates", "--data", dir)
		if !strings.Contains(out, "D1\tD2") {
			t.Fatal(out)
		}
		if _, err := runVigil(t, "voters", "merge", "D1", "D2", "--data", dir); exitCode(err) != 2 {
			t.Fatalf("merge without a reason: %v", err)
		}
		mustVigil(t, "voters", "merge", "D1", "D2", "--reason", "same person: nickname and typo", "--data", dir)
		if out := mustVigil(t, "voters", "duplicates", "--data", dir); strings.Contains(out, "D1\tD2") {
			t.Fatal(out)
		}
	})
	t.Run("NIST SP 1500-102 JSON and XML exports import into another node", func(t *testing.T) {
		for _, f := range []string{"nist-json", "nist-xml"} {
			out := filepath.Join(t.TempDir(), "out")
			mustVigil(t, "voters", "export", "--format", f, "--out", out, "--data", dir)
			other := filepath.Join(t.TempDir(), "other")
			mustVigil(t, "init", "--data", other, "--name", "other")
			res := mustVigil(t, "voters", "import", "--layout", f, "--data", other, out)
			if !strings.Contains(res, "added 104, changed 0") {
				t.Fatalf("%s: %s", f, res)
			}
		}
	})
	t.Run("NIST registration requests (no voter ID yet) become pending registrations, once", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "requests")
		mustVigil(t, "init", "--data", other, "--name", "requests")
		for _, f := range []struct{ layout, file string }{{"nist-json", "ohio_registration.json"}, {"nist-xml", "ohio_registration_in_state_mailing.xml"}} {
			path := filepath.Join(voterSamples, "nist-vri-1500-102", f.file)
			if res := mustVigil(t, "voters", "import", "--layout", f.layout, "--data", other, path); !strings.Contains(res, "added 1, changed 0") {
				t.Fatalf("%s: %s", f.file, res)
			}
			if res := mustVigil(t, "voters", "import", "--layout", f.layout, "--data", other, path); !strings.Contains(res, "added 0, changed 0, unchanged 1") {
				t.Fatalf("%s again: %s", f.file, res)
			}
		}
		if out := mustVigil(t, "voters", "search", "JANE DOE", "--data", other); !strings.Contains(out, "REQ-") || !strings.Contains(out, "pending") {
			t.Fatalf("the request's registration: %s", out)
		}
	})
	t.Run("a csv export lists every voter", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "out.csv")
		mustVigil(t, "voters", "export", "--format", "csv", "--out", out, "--data", dir)
		b, _ := os.ReadFile(out)
		if n := strings.Count(string(b), "\n"); n != 105 {
			t.Fatalf("%d lines", n)
		}
	})
	t.Run("a roster lists a polling place's voters with their ballot style", func(t *testing.T) {
		n, err := node.Open(context.Background(), node.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		op := operator(n.Origin())
		var evs []vigil.Event
		for _, x := range []struct {
			typ vigil.EventType
			key string
			p   any
		}{
			{vigil.EventPlaceDefined, "P9", vigil.PollingPlace{ID: "P9", County: "ADAMS", Name: "Library"}},
			{vigil.EventPrecinctDefined, "PR9", vigil.RollPrecinct{ID: "PR9", County: "ADAMS", Place: "P9", BallotStyle: "BS-7"}},
			{vigil.EventVoterRegistered, "", []vigil.RollVoter{{ID: "R1", County: "ADAMS", Precinct: "PR9", FirstName: "ANA", LastName: "BELL", BirthDate: "1950-01-01", Status: "active"}}},
		} {
			ev, _ := vigil.NewEvent(op, x.typ, x.key, time.Now(), x.p)
			evs = append(evs, ev)
		}
		if _, err := n.Append(context.Background(), evs, vigil.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
		n.Close()
		out := mustVigil(t, "voters", "roster", "--polling-place", "P9", "--data", dir)
		if !strings.Contains(out, "R1,\"BELL, ANA\"") || !strings.Contains(out, "BS-7") {
			t.Fatal(out)
		}
		if _, err := runVigil(t, "voters", "roster", "--polling-place", "NOPE", "--data", dir); exitCode(err) != 3 {
			t.Fatal(err)
		}
	})
	t.Run("vigil verify rebuilds the roll exactly", func(t *testing.T) {
		out := mustVigil(t, "verify", "--data", dir)
		if !strings.Contains(out, "projections verified: OK") {
			t.Fatal(out)
		}
	})
}
