package auditflow_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

// closedComparison is a comparison audit with one closed round holding
// every kind of reading and a ballot without a CVR.
func closedComparison(t *testing.T) *auditflow.Record {
	t.Helper()
	r := record(vigil.AuditComparison)
	draws, err := auditflow.Draw(seed, manifest, boards, false, 0, 12)
	if err != nil {
		t.Fatal(err)
	}
	cvrs := map[string]map[vigil.ContestID][]vigil.ChoiceID{}
	for _, d := range draws[1:] {
		cvrs[d.Key()] = map[vigil.ContestID][]vigil.ChoiceID{"Mayor": {"A"}}
	}
	r.Rounds = []auditflow.Round{{Round: 1, Size: 12, Draws: draws, CVRs: cvrs}}
	readAll(r, func(i int) vigil.AuditInterpretation {
		switch i {
		case 2:
			return vigil.AuditInterpretation{NotFound: true}
		case 3:
			return vigil.AuditInterpretation{Contests: []vigil.AuditContestReading{{Contest: "Mayor", Result: vigil.AuditOvervote}}}
		case 4:
			return vote("B")
		}
		return vote("A")
	})
	c, err := auditflow.Measure(r, 1)
	if err != nil {
		t.Fatal(err)
	}
	r.Rounds[0].Close = &c
	return r
}

func TestBundleVerifies(t *testing.T) {
	r := closedComparison(t)
	files, err := auditflow.BundleFiles(r)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auditflow.Verify(files)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK() || v.Rounds != 1 || v.Draws != 12 {
		t.Fatalf("%+v", v)
	}
	var zip bytes.Buffer
	if err := auditflow.WriteBundle(&zip, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(zip.Bytes(), []byte("PK")) {
		t.Fatal("not a zip")
	}
	if !strings.Contains(string(files["README.txt"]), "interpretations.csv") || strings.Contains(string(files["interpretations.csv"]), "voter") {
		t.Fatal("the README does not document the files")
	}

	tamper := []struct {
		name, file, old, new, part string
	}{
		{"a CVR changed to hide a discrepancy", "interpretations.csv", ",Mayor,B,A", ",Mayor,B,B", "audit.json"},
		{"a reading for a ballot never drawn", "interpretations.csv", "\n1,J", "\n1,J9", "interpretations.csv"},
		{"fewer overstatements", "audit.json", `"o2": 3`, `"o2": 1`, "audit.json"},
		{"a confirmed contest", "audit.json", `"confirmed": false`, `"confirmed": true`, "audit.json"},
		{"a batch with more ballots", "manifest.csv", ",40,Y\n", ",41,Y\n", "sample.csv"},
		{"a board swapped", "sample.csv", ",A\n", ",B\n", "sample.csv"},
	}
	for _, tt := range tamper {
		t.Run(tt.name+" is named in "+tt.part, func(t *testing.T) {
			f := map[string][]byte{}
			for k, b := range files {
				f[k] = b
			}
			edited := strings.Replace(string(f[tt.file]), tt.old, tt.new, 1)
			if edited == string(f[tt.file]) {
				t.Fatalf("%q is not in %s:\n%s", tt.old, tt.file, f[tt.file])
			}
			f[tt.file] = []byte(edited)
			v, err := auditflow.Verify(f)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, m := range v.Mismatches {
				found = found || m.Part == tt.part
			}
			if v.OK() || !found {
				t.Fatalf("%+v", v.Mismatches)
			}
		})
	}
	t.Run("an unreadable part is an error naming it", func(t *testing.T) {
		f := map[string][]byte{}
		for k, b := range files {
			f[k] = b
		}
		f["sample.csv"] = []byte("ticket\n1\n")
		if _, err := auditflow.Verify(f); vigil.ErrorField(err) != "sample.csv" {
			t.Fatal(err)
		}
	})
}
