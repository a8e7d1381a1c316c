package tabulate_test

import (
	"maps"
	"reflect"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func TestClearBallot(t *testing.T) {
	path := dataPath(t, "cvr", "arlo-vendor-formats", "clearballot", "CLEARBALLOT_CVRS.csv")
	cvrs, e := MustParse(t, tabulate.ClearBallot, tabulate.Options{}, path)
	t.Run("every ballot is read with scanner, box and position", func(t *testing.T) {
		if len(cvrs) != 14 {
			t.Fatalf("%d records, want 14", len(cvrs))
		}
		want := vigil.CastVoteRecord{ID: "4", Tabulator: "TABULATOR2", Batch: "BATCH1", Position: 1, ImprintedID: "1-2-1", Precinct: "p", BallotStyle: "bs",
			Contests: []vigil.ContestVote{
				{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-1"}}},
				{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-3"}}}}}
		if !reflect.DeepEqual(cvrs[3], want) {
			t.Errorf("record 4:\n got %+v\nwant %+v", cvrs[3], want)
		}
	})
	t.Run("contests and vote-for counts come from the column names", func(t *testing.T) {
		if len(e.Contests) != 2 || e.Contests[1].VoteFor != 2 || len(e.Contests[1].Choices) != 3 || e.Contests[0].Choices[0].Party != "Non-Partisan" {
			t.Errorf("election %+v", e.Contests)
		}
	})
	t.Run("an overvoted vote-for-two contest counts for no one", func(t *testing.T) {
		got := votes(tallyFiles(t, tabulate.ClearBallot, tabulate.Options{}, nil, path))
		want := map[string]int64{"Contest 1/Choice 1-1": 7, "Contest 1/Choice 1-2": 3, "Contest 2/Choice 2-1": 13, "Contest 2/Choice 2-2": 6, "Contest 2/Choice 2-3": 7}
		if !maps.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
	t.Run("a choice list is not a CVR export", func(t *testing.T) {
		_, _, err := tabulate.ParseCVRs(tabulate.ClearBallot, MustOpen(t, dataPath(t, "cvr", "arlo-vendor-formats", "clearballot", "CLEARBALLOT_CVRS_INVALID.csv")), tabulate.Options{})
		wantParseError(t, err, "CLEARBALLOT_CVRS_INVALID.csv", 1, "column RowNumber", "missing required column")
	})
}

const clearBallotSample = "RowNumber,BoxID,BoxPosition,BallotID,PrecinctID,BallotStyleID,PrecinctStyleName,ScanComputerName,Status,Remade,Choice_1_1:Contest 1:Vote For 1:Choice 1-1:Non-Partisan,Choice_210_1:Contest 1:Vote For 1:Choice 1-2:Non-Partisan\n"

func TestClearBallotRejects(t *testing.T) {
	tests := []struct {
		name, input string
		line        int
		want        []string
	}{
		{"a bad vote cell names line and column", clearBallotSample + "1,B,1,x,p,bs,ps,T,s,r,1,0\n2,B,2,x,p,bs,ps,T,s,r,X,0\n", 3, []string{"column Contest 1: Choice 1-1"}},
		{"a box position that is not a number is refused", clearBallotSample + "1,B,one,x,p,bs,ps,T,s,r,1,0\n", 2, []string{"column BoxPosition"}},
		{"a malformed choice column is named", "RowNumber,BoxID,BoxPosition,BallotID,ScanComputerName,Choice_1_1:Contest 1\n", 1, []string{"column Choice_1_1:Contest 1"}},
		{"a duplicate row number is refused", clearBallotSample + "1,B,1,x,p,bs,ps,T,s,r,1,0\n1,B,2,x,p,bs,ps,T,s,r,1,0\n", 3, []string{"duplicate ballot id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tabulate.ParseCVRs(tabulate.ClearBallot, stringFile("cb.csv", tt.input), tabulate.Options{})
			wantParseError(t, err, "cb.csv", tt.line, tt.want...)
		})
	}
}

func FuzzClearBallotCSV(f *testing.F) {
	f.Add(clearBallotSample + "1,B,1,x,p,bs,ps,T,s,r,1,0\n2,B,2,x,p,bs,ps,T,s,r,,\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := tabulate.NewReader(tabulate.ClearBallot, tabulate.Options{MaxLineBytes: 4096})
		tally := tabulate.NewTally(r.Election(), tabulate.ByPrecinct)
		if err := r.Read(stringFile("fuzz.csv", s), tally.Add); err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		tally.Results()
	})
}
