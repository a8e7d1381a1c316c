package auditflow_test

import (
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/auditflow"
)

func TestParseContestTallies(t *testing.T) {
	t.Run("rows group by contest, in file order", func(t *testing.T) {
		got, err := auditflow.ParseContestTallies("t", strings.NewReader("\ufeffcontest,ballots,choice,votes\nMayor,10,A,6\nMayor,10,B,3\nClerk,4,C,4\n"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Contest != "Mayor" || got[0].Ballots != 10 || got[0].Votes["A"] != 6 || got[0].Votes["B"] != 3 || got[1].Votes["C"] != 4 {
			t.Fatalf("%+v", got)
		}
	})
	for _, tc := range []struct{ name, in, field string }{
		{"a wrong header", "contest,choice,votes\nMayor,A,1\n", "file"},
		{"no contest", "contest,ballots,choice,votes\n", "file"},
		{"a short row", "contest,ballots,choice,votes\nMayor,10,A\n", "file"},
		{"negative ballots", "contest,ballots,choice,votes\nMayor,-1,A,1\n", "ballots"},
		{"votes that are not a number", "contest,ballots,choice,votes\nMayor,10,A,x\n", "votes"},
		{"ballots that differ between a contest's rows", "contest,ballots,choice,votes\nMayor,10,A,1\nMayor,11,B,1\n", "ballots"},
		{"a choice listed twice", "contest,ballots,choice,votes\nMayor,10,A,1\nMayor,10,A,2\n", "choice"},
		{"a row without a choice", "contest,ballots,choice,votes\nMayor,10,,1\n", "file"},
	} {
		t.Run(tc.name+" is refused naming the field", func(t *testing.T) {
			_, err := auditflow.ParseContestTallies("t", strings.NewReader(tc.in))
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != tc.field {
				t.Fatalf("got %v, want an Invalid %s error", err, tc.field)
			}
		})
	}
}

// FuzzParseContestTallies: the parser never panics, and whatever it
// accepts is consistent: a contest once, its choices once, nothing
// negative.
func FuzzParseContestTallies(f *testing.F) {
	f.Add("contest,ballots,choice,votes\nMayor,10,A,6\nMayor,10,B,3\n")
	f.Add("contest,ballots,choice,votes\n\"Master of Magic\",120,\"Clem Bradley\",70\n")
	f.Fuzz(func(t *testing.T, in string) {
		got, err := auditflow.ParseContestTallies("fuzz", strings.NewReader(in))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error of kind %v: %v", vigil.ErrorKind(err), err)
			}
			return
		}
		seen := map[vigil.ContestID]bool{}
		for _, c := range got {
			if c.Contest == "" || seen[c.Contest] || c.Ballots < 0 || len(c.Votes) == 0 {
				t.Fatalf("accepted %+v", got)
			}
			seen[c.Contest] = true
			for ch, v := range c.Votes {
				if ch == "" || v < 0 {
					t.Fatalf("accepted %+v", got)
				}
			}
		}
	})
}
