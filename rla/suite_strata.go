package rla

import "math"

// The stratum tests of SUITE, set up once per sample and evaluated at
// many error allocations λ.
//
// The grid search of maximize evaluates both stratum P-values at a
// hundred or more λ for one sample, and the sample-size search does so
// for a dozen hypothetical samples; almost all of its time was the no-CVR
// stratum's SPRT, whose likelihood is maximised by bisection on its
// derivative (about thirty evaluations, each several logarithms). The
// code here returns the same float64, bit for bit, as the straight
// computation did (suite_ref_test.go keeps that code, and the tests in
// suite_equiv_test.go compare the two over broad random sets), by these
// means only:
//
//   - what does not depend on λ (the alternative's likelihood, the
//     logarithms of the misstatement factors, χ²'s value at alpha) is
//     computed once, with the same expressions;
//   - the bisection is replayed step by step, but the derivative is only
//     evaluated where its sign is not already certain: a model of the
//     derivative, Newton steps and two probes find points either side of
//     the root where the computed derivative, with a bound on its
//     rounding error, proves the sign of every computed derivative
//     further out (suite_slope.go); χ²'s inverse is replayed the same way;
//   - past the peak of the grid, a point whose combined P-value provably
//     cannot beat the best one skips the SPRT (suite_bound.go);
//   - math.Min(·, 1) is a comparison.

// comparisonTest is SUITEComparisonP for one sample of the CVR stratum.
type comparisonTest struct {
	ballots, sampled, margin int
	d                        Discrepancies
	gu                       float64 // γ·u
	lo1, lo2, lu1, lu2       float64 // ln of each misstatement's factor
}

func newComparisonTest(ballots, sampled int, d Discrepancies, margin int) comparisonTest {
	t := comparisonTest{ballots: ballots, sampled: sampled, margin: margin, d: d}
	if sampled == 0 || margin == 0 || sampled >= ballots {
		return t
	}
	// The same float64 expressions as SUITEComparisonP's: g must stay a
	// variable, since constant arithmetic would round differently.
	g := SuperSimpleGamma
	u := 2 * float64(ballots) / float64(margin)
	t.gu = g * u
	t.lo1, t.lo2 = math.Log1p(-1/(2*g)), math.Log1p(-1/g)
	t.lu1, t.lu2 = math.Log1p(1/(2*g)), math.Log1p(1/g)
	return t
}

func (t *comparisonTest) pValue(lambda float64) float64 {
	if t.sampled == 0 || t.margin == 0 {
		return 1
	}
	d := t.d
	if t.sampled >= t.ballots {
		if float64(d.O1+2*d.O2-d.U1-2*d.U2) < lambda*float64(t.margin) {
			return 0
		}
		return 1
	}
	mult := 1 - lambda/t.gu
	if mult <= 0 {
		return 1
	}
	logP := float64(t.sampled)*natLog(mult) -
		float64(d.O1)*t.lo1 - float64(d.O2)*t.lo2 -
		float64(d.U1)*t.lu1 - float64(d.U2)*t.lu2
	return capOne(math.Exp(logP))
}

// pollingTest is SUITEPollingP for one sample of the no-CVR stratum.
type pollingTest struct {
	fixed      bool    // the P-value does not depend on λ: it is p
	p          float64 //
	n          float64 // the stratum's ballots
	vw, vl     int
	nw, nl, nu int
	margin     int
	alt        float64 // the log-likelihood of the reported votes

	// The last root of d's model, at null margin hintM, and its rate of
	// change with the margin: where the next search starts. They change
	// which evaluations are made, never the P-value.
	hint                bool
	hintX, hintM, hintK float64
	// hintC is how far the last root was from its model's root, hintW
	// the half-width of the probes that certified it.
	hintC, hintW float64
}

func newPollingTest(ballots, vw, vl, sampled, nw, nl, margin int) pollingTest {
	if sampled == 0 || margin == 0 {
		return pollingTest{fixed: true, p: 1}
	}
	nu := sampled - nw - nl
	vu := ballots - vw - vl
	if !(vw >= nw && vl >= nl && vu >= nu) || nu < 0 {
		return pollingTest{fixed: true, p: 1}
	}
	return pollingTest{
		n: float64(ballots), vw: vw, vl: vl, nw: nw, nl: nl, nu: nu, margin: margin,
		alt: logFalling(float64(vw), nw) + logFalling(float64(vl), nl) + logFalling(float64(vu), nu),
	}
}

func (t *pollingTest) pValue(lambda float64) float64 {
	if t.fixed {
		return t.p
	}
	N, nw, nl, nu := t.n, t.nw, t.nl, t.nu
	nullMargin := float64(t.vw-t.vl) - lambda*float64(t.margin)
	null := func(x float64) float64 {
		return logFalling(x, nw) + logFalling(x-nullMargin, nl) + logFalling(N-2*x+nullMargin, nu)
	}
	upper := (N - float64(nu) + nullMargin) / 2
	lower := math.Max(float64(nw), float64(nl)+nullMargin)
	if upper < float64(nw) {
		return 0
	}
	if upper-nullMargin < float64(nl) {
		return 1
	}
	s := sprtSlope{n: N, m: nullMargin, nw: nw, nl: nl, nu: nu}
	s.setSlack()
	var x float64
	guess := math.NaN()
	if t.hint {
		guess = t.hintX + t.hintK*(nullMargin-t.hintM)
	}
	corr, width := 0.0, 0.0
	if t.hint {
		corr, width = t.hintC, t.hintW
	}
	xa, xb, root, delta := s.bracket(lower, upper, guess, corr, width)
	if root > lower && root < upper {
		t.hint, t.hintX, t.hintM, t.hintK = true, root, nullMargin, s.modelShift(root)
		t.hintC, t.hintW = 0, 0
		if xa >= lower && xb <= upper {
			t.hintC, t.hintW = (xa+xb)/2-root, delta
		}
	}
	if xa >= lower && xb <= upper {
		// The computed derivative is certainly > 0 at lower and < 0 at
		// upper: SUITEPollingP's du·dl is negative, and it bisects.
		x = s.bisect(lower, upper, xa, xb)
	} else if du, dl := s.at(upper), s.at(lower); du.d*dl.d > 0 {
		// The likelihood is monotone on [lower, upper]: the larger end,
		// whose log-likelihood is already computed.
		atUpper, atLower := null(upper), null(lower)
		if atUpper >= atLower {
			return capOne(math.Exp(atUpper - t.alt))
		}
		return capOne(math.Exp(atLower - t.alt))
	} else {
		xa, xb = s.widen(xa, xb, dl)
		xa, xb = s.widen(xa, xb, du)
		x = s.bisect(lower, upper, xa, xb)
	}
	return capOne(math.Exp(null(x) - t.alt))
}

// logFalling is ln(x(x−1)…(x−n+1)), 0 for n = 0.
func logFalling(x float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	if n <= 32 {
		s := 0.0
		for i := range n {
			s += natLog(x - float64(i))
		}
		return s
	}
	a, _ := math.Lgamma(x + 1)
	b, _ := math.Lgamma(x - float64(n) + 1)
	return a - b
}

// harmonicFalling is Σ_{i<n} 1/(x−i), the derivative of logFalling.
func harmonicFalling(x float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	if n <= 16 {
		s := 0.0
		for i := range n {
			s += 1 / (x - float64(i))
		}
		return s
	}
	return digamma(x+1) - digamma(x-float64(n)+1)
}

// harmonicNear is harmonicFalling with one logarithm instead of two
// for n > 16: ψ(x+1) − ψ(x−n+1) = ln((x+1)/z) − tail(x+1) + tail(z) +
// Σ 1/(x−n+1+k) over the recurrence that lifts z to 10 or more. It
// differs from harmonicFalling in the last bits; its error has the same
// bound, ρ·H + κ (see sprtSlope).
func harmonicNear(x float64, n int) float64 {
	if n <= 16 {
		return harmonicFalling(x, n)
	}
	y := x + 1
	z := x - float64(n) + 1
	r := 0.0
	for z < 10 {
		r += 1 / z
		z++
	}
	return r + natLog(y/z) - digammaTail(y) + digammaTail(z)
}

// digammaTail is ln x − ψ(x) for x >= 10 by digamma's series.
func digammaTail(x float64) float64 {
	f := 1 / (x * x)
	return 0.5/x + f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f*(1.0/132)))))
}

// digamma is ψ(x) for x > 0: the recurrence up to x >= 10, then the
// asymptotic series.
func digamma(x float64) float64 {
	r := 0.0
	for x < 10 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	return r + natLog(x) - 0.5/x - f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f*(1.0/132)))))
}

// capOne is math.Min(x, 1), which is also math.Min(1, x), without the
// call to its assembly: x below 1 (signed zeros and −Inf included), NaN
// for NaN, else 1.
func capOne(x float64) float64 {
	if x < 1 {
		return x
	}
	if x != x {
		return math.NaN()
	}
	return 1
}
