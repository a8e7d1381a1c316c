package tabulate_test

import (
	"maps"
	"reflect"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func essSample(t testing.TB, name string) string {
	return dataPath(t, "cvr", "arlo-vendor-formats", "ess", name)
}

func TestESS(t *testing.T) {
	tests := []struct {
		name  string
		files []string
		count int
		check int
		want  vigil.CastVoteRecord
	}{
		{
			name: "split ballots files give each CVR its tabulator, batch and position", files: []string{"ESS_CVR.csv", "ESS_BALLOTS_1.csv", "ESS_BALLOTS_2.csv"}, count: 14, check: 2,
			want: vigil.CastVoteRecord{ID: "3", Tabulator: "0001", Batch: "BATCH1", Position: 3, ImprintedID: "0001013417", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1"}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "the file order does not matter and an overvote is kept", files: []string{"ESS_BALLOTS_2.csv", "ESS_CVR.csv", "ESS_BALLOTS_1.csv"}, count: 14, check: 3,
			want: vigil.CastVoteRecord{ID: "4", Tabulator: "0002", Batch: "BATCH1", Position: 1, ImprintedID: "0002003171", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Overvoted: true}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "a ballots file without title rows reads", files: []string{"ESS_CVR.csv", "ESS_BALLOTS_WITH_NO_METADATA_ROWS.csv"}, count: 14, check: 0,
			want: vigil.CastVoteRecord{ID: "1", Tabulator: "0001", Batch: "BATCH1", Position: 1, ImprintedID: "0001013415", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "a Machine column names the tabulator when Tabulator CVR is a hex id", files: []string{"ESS_CVR.csv", "ESS_BALLOTS_WITH_MACHINE_COLUMN.csv"}, count: 14, check: 6,
			want: vigil.CastVoteRecord{ID: "7", Tabulator: "0001", Batch: "BATCH2", Position: 1, ImprintedID: "19882855d197f6c2", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "a Machine column works without title rows", files: []string{"ESS_CVR.csv", "ESS_BALLOTS_WITH_MACHINE_COLUMN_AND_NO_METADATA_ROWS.csv"}, count: 14, check: 6,
			want: vigil.CastVoteRecord{ID: "7", Tabulator: "0001", Batch: "BATCH2", Position: 1, ImprintedID: "19882855d197f6c2", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "a CVR file with its own Batch column needs no ballots file", files: []string{"ESS_CVR_WITH_BATCH_CVR_COLUMN.csv"}, count: 14, check: 4,
			want: vigil.CastVoteRecord{ID: "5", Batch: "Batch 1", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Write-in", WriteIn: true}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}}}}},
		},
		{
			name: "a Batch Name column works the same", files: []string{"ESS_CVR_WITH_BATCH_NAME_CVR_COLUMN.csv"}, count: 14, check: 9,
			want: vigil.CastVoteRecord{ID: "10", Batch: "Batch 3", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Write-in", WriteIn: true}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-2"}}}}},
		},
		{
			name: "a Tabulator CVR column in the CVR file gives tabulator and imprinted id", files: []string{"ESS_CVR_WITH_TABULATOR_CVR_COLUMN.csv"}, count: 14, check: 13,
			want: vigil.CastVoteRecord{ID: "15", Tabulator: "0002", ImprintedID: "0002000175", Precinct: "p", BallotStyle: "bs",
				Contests: []vigil.ContestVote{{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-1"}}}, {Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-3"}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			for _, f := range tt.files {
				paths = append(paths, essSample(t, f))
			}
			cvrs, e := MustParse(t, tabulate.ESS, tabulate.Options{}, paths...)
			if len(cvrs) != tt.count {
				t.Fatalf("%d records, want %d", len(cvrs), tt.count)
			}
			if got := cvrs[tt.check]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("record %d:\n got %+v\nwant %+v", tt.check, got, tt.want)
			}
			if err := e.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
	t.Run("it tallies undervotes, overvotes and every choice named", func(t *testing.T) {
		res := tallyFiles(t, tabulate.ESS, tabulate.Options{}, nil, essSample(t, "ESS_CVR.csv"), essSample(t, "ESS_BALLOTS_1.csv"), essSample(t, "ESS_BALLOTS_2.csv"))
		want := map[string]int64{"Contest 1/Choice 1-1": 6, "Contest 1/Choice 1-2": 6, "Contest 2/Choice 2-1": 8, "Contest 2/Choice 2-2": 4, "Contest 2/Choice 2-3": 2}
		if got := votes(res); !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if c := res.Contests[0]; c.Overvotes != 1 || c.Undervotes != 1 || c.Ballots != 14 {
			t.Errorf("contest 1: %+v", c)
		}
	})
}

func TestESSRejects(t *testing.T) {
	const cvr = "Cast Vote Record,Precinct,Ballot Style,Mayor\n1,p,bs,Alice\n2,p,bs,Bob\n"
	const ballots = "Cast Vote Record,Batch,Ballot Status,Tabulator CVR\n1,B1,Not Reviewed,0001000001\n"
	tests := []struct {
		name  string
		files []tabulate.File
		file  string
		line  int
		want  []string
	}{
		{"a CVR missing from the ballots files is named", append(stringFile("cvr.csv", cvr), stringFile("ballots.csv", ballots)...), "cvr.csv", 3, []string{"column Cast Vote Record", "CVR 2 is not in any ballots file"}},
		{"a ballot without a CVR is named", append(stringFile("cvr.csv", "Cast Vote Record,Precinct,Ballot Style,Mayor\n"), stringFile("ballots.csv", ballots)...), "ballots.csv", 2, []string{"not in the CVR file"}},
		{"a Tabulator CVR stripped of its zeros is refused", append(stringFile("cvr.csv", cvr), stringFile("ballots.csv", "Cast Vote Record,Batch,Ballot Status,Tabulator CVR\n1,B1,x,1000001\n2,B1,x,1000002\n")...), "ballots.csv", 2, []string{"column Tabulator CVR", "leading zeros"}},
		{"a duplicate CVR number is refused", stringFile("cvr.csv", cvr+"1,p,bs,Bob\n"), "cvr.csv", 4, []string{"duplicate ballot id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tabulate.ParseCVRs(tabulate.ESS, tt.files, tabulate.Options{})
			wantParseError(t, err, tt.file, tt.line, tt.want...)
		})
	}
}

func FuzzESS(f *testing.F) {
	f.Add("Cast Vote Record,Precinct,Ballot Style,Contest 1,Contest 2,Contest 2\n1,p,bs,Choice 1-2,A,B\n3,p,bs,undervote,overvote,overvote\n",
		"Ballots,,,\nGEN,,,\n\"C, S\",,,\nNov,,,\n,,,\nCast Vote Record,Batch,Ballot Status,Tabulator CVR,Machine\n1,BATCH1,x,0001013415,0001\n3,B,x,02bc1dc7bc1e7774,0002\nTotal : 2,,,\n")
	f.Fuzz(func(t *testing.T, cvr, ballots string) {
		files := append(stringFile("cvr.csv", cvr), stringFile("ballots.csv", ballots)...)
		r := tabulate.NewReader(tabulate.ESS, tabulate.Options{MaxLineBytes: 4096})
		tally := tabulate.NewTally(r.Election(), tabulate.ByBatch)
		if err := r.Read(files, tally.Add); err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		tally.Results()
	})
}
