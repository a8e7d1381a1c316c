package tabulate_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func dominionSample(t testing.TB, name string) string {
	return dataPath(t, "cvr", "arlo-vendor-formats", "dominion", name)
}

func TestDominionCSV(t *testing.T) {
	type ballot struct {
		index int
		want  vigil.CastVoteRecord
	}
	tests := []struct {
		name     string
		file     string
		count    int
		contests []string
		check    ballot
	}{
		{
			name: "the ballot comparison sample reads every ballot and its position", file: "TEST_CVRS.csv", count: 14,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{11, vigil.CastVoteRecord{ID: "12", Tabulator: "TABULATOR2", Batch: "BATCH2", Position: 4, ImprintedID: "2-2-4", BallotStyle: "CITY", Precinct: "12345",
				Contests: []vigil.ContestVote{{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-3"}}}}}},
		},
		{
			name: "a counting group column is read", file: "COUNTING_GROUP_CVR.csv", count: 15,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{7, vigil.CastVoteRecord{ID: "8", Tabulator: "TABULATOR2", Batch: "BATCH1", Position: 2, ImprintedID: "2-1-2", BallotStyle: "COUNTY", Precinct: "12345", CountingGroup: "Mail",
				Contests: []vigil.ContestVote{
					{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-1"}}},
					{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-3"}}}}}},
		},
		{
			name: "a unique voting identifier stands in for a missing imprinted id", file: "DOMINION_UNIQUE_VOTING_IDENTIFIER_CVR.csv", count: 15,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{9, vigil.CastVoteRecord{ID: "10", Tabulator: "TABULATOR2", Batch: "BATCH2", Position: 1, ImprintedID: "56_083-221", BallotStyle: "COUNTY", Precinct: "12345",
				Contests: []vigil.ContestVote{
					{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-1"}}},
					{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-3"}}}}}},
		},
		{
			name: "spreadsheet formula cells lose their =\"…\" wrapper", file: "DOMINION_CVRS_WITH_LEADING_EQUAL_SIGNS.csv", count: 14,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{0, vigil.CastVoteRecord{ID: "1", Tabulator: "TABULATOR1", Batch: "BATCH1", Position: 1, ImprintedID: "1-1-1", BallotStyle: "COUNTY", Precinct: "12345",
				Contests: []vigil.ContestVote{
					{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Choice 1-2"}}},
					{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-2"}}}}}},
		},
		{
			name: "a contest left blank on the ballot is an undervote, not absent", file: "TEST_CVRS.csv", count: 14,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{12, vigil.CastVoteRecord{ID: "13", Tabulator: "TABULATOR2", Batch: "BATCH2", Position: 5, ImprintedID: "2-2-5", BallotStyle: "CITY", Precinct: "12345",
				Contests: []vigil.ContestVote{{Contest: "Contest 2"}}}},
		},
		{
			name: "write-in columns become write-in choices", file: "BATCH_INVENTORY_TEST_CVR.csv", count: 15,
			contests: []string{"Contest 1", "Contest 2"},
			check: ballot{0, vigil.CastVoteRecord{ID: "1", Tabulator: "TABULATOR1", Batch: "BATCH1", Position: 1, ImprintedID: "1-1-1", BallotStyle: "COUNTY", Precinct: "12345", CountingGroup: "Election Day",
				Contests: []vigil.ContestVote{
					{Contest: "Contest 1", Marks: []vigil.Mark{{Choice: "Write-In", WriteIn: true}}},
					{Contest: "Contest 2", Marks: []vigil.Mark{{Choice: "Choice 2-1"}, {Choice: "Choice 2-2"}}}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cvrs, e := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionSample(t, tt.file))
			if len(cvrs) != tt.count {
				t.Fatalf("read %d records, want %d", len(cvrs), tt.count)
			}
			if got := contestNames(e); !slices.Equal(got, tt.contests) {
				t.Errorf("contests %q, want %q", got, tt.contests)
			}
			if got := cvrs[tt.check.index]; !reflect.DeepEqual(got, tt.check.want) {
				t.Errorf("record %d:\n got %+v\nwant %+v", tt.check.index, got, tt.check.want)
			}
			if err := e.Validate(); err != nil {
				t.Errorf("learned election does not validate: %v", err)
			}
			for _, c := range cvrs {
				if err := c.Validate(); err != nil {
					t.Errorf("record %s does not validate: %v", c.ID, err)
				}
			}
		})
	}
}

func TestDominionCSVOddSpellingsReadTheSame(t *testing.T) {
	tests := []struct{ name, plain, odd string }{
		{"leading equal signs read like plain cells", "BATCH_INVENTORY_TEST_CVR.csv", "BATCH_INVENTORY_TEST_CVRS_WITH_LEADING_EQUAL_SIGNS.csv"},
		{"extra spaces in contest and choice names are ignored", "BATCH_INVENTORY_TEST_CVR.csv", "BATCH_INVENTORY_TEST_CVRS_WITH_EXTRA_SPACES.csv"},
		{"a line break inside a contest header is a space", "COUNTING_GROUP_CVR.csv", "NEWLINE_CVR.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, ea := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionSample(t, tt.plain))
			b, eb := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionSample(t, tt.odd))
			if !reflect.DeepEqual(ea.Contests, eb.Contests) {
				t.Errorf("contests differ:\n%+v\n%+v", ea.Contests, eb.Contests)
			}
			if !reflect.DeepEqual(a, b) {
				t.Errorf("records differ")
			}
		})
	}
}

func TestDominionCSVRankedChoiceHeader(t *testing.T) {
	path := dataPath(t, "cvr", "shangrla-vendor-formats", "CVR Export-Sample.converted.csv")
	cvrs, e := MustParse(t, tabulate.Dominion, tabulate.Options{}, path)
	if len(cvrs) != 19 {
		t.Fatalf("read %d records, want 19", len(cvrs))
	}
	tests := []struct {
		name    string
		contest vigil.ContestID
		kind    vigil.ContestKind
		ranks   int
		choices int
	}{
		{"the mayor's race is ranked choice with six ranks and eight choices", "MAYOR", vigil.RankedChoice, 6, 8},
		{"a second write-in line in one contest stays a separate choice", "CITY ATTORNEY", vigil.RankedChoice, 3, 3},
		{"a vote-for-one race stays plurality", "MEMBER, BOARD OF EDUCATION", vigil.Plurality, 0, 4},
		{"a yes/no proposition is a ballot measure", "PROPOSITION A", vigil.BallotMeasure, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.Contest(tt.contest)
			if c == nil {
				t.Fatalf("contest %q not found in %q", tt.contest, contestNames(e))
			}
			if c.Kind != tt.kind || c.Ranks != tt.ranks || len(c.Choices) != tt.choices {
				t.Errorf("got kind %v ranks %d choices %d, want %v %d %d", c.Kind, c.Ranks, len(c.Choices), tt.kind, tt.ranks, tt.choices)
			}
		})
	}
	if c := e.Contest("CITY ATTORNEY"); c != nil && c.Choice("Write-in (2)") == nil {
		t.Errorf("CITY ATTORNEY choices %+v lack \"Write-in (2)\"", c.Choices)
	}
	if got := cvrs[0]; got.ID != "51865" || got.Tabulator != "99808" || got.Batch != "81" || got.Position != 1 || got.CountingGroup != "Vote by Mail" || got.Precinct != "PCT 7623" || got.BallotStyle != "VBM BT 7" {
		t.Errorf("first record %+v", got)
	}
}

func TestDominionCSVAgainstElectionDefinition(t *testing.T) {
	_, ref := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionSample(t, "TEST_CVRS.csv"))
	tests := []struct {
		name string
		file string
		line int
		want []string
	}{
		{"a choice the definition lacks is named with its line and column", "TEST_CVRS_WITH_EXTRA_CHOICE.csv", 3, []string{"column Contest 1: Choice 1-3", "Choice 1-3", "not in contest"}},
		{"a choice missing from the file is named", "TEST_CVRS_WITH_CHOICE_REMOVED.csv", 3, []string{"Choice 1-2", "has no column"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tabulate.ParseCVRs(tabulate.Dominion, MustOpen(t, dominionSample(t, tt.file)), tabulate.Options{Election: ref})
			wantParseError(t, err, tt.file, tt.line, tt.want...)
		})
	}
	t.Run("the matching file reads with the definition's ids", func(t *testing.T) {
		cvrs, e := MustParse(t, tabulate.Dominion, tabulate.Options{Election: ref}, dominionSample(t, "DOMINION_CVRS_WITH_LEADING_EQUAL_SIGNS.csv"))
		if len(cvrs) != 14 || len(e.Contests) != 2 {
			t.Errorf("got %d records, %d contests", len(cvrs), len(e.Contests))
		}
	})
}

const dominionHead = "Test,5.2.16.1,,,,,\n" +
	",,,,,Contest 1 (Vote For=1),Contest 1 (Vote For=1)\n" +
	",,,,,Alice,Bob\n" +
	"CvrNumber,TabulatorNum,BatchId,RecordId,ImprintedId,,\n"

func TestDominionCSVRejects(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opt   tabulate.Options
		line  int
		want  []string
	}{
		{"a vote cell that is not 0 or 1 names its line and column", dominionHead + "1,T,B,1,x,1,0\n2,T,B,2,x,yes,0\n", tabulate.Options{}, 6, []string{"column Contest 1: Alice", `"yes"`}},
		{"a duplicate ballot id names both lines", dominionHead + "1,T,B,1,x,1,0\n1,T,B,2,x,0,1\n", tabulate.Options{}, 6, []string{"duplicate ballot id \"1\"", "line 5"}},
		{"a record id that is not a number is refused", dominionHead + "1,T,B,one,x,1,0\n", tabulate.Options{}, 5, []string{"column RecordId"}},
		{"a row cut short is refused", dominionHead + "1,T,B,1,x,1\n", tabulate.Options{}, 5, []string{"the row has 6 columns"}},
		{"an empty ballot id is refused", dominionHead + ",T,B,1,x,1,0\n", tabulate.Options{}, 5, []string{"column CvrNumber"}},
		{"a missing required column is named", strings.Replace(dominionHead, "BatchId", "Batch", 1), tabulate.Options{}, 4, []string{"column BatchId", "missing required column"}},
		{"a contest header without a vote-for count is refused", strings.Replace(dominionHead, "(Vote For=1)", "(Vote For=many)", 2), tabulate.Options{}, 2, []string{"Vote For="}},
		{"a file shorter than its header is refused", "Test,5.2\n,,x\n", tabulate.Options{}, 3, []string{"four header rows"}},
		{"an overlong line is refused before it is buffered", dominionHead + "1,T,B,1," + strings.Repeat("x", 300) + ",1,0\n", tabulate.Options{MaxLineBytes: 200}, 5, []string{"longer than 200 bytes"}},
		{"an unterminated quote is read as a bad cell, named with its column", dominionHead + "1,T,B,1,x,1,\"0\n", tabulate.Options{}, 5, []string{"column Contest 1: Bob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tabulate.ParseCVRs(tabulate.Dominion, stringFile("in.csv", tt.input), tt.opt)
			wantParseError(t, err, "in.csv", tt.line, tt.want...)
		})
	}
}

func FuzzDominionCSV(f *testing.F) {
	f.Add(dominionHead + "1,T,B,1,x,1,0\n2,T,B,2,=\"x\",0,1\n")
	f.Add(strings.Replace(dominionHead, "Contest 1 (Vote For=1),Contest 1 (Vote For=1)", "\"C\n(Number of positions=1, Number of ranks=2)\",C (Number of positions=1, Number of ranks=2)", 1) + "1,T,B,1,x,1,0\n")
	f.Add("Test,5\n,,,,,A (Vote For=2),A (Vote For=2),B (Vote For=1)\n,,,,,x,y,z\nCvrNumber,TabulatorNum,BatchId,RecordId,ImprintedId,,,\n1,2,3,4,5,1,1,\n")
	f.Fuzz(func(t *testing.T, s string) {
		r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{MaxLineBytes: 4096})
		tally := tabulate.NewTally(r.Election(), tabulate.ByBatch)
		if err := r.Read(stringFile("fuzz.csv", s), tally.Add); err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		tally.Results()
	})
}
