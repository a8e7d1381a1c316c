package tabulate_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func TestParseElection(t *testing.T) {
	t.Run("a NIST v2 XML report defines contests, parties, precincts and districts", func(t *testing.T) {
		e, err := tabulate.ParseElection(MustOpen(t, dataPath(t, "nist", "err-v2-samples", "hiltonroscoe_validation_target.xml"))[0], tabulate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := e.Contests[0]
		if e.Name != "2018 Special Election State Senate District 1" || e.Date != "2018-06-12" || c.Name != "STATE SENATOR DISTRICT 1" || c.VoteFor != 1 ||
			c.Choices[0] != (vigil.Choice{ID: "_CSE2627A55-9636-E811-8104-0050568C2FC0", Name: "André M. Jacque", Party: "Republican"}) {
			t.Errorf("election %q %q, contest %+v", e.Name, e.Date, c)
		}
		if len(e.Precincts) == 0 || len(e.Districts) != 1 || len(e.Districts[0].Precincts) == 0 {
			t.Errorf("%d precincts, districts %+v", len(e.Precincts), e.Districts)
		}
	})
	t.Run("vigil's own JSON reads and unknown fields are named", func(t *testing.T) {
		want := vigil.Election{ID: "e1", Name: "Test", Contests: []vigil.Contest{{ID: "m", Name: "Mayor", VoteFor: 1, Choices: []vigil.Choice{{ID: "a", Name: "Ann"}}}}}
		b, _ := json.Marshal(want)
		got, err := tabulate.ParseElection(stringFile("e.json", string(b))[0], tabulate.Options{})
		if err != nil || !reflect.DeepEqual(*got, want) {
			t.Fatalf("got %+v, %v", got, err)
		}
		_, err = tabulate.ParseElection(MustOpen(t, dataPath(t, "cvr", "arlo-fixtures", "small-election", "small-election.spec.json"))[0], tabulate.Options{})
		wantParseError(t, err, "small-election.spec.json", -1, `unknown field "jurisdictions"`)
	})
	t.Run("an invalid definition is refused with the field at fault", func(t *testing.T) {
		_, err := tabulate.ParseElection(stringFile("e.json", `{"name":"T","contests":[{"id":"m","name":"Mayor","voteFor":0}]}`)[0], tabulate.Options{})
		wantParseError(t, err, "e.json", 0, "contests[0].voteFor")
	})
	t.Run("a NIST JSON report reads like its XML twin", func(t *testing.T) {
		res := tallyFiles(t, tabulate.NIST, tabulate.Options{}, nil, nistSample(t, "nist-cvr-cdf", "example_2.xml"))
		var x, j bytes.Buffer
		opt := tabulate.NISTExport{Generated: time.Date(2024, 11, 5, 20, 0, 0, 0, time.UTC)}
		if err := res.WriteNISTXML(&x, opt); err != nil {
			t.Fatal(err)
		}
		if err := res.WriteNISTJSON(&j, opt); err != nil {
			t.Fatal(err)
		}
		ex, err := tabulate.ParseElection(tabulate.File{Name: "r.xml", Reader: &x}, tabulate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ej, err := tabulate.ParseElection(tabulate.File{Name: "r.json", Reader: &j}, tabulate.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ex, ej) {
			t.Errorf("XML %+v\nJSON %+v", ex, ej)
		}
		if len(ex.Contests) != len(res.Contests) || ex.Contests[0].Name != res.Contests[0].Name || ex.Contests[0].Choices[3].Name != "Write-in" || !ex.Contests[0].Choices[3].WriteIn {
			t.Errorf("round trip lost contests: %+v", ex.Contests[0])
		}
	})
	t.Run("a file that is neither JSON nor XML is refused", func(t *testing.T) {
		_, err := tabulate.ParseElection(stringFile("e.txt", "name,contests")[0], tabulate.Options{})
		wantParseError(t, err, "e.txt", 1, "JSON object or an XML ElectionReport")
	})
}

func TestNISTResultsExport(t *testing.T) {
	samples := []struct {
		name   string
		format tabulate.Format
		path   []string
	}{
		{"a Dominion count by precinct", tabulate.Dominion, []string{"cvr", "arlo-vendor-formats", "dominion", "TEST_CVRS.csv"}},
		{"a ranked-choice runoff", tabulate.NIST, []string{"cvr", "hiltonroscoe-cdfprototype", "CVR_xml_rcv_test_deck_Multi-winner_NIST_CVR_3.xml"}},
		{"ballot measures and write-ins", tabulate.NIST, []string{"cvr", "votingworks-vxsuite", "cast-vote-record-report.json"}},
	}
	opt := tabulate.NISTExport{Issuer: "Test County", Generated: time.Date(2024, 11, 5, 20, 0, 0, 0, time.UTC), Date: "2024-11-05"}
	const checkpoint = "vigil.example/log\n42\nqUXgu1h0kTUm6zQ+8wVb2F8Ltsm2b8gkTeIiYTxWRr8=\n"
	for _, s := range samples {
		t.Run(s.name+" validates against the NIST v2 schema", func(t *testing.T) {
			res := tallyFiles(t, s.format, tabulate.Options{}, []tabulate.Dimension{tabulate.ByPrecinct}, dataPath(t, s.path...))
			res.Checkpoint = checkpoint
			var b bytes.Buffer
			if err := res.WriteNISTXML(&b, opt); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "<OtherType>vigil-log-checkpoint</OtherType>") || !strings.Contains(b.String(), "qUXgu1h0kTUm6zQ+8wVb2F8Ltsm2b8gkTeIiYTxWRr8=") {
				t.Error("the checkpoint is not in the report")
			}
			xsd := dataPath(t, "nist", "err-v2", "NIST_V2_election_results_reporting.xsd")
			xmllint, err := exec.LookPath("xmllint")
			if err != nil {
				t.Skip("xmllint is not installed (apt-get install libxml2-utils); the schema check is skipped, the rest passed")
			}
			out := filepath.Join(t.TempDir(), "results.xml")
			if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			if msg, err := exec.CommandContext(t.Context(), xmllint, "--noout", "--nonet", "--schema", xsd, out).CombinedOutput(); err != nil {
				t.Errorf("xmllint: %v\n%s", err, msg)
			}
		})
	}
	t.Run("the JSON report carries the checkpoint too", func(t *testing.T) {
		res := tallyFiles(t, tabulate.NIST, tabulate.Options{}, nil, nistSample(t, "nist-cvr-cdf", "example_1.xml"))
		res.Checkpoint = checkpoint
		var b bytes.Buffer
		if err := res.WriteNISTJSON(&b, opt); err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Type               string `json:"@type"`
			ExternalIdentifier []struct{ OtherType, Value string }
		}
		if err := json.Unmarshal(b.Bytes(), &rep); err != nil {
			t.Fatal(err)
		}
		if rep.Type != "ElectionResults.ElectionReport" || len(rep.ExternalIdentifier) != 1 || rep.ExternalIdentifier[0].Value != checkpoint {
			t.Errorf("report %+v", rep)
		}
	})
	t.Run("a report without a generation time is refused", func(t *testing.T) {
		res := tallyFiles(t, tabulate.NIST, tabulate.Options{}, nil, nistSample(t, "nist-cvr-cdf", "example_1.xml"))
		if err := res.WriteNISTXML(&bytes.Buffer{}, tabulate.NISTExport{}); vigil.ErrorKind(err) != vigil.Invalid {
			t.Errorf("error %v, want invalid", err)
		}
	})
}

func FuzzElectionNIST(f *testing.F) {
	s := readSeed(f, "nist", "err-v2-samples", "hiltonroscoe_validation_target.xml")
	// The Election element only, so that the seed stays small.
	f.Add(s[:strings.Index(s, "<Format>")] + "</ElectionReport>")
	f.Add(`{"@type":"ElectionResults.ElectionReport","Election":[{"Name":{"Text":[{"Content":"E","Language":"en"}]},"Contest":[{"@id":"c","@type":"ElectionResults.CandidateContest","Name":"C","VoteVariation":"rcv","VotesAllowed":3,"ElectionDistrictId":"g","ContestSelection":[{"@id":"s","CandidateIds":["k"],"IsWriteIn":true}]}],"Candidate":[{"@id":"k","BallotName":"K"}]}],"GpUnit":[{"@id":"g","Type":"precinct","ComposingGpUnitIds":["g"]}]}`)
	f.Add(`{"name":"T","contests":[{"id":"m","name":"Mayor","kind":"ranked_choice","voteFor":1,"ranks":2,"choices":[{"id":"a","name":"A"}]}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := tabulate.ParseElection(tabulate.File{Name: "fuzz", Reader: strings.NewReader(s)}, tabulate.Options{MaxFileBytes: 1 << 16})
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("ParseElection returned an invalid election: %v", err)
		}
	})
}
