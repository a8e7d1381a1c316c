package rla_test

import (
	"errors"
	"math"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

// arloBravoContests are the contests of Arlo's BRAVO tests
// (votingworks/arlo server/tests/audit_math/test_bravo.py, bravo_contests).
var arloBravoContests = map[string]rla.Contest{
	"test1":  contest(1000, 1, "cand1", 600, "cand2", 400),
	"test2":  contest(900, 1, "cand1", 600, "cand2", 200, "cand3", 100),
	"test3":  contest(100, 1, "cand1", 100),
	"test5":  contest(1000, 1, "cand1", 500, "cand2", 500),
	"test6":  contest(1000, 1, "cand1", 300, "cand2", 200, "cand3", 200),
	"test7":  contest(700, 2, "cand1", 300, "cand2", 200, "cand3", 100),
	"test8":  contest(700, 2, "cand1", 300, "cand2", 300, "cand3", 100),
	"test9":  contest(700, 2, "cand1", 300, "cand2", 200),
	"test10": contest(1000, 2, "cand1", 600, "cand2", 300, "cand3", 100),
	"test11": contest(1000, 1, "cand1", 1000, "cand2", 0),
	"test12": contest(1000, 1, "cand1", 600, "cand2", 400, "cand3", 0),
	"small3": contest(20000, 1, "cand1", 10000, "cand2", 9000, "cand3", 200),
	"ga": contest(4992420, 1, "Trump", 2457924, "Biden", 2471981, "Jorgensen", 62058,
		"Write-in", 457, "Overvote", 0, "Undervote/Blank", 0),
}

// arloRound1 are the first-round samples of the same file (round1_sample_results).
var arloRound1 = map[string]map[string]int{
	"test1":  {"cand1": 72, "cand2": 47},
	"test2":  {"cand1": 25, "cand2": 18, "cand3": 5},
	"test5":  {"cand1": 500, "cand2": 500},
	"test6":  {"cand1": 72, "cand2": 48, "cand3": 48},
	"test7":  {"cand1": 30, "cand2": 25, "cand3": 10},
	"test8":  {"cand1": 72, "cand2": 55, "cand3": 30},
	"test10": {"cand1": 60, "cand2": 30, "cand3": 10},
	"test11": {"cand1": 0, "cand2": 0},
	"test12": {"cand1": 72, "cand2": 47, "cand3": 0},
	"small3": {"cand1": 1200, "cand2": 1000, "cand3": 10},
	"ga": {"Trump": 2457924, "Biden": 2471971, "Jorgensen": 62058, "Write-in": 457,
		"Overvote": 0, "Undervote/Blank": 0},
}

func contest(ballots, winners int, tally ...any) rla.Contest {
	c := rla.Contest{Name: "c", Ballots: ballots, Winners: winners}
	for i := 0; i < len(tally); i += 2 {
		c.Tally = append(c.Tally, rla.Choice{Name: tally[i].(string), Votes: tally[i+1].(int)})
	}
	return c
}

func TestBRAVO(t *testing.T) {
	type pairs map[rla.Pair]float64
	// Expected risks and decisions: Arlo test_bravo.py, test_compute_risk
	// (expected_Ts and expected_decisions), which checks to within 0.01.
	for _, tc := range []struct {
		name      string
		contest   string
		want      pairs
		confirmed bool
	}{
		{"a 60-40 contest is confirmed by 72 to 47", "test1", pairs{{"cand1", "cand2"}: 0.07}, true},
		{"a three-way contest with a weak first sample is not confirmed", "test2",
			pairs{{"cand1", "cand2"}: 1.0, {"cand1", "cand3"}: 0}, false},
		{"a sample as large as the contest is a full hand count", "test5", pairs{{"cand1", "cand2"}: 0}, true},
		{"two losers tied for second are both beaten", "test6",
			pairs{{"cand1", "cand2"}: 0.08, {"cand1", "cand3"}: 0.08}, true},
		{"a vote-for-two contest is confirmed pair by pair", "test7",
			pairs{{"cand1", "cand3"}: 0.01, {"cand2", "cand3"}: 0.04}, true},
		{"a vote-for-two contest with a close pair is not confirmed", "test8",
			pairs{{"cand1", "cand3"}: 0.0, {"cand2", "cand3"}: 0.22}, false},
		{"a vote-for-two landslide is confirmed", "test10",
			pairs{{"cand1", "cand3"}: 0, {"cand2", "cand3"}: 0.01}, true},
		{"an empty sample confirms nothing", "test11", pairs{{"cand1", "cand2"}: 1}, false},
		{"a loser without votes is beaten at once", "test12",
			pairs{{"cand1", "cand2"}: 0.07, {"cand1", "cand3"}: 0}, true},
		{"a small third candidate does not hold the audit back", "small3",
			pairs{{"cand1", "cand2"}: 0.000561, {"cand1", "cand3"}: 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rla.BRAVO(arloBravoContests[tc.contest], 0.1, arloRound1[tc.contest])
			if err != nil {
				t.Fatal(err)
			}
			got := pairs{}
			for _, p := range r.Pairs {
				got[p.Pair] = p.Risk
			}
			for pair, want := range tc.want {
				if math.Abs(got[pair]-want) >= 0.01 {
					t.Errorf("%v: got %v, want %v", pair, got[pair], want)
				}
			}
			if r.Confirmed != tc.confirmed {
				t.Errorf("confirmed = %v, want %v", r.Confirmed, tc.confirmed)
			}
		})
	}

	t.Run("the Georgia 2020 presidential risk is measured without overflow", func(t *testing.T) {
		// Arlo test_bravo.py, test_compute_risk: ("Biden", "Trump"):
		// 2.035688053599178e-09, every other pair 0.0, confirmed.
		r, err := rla.BRAVO(arloBravoContests["ga"], 0.1, arloRound1["ga"])
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Pairs[0]; got.Pair != (rla.Pair{"Biden", "Trump"}) || math.Abs(got.Risk/2.035688053599178e-09-1) > 1e-6 {
			t.Errorf("got %v %v", got.Pair, got.Risk)
		}
		for _, p := range r.Pairs[1:] {
			if p.Risk != 0 {
				t.Errorf("%v: got %v, want 0", p.Pair, p.Risk)
			}
		}
		if !r.Confirmed {
			t.Error("not confirmed")
		}
	})

	t.Run("an empty sample leaves every risk at one", func(t *testing.T) {
		// Arlo test_bravo.py, test_compute_risk_empty: every pair 1, not confirmed.
		for name, c := range arloBravoContests {
			if name == "test3" || name == "test9" {
				continue
			}
			r, err := rla.BRAVO(c, 0.1, nil)
			if err != nil {
				t.Fatal(name, err)
			}
			if r.Max != 1 || r.Confirmed {
				t.Errorf("%s: max %v confirmed %v", name, r.Max, r.Confirmed)
			}
		}
	})

	t.Run("a contest without losers cannot be audited", func(t *testing.T) {
		// Arlo test_bravo.py, test_get_sample_size: test3 and test9 raise
		// "Contest must have candidates who did not win!".
		for _, name := range []string{"test3", "test9"} {
			if _, err := rla.BRAVO(arloBravoContests[name], 0.1, nil); !errors.Is(err, rla.ErrNoLosers) {
				t.Errorf("%s: got %v", name, err)
			}
		}
	})

	t.Run("a sampled choice missing from the tally is refused", func(t *testing.T) {
		_, err := rla.BRAVO(arloBravoContests["test1"], 0.1, map[string]int{"cand9": 1})
		if !errors.Is(err, rla.ErrUnknownChoice) {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("a tie is confirmed only by a full hand count", func(t *testing.T) {
		// Arlo test_bravo.py, test_tied_contest.
		c := arloBravoContests["test5"]
		r, err := rla.BRAVO(c, 0.1, nil)
		if err != nil || r.Max <= 0.1 || r.Confirmed {
			t.Fatalf("empty sample: %+v %v", r, err)
		}
		r, err = rla.BRAVO(c, 0.1, map[string]int{"cand1": 501, "cand2": 499})
		if err != nil || r.Max != 0 || !r.Confirmed {
			t.Fatalf("full count: %+v %v", r, err)
		}
	})
}

func TestBRAVOSampleSizes(t *testing.T) {
	// Expected sizes: Arlo test_bravo.py, true_sample_sizes (first round)
	// and round2_sample_sizes (after round1_sample_results); ASNs also
	// test_expected_sample_sizes and test_expected_sample_sizes_second_round.
	for _, tc := range []struct {
		name    string
		contest string
		sample  map[string]int
		asn     int
		prob    float64
		sizes   [3]int // zero when Arlo gives only the ASN
	}{
		{"a 60-40 contest", "test1", nil, 119, 0.52, [3]int{184, 244, 351}},
		{"a three-way contest", "test2", nil, 22, 0.55, [3]int{32, 41, 57}},
		{"two losers tied for second", "test6", nil, 238, 0.52, [3]int{368, 488, 702}},
		{"a loser without votes changes nothing", "test12", nil, 119, 0.52, [3]int{184, 244, 351}},
		{"a small third candidate", "small3", nil, 1769, 0.5, [3]int{2837, 3760, 5426}},
		{"a vote-for-two contest", "test7", nil, 101, 0, [3]int{}},
		{"a vote-for-two contest with a close pair", "test8", nil, 34, 0, [3]int{}},
		{"a vote-for-two landslide", "test10", nil, 48, 0, [3]int{}},
		{"a second round after a weak first sample", "test2", arloRound1["test2"], 42, 0.53, [3]int{57, 66, 87}},
		{"a second round of a vote-for-two contest", "test8", arloRound1["test8"], 14, 0, [3]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rla.BRAVOSampleSizes(arloBravoContests[tc.contest], 0.1, tc.sample)
			if err != nil {
				t.Fatal(err)
			}
			if got.ASN != tc.asn || got.FullCount {
				t.Errorf("ASN = %d (full count %v), want %d", got.ASN, got.FullCount, tc.asn)
			}
			if tc.prob != 0 && got.ASNProb != tc.prob {
				t.Errorf("ASN probability = %v, want %v", got.ASNProb, tc.prob)
			}
			if tc.sizes != [3]int{} && got.Sizes != tc.sizes {
				t.Errorf("sizes = %v, want %v", got.Sizes, tc.sizes)
			}
		})
	}

	t.Run("a tie calls for a full hand count", func(t *testing.T) {
		// Arlo test_bravo.py, true_sample_sizes["test5"]: all-ballots, 1000.
		got, err := rla.BRAVOSampleSizes(arloBravoContests["test5"], 0.1, nil)
		if err != nil || !got.FullCount || got.Sizes != [3]int{1000, 1000, 1000} {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("a close statewide contest calls for a full hand count", func(t *testing.T) {
		// Arlo test_bravo.py, true_sample_sizes["test_ga_presidential"]:
		// all-ballots, 4992420.
		got, err := rla.BRAVOSampleSizes(arloBravoContests["ga"], 0.1, nil)
		if err != nil || !got.FullCount || got.Sizes[2] != 4992420 {
			t.Fatalf("got %+v, %v", got, err)
		}
	})

	t.Run("a finished audit needs no more ballots", func(t *testing.T) {
		// Arlo test_bravo.py, test_get_sample_size: after round 1, test1,
		// test6, test7, test10 and test12 raise "Sample indicates the audit
		// is over!".
		for _, name := range []string{"test1", "test6", "test7", "test10", "test12", "small3"} {
			_, err := rla.BRAVOSampleSizes(arloBravoContests[name], 0.1, arloRound1[name])
			if !errors.Is(err, rla.ErrAuditOver) {
				t.Errorf("%s: got %v", name, err)
			}
		}
	})

	t.Run("a contest whose loser has no votes needs log2(1/alpha) winner votes", func(t *testing.T) {
		// Arlo returns a placeholder of 1 ballot for BRAVO (test11); its
		// Minerva test test_get_sample_size_landslide gives 4 for the
		// same kind of contest, which is ceil(log2(1/0.1)) = 4: every
		// sampled ballot doubles T and 2^4 = 16 >= 10.
		got, err := rla.BRAVOSampleSizes(arloBravoContests["test11"], 0.1, nil)
		if err != nil || got.ASN != 4 || got.Sizes != [3]int{4, 4, 4} {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
}

func TestBRAVORoundSize(t *testing.T) {
	// Expected sizes: Arlo test_bravo.py, test_bravo_sample_sizes,
	// test_bravo_sample_sizes_small_prob, test_bravo_sample_sizes_round1_finish
	// and test_bravo_sample_sizes_round1_incomplete (bravo_sample_sizes with
	// alpha 0.1 and the given shares p_w, p_r).
	for _, tc := range []struct {
		name   string
		c      rla.Contest
		sample map[string]int
		prob   float64
		want   int
	}{
		{"40 to 32 with a 90% chance", contest(100000, 1, "w", 40000, "r", 32000, "o", 28000), nil, 0.9, 1599},
		{"36 to 32 with a 90% chance", contest(100000, 1, "w", 36000, "r", 32000, "o", 32000), nil, 0.9, 6067},
		// Arlo's test expects 2476: its formula reaches 1683 votes for the
		// pair, and 1683 / (0.36 + 0.32) is exactly 2475, but Arlo divides
		// by Decimal(0.36) + Decimal(0.32), the binary approximations,
		// = 0.67999999999999999334, giving 2475.00000000000002 and a
		// ceiling of 2476. We scale in exact integers.
		{"36 to 32 with a 60% chance", contest(100000, 1, "w", 36000, "r", 32000, "o", 32000), nil, 0.6, 2475},
		{"52 to 47 with a 90% chance", contest(100000, 1, "w", 52000, "r", 47000, "o", 1000), nil, 0.9, 5657},
		{"40 to 32 with a 40% chance", contest(100000, 1, "w", 40000, "r", 32000, "o", 28000), nil, 0.4, 409},
		{"a sample that already suffices needs nothing more",
			contest(100000, 1, "w", 52000, "r", 47000, "o", 1000), map[string]int{"w": 10000}, 0.9, 0},
		{"an incomplete first round", contest(100000, 1, "w", 52000, "r", 47000, "o", 1000),
			map[string]int{"w": 2923, "r": 2735}, 0.9, 2636},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := rla.BRAVORoundSize(tc.c, 0.1, tc.sample, tc.prob)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}
