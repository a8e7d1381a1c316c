package tabulate_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func mustManifest(t testing.TB, path string) []vigil.ManifestBatch {
	t.Helper()
	m, err := tabulate.ParseManifest(MustOpen(t, path)[0], tabulate.Options{})
	if err != nil {
		t.Fatalf("manifest %s: %v", path, err)
	}
	return m
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name    string
		path    []string
		batches int
		first   vigil.ManifestBatch
	}{
		{"a tabulator manifest reads tabulator, batch and count", []string{"cvr", "arlo-fixtures", "manifest-for-TEST_CVRS.csv"}, 4, vigil.ManifestBatch{Tabulator: "TABULATOR1", Batch: "BATCH1", Ballots: 3, CVRs: true}},
		{"a manifest with a byte order mark and containers reads", []string{"cvr", "arlo-fixtures", "sample-uploads", "sample_manifest_BC.csv"}, 0, vigil.ManifestBatch{Container: "Box 1", Tabulator: "1", Batch: "1", Ballots: 3, CVRs: true}},
		{"a hybrid manifest reads the CVR column", []string{"cvr", "arlo-fixtures", "sample-uploads", "sample_manifest_hybrid.csv"}, 0, vigil.ManifestBatch{Container: "Box 1", Tabulator: "1", Batch: "1", Ballots: 3, CVRs: true}},
		{"a batch-only manifest reads", []string{"cvr", "arlo-fixtures", "sample-uploads", "sample_ballot_manifest.csv"}, 0, vigil.ManifestBatch{Batch: "1", Ballots: 117, CVRs: true}},
		{"San Francisco's tray manifest reads through column aliases", []string{"cvr", "shangrla-vendor-formats", "ballotManifest-Sample.converted.csv"}, 0, vigil.ManifestBatch{Container: "1", Tabulator: "99808", Batch: "81", Ballots: 76, CVRs: true}},
		{"Hart's four thousand line manifest reads", []string{"cvr", "shangrla-vendor-formats", "Hart_manifest.converted.csv"}, 0, vigil.ManifestBatch{Container: "Mail", Tabulator: "1", Batch: "1", Ballots: 60, CVRs: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustManifest(t, dataPath(t, tt.path...))
			if tt.batches > 0 && len(m) != tt.batches {
				t.Errorf("%d batches, want %d", len(m), tt.batches)
			}
			if !reflect.DeepEqual(m[0], tt.first) {
				t.Errorf("first batch %+v, want %+v", m[0], tt.first)
			}
			for _, b := range m {
				if err := b.Validate(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	t.Run("hybrid batches without CVRs are marked", func(t *testing.T) {
		m := mustManifest(t, dataPath(t, "cvr", "arlo-fixtures", "sample-uploads", "sample_manifest_hybrid.csv"))
		if m[1].CVRs {
			t.Errorf("second batch %+v should have CVRs=false", m[1])
		}
	})
}

func TestParseManifestRejects(t *testing.T) {
	tests := []struct {
		name string
		path []string
		text string
		line int
		want []string
	}{
		{name: "a misnamed count column is named", path: []string{"cvr", "arlo-fixtures", "sample-uploads", "cypress-CSVs", "manifest", "ballot_comparison_manifest_col_error.csv"}, line: 1, want: []string{"column Number of Ballots", "missing required column"}},
		{name: "a misnamed count column in a polling manifest is named", path: []string{"cvr", "arlo-fixtures", "sample-uploads", "cypress-CSVs", "manifest", "ballot_polling_manifest_col_error.csv"}, line: 1, want: []string{"Number of Ballots"}},
		{name: "a count that is not a number names its line and column", text: "Batch Name,Number of Ballots\nB1,10\nB2,ten\n", line: 3, want: []string{"column Number of Ballots", `"ten"`}},
		{name: "a negative count is refused", text: "Batch Name,Number of Ballots\nB1,-1\n", line: 2, want: []string{"whole number"}},
		{name: "a batch listed twice names both lines", text: "Tabulator,Batch Name,Number of Ballots\nT,B1,10\nT,B1,3\n", line: 3, want: []string{"listed twice", "line 2"}},
		{name: "an empty manifest is refused", text: "Batch Name,Number of Ballots\n", line: 2, want: []string{"no batches"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f tabulate.File
			name := "in.csv"
			if tt.path != nil {
				p := dataPath(t, tt.path...)
				f = MustOpen(t, p)[0]
				name = f.Name
			} else {
				f = tabulate.File{Name: name, Reader: strings.NewReader(tt.text)}
			}
			_, err := tabulate.ParseManifest(f, tabulate.Options{})
			wantParseError(t, err, name, tt.line, tt.want...)
		})
	}
}

func TestManifestCheck(t *testing.T) {
	t.Run("the ballot Dominion's sample drops on purpose is listed as missing", func(t *testing.T) {
		m := mustManifest(t, dataPath(t, "cvr", "arlo-fixtures", "manifest-for-TEST_CVRS.csv"))
		check := tabulate.NewManifestCheck(m)
		r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
		if err := r.Read(MustOpen(t, dominionSample(t, "TEST_CVRS.csv")), check.Add); err != nil {
			t.Fatal(err)
		}
		rep := check.Report()
		want := []tabulate.BallotRef{{Tabulator: "TABULATOR2", Batch: "BATCH2", Position: 3, Reason: "no CVR"}}
		if !reflect.DeepEqual(rep.Missing, want) {
			t.Errorf("missing %+v, want %+v", rep.Missing, want)
		}
		if len(rep.Extra) != 0 {
			t.Errorf("extra %+v, want none", rep.Extra)
		}
		if want := []tabulate.BatchCount{{Tabulator: "TABULATOR2", Batch: "BATCH2", Manifest: 6, CVRs: 5}}; !reflect.DeepEqual(rep.Mismatched, want) {
			t.Errorf("mismatched %+v, want %+v", rep.Mismatched, want)
		}
		err := rep.Err()
		if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), `tabulator "TABULATOR2" batch "BATCH2" position 3`) {
			t.Errorf("error %v does not name the missing ballot", err)
		}
	})
	t.Run("CVRs the manifest has no room for are listed as extra", func(t *testing.T) {
		m := []vigil.ManifestBatch{{Tabulator: "TABULATOR1", Batch: "BATCH1", Ballots: 2, CVRs: true}, {Tabulator: "TABULATOR1", Batch: "BATCH2", Ballots: 3, CVRs: true}, {Tabulator: "TABULATOR2", Batch: "BATCH2", Ballots: 6, CVRs: true}}
		check := tabulate.NewManifestCheck(m)
		r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
		if err := r.Read(MustOpen(t, dominionSample(t, "TEST_CVRS.csv")), check.Add); err != nil {
			t.Fatal(err)
		}
		rep := check.Report()
		var got []string
		for _, x := range rep.Extra {
			got = append(got, string(x.CVR))
		}
		// CVR 3 is position 3 of a 2-ballot batch; 7, 8, 9 are in TABULATOR2/BATCH1, which this manifest lacks.
		if want := []string{"3", "7", "8", "9"}; !reflect.DeepEqual(got, want) {
			t.Errorf("extra CVRs %q, want %q (%+v)", got, want, rep.Extra)
		}
		if rep.OK() {
			t.Error("report is OK")
		}
	})
	t.Run("the small election's five counties match their manifests exactly", func(t *testing.T) {
		for _, county := range []string{"Kendall Park", "Mount Olive", "Siletz", "Waurika", "Worthington Hills"} {
			m := mustManifest(t, dataPath(t, "cvr", "arlo-fixtures", "small-election", county+" - ballot manifest.csv"))
			check := tabulate.NewManifestCheck(m)
			r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
			if err := r.Read(MustOpen(t, dataPath(t, "cvr", "arlo-fixtures", "small-election", county+" - cvrs.csv")), check.Add); err != nil {
				t.Fatal(err)
			}
			rep := check.Report()
			if err := rep.Err(); err != nil {
				t.Errorf("%s: %v", county, err)
			}
			if rep.CVRs != rep.ManifestBallots {
				t.Errorf("%s: %d CVRs, %d in manifest", county, rep.CVRs, rep.ManifestBallots)
			}
		}
	})
}

func FuzzManifest(f *testing.F) {
	f.Add("Container,Tabulator,Batch Name,Number of Ballots,CVR\nBox 1,1,1,3,Y\nBox 1,2,1,2,N\n")
	f.Add("\ufeffBatch Name,Number of Ballots\n1,117\n2,269\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := tabulate.ParseManifest(tabulate.File{Name: "fuzz.csv", Reader: strings.NewReader(s)}, tabulate.Options{MaxLineBytes: 4096})
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		check := tabulate.NewManifestCheck(m)
		check.Add(&vigil.CastVoteRecord{ID: "1", Tabulator: "1", Batch: "1", Position: 2})
		rep := check.Report()
		rep.Err()
	})
}
