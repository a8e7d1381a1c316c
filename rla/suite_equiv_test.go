package rla

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// These tests hold the SUITE search to the code it replaced
// (suite_ref_test.go): every P-value, risk and sample size must be the
// same float64 or int, bit for bit, over a broad randomized set of
// contests and samples. Arlo's values in suite_test.go pin only a few
// cases to a tolerance; these pin the shortcuts (a derivative evaluated
// only where its sign is uncertain, values cached across λ) to the
// arithmetic they skip.

func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

// randomStratum draws a stratum of a pair: ballots, the winner's and the
// loser's votes (either may lead), from tiny strata to millions of
// ballots.
func randomStratum(r *rand.Rand) (ballots, vw, vl int) {
	switch r.IntN(4) {
	case 0:
		ballots = 1 + r.IntN(20)
	case 1:
		ballots = 1 + r.IntN(2_000)
	case 2:
		ballots = 1 + r.IntN(200_000)
	default:
		ballots = 1 + r.IntN(3_000_000)
	}
	vw = r.IntN(ballots + 1)
	vl = r.IntN(ballots - vw + 1)
	if r.IntN(3) == 0 {
		vw, vl = vl, vw
	}
	return ballots, vw, vl
}

// randomDraw draws a sample from a stratum, its votes near the stratum's
// shares or anywhere, sometimes contradicting them.
func randomDraw(r *rand.Rand, ballots, vw, vl int) (n, nw, nl int) {
	switch r.IntN(3) {
	case 0:
		n = r.IntN(min(ballots, 50) + 1)
	case 1:
		n = r.IntN(min(ballots, 2_000) + 1)
	default:
		n = r.IntN(ballots + 1)
	}
	if r.IntN(2) == 0 {
		nw = int(float64(n) * float64(vw) / float64(ballots) * (0.8 + 0.4*r.Float64()))
		nl = int(float64(n) * float64(vl) / float64(ballots) * (0.8 + 0.4*r.Float64()))
	} else {
		nw = r.IntN(n + 1)
		nl = r.IntN(n - nw + 1)
	}
	nw, nl = min(nw, n), min(nl, n-min(nw, n))
	return n, max(nw, 0), max(nl, 0)
}

func TestSUITEPollingPMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 2018))
	cases := 20_000
	if testing.Short() {
		cases = 2_000
	}
	for i := range cases {
		ballots, vw, vl := randomStratum(r)
		n, nw, nl := randomDraw(r, ballots, vw, vl)
		margin := vw - vl + r.IntN(2*ballots+1) - ballots/2
		if r.IntN(4) == 0 {
			margin = vw - vl
		}
		var lambda float64
		switch r.IntN(3) {
		case 0:
			lambda = 1
		case 1:
			lambda = -1 + 3*r.Float64()
		default:
			lambda = float64(r.IntN(41))*0.05 - 0.5
		}
		got := SUITEPollingP(ballots, vw, vl, n, nw, nl, margin, lambda)
		want := refSUITEPollingP(ballots, vw, vl, n, nw, nl, margin, lambda)
		if !sameFloat(got, want) {
			t.Fatalf("case %d: SUITEPollingP(%d, %d, %d, %d, %d, %d, %d, %v) = %v, reference %v",
				i, ballots, vw, vl, n, nw, nl, margin, lambda, got, want)
		}
	}
}

func TestSUITEComparisonPMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2018))
	for i := range 20_000 {
		ballots, vw, vl := randomStratum(r)
		n := r.IntN(ballots + 1)
		var d Discrepancies
		if n > 0 && r.IntN(2) == 0 {
			d.O1 = r.IntN(n/4 + 1)
			d.O2 = r.IntN(n/4 + 1)
			d.U1 = r.IntN(n/4 + 1)
			d.U2 = r.IntN(n/4 + 1)
		}
		margin := vw - vl
		lambda := -1 + 3*r.Float64()
		got := SUITEComparisonP(ballots, n, d, margin, lambda)
		want := refSUITEComparisonP(ballots, n, d, margin, lambda)
		if !sameFloat(got, want) {
			t.Fatalf("case %d: SUITEComparisonP(%d, %d, %+v, %d, %v) = %v, reference %v", i, ballots, n, d, margin, lambda, got, want)
		}
	}
}

func TestChi2ISF4MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 2018))
	ps := []float64{0, 1, 0.05, 0.1, 1e-300, 5e-324, math.Nextafter(1, 0), 0.5}
	for range 20_000 {
		ps = append(ps, r.Float64(), math.Exp(-700*r.Float64()))
	}
	for _, p := range ps {
		if got, want := chi2ISF4(p), refChi2ISF4(p); !sameFloat(got, want) {
			t.Fatalf("chi2ISF4(%v) = %v, reference %v", p, got, want)
		}
	}
}

// randomHybrid draws a contest of two to four choices split between the
// strata, and a sample of it (or none).
func randomHybrid(r *rand.Rand) (HybridContest, HybridSample) {
	names := []string{"a", "b", "c", "d"}[:2+r.IntN(3)]
	var cvrBallots, bpBallots int
	scale := []int{20, 1_000, 30_000, 300_000}[r.IntN(4)]
	cvrBallots = r.IntN(scale + 1)
	bpBallots = r.IntN(scale + 1)
	if r.IntN(5) == 0 {
		bpBallots = r.IntN(scale/10 + 1)
	}
	if cvrBallots+bpBallots == 0 {
		cvrBallots = 1
	}
	h := HybridContest{
		Contest: Contest{Name: "random", Ballots: cvrBallots + bpBallots, Winners: 1},
		CVR:     Stratum{Ballots: cvrBallots, Votes: map[string]int{}},
		NoCVR:   Stratum{Ballots: bpBallots, Votes: map[string]int{}},
	}
	split := func(ballots int) []int {
		// Shares that favour the first choice, closely or widely.
		left := ballots - r.IntN(ballots/5+1)
		votes := make([]int, len(names))
		for i := range names {
			share := 0.5 + 0.1*r.Float64()
			if i == len(names)-1 {
				share = 1
			}
			votes[i] = int(share * float64(left))
			left -= votes[i]
		}
		return votes
	}
	cv, bv := split(cvrBallots), split(bpBallots)
	for i, n := range names {
		h.CVR.Votes[n], h.NoCVR.Votes[n] = cv[i], bv[i]
		h.Tally = append(h.Tally, Choice{Name: n, Votes: cv[i] + bv[i]})
	}
	var s HybridSample
	if r.IntN(3) == 0 {
		return h, s
	}
	s.CVRSampled = r.IntN(min(cvrBallots, 3_000) + 1)
	s.NoCVRSampled = r.IntN(min(bpBallots, 1_000) + 1)
	s.Misstatements = map[Pair]Discrepancies{}
	if s.CVRSampled > 0 && r.IntN(2) == 0 {
		s.Misstatements[Pair{names[0], names[1]}] = Discrepancies{O1: r.IntN(s.CVRSampled/20 + 1), U1: r.IntN(s.CVRSampled/20 + 1)}
	}
	s.NoCVRVotes = map[string]int{}
	left := s.NoCVRSampled
	for i, n := range names {
		v := 0
		if bpBallots > 0 {
			v = int(float64(s.NoCVRSampled) * float64(bv[i]) / float64(bpBallots) * (0.85 + 0.3*r.Float64()))
		}
		v = min(v, left, bv[i])
		s.NoCVRVotes[n] = v
		left -= v
	}
	return h, s
}

func TestSUITEMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 2018))
	contests := 300
	if testing.Short() {
		contests = 40
	}
	for i := range contests {
		h, s := randomHybrid(r)
		alpha := []float64{0.05, 0.1, 0.01, 0.2}[r.IntN(4)]
		name := fmt.Sprintf("contest %d: %+v %+v, alpha %v", i, h, s, alpha)
		gotC, gotB, gotErr := SUITESampleSize(h, alpha, s)
		wantC, wantB, wantErr := refSUITESampleSize(h, alpha, s)
		if gotC != wantC || gotB != wantB || gotErr != wantErr {
			t.Fatalf("%s: SUITESampleSize (%d, %d, %v), reference (%d, %d, %v)", name, gotC, gotB, gotErr, wantC, wantB, wantErr)
		}
		got, gotErr := SUITERisk(h, alpha, s)
		want, wantErr := refSUITERisk(h, alpha, s)
		if gotErr != wantErr || !sameFloat(got.Max, want.Max) || got.Confirmed != want.Confirmed || len(got.Pairs) != len(want.Pairs) {
			t.Fatalf("%s: SUITERisk %+v %v, reference %+v %v", name, got, gotErr, want, wantErr)
		}
		for j := range got.Pairs {
			if got.Pairs[j].Pair != want.Pairs[j].Pair || !sameFloat(got.Pairs[j].Risk, want.Pairs[j].Risk) {
				t.Fatalf("%s: pair %d risk %v, reference %v", name, j, got.Pairs[j], want.Pairs[j])
			}
		}
	}
}

// TestSUITEMaximizeMatchesReference drives the grid search directly with
// the hypothetical samples the sample-size search builds, for both of
// its modes.
func TestSUITEMaximizeMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 2018))
	pairs := 2_000
	if testing.Short() {
		pairs = 200
	}
	for i := range pairs {
		h, s := randomHybrid(r)
		if h.Validate() != nil || h.checkSample(s) != nil {
			continue
		}
		w, l := h.Outcome()
		if len(l) == 0 {
			continue
		}
		p := h.pair(w[0].Name, l[0].Name, s)
		alpha := []float64{0.05, 0.1, 0.01}[r.IntN(3)]
		ratio := float64(p.cvrBallots) / float64(max(p.cvrBallots+p.bpBallots, 1))
		n := max(suiteMinSize, p.cvrSampled+p.bpSampled) + r.IntN(h.Ballots+1)
		for _, over := range []bool{false, true} {
			if got, want := p.maximize(alpha, over), refMaximize(p, alpha, over); !sameFloat(got, want) {
				t.Fatalf("pair %d %+v: maximize(%v, %v) = %v, reference %v", i, p, alpha, over, got, want)
			}
		}
		if got, want := p.suiteTry(n, alpha, ratio), refSuiteTry(p, n, alpha, ratio); !sameFloat(got, want) {
			t.Fatalf("pair %d %+v: suiteTry(%d) = %v, reference %v", i, p, n, got, want)
		}
	}
}

// TestSUITEBenchContestsMatchReference checks the benchmark's contests
// themselves, sizes and risks.
func TestSUITEBenchContestsMatchReference(t *testing.T) {
	for i := range 100 {
		margin := 2000 + 380*i
		w, l := 45000+margin/2, 45000-margin/2
		c := Contest{Name: fmt.Sprint("c", i), Ballots: 100_000, Winners: 1,
			Tally: []Choice{{"w", w}, {"l", l}, {"o", 100_000 - w - l}}}
		h := HybridContest{Contest: c, CVR: Stratum{Ballots: 90_000, Votes: map[string]int{}}, NoCVR: Stratum{Ballots: 10_000, Votes: map[string]int{}}}
		for _, ch := range c.Tally {
			h.NoCVR.Votes[ch.Name] = ch.Votes / 10
			h.CVR.Votes[ch.Name] = ch.Votes - ch.Votes/10
		}
		cvr, no, err := SUITESampleSize(h, 0.1, HybridSample{})
		wc, wn, werr := refSUITESampleSize(h, 0.1, HybridSample{})
		if cvr != wc || no != wn || err != werr {
			t.Fatalf("contest %d: (%d, %d, %v), reference (%d, %d, %v)", i, cvr, no, err, wc, wn, werr)
		}
		s := HybridSample{CVRSampled: cvr, NoCVRSampled: no, NoCVRVotes: map[string]int{}}
		for name, v := range h.NoCVR.Votes {
			s.NoCVRVotes[name] = v * no / h.NoCVR.Ballots
		}
		got, _ := SUITERisk(h, 0.1, s)
		want, _ := refSUITERisk(h, 0.1, s)
		if !sameFloat(got.Max, want.Max) {
			t.Fatalf("contest %d: risk %v, reference %v", i, got.Max, want.Max)
		}
	}
}

// TestSUITEPollingUpperBound holds the bound maximize prunes with to be
// one: never below the P-value it stands for, and close to it.
func TestSUITEPollingUpperBound(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 2018))
	cases := 50_000
	if testing.Short() {
		cases = 5_000
	}
	tight, inner := 0, 0
	for i := range cases {
		ballots, vw, vl := randomStratum(r)
		n, nw, nl := randomDraw(r, ballots, vw, vl)
		margin := vw - vl + r.IntN(2*ballots+1) - ballots/2
		if r.IntN(3) == 0 {
			margin = vw - vl
		}
		lambda := -1 + 3*r.Float64()
		pt := newPollingTest(ballots, vw, vl, n, nw, nl, margin)
		p := math.Min(1, pt.pValue(lambda))
		ub := pt.upperBound(lambda)
		if !(ub >= p) && !math.IsNaN(p) {
			t.Fatalf("case %d: upperBound(%d, %d, %d, %d, %d, %d, %d, %v) = %v < P-value %v",
				i, ballots, vw, vl, n, nw, nl, margin, lambda, ub, p)
		}
		if p > 1e-300 && p < 0.5 {
			inner++
			if ub <= p*(1+1e-3) {
				tight++
			}
		}
	}
	if tight < inner/3 {
		t.Errorf("the bound is within 0.1%% of the P-value in only %d of %d cases", tight, inner)
	}
	t.Logf("within 0.1%%: %d of %d", tight, inner)
}

func TestCapOneIsMathMin(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 1, math.Nextafter(1, 0), math.Nextafter(1, 2), 2, -1, math.Inf(1), math.Inf(-1), math.NaN(), 1e-300, 5e-324} {
		for _, want := range []float64{math.Min(x, 1), math.Min(1, x)} {
			if got := capOne(x); math.Float64bits(got) != math.Float64bits(want) {
				t.Errorf("capOne(%v) = %v, math.Min %v", x, got, want)
			}
		}
	}
}
