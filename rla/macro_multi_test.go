package rla_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

func multi(contest string, bs []rla.BatchResult) []rla.MultiBatch {
	out := make([]rla.MultiBatch, len(bs))
	for i, b := range bs {
		out[i] = rla.MultiBatch{Batch: b.Batch, Results: map[string]rla.BatchResult{contest: b}}
	}
	return out
}

func TestMACROMulti(t *testing.T) {
	t.Run("with one contest it is MACRO, on Arlo's fixtures", func(t *testing.T) {
		// Independent path: rla.MACRO and rla.MACROSampleSize, which
		// TestMACRO checks against Arlo's published values.
		for name, c := range arloMacroContests {
			c.Name = name
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
				d.Votes = map[string]int{"winner": 190, "loser": 190}
				draws = append(draws, d)
			}
			for _, k := range []int{1, 10, 31, 33, len(draws)} {
				wantP, wantOK, err := rla.MACRO(c, 0.25, batches, draws[:k])
				if err != nil {
					t.Fatal(err)
				}
				got, ok, err := rla.MACROMulti([]rla.Contest{c}, 0.25, multi(name, batches), multi(name, draws[:k]))
				if err != nil || math.Abs(got[0]-wantP) > 1e-12 || ok[0] != wantOK {
					t.Errorf("%s, %d draws: got %v %v %v, MACRO says %v %v", name, k, got, ok, err, wantP, wantOK)
				}
			}
			want, _ := rla.MACROSampleSize(c, 0.25, batches, nil)
			if got, err := rla.MACROMultiSampleSize([]rla.Contest{c}, []bool{true}, 0.25, multi(name, batches), nil); err != nil || got != want {
				t.Errorf("%s: size %d %v, MACRO says %d", name, got, err, want)
			}
		}
	})

	// Two contests by hand. X: 60-40 (margin 20) over b1 and b2, each
	// 30-20 of 50 ballots: u_X = (30-20+50)/20 = 3 in each. Y: 30-10
	// (margin 20), 30-10 of b1's 50 ballots and 0-0 of 10 in b2:
	// u_Y,b1 = (30-10+50)/20 = 3.5, u_Y,b2 = 10/20 = 0.5.
	// So u_b1 = max(3, 3.5) = 3.5, u_b2 = max(3, 0.5) = 3, U = 6.5 and
	// 1 - 1/U = 11/13.
	x := contest(100, 1, "xw", 60, "xl", 40)
	x.Name = "X"
	y := contest(60, 1, "yw", 30, "yl", 10)
	y.Name = "Y"
	cs := []rla.Contest{x, y}
	b1 := rla.MultiBatch{Batch: "b1", Results: map[string]rla.BatchResult{
		"X": {Batch: "b1", Ballots: 50, Votes: map[string]int{"xw": 30, "xl": 20}},
		"Y": {Batch: "b1", Ballots: 50, Votes: map[string]int{"yw": 30, "yl": 10}}}}
	b2 := rla.MultiBatch{Batch: "b2", Results: map[string]rla.BatchResult{
		"X": {Batch: "b2", Ballots: 50, Votes: map[string]int{"xw": 30, "xl": 20}},
		"Y": {Batch: "b2", Ballots: 10, Votes: map[string]int{}}}}
	reported := []rla.MultiBatch{b1, b2}
	t.Run("a batch's bound is the largest over the contests", func(t *testing.T) {
		if u := rla.MACROMultiMaxError(cs, b1); math.Abs(u-3.5) > 1e-12 {
			t.Fatalf("u_b1 %v", u)
		}
		if u := rla.MACROMultiMaxError(cs, b2); math.Abs(u-3) > 1e-12 {
			t.Fatalf("u_b2 %v", u)
		}
	})
	t.Run("each contest is measured on the shared sample with its own taints", func(t *testing.T) {
		// b1, drawn twice, counted with Y at 29-11: an overstatement of
		// (30-10)-(29-11) = 2 votes, e = 2/20 = 0.1, taint 0.1/3.5 = 1/35;
		// X is exact. P_X = (11/13)^2 = 121/169; P_Y = ((11/13)/(34/35))^2 =
		// (385/442)^2.
		c1 := b1
		c1.Results = map[string]rla.BatchResult{"X": b1.Results["X"], "Y": {Batch: "b1", Ballots: 50, Votes: map[string]int{"yw": 29, "yl": 11}}}
		risks, ok, err := rla.MACROMulti(cs, 0.1, reported, []rla.MultiBatch{c1, c1})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(risks[0]-121.0/169) > 1e-12 || ok[0] {
			t.Errorf("X: %v, want 121/169", risks[0])
		}
		if want := (385.0 / 442) * (385.0 / 442); math.Abs(risks[1]-want) > 1e-12 || ok[1] {
			t.Errorf("Y: %v, want (385/442)^2", risks[1])
		}
		// Counting both of X's batches is X's full hand count: risk 0.
		if risks, ok, _ := rla.MACROMulti(cs, 0.1, reported, []rla.MultiBatch{c1, b2}); risks[0] != 0 || !ok[0] || risks[1] != 0 {
			t.Errorf("every batch counted: %v %v", risks, ok)
		}
		risks, _, _ = rla.MACROMulti(cs, 0.1, reported, []rla.MultiBatch{c1})
		if math.Abs(risks[0]-11.0/13) > 1e-12 || math.Abs(risks[1]-385.0/442) > 1e-12 {
			t.Errorf("after b1 alone: %v, want 11/13 and 385/442", risks)
		}
		// The size: b1 counted shows e = 0.1, b2 keeps u = 3: U' = 3.1, and
		// ceil(ln 0.1 / ln(1 - 1/3.1)) = 6, capped at the 2 batches.
		if n, err := rla.MACROMultiSampleSize(cs, []bool{true, true}, 0.1, reported, map[string]rla.MultiBatch{"b1": c1}); err != nil || n != 2 {
			t.Errorf("size %d %v", n, err)
		}
	})
	t.Run("a drawn batch outside the reported ones is refused", func(t *testing.T) {
		if _, _, err := rla.MACROMulti(cs, 0.1, reported, []rla.MultiBatch{{Batch: "b9"}}); err != rla.ErrBatchUnknown {
			t.Fatalf("got %v", err)
		}
	})
}
