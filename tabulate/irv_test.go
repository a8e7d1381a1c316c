package tabulate_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/tabulate"
)

func TestInstantRunoff(t *testing.T) {
	e := &vigil.Election{Name: "rcv", Contests: []vigil.Contest{{ID: "mayor", Name: "Mayor", Kind: vigil.RankedChoice, VoteFor: 1, Ranks: 3,
		Choices: []vigil.Choice{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}, {ID: "c", Name: "C"}}}}}
	type mark = vigil.Mark
	ballots := [][]mark{}
	add := func(n int, m ...mark) {
		for range n {
			ballots = append(ballots, m)
		}
	}
	add(4, mark{Choice: "a", Rank: 1})
	add(3, mark{Choice: "b", Rank: 1}, mark{Choice: "a", Rank: 2})
	add(3, mark{Choice: "c", Rank: 1}, mark{Choice: "b", Rank: 2})
	add(1, mark{Choice: "a", Rank: 1}, mark{Choice: "b", Rank: 1})                             // overvote at rank 1: exhausted
	add(1, mark{Choice: "a", Rank: 2})                                                         // rank 1 skipped: counts for A
	add(1, mark{Choice: "c", Rank: 1}, mark{Choice: "c", Rank: 2}, mark{Choice: "b", Rank: 3}) // C ranked twice, then B
	tally := tabulate.NewTally(e)
	for i, m := range ballots {
		if err := tally.Add(&vigil.CastVoteRecord{ID: vigil.CVRID(fmt.Sprint(i)), Contests: []vigil.ContestVote{{Contest: "mayor", Marks: m}}}); err != nil {
			t.Fatal(err)
		}
	}
	res := tally.Results().Contests[0]
	irv := res.IRV
	t.Run("first-round votes are the CSV totals", func(t *testing.T) {
		if got := fmt.Sprint(res.Choices); got != "[{a A 5} {b B 3} {c C 4}]" || res.Overvotes != 1 {
			t.Errorf("first round %s, overvotes %d", got, res.Overvotes)
		}
	})
	t.Run("the last-place choice is eliminated and its ballots move on", func(t *testing.T) {
		if len(irv.Rounds) != 2 || irv.Rounds[0].Eliminated != "b" {
			t.Fatalf("rounds %+v", irv.Rounds)
		}
		if got := fmt.Sprint(irv.Rounds[1].Votes); got != "[{a A 8} {c C 4}]" {
			t.Errorf("round 2 %s", got)
		}
	})
	t.Run("a majority of continuing ballots wins", func(t *testing.T) {
		if irv.Winner != "a" {
			t.Errorf("winner %q, want a", irv.Winner)
		}
	})
	t.Run("an overvote exhausts the ballot", func(t *testing.T) {
		if irv.Rounds[0].Exhausted != 1 || irv.Rounds[0].Continuing != 12 {
			t.Errorf("round 1 continuing %d exhausted %d", irv.Rounds[0].Continuing, irv.Rounds[0].Exhausted)
		}
	})
	t.Run("the text report shows every round", func(t *testing.T) {
		var b bytes.Buffer
		tally.Results().WriteText(&b)
		for _, w := range []string{"round 1", "round 2", "eliminated: B", "winner: A"} {
			if !strings.Contains(b.String(), w) {
				t.Errorf("report lacks %q:\n%s", w, b.String())
			}
		}
	})
}

func TestInstantRunoffTieRule(t *testing.T) {
	e := &vigil.Election{Name: "tie", Contests: []vigil.Contest{{ID: "m", Name: "M", Kind: vigil.RankedChoice, VoteFor: 1, Ranks: 2,
		Choices: []vigil.Choice{{ID: "a", Name: "A"}, {ID: "b", Name: "B"}, {ID: "c", Name: "C"}, {ID: "d", Name: "D"}}}}}
	tests := []struct {
		name       string
		first      map[vigil.ChoiceID]int
		eliminated []vigil.ChoiceID
		tie        string
	}{
		{"a tie in every round eliminates the choice listed last", map[vigil.ChoiceID]int{"a": 4, "b": 3, "c": 3}, []vigil.ChoiceID{"d", "c"}, "listed last"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tally := tabulate.NewTally(e)
			n := 0
			for _, id := range []vigil.ChoiceID{"a", "b", "c"} {
				for range tt.first[id] {
					n++
					tally.Add(&vigil.CastVoteRecord{ID: vigil.CVRID(fmt.Sprint(n)), Contests: []vigil.ContestVote{{Contest: "m", Marks: []vigil.Mark{{Choice: id, Rank: 1}}}}})
				}
			}
			irv := tally.Results().Contests[0].IRV
			for i, want := range tt.eliminated {
				if i >= len(irv.Rounds) || irv.Rounds[i].Eliminated != want {
					t.Fatalf("rounds %+v, want eliminated %v", irv.Rounds, tt.eliminated)
				}
			}
			if !strings.Contains(irv.Rounds[1].Tie, tt.tie) {
				t.Errorf("round 2 tie note %q", irv.Rounds[1].Tie)
			}
		})
	}
}
