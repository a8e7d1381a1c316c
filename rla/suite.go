package rla

import (
	"errors"
	"fmt"
	"math"
)

// SUITE is a stratified ("hybrid") audit: the ballots with a cast vote
// record form one stratum, audited by ballot comparison; the ballots
// without one form the other, audited by ballot polling; both are sampled
// without replacement. It is Ottoboni, Stark, Lindeman and McBurnett,
// "Risk-limiting audits by stratified union-intersection tests of
// elections (SUITE)", E-Vote-ID 2018, as Arlo's hybrid audits compute it
// (votingworks/arlo server/audit_math/suite.py, after Stark and
// Ottoboni's CORLA18 code):
//
// For a winner w and loser l with overall reported margin V (votes), the
// outcome is wrong only if the overstatements ω_1 (CVR stratum) and ω_2
// (no-CVR stratum) of the margin add up to at least V, that is, for some
// λ, ω_1 >= λV and ω_2 >= (1−λ)V. For each λ the two stratum nulls are
// tested separately — the CVR stratum with the Kaplan-Markov P-value of
// the super-simple method, the no-CVR stratum with Wald's SPRT for
// sampling without replacement, maximised over the nuisance number of
// other ballots — and combined with Fisher's function
// P = Pr(χ²_4 >= −2 ln(p_1 p_2)). The pair's risk is the largest combined
// P over λ, found on a grid of step 0.05 that is refined (step/10 around
// the best λ) until the modulus of continuity of Fisher's statistic shows
// that no λ between grid points can lift P over the risk limit.
//
// The contest's risk is the largest over its winner-loser pairs. Every
// ballot carries at most one vote in the contest (vote for 1); the
// per-pair tallies of a vote-for-N contest cannot be recovered from the
// strata's totals.

// Stratum is one stratum's reported result in a contest: the ballots of
// the stratum that hold the contest, and each choice's votes.
type Stratum struct {
	Ballots int
	Votes   map[string]int
}

// HybridContest is a contest's reported outcome, overall and split into
// the stratum with CVRs and the stratum without.
type HybridContest struct {
	Contest
	CVR, NoCVR Stratum
}

// HybridSample is what the audit has seen so far in both strata,
// cumulated over rounds.
type HybridSample struct {
	// CVRSampled is the number of (distinct) ballots drawn from the CVR
	// stratum; Misstatements their over- and understatements, counted for
	// every winner-loser pair. A pair absent from the map had none.
	CVRSampled    int
	Misstatements map[Pair]Discrepancies
	// NoCVRSampled is the number of (distinct) ballots drawn from the
	// no-CVR stratum and NoCVRVotes the votes read on them, by choice.
	NoCVRSampled int
	NoCVRVotes   map[string]int
	// NoCVRNotFound counts the no-CVR stratum's sampled ballots that could
	// not be found: each counts as a vote for the loser of every pair.
	NoCVRNotFound int
}

// SUITE errors.
var (
	ErrStrata    = errors.New("the strata's ballots and votes must add up to the contest's")
	ErrFullCount = errors.New("one or both strata need a full hand count")
)

// Validate checks that the strata add up to the contest.
func (h HybridContest) Validate() error {
	if err := h.Contest.Validate(); err != nil {
		return err
	}
	if h.CVR.Ballots < 0 || h.NoCVR.Ballots < 0 || h.CVR.Ballots+h.NoCVR.Ballots != h.Ballots {
		return fmt.Errorf("ballots %d + %d, not %d: %w", h.CVR.Ballots, h.NoCVR.Ballots, h.Ballots, ErrStrata)
	}
	idx := h.index()
	for _, s := range []Stratum{h.CVR, h.NoCVR} {
		for name, v := range s.Votes {
			if _, ok := idx[name]; !ok {
				return fmt.Errorf("choice %q: %w", name, ErrUnknownChoice)
			}
			if v < 0 || v > s.Ballots {
				return fmt.Errorf("choice %q: %w", name, ErrVotes)
			}
		}
	}
	for _, ch := range h.Tally {
		if h.CVR.Votes[ch.Name]+h.NoCVR.Votes[ch.Name] != ch.Votes {
			return fmt.Errorf("choice %q: %d + %d votes, not %d: %w", ch.Name, h.CVR.Votes[ch.Name], h.NoCVR.Votes[ch.Name], ch.Votes, ErrStrata)
		}
	}
	return nil
}

func (h HybridContest) checkSample(s HybridSample) error {
	if s.CVRSampled < 0 || s.CVRSampled > h.CVR.Ballots || s.NoCVRSampled < 0 || s.NoCVRSampled > h.NoCVR.Ballots {
		return fmt.Errorf("a stratum's sample must be between 0 and its ballots: %w", ErrStrata)
	}
	for p, d := range s.Misstatements {
		if d.O1 < 0 || d.O2 < 0 || d.U1 < 0 || d.U2 < 0 || d.O1+d.O2+d.U1+d.U2 > s.CVRSampled {
			return fmt.Errorf("pair %s: %w", p, ErrDiscrepancies)
		}
	}
	total := s.NoCVRNotFound
	if total < 0 {
		return fmt.Errorf("ballots not found: %w", ErrVotes)
	}
	for name, v := range s.NoCVRVotes {
		if _, ok := h.index()[name]; !ok {
			return fmt.Errorf("choice %q: %w", name, ErrUnknownChoice)
		}
		if v < 0 {
			return fmt.Errorf("choice %q: %w", name, ErrVotes)
		}
		total += v
	}
	if total > s.NoCVRSampled*h.winners() {
		return fmt.Errorf("%d votes on %d sampled ballots: %w", total, s.NoCVRSampled, ErrVotes)
	}
	return nil
}

// SUITEComparisonP is the CVR stratum's P-value for the null that the
// stratum overstates the pair's overall margin by at least lambda·margin,
// after sampled of its ballots (without replacement) showed the
// misstatements d:
//
//	P = (1 − λ·margin/(2γN))^n / ((1 − 1/(2γ))^o1 (1 − 1/γ)^o2 (1 + 1/(2γ))^u1 (1 + 1/γ)^u2)
//
// capped at 1, and 1 when the null asks for more error than the stratum
// can hold. A stratum sampled whole is known exactly: P is 0 if its
// overstatement (o1 + 2·o2 − u1 − 2·u2 votes) is below lambda·margin, else
// 1. (Arlo returns 0 for a whole stratum whatever its misstatements.)
func SUITEComparisonP(ballots, sampled int, d Discrepancies, margin int, lambda float64) float64 {
	t := newComparisonTest(ballots, sampled, d, margin)
	return t.pValue(lambda)
}

// SUITEPollingP is the no-CVR stratum's P-value for the null that the
// stratum overstates the pair's overall margin by at least lambda·margin:
// Wald's SPRT for sampling without replacement, the reported votes vw, vl
// of the pair against the null's, maximised over the nuisance number of
// ballots voting for neither. sampled ballots of the stratum (of ballots)
// were drawn; nw and nl of them are votes for the winner and the loser.
//
// It is 1 when the sample contradicts the reported votes, and 0 when it
// rules the null out (the null leaves the winner fewer votes than the
// sample found). When the null's boundary margin is larger than the sample
// permits — which happens only for lambda > 1, where the null's margin
// exceeds the stratum's reported one, so the reported votes themselves
// satisfy the null — it is 1; Arlo returns 0 there, a value the grid
// search below then never picks as the maximum.
func SUITEPollingP(ballots, vw, vl, sampled, nw, nl, margin int, lambda float64) float64 {
	// The log-likelihood is concave in x (the null's winner votes): its
	// derivative falls, so bisection finds the one root. At the maximum
	// the likelihood is flat: an error of 1e-9·x in x moves its logarithm
	// by about n·1e-18. pollingTest does the work (suite_strata.go).
	t := newPollingTest(ballots, vw, vl, sampled, nw, nl, margin)
	return t.pValue(lambda)
}

// chi2SF4 is Pr(χ²_4 >= x) = e^{−x/2}(1 + x/2).
func chi2SF4(x float64) float64 {
	if x <= 0 {
		return 1
	}
	return math.Exp(-x/2) * (1 + x/2)
}

// chi2ISF4 is the x with Pr(χ²_4 >= x) = p, by bisection on the
// logarithm, which keeps tiny p finite.
//
// The bisection asks, at each midpoint m, whether the computed
// −m/2 + ln(1+m/2) exceeds ln p. The exact function falls with m, and
// the computed one is within e(m) = 8u(m+1) of it, so Newton's method
// first finds the root and two evaluations beside it certify the answer
// for every midpoint further out (below ga: yes; above le: no, allowing
// for e at the current hi); only the few midpoints between are
// evaluated. The steps, and so the result, are the plain bisection's.
func chi2ISF4(p float64) float64 {
	switch {
	case p >= 1:
		return 0
	case p <= 0:
		return math.Inf(1)
	}
	target := natLog(p)
	h := func(m float64) float64 { return -m/2 + math.Log1p(m/2) } // as the bisection computes it
	e := func(m float64) float64 { return 8 * unitRoundoff * (m + 1) }
	ga, le := -1.0, math.Inf(1)
	var hle float64
	certify := func(m float64) {
		if !(m >= 0 && m <= 4000) {
			return
		}
		v := h(m)
		// One e for v's error, one for the midpoint's, one for the
		// rounding of these tests.
		if v-3*e(m) > target && m > ga {
			ga = m
		}
		if v+2*e(m) <= target && m < le {
			le, hle = m, v
		}
	}
	m := -2 * target
	for range 8 {
		step := (h(m) - target) / (-m / (2 * (2 + m)))
		if !(m-step > 0) || math.IsNaN(step) {
			break
		}
		m -= step
		if math.Abs(step) <= 1e-13*m {
			break
		}
	}
	if m > 0 && m < 4000 {
		w := 64 * unitRoundoff * (m + 1)
		certify(m - w)
		certify(m + w)
	}
	lo, hi := 0.0, 4000.0
	for range 200 {
		mid := (lo + hi) / 2
		prevLo, prevHi := lo, hi
		var up bool
		switch {
		case mid <= ga:
			up = true
		case mid >= le && hle+2*e(le)+e(hi) <= target:
			up = false
		default:
			up = h(mid) > target
		}
		if up {
			lo = mid
		} else {
			hi = mid
		}
		// A step that changes nothing repeats itself to the 200th: the
		// same answer, without the ~140 steps after lo and hi meet.
		if lo == prevLo && hi == prevHi {
			break
		}
	}
	return (lo + hi) / 2
}

// suitePair is one winner-loser pair's data in both strata.
type suitePair struct {
	margin            int // overall reported margin, votes
	cvrBallots        int
	cvrW, cvrL        int
	cvrSampled        int
	d                 Discrepancies
	bpBallots         int
	bpW, bpL          int
	bpSampled, nw, nl int
}

func (h HybridContest) pair(w, l string, s HybridSample) suitePair {
	return suitePair{
		margin:     h.votes(w) - h.votes(l),
		cvrBallots: h.CVR.Ballots, cvrW: h.CVR.Votes[w], cvrL: h.CVR.Votes[l],
		cvrSampled: s.CVRSampled, d: s.Misstatements[Pair{w, l}],
		bpBallots: h.NoCVR.Ballots, bpW: h.NoCVR.Votes[w], bpL: h.NoCVR.Votes[l],
		bpSampled: s.NoCVRSampled, nw: s.NoCVRVotes[w], nl: s.NoCVRVotes[l] + s.NoCVRNotFound,
	}
}

func (h HybridContest) votes(name string) int {
	for _, c := range h.Tally {
		if c.Name == name {
			return c.Votes
		}
	}
	return 0
}

// tests sets up the pair's two stratum tests, to be evaluated at many λ.
func (p suitePair) tests() (cvr comparisonTest, bp pollingTest) {
	return newComparisonTest(p.cvrBallots, p.cvrSampled, p.d, p.margin),
		newPollingTest(p.bpBallots, p.bpW, p.bpL, p.bpSampled, p.nw, p.nl, p.margin)
}

// arange is numpy.arange(start, stop, step) to the last bit:
// ceil((stop−start)/step) values start + i·δ, where δ is
// (start+step) − start as numpy computes it. The grid decides which λ are
// tried, and P can jump between neighbouring λ, so the same grid is what
// makes the risk equal Arlo's.
func arange(start, stop, step float64) []float64 {
	n := int(math.Ceil((stop - start) / step))
	out := make([]float64, 0, max(n, 0))
	delta := (start + step) - start
	for i := range n {
		switch i {
		case 0:
			out = append(out, start)
		case 1:
			out = append(out, start+step)
		default:
			out = append(out, start+float64(i)*delta)
		}
	}
	return out
}

// maximize is the pair's SUITE risk: the largest Fisher-combined P-value
// over the allocation λ of the error to the CVR stratum. A stratum with
// no ballots can hold no error: the other stratum's P-value for the whole
// margin (λ fixed) is the risk.
//
// With overAlpha, it returns as soon as some λ gives more than alpha: the
// sample-size search only compares the risk with alpha (and 0.8·alpha),
// so any value over alpha answers it alike.
func (p suitePair) maximize(alpha float64, overAlpha bool) float64 {
	V := float64(p.margin)
	if p.margin <= 0 {
		return 1
	}
	cvr, bp := p.tests()
	cvrP := func(lambda float64) float64 { return capOne(cvr.pValue(lambda)) }
	bpP := func(lambda float64) float64 { return capOne(bp.pValue(lambda)) }
	switch {
	case p.bpBallots == 0:
		return cvrP(1)
	case p.cvrBallots == 0:
		return bpP(1)
	}
	lower := math.Max(float64(p.cvrW-p.cvrL-p.cvrBallots), V-float64(p.bpW-p.bpL+p.bpBallots)) / V
	upper := math.Min(float64(p.cvrW-p.cvrL+p.cvrBallots), V-float64(p.bpW-p.bpL-p.bpBallots)) / V
	wn, ln := float64(p.nw), float64(p.nl)
	un := float64(p.bpSampled) - wn - ln
	modulus := func(delta float64) float64 {
		t2 := 2 * float64(p.cvrSampled) * math.Log1p(V*delta/(2*float64(p.cvrBallots)*SuperSimpleGamma))
		return 2*wn*math.Log1p(V*delta) + 2*ln*math.Log1p(V*delta) + 2*un*math.Log1p(2*V*delta) + t2
	}
	step := 0.05
	var alphaISF float64 // chi2ISF4(alpha), once
	for iter := 0; ; iter++ {
		lambdas := arange(lower, upper+step, step)
		if len(lambdas) < 5 {
			step = (upper + 1 - lower) / 5
			lambdas = arange(lower, upper+step, step)
		}
		best, at := -1.0, 0.0
		falling := false // the last point computed fell well short of best
		for _, l := range lambdas {
			// Fisher's function grows with each P-value: if even a no-CVR
			// P-value of 1 cannot beat the best so far, skip the SPRT.
			// Fisher's function of (p1, 1), then of (p1, p2), is
			// Pr(χ²_4 >= −2(ln p1 + ln p2)), or 0 if either is 0; ln p1
			// is taken once, and ln 1 = 0 drops out (adding +0 changes
			// no logarithm but −0, and χ² gives −0 and +0 the same tail).
			p1 := cvrP(l)
			f := 0.0
			if p1 > 0 || math.IsNaN(p1) {
				lp1 := natLog(p1)
				if chi2SF4(-2*lp1) <= best {
					continue
				}
				// Past the peak, most points fall short of best by far
				// more than the slack in an upper bound on p2 (see
				// suite_bound.go): skip those without the SPRT. The
				// computed Fisher function is within 1e-12 of the exact,
				// increasing one, so g < best·(1−1e-9) proves f < best.
				if falling && best > 0 {
					ub := bp.upperBound(1 - l)
					if ub <= 0 {
						continue
					}
					if ub < 1 && chi2SF4(-2*(lp1+natLog(ub))) < best*(1-1e-9) {
						continue
					}
				}
				if p2 := bpP(1 - l); p2 > 0 || math.IsNaN(p2) {
					f = chi2SF4(-2 * (lp1 + natLog(p2)))
				}
			}
			// Only well past the peak is the bound worth its cost.
			falling = f < best*(1-1e-6)
			if f > best {
				best, at = f, l
				if overAlpha && best > alpha {
					return math.Min(best, 1)
				}
			}
		}
		if best > alpha || iter >= 30 {
			return math.Min(best, 1)
		}
		// Refine until no λ between grid points can lift P past alpha.
		if iter == 0 {
			alphaISF = chi2ISF4(alpha)
		}
		dist := math.Abs(chi2ISF4(best) - alphaISF)
		if modulus(step) <= dist {
			return math.Min(best, 1)
		}
		lower, upper = at-2*step, at+2*step
		step /= 10
	}
}

// SUITERisk measures a hybrid audit's risk: for every winner-loser pair
// the largest Fisher-combined P-value over the error allocations, and the
// contest's risk, the largest over the pairs. Sampling both strata whole
// is a full hand count, and the CVR stratum's misstatements then decide.
func SUITERisk(h HybridContest, alpha float64, s HybridSample) (Risk, error) {
	if err := h.check(alpha, s); err != nil {
		return Risk{}, err
	}
	winners, losers := h.Outcome()
	r := Risk{Confirmed: true}
	for _, w := range winners {
		for _, l := range losers {
			p := h.pair(w.Name, l.Name, s).maximize(alpha, false)
			r.Pairs = append(r.Pairs, PairRisk{Pair{w.Name, l.Name}, p})
			r.Max = math.Max(r.Max, p)
			if p > alpha {
				r.Confirmed = false
			}
		}
	}
	return r, nil
}

func (h HybridContest) check(alpha float64, s HybridSample) error {
	if err := h.Validate(); err != nil {
		return err
	}
	if err := checkRiskLimit(alpha); err != nil {
		return err
	}
	if _, l := h.Outcome(); len(l) == 0 {
		return ErrNoLosers
	}
	return h.checkSample(s)
}

// suiteMinSize is Arlo's smallest hybrid sample (MIN_SAMPLE_SIZE).
const suiteMinSize = 5

// suiteTry is Arlo's try_n: the risk the pair would show after a total
// of n ballots split between the strata in proportion to their ballots,
// if the CVR stratum keeps its observed misstatement rates and the no-CVR
// stratum its observed vote shares (its reported shares before any
// sample). 1 if n is smaller than the sample already drawn.
func (p suitePair) suiteTry(n int, alpha, ratio float64) float64 {
	n1o, n2o := p.cvrSampled, p.bpSampled
	var r1, r2, s1, s2 float64
	if n1o != 0 {
		r1, r2 = float64(p.d.O1)/float64(n1o), float64(p.d.O2)/float64(n1o)
		s1, s2 = float64(p.d.U1)/float64(n1o), float64(p.d.U2)/float64(n1o)
	}
	n1 := int(math.Ceil(ratio * float64(n)))
	n2 := n - n1
	if n1 < n1o || n2 < n2o {
		return 1
	}
	more := float64(n - n1o) // sic: Arlo scales the rates by n − n1, not n1 − n1
	hyp := p
	hyp.cvrSampled = n1
	hyp.d = Discrepancies{
		O1: int(math.Ceil(r1*more)) + p.d.O1, O2: int(math.Ceil(r2*more)) + p.d.O2,
		U1: int(math.Floor(s1*more)) + p.d.U1, U2: int(math.Floor(s2*more)) + p.d.U2,
	}
	var hw, hl int
	switch {
	case p.bpBallots == 0:
	case n2o == 0:
		hw = min(int(float64(n2)*(float64(p.bpW)/float64(p.bpBallots))), p.bpW)
		hl = min(int(math.Ceil(float64(n2)*(float64(p.bpL)/float64(p.bpBallots)))), p.bpL)
	default:
		hw = min(int(float64(n2-n2o)*(float64(p.nw)/float64(n2o))), p.bpW)
		hl = min(int(math.Ceil(float64(n2-n2o)*(float64(p.nl)/float64(n2o)))), p.bpL)
	}
	hyp.nw, hyp.nl = p.nw+hw, p.nl+hl
	hyp.bpSampled = min(p.bpBallots, n2)
	return hyp.maximize(alpha, true)
}

// suitePairSize is Arlo's get_sample_size_for_wl_pair: a search that
// grows the total size by ×2 (first round) or ×1.1 until suiteTry meets
// the risk limit, then bisects, and splits the total between the strata.
func (p suitePair) suitePairSize(alpha float64, ballots int) (int, int) {
	ratio := float64(p.cvrBallots) / float64(p.cvrBallots+p.bpBallots)
	n := max(suiteMinSize, p.cvrSampled+p.bpSampled)
	coef := 1.1
	if p.cvrSampled == 0 && p.bpSampled == 0 {
		coef = 2
	}
	pv := 1.0
	for pv > alpha {
		next := int(coef * float64(n))
		if next <= n {
			next = n + 1 // Arlo would loop forever below 10 ballots
		}
		n = next
		if n > ballots {
			cvr := int(math.Ceil(ratio * float64(ballots)))
			return cvr, ballots - cvr
		}
		pv = p.suiteTry(n, alpha, ratio)
	}
	low, high := float64(n)/coef, float64(n)
	mid := 1.0
	for mid > alpha || mid < 0.8*alpha {
		m := math.Floor((low + high) / 2)
		if m == low || m == high {
			break
		}
		mid = p.suiteTry(int(m), alpha, ratio)
		if mid <= alpha {
			high = m
		} else {
			low = m
		}
	}
	cvr := int(math.Ceil(ratio * high))
	return cvr, int(math.Ceil(high - float64(cvr)))
}

// SUITESampleSize is the total sample each stratum should have after the
// next round (the ballots already drawn included), following Arlo's
// get_sample_size: before any sample, the size for the closest pair
// (fewest-vote winner, most-vote loser); after, the largest over all
// pairs. ErrFullCount when a stratum would have to be sampled whole.
func SUITESampleSize(h HybridContest, alpha float64, s HybridSample) (cvr, noCVR int, err error) {
	if err := h.check(alpha, s); err != nil {
		return 0, 0, err
	}
	winners, losers := h.Outcome()
	if s.CVRSampled == 0 && s.NoCVRSampled == 0 {
		w, l := winners[len(winners)-1], losers[0]
		cvr, noCVR = h.pair(w.Name, l.Name, s).suitePairSize(alpha, h.Ballots)
	} else {
		best := -1
		for _, w := range winners {
			for _, l := range losers {
				c, b := h.pair(w.Name, l.Name, s).suitePairSize(alpha, h.Ballots)
				if c+b > best {
					best, cvr, noCVR = c+b, c, b
				}
			}
		}
	}
	if (h.CVR.Ballots > 0 && cvr >= h.CVR.Ballots) || (h.NoCVR.Ballots > 0 && noCVR >= h.NoCVR.Ballots) {
		return h.CVR.Ballots, h.NoCVR.Ballots, ErrFullCount
	}
	return cvr, noCVR, nil
}
