package rla_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

// arloMacroContests and arloMacroBatches are the fixtures of Arlo's MACRO
// tests (votingworks/arlo server/tests/audit_math/test_macro.py at commit
// 3d4c6ceb65b4004f835ce8a3a76d21b954f652c1: macro_contests and batches).
var arloMacroContests = map[string]rla.Contest{
	"Contest A": contest(120000, 1, "winner", 60000, "loser", 54000),
	"Contest B": contest(60000, 1, "winner", 30000, "loser", 24000),
	"Contest C": contest(36000, 1, "winner", 18000, "loser", 12600),
}

func arloMacroBatches(contest string) []rla.BatchResult {
	var out []rla.BatchResult
	add := func(name string, in bool, w, l, b int) {
		r := rla.BatchResult{Batch: name}
		if in {
			r = rla.BatchResult{Batch: name, Ballots: b, Votes: map[string]int{"winner": w, "loser": l}}
		}
		out = append(out, r)
	}
	for i := range 200 {
		switch contest {
		case "Contest A":
			add(fmt.Sprint("Batch ", i), true, 200, 180, 400)
			add(fmt.Sprint("Batch ", i, " AV"), true, 100, 90, 200)
		case "Contest B":
			add(fmt.Sprint("Batch ", i), i < 100, 200, 160, 400)
			add(fmt.Sprint("Batch ", i, " AV"), i < 100, 100, 80, 200)
		case "Contest C":
			in := i < 30 || (i >= 100 && i < 130)
			add(fmt.Sprint("Batch ", i), in, 200, 140, 400)
			add(fmt.Sprint("Batch ", i, " AV"), in, 100, 70, 200)
		}
	}
	return out
}

func TestMACRO(t *testing.T) {
	t.Run("the largest hidden overstatement of each batch", func(t *testing.T) {
		// test_max_error: expected_ups, checked to 0.001.
		for _, tc := range []struct {
			contest string
			batch   int
			want    float64
		}{
			{"Contest A", 0, 0.0700}, {"Contest A", 1, 0.035},
			{"Contest B", 0, 0.0733}, {"Contest B", 1, 0.0367},
			{"Contest C", 0, 0.0852}, {"Contest C", 1, 0.0426},
		} {
			b := arloMacroBatches(tc.contest)[tc.batch]
			if got := rla.MACROMaxError(arloMacroContests[tc.contest], b); math.Abs(got-tc.want) >= 0.001 {
				t.Errorf("%s %s: got %v, want %v", tc.contest, b.Batch, got, tc.want)
			}
		}
	})

	t.Run("first-round sizes follow from the total error bound", func(t *testing.T) {
		// test_get_sample_sizes: expected_first_round 29, 15, 10 (the test's
		// RISK_LIMIT 0.25 is used as alpha = 0.25 in that version).
		for name, want := range map[string]int{"Contest A": 29, "Contest B": 15, "Contest C": 10} {
			got, err := rla.MACROSampleSize(arloMacroContests[name], 0.25, arloMacroBatches(name), nil)
			if err != nil || got != want {
				t.Errorf("%s: got %d, %v, want %d", name, got, err, want)
			}
		}
	})

	t.Run("clean counted batches shrink the next round", func(t *testing.T) {
		// test_get_sample_sizes: expected_second_round 26, 12, 7 after 31
		// clean batches "Batch 0".."Batch 30".
		for name, want := range map[string]int{"Contest A": 26, "Contest B": 12, "Contest C": 7} {
			batches := arloMacroBatches(name)
			counted := map[string]rla.BatchResult{}
			for _, b := range batches {
				var i int
				if n, _ := fmt.Sscanf(b.Batch, "Batch %d", &i); n == 1 && i < 31 && b.Batch == fmt.Sprint("Batch ", i) {
					counted[b.Batch] = b
				}
			}
			got, err := rla.MACROSampleSize(arloMacroContests[name], 0.25, batches, counted)
			if err != nil || got != want {
				t.Errorf("%s: got %d, %v, want %d", name, got, err, want)
			}
		}
	})

	t.Run("clean and tainted draws reach the risk limit", func(t *testing.T) {
		// test_compute_risk: 31 clean batches, then batches 100..105 with
		// Contest A counted 190 to 190; expected P 0.247688222 (to 0.01),
		// confirmed at alpha 0.25.
		for name, c := range arloMacroContests {
			batches := arloMacroBatches(name)
			reported := map[string]rla.BatchResult{}
			for _, b := range batches {
				reported[b.Batch] = b
			}
			var draws []rla.BatchResult
			for i := range 31 {
				draws = append(draws, reported[fmt.Sprint("Batch ", i)])
			}
			for i := 100; i < 106; i++ {
				d := reported[fmt.Sprint("Batch ", i)]
				if name == "Contest A" {
					d.Votes = map[string]int{"winner": 190, "loser": 190}
				}
				draws = append(draws, d)
			}
			p, ok, err := rla.MACRO(c, 0.25, batches, draws)
			if err != nil || math.Abs(p-0.247688222) >= 0.01 || !ok {
				t.Errorf("%s: got %v %v %v", name, p, ok, err)
			}
		}
	})

	t.Run("a batch holding all the error it could voids the bound", func(t *testing.T) {
		// test_worst_case: (1.0, False).
		c := contest(1000, 1, "winner", 1000, "loser", 0)
		batches := []rla.BatchResult{
			{"Batch 1", 500, map[string]int{"winner": 500}},
			{"Batch 2", 500, map[string]int{"winner": 500}},
		}
		p, ok, err := rla.MACRO(c, 0.1, batches, []rla.BatchResult{{"Batch 1", 500, map[string]int{"loser": 500}}})
		if err != nil || p != 1 || ok {
			t.Fatalf("got %v %v %v", p, ok, err)
		}
	})

	t.Run("a tie needs every batch", func(t *testing.T) {
		// test_tied_contest: sample size len(batches) = 100; P > alpha after
		// one batch; 0 after all of them.
		c := contest(100000, 1, "winner", 50000, "loser", 50000)
		var batches []rla.BatchResult
		for i := range 100 {
			batches = append(batches, rla.BatchResult{fmt.Sprint(i), 1000, map[string]int{"winner": 500, "loser": 500}})
		}
		n, err := rla.MACROSampleSize(c, 0.1, batches, nil)
		if err != nil || n != 100 {
			t.Fatalf("size %d %v", n, err)
		}
		p, ok, _ := rla.MACRO(c, 0.1, batches, batches[:1])
		if p <= 0.1 || ok {
			t.Fatalf("one batch: %v %v", p, ok)
		}
		p, ok, _ = rla.MACRO(c, 0.1, batches, batches)
		if p != 0 || !ok {
			t.Fatalf("all batches: %v %v", p, ok)
		}
	})
}
