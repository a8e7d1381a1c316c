package tabulate_test

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func hartXMLs(t testing.TB) []string {
	dir := dataPath(t, "cvr", "arlo-vendor-formats", "hart", "cvr_xml")
	paths, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil || len(paths) != 14 {
		t.Fatalf("want the 14 Hart XML samples in %s, found %d (%v)", dir, len(paths), err)
	}
	return paths
}

func TestHart(t *testing.T) {
	scanned := func(name string) string { return dataPath(t, "cvr", "arlo-vendor-formats", "hart", name) }
	tests := []struct {
		name  string
		extra []string
		id    vigil.CVRID
		want  vigil.CastVoteRecord
	}{
		{"without scanned ballot information the CvrGuid is the imprinted id", nil, "1-2-1",
			vigil.CastVoteRecord{ID: "1-2-1", Batch: "BATCH2", Position: 1, ImprintedID: "1-2-1", Precinct: "100",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-1"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}}},
		{"scanned ballot information names the workstation and unique id", []string{"HART_SCANNED_BALLOT_INFORMATION.csv"}, "1-4-6",
			vigil.CastVoteRecord{ID: "1-4-6", Tabulator: "TABULATOR2", Batch: "BATCH4", Position: 6, ImprintedID: "unique-identifier-14", Precinct: "100",
				Contests: []vigil.ContestVote{{Contest: "Contest 1"}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Write-in", WriteIn: true}}}}}},
		{"split minimal scanned ballot files combine", []string{"HART_SCANNED_BALLOT_INFORMATION_MINIMAL_TABULATOR_1.csv", "HART_SCANNED_BALLOT_INFORMATION_MINIMAL_TABULATOR_2.csv"}, "1-1-3",
			vigil.CastVoteRecord{ID: "1-1-3", Tabulator: "TABULATOR1", Batch: "BATCH1", Position: 3, ImprintedID: "unique-identifier-03", Precinct: "100",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			paths := hartXMLs(t)
			for _, e := range tt.extra {
				paths = append(paths, scanned(e))
			}
			cvrs, e := MustParse(t, tabulate.Hart, tabulate.Options{}, paths...)
			if len(cvrs) != 14 {
				t.Fatalf("%d records, want 14", len(cvrs))
			}
			var got *vigil.CastVoteRecord
			for i := range cvrs {
				if cvrs[i].ID == tt.id {
					got = &cvrs[i]
				}
			}
			if got == nil || !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("record %s:\n got %+v\nwant %+v", tt.id, got, tt.want)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("the overvoted ballot counts for no one in vote-for-one contests", func(t *testing.T) {
		res := tallyFiles(t, tabulate.Hart, tabulate.Options{}, nil, hartXMLs(t)...)
		if c := res.Contests[0]; c.Overvotes != 1 || c.Ballots != 14 {
			t.Errorf("contest 1: %+v", c)
		}
	})
	t.Run("with a vote-for-two definition three marks are an overvote", func(t *testing.T) {
		_, ref := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionSample(t, "TEST_CVRS.csv"))
		ref.Contests[1].Choices = append(ref.Contests[1].Choices, vigil.Choice{ID: "Write-in", Name: "Write-in", WriteIn: true})
		got := votes(tallyFiles(t, tabulate.Hart, tabulate.Options{Election: ref}, nil, hartXMLs(t)...))
		// Computed independently from the XML with a regular expression
		// script; 1-4-2 overvotes both contests.
		want := map[string]int64{"Contest 1/Choice 1-1": 7, "Contest 1/Choice 1-2": 3, "Contest 2/Choice 2-1": 6, "Contest 2/Choice 2-2": 3, "Contest 2/Choice 2-3": 3, "Contest 2/Write-in": 1}
		if !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("conflicting scanned ballot information is refused", func(t *testing.T) {
		paths := append(hartXMLs(t), scanned("HART_SCANNED_BALLOT_INFORMATION_MINIMAL.csv"), scanned("HART_SCANNED_BALLOT_INFORMATION_CONFLICTING_WITH_MINIMAL.csv"))
		_, _, err := tabulate.ParseCVRs(tabulate.Hart, MustOpen(t, paths...), tabulate.Options{})
		wantParseError(t, err, "HART_SCANNED_BALLOT_INFORMATION_CONFLICTING_WITH_MINIMAL.csv", 3, "column Workstation", "conflicting", "CONFLICTING")
	})
	t.Run("a ZIP export with an undervote, a write-in and a second sheet reads", func(t *testing.T) {
		cvrs, _ := MustParse(t, tabulate.Hart, tabulate.Options{}, dataPath(t, "cvr", "shangrla-vendor-formats", "Hart_CVRs.zip"))
		if len(cvrs) != 2 || cvrs[0].ID == cvrs[1].ID {
			t.Fatalf("records %+v", cvrs)
		}
		gov := cvrs[0].Contests[1]
		if gov.Contest != "GOVERNOR" || len(gov.Marks) != 0 || gov.Undervotes != 1 {
			t.Errorf("GOVERNOR: %+v", gov)
		}
		if m := cvrs[0].Contests[2].Marks; len(m) != 1 || !m[0].WriteIn {
			t.Errorf("MAYOR write-in: %+v", m)
		}
	})
	t.Run("malformed XML names its line", func(t *testing.T) {
		_, _, err := tabulate.ParseCVRs(tabulate.Hart, stringFile("bad.xml", "<Cvr>\n<Contests>\n</Cvr>"), tabulate.Options{})
		wantParseError(t, err, "bad.xml", 3, "malformed XML")
	})
}

func FuzzHartXML(f *testing.F) {
	for _, name := range []string{"1-4-2.xml", "1-4-6.xml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", "cvr", "arlo-vendor-formats", "hart", "cvr_xml", name))
		if err != nil {
			f.Fatalf("seed %s: %v", name, err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := tabulate.NewReader(tabulate.Hart, tabulate.Options{MaxFileBytes: 1 << 16})
		tally := tabulate.NewTally(r.Election())
		if err := r.Read(stringFile("fuzz.xml", s), tally.Add); err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		tally.Results()
	})
}
