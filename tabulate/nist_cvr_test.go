package tabulate_test

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func nistSample(t testing.TB, dir, name string) string {
	return dataPath(t, "cvr", dir, name)
}

func TestNISTCVREverySampleReads(t *testing.T) {
	tests := []struct {
		name, dir, file string
		records         int
		contests        int
	}{
		{"the specification's examples read", "nist-cvr-cdf", "example_1.xml", 6, 1},
		{"the specification's full election example reads", "nist-cvr-cdf", "example_2.xml", 2, 25},
		{"the prototype's XML example reads", "hiltonroscoe-cdfprototype", "CVR_xml_example_1.xml", 2, 25},
		{"the prototype's second XML example reads", "hiltonroscoe-cdfprototype", "CVR_xml_example_2.xml", 6, 1},
		{"the prototype's JSON example reads", "hiltonroscoe-cdfprototype", "CVR_json_example_2.json", 6, 1},
		{"an XML file without a namespace reads", "hiltonroscoe-cdfprototype", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml", 30, 1},
		{"the ranked-choice test deck reads as JSON", "hiltonroscoe-cdfprototype", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.json", 30, 1},
		{"VotingWorks' export with extensions reads", "votingworks-vxsuite", "cast-vote-record-report.json", 1, 14},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cvrs, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, tt.dir, tt.file))
			if len(cvrs) != tt.records || len(e.Contests) != tt.contests {
				t.Errorf("%d records and %d contests, want %d and %d", len(cvrs), len(e.Contests), tt.records, tt.contests)
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

func TestNISTCVR(t *testing.T) {
	t.Run("allocable selections count, an overvote counts for no one and a write-in counts", func(t *testing.T) {
		// Read by hand from example_1.xml: CVRs 1, 3 and 57 select _C1CS1,
		// CVR 2 _C1CS2, CVR 61 writes in on _C1CS3, CVR 4 overvotes.
		res := tallyFiles(t, tabulate.NIST, tabulate.Options{}, nil, nistSample(t, "nist-cvr-cdf", "example_1.xml"))
		want := map[string]int64{"C1/_C1CN1": 3, "C1/_C1CN2": 1, "C1/_C1CN3": 1}
		if got := votes(res); !maps.Equal(got, want) {
			t.Errorf("votes %v, want %v", got, want)
		}
		if c := res.Contests[0]; c.Overvotes != 1 || c.Ballots != 6 {
			t.Errorf("contest %+v", c)
		}
	})
	t.Run("an adjudicated snapshot overrides the original scan", func(t *testing.T) {
		// The second CVR's original snapshot (css-02, its CurrentSnapshotId)
		// has a marginal mark for Mark Zetzer; the interpreted one (css-03)
		// records the adjudicator's finding that it is a resting mark.
		cvrs, _ := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		want := vigil.CastVoteRecord{ID: "css-02", BallotStyle: "_01-0052-01", Contests: []vigil.ContestVote{{Contest: "_6RC", Undervotes: 1}}}
		if !reflect.DeepEqual(cvrs[1], want) {
			t.Errorf("got %+v\nwant %+v", cvrs[1], want)
		}
	})
	t.Run("a write-in without a contest selection joins a learned write-in choice", func(t *testing.T) {
		cvrs, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		gov := cvrs[0].Contests[0]
		if gov.Contest != "_1GO" || len(gov.Marks) != 1 || !gov.Marks[0].WriteIn {
			t.Fatalf("governor %+v", gov)
		}
		ch := e.Contest("_1GO").Choice(gov.Marks[0].Choice)
		if ch == nil || !ch.WriteIn || ch.Name != "Write-in" {
			t.Errorf("write-in choice %+v", ch)
		}
		if to := cvrs[0].Contests[4]; to.Contest != "_5TS" || !to.Overvoted || len(to.Marks) != 0 {
			t.Errorf("treasurer %+v, want an overvote without marks", to)
		}
	})
	t.Run("names come from candidates, parties and ballot measure selections", func(t *testing.T) {
		_, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		gov := e.Contest("_1GO")
		if gov.Name != "For Governor and Lieutenant Governor" || gov.Choices[1] != (vigil.Choice{ID: "_CS1AJK", Name: "John Kasich and Mary Taylor", Party: "Republican"}) {
			t.Errorf("governor %+v", gov)
		}
	})
	t.Run("VotingWorks' modified snapshot, write-in, precinct, device and ballot type are read", func(t *testing.T) {
		cvrs, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "votingworks-vxsuite", "cast-vote-record-report.json"))
		c := cvrs[0]
		if c.ID != "000804ee-8d16-41e6-9d3f-61aab3c8bd12" || c.Tabulator != "VX-00-000" || c.Batch != "9822c71014" ||
			c.BallotStyle != "card-number-3" || c.Precinct != "town-id-00701-precinct-id-" || c.CountingGroup != "precinct" {
			t.Errorf("record %+v", c)
		}
		reps := c.Contests[5]
		wantMarks := []vigil.Mark{{Choice: "Elijah-Miller-a52e6988"}, {Choice: "Jacob-Freese-b5146505"}, {Choice: "write-in-0", WriteIn: true}}
		if reps.Contest != "State-Representatives-Hillsborough-District-34-b1012d38" || !reflect.DeepEqual(reps.Marks, wantMarks) {
			t.Errorf("vote-for-3 contest %+v", reps)
		}
		measure := e.Contests[13]
		if measure.Kind != vigil.BallotMeasure || measure.Choices[0].Name != "Yes" || c.Contests[13].Undervotes != 1 {
			t.Errorf("ballot measure %+v, vote %+v", measure, c.Contests[13])
		}
	})
	t.Run("the same report in JSON and XML reads the same", func(t *testing.T) {
		for _, pair := range [][2]string{
			{"CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.json"},
			{"CVR_xml_example_2.xml", "CVR_json_example_2.json"},
		} {
			a, ea := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "hiltonroscoe-cdfprototype", pair[0]))
			b, eb := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "hiltonroscoe-cdfprototype", pair[1]))
			if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(ea, eb) {
				t.Errorf("%s and %s differ:\n%+v\n%+v", pair[0], pair[1], a, b)
			}
		}
	})
	t.Run("ranks make an undeclared contest ranked choice and the runoff runs", func(t *testing.T) {
		res := tallyFiles(t, tabulate.NIST, tabulate.Options{}, nil, nistSample(t, "hiltonroscoe-cdfprototype", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml"))
		c := res.Contests[0]
		if c.Kind != vigil.RankedChoice || c.IRV == nil || c.IRV.Winner != "sel-C" {
			t.Fatalf("contest %+v", c)
		}
		// First choices counted from the test deck's spreadsheet twin
		// (CVR_xml_rcv_test_deck_Multi-winner_CVR_3.xml).
		want := map[string]int64{"contest-001/sel-A": 6, "contest-001/sel-B": 5, "contest-001/sel-C": 9, "contest-001/sel-D": 2, "contest-001/sel-E": 5, "contest-001/sel-F": 3}
		if got := votes(res); !maps.Equal(got, want) {
			t.Errorf("first choices %v, want %v", got, want)
		}
	})
	t.Run("a definition learned from JSON checks the XML", func(t *testing.T) {
		_, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		MustParse(t, tabulate.NIST, tabulate.Options{Election: e}, nistSample(t, "hiltonroscoe-cdfprototype", "CVR_xml_example_1.xml"))
	})
}

func TestNISTCVRErrors(t *testing.T) {
	example := func(t *testing.T) string {
		b, err := os.ReadFile(nistSample(t, "nist-cvr-cdf", "example_1.xml"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	vx := func(t *testing.T) string {
		b, err := os.ReadFile(nistSample(t, "votingworks-vxsuite", "cast-vote-record-report.json"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name string
		file string
		edit func(t *testing.T) string
		line int
		want []string
	}{
		{"a selection of another contest is named with its element path", "bad.xml",
			func(t *testing.T) string {
				return strings.Replace(example(t), "<ContestSelectionId>_C1CS2</ContestSelectionId>", "<ContestSelectionId>_C9CS9</ContestSelectionId>", 1)
			},
			27, []string{"column CVR[2].CVRSnapshot[cvr-002].CVRContest[0].CVRContestSelection[0].ContestSelectionId", `"_C9CS9"`}},
		{"an unknown contest is refused", "bad.xml",
			func(t *testing.T) string {
				return strings.Replace(example(t), "<ContestId>_C1</ContestId>", "<ContestId>_C7</ContestId>", 1)
			},
			3, []string{"CVR[1].CVRSnapshot[cvr-001].CVRContest[0].ContestId", `"_C7"`}},
		{"an IsAllocable outside the enumeration is refused", "bad.xml",
			func(t *testing.T) string {
				return strings.Replace(example(t), "<IsAllocable>yes</IsAllocable>", "<IsAllocable>maybe</IsAllocable>", 1)
			},
			3, []string{"SelectionPosition[0]", "IsAllocable", "maybe"}},
		{"a word where a number belongs names the CVR's line", "bad.xml",
			func(t *testing.T) string {
				return strings.Replace(example(t), "<NumberVotes>1</NumberVotes>", "<NumberVotes>one</NumberVotes>", 1)
			},
			3, []string{"column CVR", `"one"`}},
		{"malformed XML names its line", "bad.xml",
			func(t *testing.T) string { return strings.Replace(example(t), "</UniqueId>", "</UniqueID>", 1) },
			25, []string{"malformed XML"}},
		{"a duplicate UniqueId is refused", "bad.xml",
			func(t *testing.T) string {
				return strings.Replace(example(t), "<UniqueId>2</UniqueId>", "<UniqueId>1</UniqueId>", 1)
			},
			27, []string{`duplicate ballot id "1"`}},
		{"a JSON string where a number belongs names the field", "bad.json",
			func(t *testing.T) string { return strings.Replace(vx(t), `"Undervotes":1`, `"Undervotes":"1"`, 1) },
			1, []string{"CVR[0].CVRSnapshot.CVRContest.Undervotes", "whole number"}},
		{"a truncated JSON report is refused", "bad.json",
			func(t *testing.T) string { return vx(t)[:5000] },
			1, []string{"ends early"}},
		{"a JSON document of another type is refused", "bad.json",
			func(t *testing.T) string { return `{"@type": "ERR.ElectionReport", "Election": []}` },
			1, []string{"ElectionReport", "not CastVoteRecordReport"}},
		{"a CVR without snapshots is refused", "bad.json",
			func(t *testing.T) string { return `{"CVR": [{"UniqueId": "1"}], "Election": []}` },
			1, []string{"CVR[1].CVRSnapshot", "no CVRSnapshot"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tabulate.ParseCVRs(tabulate.NIST, stringFile(tt.file, tt.edit(t)), tabulate.Options{})
			wantParseError(t, err, tt.file, tt.line, tt.want...)
		})
	}
	t.Run("files that are not NIST reports say so", func(t *testing.T) {
		path := nistSample(t, "hiltonroscoe-cdfprototype", "CVR_xml_Nov14-EML-410-RCV.xml")
		_, _, err := tabulate.ParseCVRs(tabulate.NIST, MustOpen(t, path), tabulate.Options{})
		wantParseError(t, err, filepath.Base(path), 2, "root element is <EML>", "CastVoteRecordReport")
	})
	t.Run("a contest missing from the election definition is named", func(t *testing.T) {
		_, e := MustParse(t, tabulate.NIST, tabulate.Options{}, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		_, _, err := tabulate.ParseCVRs(tabulate.NIST, MustOpen(t, nistSample(t, "nist-cvr-cdf", "example_1.xml")), tabulate.Options{Election: e})
		wantParseError(t, err, "example_1.xml", 3, "CVR[1].CVRSnapshot[cvr-001].CVRContest[0].ContestId", `contest "_C1"`, "not in the election definition")
	})
}

// Fuzz seeds must stay small (a few KiB) or the fuzzer crawls: each is a
// real report cut down to its first CVR (or two) and its definitions.

func readSeed(f *testing.F, parts ...string) string {
	b, err := os.ReadFile(filepath.Join(append([]string{"..", "..", "shared", "data"}, parts...)...))
	if err != nil {
		f.Fatalf("seed %v: %v", parts, err)
	}
	return string(b)
}

// firstCVRs keeps the first n <CVR> elements of an XML report and the
// elements after the last CVR.
func firstCVRs(s string, n int) string {
	end := 0
	for range n {
		end += strings.Index(s[end:], "</CVR>") + len("</CVR>")
	}
	return s[:end] + s[strings.LastIndex(s, "</CVR>")+len("</CVR>"):]
}

func FuzzNISTCVRXML(f *testing.F) {
	f.Add(firstCVRs(readSeed(f, "cvr", "nist-cvr-cdf", "example_1.xml"), 1))
	f.Add(firstCVRs(readSeed(f, "cvr", "hiltonroscoe-cdfprototype", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml"), 2))
	f.Fuzz(func(t *testing.T, s string) { fuzzRead(t, tabulate.NIST, "fuzz.xml", s) })
}

func FuzzNISTCVRJSON(f *testing.F) {
	// The JSON example, minus ballot images, with its first two CVRs.
	s := readSeed(f, "cvr", "hiltonroscoe-cdfprototype", "CVR_json_example_2.json")
	third := strings.Index(s, `"CurrentSnapshotId": "cvr-003"`)
	third = strings.LastIndex(s[:third], "{")
	tail := strings.Index(s, `"Election"`)
	f.Add(s[:strings.LastIndex(s[:third], ",")] + "],\n" + s[tail:])
	f.Add(`{"CVR":[{"UniqueId":"1","CurrentSnapshotId":"s","CVRSnapshot":[{"@id":"s","Type":"modified","CVRContest":[{"ContestId":"c","Overvotes":0,"CVRContestSelection":[{"ContestSelectionId":"w","SelectionPosition":[{"HasIndication":"yes","IsAllocable":"yes","NumberVotes":1,"Rank":2,"CVRWriteIn":{"Text":"x"}}]}]}]}]}],` +
		`"Election":[{"@id":"e","Contest":[{"@id":"c","@type":"CVR.CandidateContest","VoteVariation":"rcv","ContestSelection":[{"@id":"w","@type":"CVR.CandidateSelection","IsWriteIn":true}]}]}]}`)
	f.Fuzz(func(t *testing.T, s string) { fuzzRead(t, tabulate.NIST, "fuzz.json", s) })
}

// fuzzRead reads s and tallies it; any error must be an Invalid one.
func fuzzRead(t *testing.T, format tabulate.Format, name, s string, extra ...tabulate.File) {
	r := tabulate.NewReader(format, tabulate.Options{MaxFileBytes: 1 << 16})
	tally := tabulate.NewTally(r.Election())
	files := append(stringFile(name, s), extra...)
	if err := r.Read(files, tally.Add); err != nil {
		if vigil.ErrorKind(err) != vigil.Invalid {
			t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
		}
		return
	}
	tally.Results()
}
