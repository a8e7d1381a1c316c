package rla

import "math"

// An upper bound on the no-CVR stratum's P-value, cheap enough to try
// before the SPRT itself: past the peak of Fisher's function over λ, a
// grid point whose combined P-value cannot reach the best one so far
// need not be computed exactly (maximize).
//
// The SPRT's P-value is min(1, exp(null(x) − alt)) at a computed x in
// [lower, upper], null(x) being Σ ln of three falling factorials. For
// a > n−1 and c = (n−1)/2, ln(1−t) <= −t − t²/2 − t³/3 (t < 1) summed
// over the symmetric t = (i−c)/(a−c) gives
//
//	Σ_{i<n} ln(a−i) <= J(a, n) = n·ln(a−c) − n(n²−1)/(24(a−c)²),
//
// concave in a, so the sum of the three is concave in x and its maximum
// over [lower, upper] is at most its value at any x̂ plus |slope|·width.
// Newton's method puts x̂ near that maximum. The margin adds the
// rounding of everything computed: the falling factorials (direct sums
// of logarithms, or differences of math.Lgamma), their arguments, J
// itself, and the final subtraction and exponential, each generously.

// upperBound is a number at least pollingTest.pValue(lambda), capped at
// 1 by the caller's min; exact where pValue's answer does not depend on
// the SPRT.
func (t *pollingTest) upperBound(lambda float64) float64 {
	if t.fixed {
		return t.p
	}
	N, nw, nl, nu := t.n, t.nw, t.nl, t.nu
	m := float64(t.vw-t.vl) - lambda*float64(t.margin)
	upper := (N - float64(nu) + m) / 2
	lower := math.Max(float64(nw), float64(nl)+m)
	if upper < float64(nw) {
		return 0
	}
	if upper-m < float64(nl) {
		return 1
	}
	if !(lower <= upper) {
		return 1
	}
	terms := [3]struct {
		n    int
		c, w float64 // centre offset, chain factor da/dx
	}{{nw, float64(nw-1) / 2, 1}, {nl, float64(nl-1) / 2, 1}, {nu, float64(nu-1) / 2, -2}}
	args := func(x float64) [3]float64 { return [3]float64{x, x - m, N - 2*x + m} }
	// slope is J's derivative in x and its second derivative.
	slope := func(x float64) (d1, d2 float64) {
		for k, a := range args(x) {
			tk := terms[k]
			if tk.n == 0 {
				continue
			}
			n := float64(tk.n)
			q := 1 / (a - tk.c)
			s2 := n * (n*n - 1) / 12
			d1 += tk.w * (n*q + s2*q*q*q)
			d2 -= tk.w * tk.w * (n*q*q + 3*s2*q*q*q*q)
		}
		return d1, d2
	}
	lo, hi := lower, upper
	x := lo + (hi-lo)/2
	if t.hint {
		if g := t.hintX + t.hintK*(m-t.hintM); g > lo && g < hi {
			x = g
		}
	}
	for range 30 {
		d1, d2 := slope(x)
		if d1 > 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - d1/d2
		if !(next >= lo && next <= hi) {
			next = lo + (hi-lo)/2
		}
		if math.Abs(next-x) <= 1e-12*math.Abs(x) || lo == hi {
			x = next
			break
		}
		x = next
	}
	x = math.Min(math.Max(x, lower), upper)
	d1, _ := slope(x)
	j, size, margin := 0.0, 0.0, 0.0
	// Arguments are off their exact values by at most eArg, and J moves
	// by at most 3 per unit of argument there (a−c >= (n+1)/2).
	eArg := 4 * unitRoundoff * (N + math.Abs(m) + math.Abs(upper) + 2)
	for k, a := range args(x) {
		tk := terms[k]
		if tk.n == 0 {
			continue
		}
		n := float64(tk.n)
		lnA := natLog(a - tk.c)
		j += n*lnA - n*(n*n-1)/(24*(a-tk.c)*(a-tk.c))
		// ln(|a|+2) + 2, bounded above through the exponent of |a|+2.
		_, e := math.Frexp(math.Abs(a) + 2)
		la := float64(e)*math.Ln2 + 2
		size += n * la
		// J's own rounding, then the falling factorial's at x*: a sum of
		// n logarithms, or two math.Lgamma values of size (a+1)·ln(a+1).
		margin += 16*unitRoundoff*n*(math.Abs(lnA)+2) + 2*3*eArg
		if tk.n <= 32 {
			margin += 8 * unitRoundoff * n * (n + 2) * la
		} else {
			margin += 64 * unitRoundoff * (math.Abs(a) + 2) * la
		}
	}
	// The tangent at x bounds the concave J on [lower, upper]; the
	// computed slope is inflated for its own rounding.
	margin += (2*math.Abs(d1) + 1e-12*size) * (upper - lower)
	// The sum of the three, the subtraction of alt and the exponential.
	margin += 8*unitRoundoff*(size+math.Abs(t.alt)) + 1e-12
	return math.Exp(j-t.alt+margin) * (1 + 1e-12)
}
