package rla_test

import (
	"errors"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

func TestAudit(t *testing.T) {
	// Contests and values: Arlo test_bravo.py (true_sample_sizes,
	// test_compute_risk), as in TestBRAVO.
	test1 := arloBravoContests["test1"]
	test1.Name = "test1"
	test6 := arloBravoContests["test6"]
	test6.Name = "test6"
	test2 := arloBravoContests["test2"]
	test2.Name = "test2"

	t.Run("the hardest targeted contest sets the size", func(t *testing.T) {
		// test1: 119 / 184, 244, 351; test6: 238 / 368, 488, 702. Both on
		// all 1000 ballots, so the sizes are test6's.
		a := rla.Audit{Ballots: 1000, RiskLimit: 0.1, Contests: []rla.AuditContest{{test1, true}, {test6, true}}}
		got, err := a.BRAVOSampleSizes(nil)
		if err != nil || got.ASN != 238 || got.Sizes != [3]int{368, 488, 702} {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("a contest on half the ballots needs twice the draws", func(t *testing.T) {
		// test1's sizes (119 / 184, 244, 351) for a manifest of 2000
		// ballots of which the contest's 1000 are half: ceil(2·n).
		a := rla.Audit{Ballots: 2000, RiskLimit: 0.1, Contests: []rla.AuditContest{{test1, true}}}
		got, err := a.BRAVOSampleSizes(nil)
		if err != nil || got.ASN != 238 || got.Sizes != [3]int{368, 488, 702} {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("opportunistic contests are measured but do not hold the audit", func(t *testing.T) {
		// test_compute_risk: test1 confirmed (risk 0.07) after 72 to 47;
		// test2 not confirmed (cand1-cand2 risk 1.0) after 25, 18, 5.
		a := rla.Audit{Ballots: 1000, RiskLimit: 0.1, Contests: []rla.AuditContest{{test1, true}, {test2, false}}}
		got, err := a.BRAVO(map[string]map[string]int{"test1": arloRound1["test1"], "test2": arloRound1["test2"]})
		if err != nil {
			t.Fatal(err)
		}
		if !got.Confirmed || !got.Contests[0].Confirmed || got.Contests[1].Confirmed {
			t.Fatalf("got %+v", got)
		}
		// Targeting test2 as well holds the audit.
		a.Contests[1].Targeted = true
		got, _ = a.BRAVO(map[string]map[string]int{"test1": arloRound1["test1"], "test2": arloRound1["test2"]})
		if got.Confirmed {
			t.Fatal("confirmed with a targeted contest unconfirmed")
		}
	})

	t.Run("an audit without a targeted contest is refused", func(t *testing.T) {
		a := rla.Audit{Ballots: 1000, RiskLimit: 0.1, Contests: []rla.AuditContest{{test1, false}}}
		if _, err := a.BRAVOSampleSizes(nil); !errors.Is(err, rla.ErrNoTarget) {
			t.Fatalf("got %v", err)
		}
	})
}
