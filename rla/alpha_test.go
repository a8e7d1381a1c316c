package rla_test

import (
	"math"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

func TestALPHA(t *testing.T) {
	t.Run("values at the hypothesized mean give no evidence", func(t *testing.T) {
		// SHANGRLA shangrla/tests/test_NonnegMean.py, test_alpha_mart:
		// five values of 1/2, N = 10^6: P-value 1.0.
		a := rla.ALPHA{N: 1_000_000, Eta0: 0.6, D: 100}
		p, err := a.PValues([]float64{0.5, 0.5, 0.5, 0.5, 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if p[4] != 1 {
			t.Fatalf("got %v", p)
		}
	})

	t.Run("a sample that exhausts the null proves the assertion", func(t *testing.T) {
		// test_alpha_mart: s1 = [1,0,1,1,0,0,1], u = 1, N = 7, t = 3/7:
		// no NaN, and the last P-value is 0; s2 differs only in its last
		// value, and the two sequences agree up to it.
		a := rla.ALPHA{N: 7, T: 3.0 / 7, Eta0: 0.6, D: 10}
		p1, err := a.PValues([]float64{1, 0, 1, 1, 0, 0, 1})
		if err != nil {
			t.Fatal(err)
		}
		p2, err := a.PValues([]float64{1, 0, 1, 1, 0, 0, 0})
		if err != nil {
			t.Fatal(err)
		}
		for i := range p1 {
			if math.IsNaN(p1[i]) || math.IsNaN(p2[i]) {
				t.Fatalf("NaN: %v %v", p1, p2)
			}
			if i < 6 && p1[i] != p2[i] {
				t.Errorf("draw %d: %v != %v", i+1, p1[i], p2[i])
			}
		}
		if p1[6] != 0 {
			t.Errorf("last P-value %v, want 0", p1[6])
		}
	})

	for _, tc := range []struct {
		name string
		x    float64
		want int
	}{
		// test_NonnegMean.py, test_sample_size: fixed alternative 0.75,
		// u = 1, N = 1000, alpha = 0.05. "((.75/.5)*1+(.25/.5)*0)**8 = 25 >
		// 1/alpha, so sam_size=8".
		{"ballots all for the winner need 8 draws", 1, 8},
		// "((.75/.5)*.75+(.25/.5)*.25)**14 = 22.7 > 1/alpha, so sam_size=14".
		{"assorter values of 0.75 need 14 draws", 0.75, 14},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := rla.ALPHA{N: 1000, Eta0: 0.75, Fixed: true}
			got, err := a.SampleSize([]float64{tc.x}, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}

	t.Run("parameters outside the domain are refused", func(t *testing.T) {
		if _, err := (rla.ALPHA{Eta0: 0.4}).PValues([]float64{1}); err == nil {
			t.Fatal("accepted eta0 below the null mean")
		}
		if _, err := (rla.ALPHA{Eta0: 0.6}).PValues([]float64{2}); err == nil {
			t.Fatal("accepted a value above u")
		}
	})
}

func TestAssertions(t *testing.T) {
	c := contest(1000, 1, "a", 600, "b", 300, "c", 100)
	t.Run("every winner must beat every loser", func(t *testing.T) {
		got := rla.Assertions(c)
		want := []rla.Assertion{{"a", "b"}, {"a", "c"}}
		if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("the plurality assorter scores winner, loser and other votes", func(t *testing.T) {
		// SHANGRLA (Stark 2020), section 2.1: A(b) = (b_w − b_l + 1)/2.
		a := rla.Assertion{Winner: "a", Loser: "b"}
		for votes, want := range map[string]float64{"a": 1, "b": 0, "c": 0.5, "": 0.5} {
			if got := a.Assort(map[string]int{votes: 1}); got != want {
				t.Errorf("vote for %q: got %v, want %v", votes, got, want)
			}
		}
	})
	t.Run("the comparison assorter scores overstatements", func(t *testing.T) {
		// SHANGRLA section 3.2: B = (1 − ω)/(2 − v), v = (600 − 300)/1000 = 0.3:
		// no error 1/1.7, one-vote overstatement (ω = 1/2) 0.5/1.7, two-vote
		// (ω = 1) 0; upper bound 2/1.7.
		a := rla.Assertion{Winner: "a", Loser: "b"}
		v := a.Margin(c)
		if math.Abs(v-0.3) > 1e-15 {
			t.Fatalf("margin %v", v)
		}
		cvr := map[string]int{"a": 1}
		for _, tc := range []struct {
			mvr  map[string]int
			want float64
		}{{map[string]int{"a": 1}, 1 / 1.7}, {map[string]int{}, 0.5 / 1.7}, {map[string]int{"b": 1}, 0}} {
			if got := a.OverstatementAssort(cvr, tc.mvr, v); math.Abs(got-tc.want) > 1e-15 {
				t.Errorf("%v: got %v, want %v", tc.mvr, got, tc.want)
			}
		}
		if got := rla.OverstatementUpper(v); math.Abs(got-2/1.7) > 1e-15 {
			t.Errorf("upper %v", got)
		}
	})
}
