package rla_test

import (
	"math"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

// arloSSContests are the contests of Arlo's super-simple tests
// (votingworks/arlo server/tests/audit_math/test_supersimple.py, ss_contests).
var arloSSContests = map[string]rla.Contest{
	"Contest A":          contest(100000, 1, "winner", 60000, "loser", 40000),
	"Contest B":          contest(60000, 1, "winner", 30000, "loser", 24000),
	"Contest C":          contest(36000, 1, "winner", 18000, "loser", 12600),
	"Contest D":          contest(15000, 1, "winner", 8000, "loser", 6000),
	"Contest E":          contest(10000, 1, "winner", 10000, "loser", 0),
	"Contest F":          contest(15, 1, "winner", 10, "loser", 4),
	"Two-winner Contest": contest(1000, 2, "winner1", 600, "winner2", 300, "loser", 100),
}

func TestSuperSimpleSampleSize(t *testing.T) {
	// want: Arlo test_supersimple.py, true_sample_sizes ("From Stark's tool").
	// afterO1 and afterO2: o1_stopping_size and o2_stopping_size, the total
	// sizes after one one-vote (two-vote) overstatement in the first round,
	// from which Arlo's test subtracts the first round.
	for _, tc := range []struct {
		contest                string
		want, afterO1, afterO2 int
	}{
		{"Contest A", 27, 38, 100000},
		{"Contest B", 54, 76, 60000},
		{"Contest C", 36, 51, 36000},
		{"Contest D", 40, 57, 15000},
		{"Contest E", 6, 7, 33},
		{"Two-winner Contest", 27, 38, 1000},
	} {
		t.Run(tc.contest+" gets Stark's first-round size and grows after an overstatement", func(t *testing.T) {
			c := arloSSContests[tc.contest]
			got, err := rla.SuperSimpleSampleSize(c, 0.1, 0, rla.Discrepancies{})
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("first round: got %d, want %d", got, tc.want)
			}
			more, err := rla.SuperSimpleSampleSize(c, 0.1, got, rla.Discrepancies{O1: 1})
			if err != nil {
				t.Fatal(err)
			}
			if more != tc.afterO1-got {
				t.Errorf("after a one-vote overstatement: got %d more, want %d", more, tc.afterO1-got)
			}
			more, err = rla.SuperSimpleSampleSize(c, 0.1, got, rla.Discrepancies{O2: 1})
			if err != nil {
				t.Fatal(err)
			}
			if more != tc.afterO2-got {
				t.Errorf("after a two-vote overstatement: got %d more, want %d", more, tc.afterO2-got)
			}
			none, err := rla.SuperSimpleSampleSize(c, 0.1, got, rla.Discrepancies{})
			if err != nil || none != 0 {
				// Arlo test_compute_risk: next_sample_size == 0 without discrepancies.
				t.Errorf("without discrepancies: got %d more, %v", none, err)
			}
		})
	}

	t.Run("a small contest gets Stark's size", func(t *testing.T) {
		// Arlo true_sample_sizes["Contest F"] = 14.
		got, err := rla.SuperSimpleSampleSize(arloSSContests["Contest F"], 0.1, 0, rla.Discrepancies{})
		if err != nil || got != 14 {
			t.Fatalf("got %d, %v", got, err)
		}
	})

	t.Run("a tie calls for every ballot", func(t *testing.T) {
		// Arlo test_supersimple.py, test_tied_contest: 100000.
		got, err := rla.SuperSimpleSampleSize(contest(100000, 1, "winner", 50000, "loser", 50000), 0.1, 0, rla.Discrepancies{})
		if err != nil || got != 100000 {
			t.Fatalf("got %d, %v", got, err)
		}
	})
}

func TestSuperSimpleRisk(t *testing.T) {
	// Expected P-values: Arlo test_supersimple.py, expected_p_values, at
	// the first-round sizes of true_sample_sizes; Arlo checks to 0.001.
	for _, tc := range []struct {
		contest            string
		n                  int
		none, oneO1, oneO2 float64
	}{
		{"Contest A", 27, 0.06507, 0.12534, 1.0},
		{"Contest B", 54, 0.06973, 0.13441, 1.0},
		{"Contest C", 36, 0.06740, 0.12992, 1.0},
		{"Contest D", 40, 0.07048, 0.13585, 1.0},
		{"Contest E", 6, 0.01950, 0.03758, 0.51877},
		{"Two-winner Contest", 27, 0.06508, 0.12534, 1.0},
	} {
		t.Run(tc.contest+" matches Arlo's P-values", func(t *testing.T) {
			c := arloSSContests[tc.contest]
			for _, step := range []struct {
				d         rla.Discrepancies
				want      float64
				confirmed bool
			}{
				{rla.Discrepancies{}, tc.none, true},
				{rla.Discrepancies{O1: 1}, tc.oneO1, tc.oneO1 <= 0.1},
				{rla.Discrepancies{O2: 1}, tc.oneO2, false},
			} {
				p, ok, err := rla.SuperSimpleRisk(c, 0.1, tc.n, step.d)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(p-step.want) >= 0.001 || ok != step.confirmed {
					t.Errorf("%+v: got %v %v, want %v %v", step.d, p, ok, step.want, step.confirmed)
				}
			}
		})
	}

	t.Run("18 clean ballots of a 26-ballot contest", func(t *testing.T) {
		// Arlo test_supersimple.py, test_snapshot_test: 0.1201733 (to
		// 0.0001). The test means to blank two winner ballots, but its
		// sample CVRs are the same dicts as the reported CVRs, so the edit
		// changes both and Arlo sees no discrepancy: 0.1201733 is
		// (1 - (6/26)/(2γ))^18, 18 ballots without discrepancies.
		p, ok, err := rla.SuperSimpleRisk(contest(26, 1, "winner", 16, "loser", 10), 0.1, 18, rla.Discrepancies{})
		if err != nil || math.Abs(p-0.1201733) >= 0.0001 || ok {
			t.Fatalf("got %v %v %v", p, ok, err)
		}
	})

	t.Run("understatements lower the P-value", func(t *testing.T) {
		// Lindeman and Stark (2012), "A Gentle Introduction to RLAs",
		// the Kaplan-Markov formula: each one-vote understatement divides P
		// by 1 + 1/(2γ), each two-vote one by 1 + 1/γ.
		c := arloSSContests["Contest A"]
		p0, _, _ := rla.SuperSimpleRisk(c, 0.1, 27, rla.Discrepancies{})
		p1, _, _ := rla.SuperSimpleRisk(c, 0.1, 27, rla.Discrepancies{U1: 1})
		p2, _, _ := rla.SuperSimpleRisk(c, 0.1, 27, rla.Discrepancies{U2: 1})
		if math.Abs(p0/p1-(1+1/(2*rla.SuperSimpleGamma))) > 1e-12 || math.Abs(p0/p2-(1+1/rla.SuperSimpleGamma)) > 1e-12 {
			t.Fatalf("p0 %v p1 %v p2 %v", p0, p1, p2)
		}
	})

	t.Run("a tie is confirmed only by a full hand count", func(t *testing.T) {
		// Arlo test_supersimple.py, test_tied_contest: p > alpha after one
		// ballot, p == 0 after all of them.
		c := contest(100000, 1, "winner", 50000, "loser", 50000)
		p, ok, _ := rla.SuperSimpleRisk(c, 0.1, 1, rla.Discrepancies{})
		if p <= 0.1 || ok {
			t.Errorf("one ballot: %v %v", p, ok)
		}
		p, ok, _ = rla.SuperSimpleRisk(c, 0.1, 100000, rla.Discrepancies{})
		if p != 0 || !ok {
			t.Errorf("every ballot: %v %v", p, ok)
		}
	})

	t.Run("more discrepancies than ballots are refused", func(t *testing.T) {
		_, _, err := rla.SuperSimpleRisk(arloSSContests["Contest A"], 0.1, 1, rla.Discrepancies{O1: 1, U1: 1})
		if err == nil {
			t.Fatal("accepted")
		}
	})
}
