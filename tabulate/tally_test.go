package tabulate_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

// tallyFiles reads files with a Reader and counts them.
func tallyFiles(t testing.TB, format tabulate.Format, opt tabulate.Options, by []tabulate.Dimension, paths ...string) *tabulate.Results {
	t.Helper()
	r := tabulate.NewReader(format, opt)
	tally := tabulate.NewTally(r.Election(), by...)
	if err := r.Read(MustOpen(t, paths...), tally.Add); err != nil {
		t.Fatal(err)
	}
	return tally.Results()
}

func TestTallyPluralityAndVoteForN(t *testing.T) {
	res := tallyFiles(t, tabulate.Dominion, tabulate.Options{}, nil, dominionSample(t, "TEST_CVRS.csv"))
	t.Run("totals are written as contest,choice,votes", func(t *testing.T) {
		var b bytes.Buffer
		if err := res.WriteCSV(&b); err != nil {
			t.Fatal(err)
		}
		want := "contest,choice,votes\n" +
			"Contest 1,Choice 1-1,7\n" +
			"Contest 1,Choice 1-2,3\n" +
			"Contest 2,Choice 2-1,12\n" +
			"Contest 2,Choice 2-2,5\n" +
			"Contest 2,Choice 2-3,7\n"
		if b.String() != want {
			t.Errorf("CSV:\n%s\nwant:\n%s", b.String(), want)
		}
	})
	tests := []struct {
		name                 string
		contest              int
		ballots, over, under int64
		voteFor              int
	}{
		{"a vote-for-one contest marked twice is one overvote", 0, 11, 1, 0, 1},
		{"a vote-for-two contest marked three times loses both votes", 1, 14, 2, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := res.Contests[tt.contest]
			if c.Ballots != tt.ballots || c.Overvotes != tt.over || c.Undervotes != tt.under {
				t.Errorf("ballots %d over %d under %d, want %d %d %d", c.Ballots, c.Overvotes, c.Undervotes, tt.ballots, tt.over, tt.under)
			}
			var sum int64
			for _, ch := range c.Choices {
				sum += ch.Votes
			}
			if sum+c.Overvotes+c.Undervotes != c.Ballots*int64(tt.voteFor) {
				t.Errorf("votes %d + over %d + under %d != ballots %d × %d", sum, c.Overvotes, c.Undervotes, c.Ballots, tt.voteFor)
			}
		})
	}
	t.Run("the text report shows choices, overvotes and undervotes", func(t *testing.T) {
		var b bytes.Buffer
		if err := res.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"Contest 2", "vote for 2; 14 ballots", "Choice 2-1", "overvotes", "undervotes"} {
			if !strings.Contains(b.String(), w) {
				t.Errorf("text report lacks %q:\n%s", w, b.String())
			}
		}
	})
}

func TestTallyGroups(t *testing.T) {
	res := tallyFiles(t, tabulate.Dominion, tabulate.Options{}, []tabulate.Dimension{tabulate.ByBallotStyle, tabulate.ByBatch, tabulate.ByPrecinct}, dominionSample(t, "TEST_CVRS.csv"))
	t.Run("a ballot style lists only its own contests", func(t *testing.T) {
		var b bytes.Buffer
		res.WriteGroupsCSV(&b, tabulate.ByBallotStyle)
		if !strings.Contains(b.String(), "ballot_style,contest,choice,votes\nCITY,Contest 2,Choice 2-1,2\nCITY,Contest 2,Choice 2-2,0\nCITY,Contest 2,Choice 2-3,2\nCOUNTY,Contest 1,") {
			t.Errorf("by style:\n%s", b.String())
		}
	})
	t.Run("batches are keyed by tabulator and batch", func(t *testing.T) {
		var b bytes.Buffer
		res.WriteGroupsCSV(&b, tabulate.ByBatch)
		rows, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rows[0], []string{"tabulator", "batch", "contest", "choice", "votes"}) || len(rows) != 1+4*5 {
			t.Errorf("by batch: %d rows, header %q", len(rows), rows[0])
		}
	})
	t.Run("group totals add up to the total", func(t *testing.T) {
		for _, d := range []tabulate.Dimension{tabulate.ByBallotStyle, tabulate.ByBatch, tabulate.ByPrecinct} {
			sum := map[string]int64{}
			for _, g := range res.Groups {
				if g.By != d {
					continue
				}
				for _, c := range g.Contests {
					for _, ch := range c.Choices {
						sum[c.Name+"/"+ch.Name] += ch.Votes
					}
				}
			}
			if !maps.Equal(sum, votes(res)) {
				t.Errorf("%v: groups sum to %v, total %v", d, sum, votes(res))
			}
		}
	})
}

func TestTallySmallElection(t *testing.T) {
	// The generator's spec states each contest's tally; overvoted ballots
	// (several marks in a vote-for-one contest) must count for no one.
	var spec struct {
		Contests []struct {
			Name  string
			Tally map[string]int64
		}
	}
	raw, err := os.ReadFile(dataPath(t, "cvr", "arlo-fixtures", "small-election", "small-election.spec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, c := range spec.Contests {
		for choice, v := range c.Tally {
			want[c.Name+"/"+choice] = v
		}
	}
	got := map[string]int64{}
	for _, county := range []string{"Kendall Park", "Mount Olive", "Siletz", "Waurika", "Worthington Hills"} {
		res := tallyFiles(t, tabulate.Dominion, tabulate.Options{}, nil, dataPath(t, "cvr", "arlo-fixtures", "small-election", county+" - cvrs.csv"))
		for k, v := range votes(res) {
			got[k] += v
		}
	}
	t.Run("five counties add up to the tallies the generator specified", func(t *testing.T) {
		if !maps.Equal(got, want) {
			t.Errorf("got %v\nwant %v", got, want)
		}
	})
	t.Run("Mount Olive's batch totals match its candidate totals by batch file", func(t *testing.T) {
		res := tallyFiles(t, tabulate.Dominion, tabulate.Options{}, []tabulate.Dimension{tabulate.ByBatch}, dataPath(t, "cvr", "arlo-fixtures", "small-election", "Mount Olive - cvrs.csv"))
		f, err := os.Open(dataPath(t, "cvr", "arlo-fixtures", "small-election", "Mount Olive - Minister of Farming - candidate totals by batch.csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows[1:] {
			for i, choice := range rows[0][1:] {
				want, _ := strconv.ParseInt(row[i+1], 10, 64)
				var got int64 = -1
				for _, g := range res.Groups {
					if g.By == tabulate.ByBatch && g.Name == row[0] {
						for _, c := range g.Contests {
							for _, ch := range c.Choices {
								if c.Name == "Minister of Farming" && ch.Name == choice {
									got = ch.Votes
								}
							}
						}
					}
				}
				if got != want {
					t.Errorf("batch %s %s: %d votes, want %d", row[0], choice, got, want)
				}
			}
		}
	})
}

func TestTallyRejectsUnknownNames(t *testing.T) {
	e := &vigil.Election{Name: "e", Contests: []vigil.Contest{{ID: "c1", Name: "Mayor", VoteFor: 1, Choices: []vigil.Choice{{ID: "a", Name: "A"}}}}}
	tests := []struct {
		name string
		cvr  vigil.CastVoteRecord
		want string
	}{
		{"an unknown contest is named with the ballot", vigil.CastVoteRecord{ID: "7", Contests: []vigil.ContestVote{{Contest: "c9"}}}, `CVR 7 names contest "c9"`},
		{"an unknown choice is named with the ballot", vigil.CastVoteRecord{ID: "8", Contests: []vigil.ContestVote{{Contest: "c1", Marks: []vigil.Mark{{Choice: "z"}}}}}, `CVR 8 names choice "z"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tabulate.NewTally(e).Add(&tt.cvr)
			if vigil.ErrorKind(err) != vigil.Invalid || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
