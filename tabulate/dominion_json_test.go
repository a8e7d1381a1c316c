package tabulate_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func dominionJSON(t testing.TB, parts ...string) string {
	return dataPath(t, append([]string{"cvr", "shangrla-vendor-formats", "Dominion_CVRs"}, parts...)...)
}

// The samples come without manifests, so these follow the layout Dominion
// documents in "CVR export file format" ({"Version", "List": [{Description,
// Id, ExternalId, …}]}), with the ids the 5.10.50.85 sample uses.
const (
	testContestManifest = `{"Version":"5.10.50.85","List":[
{"Description":"Mayor","Id":1,"ExternalId":"","VoteFor":1,"NumOfRanks":0},
{"Description":"Council  Seat","Id":12,"ExternalId":"","VoteFor":1,"NumOfRanks":0},
{"Description":"Measure A","Id":13,"ExternalId":"","VoteFor":1,"NumOfRanks":0},
{"Description":"Assessor","Id":19,"ExternalId":"","VoteFor":1,"NumOfRanks":3},
{"Description":"Sheriff","Id":20,"ExternalId":"","VoteFor":1,"NumOfRanks":0}]}`
	testCandidateManifest = `{"Version":"5.10.50.85","List":[
{"Description":"Ann","Id":5,"ExternalId":"","ContestId":1,"Type":"Regular"},
{"Description":"Bob","Id":6,"ExternalId":"","ContestId":1,"Type":"Regular"},
{"Description":"Write-in","Id":7,"ExternalId":"","ContestId":1,"Type":"WriteIn"},
{"Description":"Cy","Id":17,"ExternalId":"","ContestId":12,"Type":"Regular"},
{"Description":"Yes","Id":18,"ExternalId":"","ContestId":13,"Type":"Regular"},
{"Description":"No","Id":21,"ExternalId":"","ContestId":13,"Type":"Regular"},
{"Description":"Dee","Id":26,"ExternalId":"","ContestId":19,"Type":"Regular"},
{"Description":"Eve","Id":27,"ExternalId":"","ContestId":19,"Type":"Regular"},
{"Description":"Fay","Id":192,"ExternalId":"","ContestId":20,"Type":"Regular"}]}`
	testPrecinctManifest = `{"Version":"5.10.50.85","List":[{"Description":"Precinct 23","Id":23,"ExternalId":""},{"Description":"Precinct 214","Id":214,"ExternalId":""}]}`
	testGroupManifest    = `{"Version":"5.10.50.85","List":[{"Description":"Election Day","Id":1,"ExternalId":""},{"Description":"Mail","Id":2,"ExternalId":""}]}`
)

func manifestFiles() []tabulate.File {
	return []tabulate.File{
		{Name: "ContestManifest.json", Reader: strings.NewReader(testContestManifest)},
		{Name: "CandidateManifest.json", Reader: strings.NewReader(testCandidateManifest)},
		{Name: "PrecinctPortionManifest.json", Reader: strings.NewReader(testPrecinctManifest)},
		{Name: "CountingGroupManifest.json", Reader: strings.NewReader(testGroupManifest)},
	}
}

func TestDominionJSON(t *testing.T) {
	t.Run("EMS 5.10 sessions read, RecordId X taken from the ImageMask and Modified overriding Original", func(t *testing.T) {
		cvrs, e := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionJSON(t, "test_5.10.50.85.Dominion.json"))
		want := []vigil.CastVoteRecord{
			{ID: "1-2-13", Tabulator: "1", Batch: "2", Position: 13, ImprintedID: "1-2-13", BallotStyle: "3", Precinct: "23", CountingGroup: "1",
				Contests: []vigil.ContestVote{{Contest: "1", Marks: []vigil.Mark{{Choice: "5"}}}}},
			{ID: "1-5-119", Tabulator: "1", Batch: "5", Position: 119, ImprintedID: "1-5-119", BallotStyle: "102", Precinct: "214", CountingGroup: "2",
				Contests: []vigil.ContestVote{{Contest: "1", Undervotes: 1}}},
			{ID: "1-17-123456789", Tabulator: "1", Batch: "17", Position: 123456789, ImprintedID: "1-17-123456789", BallotStyle: "100", Precinct: "214", CountingGroup: "1",
				Contests: []vigil.ContestVote{{Contest: "12", Marks: []vigil.Mark{{Choice: "17"}}}, {Contest: "13", Marks: []vigil.Mark{{Choice: "18"}}},
					{Contest: "19", Marks: []vigil.Mark{{Choice: "26", Rank: 2}, {Choice: "27", Rank: 1}}}, {Contest: "20", Marks: []vigil.Mark{{Choice: "192"}}}}},
		}
		if !reflect.DeepEqual(cvrs, want) {
			t.Errorf("got  %+v\nwant %+v", cvrs, want)
		}
		if c := e.Contest("19"); c.Kind != vigil.RankedChoice || c.Ranks != 2 {
			t.Errorf("contest 19 %+v, want ranked choice with 2 ranks seen", c)
		}
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	})
	t.Run("EMS 5.2 marks that are not votes are dropped and Modified wins", func(t *testing.T) {
		cvrs, e := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionJSON(t, "test_5.2.18.2.Dominion.json"))
		want := []vigil.CastVoteRecord{
			{ID: "60001-1-1", Tabulator: "60001", Batch: "1", Position: 1, ImprintedID: "60001-1-1", BallotStyle: "2", Precinct: "123", CountingGroup: "1",
				Contests: []vigil.ContestVote{{Contest: "111", Marks: []vigil.Mark{{Choice: "6", Rank: 1}}}}},
			{ID: "60009-3-21", Tabulator: "60009", Batch: "3", Position: 21, ImprintedID: "60009-3-21", BallotStyle: "2", Precinct: "456", CountingGroup: "2",
				Contests: []vigil.ContestVote{{Contest: "111", Marks: []vigil.Mark{{Choice: "6", Rank: 1}}}, {Contest: "122", Marks: []vigil.Mark{{Choice: "9", Rank: 1}}}}},
		}
		if !reflect.DeepEqual(cvrs, want) {
			t.Errorf("got  %+v\nwant %+v", cvrs, want)
		}
		// Rank 2 marks (not votes) show both contests are ranked choice.
		for _, id := range []vigil.ContestID{"111", "122"} {
			if c := e.Contest(id); c.Kind != vigil.RankedChoice {
				t.Errorf("contest %s is %v, want ranked choice", id, c.Kind)
			}
		}
	})
	t.Run("split export files read as the combined one", func(t *testing.T) {
		split, _ := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionJSON(t, "CVR_Export", "CvrExport_0.json"), dominionJSON(t, "CVR_Export", "CvrExport_1.json"))
		whole, _ := MustParse(t, tabulate.Dominion, tabulate.Options{}, dominionJSON(t, "test_5.10.50.85.Dominion.json"))
		if !reflect.DeepEqual(split, whole[:2]) {
			t.Errorf("split %+v\nwhole %+v", split, whole[:2])
		}
	})
	t.Run("manifests name contests, choices, precincts and counting groups", func(t *testing.T) {
		files := append(MustOpen(t, dominionJSON(t, "test_5.10.50.85.Dominion.json")), manifestFiles()...)
		r := tabulate.NewReader(tabulate.Dominion, tabulate.Options{})
		tally := tabulate.NewTally(r.Election())
		var cvrs []vigil.CastVoteRecord
		err := r.Read(files, func(c *vigil.CastVoteRecord) error {
			cvrs = append(cvrs, tabulate.CloneCVR(c))
			return tally.Add(c)
		})
		if err != nil {
			t.Fatal(err)
		}
		e := r.Election()
		if got := contestNames(e); !reflect.DeepEqual(got, []string{"Mayor", "Council Seat", "Measure A", "Assessor", "Sheriff"}) {
			t.Errorf("contests %q", got)
		}
		if c := e.Contest("19"); c.Kind != vigil.RankedChoice || c.Ranks != 3 {
			t.Errorf("Assessor %+v, want 3 ranks from NumOfRanks", c)
		}
		if c := e.Contest("13"); c.Kind != vigil.BallotMeasure {
			t.Errorf("Measure A is %v, want a ballot measure", c.Kind)
		}
		if ch := e.Contest("1").Choice("7"); ch == nil || !ch.WriteIn {
			t.Errorf("write-in candidate %+v", ch)
		}
		if cvrs[1].Precinct != "Precinct 214" || cvrs[1].CountingGroup != "Mail" || cvrs[1].BallotStyle != "102" {
			t.Errorf("second ballot %+v", cvrs[1])
		}
		if got := votes(tally.Results()); got["Mayor/Ann"] != 1 || got["Assessor/Eve"] != 1 || got["Assessor/Dee"] != 0 {
			t.Errorf("votes %v", got)
		}
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	})
}

func TestDominionJSONErrors(t *testing.T) {
	session := `{"Version":"5.10.50.85","ElectionId":"E","Sessions":[
{"TabulatorId":1,"BatchId":2,"RecordId":%s,"CountingGroupId":1,"ImageMask":"%s",
 "Original":{"PrecinctPortionId":23,"BallotTypeId":3,"IsCurrent":true,"Cards":[{"Id":1,"Contests":[
  {"Id":%s,"Undervotes":0,"Overvotes":0,"Marks":[{"CandidateId":%s,"Rank":%s,"IsAmbiguous":false,"IsVote":true}]}]}]}}]}`
	fill := func(rec, mask, contest, cand, rank string) string {
		s := strings.Replace(session, "%s", rec, 1)
		s = strings.Replace(s, "%s", mask, 1)
		s = strings.Replace(s, "%s", contest, 1)
		s = strings.Replace(s, "%s", cand, 1)
		return strings.Replace(s, "%s", rank, 1)
	}
	tests := []struct {
		name      string
		export    string
		manifests bool
		want      []string
	}{
		{"a RecordId X without a readable ImageMask is refused", fill(`"X"`, `D:\\Images\\scan.tif`, "1", "5", "1"), false,
			[]string{"column Sessions[0].RecordId", "ImageMask"}},
		{"a candidate missing from the CandidateManifest is named", fill("13", "", "1", "99", "1"), true,
			[]string{"column Sessions[0].Contests[0].Marks[0].CandidateId", "candidate 99", "CandidateManifest"}},
		{"a contest missing from the ContestManifest is named", fill("13", "", "77", "5", "1"), true,
			[]string{"column Sessions[0].Contests[0].Id", "contest 77"}},
		{"a rank beyond the contest's ranks is refused", fill("13", "", "19", "26", "4"), true,
			[]string{"column Sessions[0].Contests[0].Marks[0].Rank", "Rank 4", "3 ranks"}},
		{"a rank in a contest the manifest calls plurality is refused", fill("13", "", "1", "5", "2"), true,
			[]string{"Rank 2", "not ranked choice"}},
		{"a string where a number belongs names the field", fill("13", "", "1", "5", `"first"`), false,
			[]string{"Sessions[0].Original.Cards.Contests.Marks.Rank", "whole number"}},
		{"a JSON file without Sessions is refused", `{"Version":"5.2.18.2","ElectionId":"E"}`, false,
			[]string{"column Sessions", "CvrExport"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := stringFile("CvrExport_3.json", tt.export)
			if tt.manifests {
				files = append(files, manifestFiles()...)
			}
			_, _, err := tabulate.ParseCVRs(tabulate.Dominion, files, tabulate.Options{})
			wantParseError(t, err, "CvrExport_3.json", -1, tt.want...)
		})
	}
	t.Run("a malformed manifest names itself", func(t *testing.T) {
		files := append(MustOpen(t, dominionJSON(t, "test_5.2.18.2.Dominion.json")), tabulate.File{Name: "ContestManifest.json", Reader: strings.NewReader(`{"List":[{"Id":1,"VoteFor":"one"}]}`)})
		_, _, err := tabulate.ParseCVRs(tabulate.Dominion, files, tabulate.Options{})
		wantParseError(t, err, "ContestManifest.json", 1, "List.VoteFor", "whole number")
	})
}

func FuzzDominionJSON(f *testing.F) {
	f.Add(readSeed(f, "cvr", "shangrla-vendor-formats", "Dominion_CVRs", "CVR_Export", "CvrExport_0.json"), false)
	f.Add(readSeed(f, "cvr", "shangrla-vendor-formats", "Dominion_CVRs", "CVR_Export", "CvrExport_1.json"), true)
	f.Fuzz(func(t *testing.T, s string, manifests bool) {
		var extra []tabulate.File
		if manifests {
			extra = manifestFiles()
		}
		fuzzRead(t, tabulate.Dominion, "CvrExport_0.json", s, extra...)
	})
}
