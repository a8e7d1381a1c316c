package rla

import "math"

// unitRoundoff is u = 2⁻⁵³, the largest relative error of one rounding.
const unitRoundoff = 0x1p-53

// sprtSlope is the derivative in x (the null's winner votes) of the
// SPRT's log-likelihood under the null margin m:
//
//	d(x) = H(x, nw) + H(x−m, nl) − 2·H(N−2x+m, nu),  H(a, n) = Σ_{i<n} 1/(a−i),
//
// computed exactly as SUITEPollingP computes it. Its floating-point
// arguments x, fl(x−m) and fl(fl(N−2x)+m) are monotone in x, so the exact
// H at those arguments (call it D(x)) never increases with x. Each
// computed H (harmonicFalling) is within ρ·H + κ of the exact one: ρ
// covers the direct sums and the relative rounding of the arguments
// (correctly rounded subtractions of exact values), κ the logarithms,
// differences and truncated asymptotic series of digamma (its first
// omitted term is below 2.2e-14 for x >= 10).
type sprtSlope struct {
	n, m       float64
	nw, nl, nu int
	slack      float64 // see setSlack
}

// slopeRho is ρ, a generous multiple of the ~20u the sums can reach.
const slopeRho = 64 * unitRoundoff

// setSlack sets the absolute part of the certificate: 4(κ1 + κ2 + 2κ3),
// twice what the bound below needs, where κ is 0 for an H summed
// directly (n <= 16: its error is relative) and, for a difference of
// digammas, the series' truncation (2·2.2e-14) plus a few roundings of
// values up to ln of the largest argument, which 2^e bounds.
func (s *sprtSlope) setSlack() {
	_, e := math.Frexp(s.n + math.Abs(s.m) + 2)
	kappa := 5e-14 + 16*unitRoundoff*(float64(e)*math.Ln2+8)
	k := 0.0
	if s.nw > 16 {
		k += kappa
	}
	if s.nl > 16 {
		k += kappa
	}
	if s.nu > 16 {
		k += 2 * kappa
	}
	s.slack = 4 * k
}

// slopeSign is one computed derivative and whether its sign proves the
// sign of the computed derivative at every point beyond it: pos when,
// at every x' <= x, the computed d(x') > 0; neg when, at every x' >= x,
// it is < 0. With a = h1+h2 and b = 2h3 as computed at x, for x' <= x
// each exact H in a is at least, and the one in b at most, its value at
// x; undoing the error bounds at x and adding them at x' gives a
// computed a' − b' >= (1−3ρ)a − (1+3ρ)b − 2(κ1+κ2) − 4κ3, which the test
// in sign keeps positive with room to spare for its own rounding; and a
// correctly rounded subtraction of a' − b' > 0 is positive. Likewise
// for neg.
type slopeSign struct {
	x, d     float64
	h12, h3  float64 // h1+h2 and 2h3
	pos, neg bool
}

// at is d at x exactly as SUITEPollingP computes it, and its certificate.
func (s *sprtSlope) at(x float64) slopeSign {
	h1 := harmonicFalling(x, s.nw)
	h2 := harmonicFalling(x-s.m, s.nl)
	h3 := harmonicFalling(s.n-2*x+s.m, s.nu)
	d := h1 + h2 - 2*h3 // SUITEPollingP's deriv, operation for operation
	return s.sign(x, d, h1+h2, 2*h3)
}

// near is d at x computed with half the logarithms (harmonicNear), and
// its certificate, which holds for SUITEPollingP's d: the bound on at's
// error is also one on near's, and the slack covers both (setSlack).
// Only the certificate may be trusted; d is for placing evaluations.
func (s *sprtSlope) near(x float64) slopeSign {
	h1 := harmonicNear(x, s.nw)
	h2 := harmonicNear(x-s.m, s.nl)
	h3 := harmonicNear(s.n-2*x+s.m, s.nu)
	return s.sign(x, h1+h2-2*h3, h1+h2, 2*h3)
}

func (s *sprtSlope) sign(x, d, a, b float64) slopeSign {
	return slopeSign{
		x: x, d: d, h12: a, h3: b,
		pos: (1-4*slopeRho)*a-(1+4*slopeRho)*b > s.slack,
		neg: (1+4*slopeRho)*a-(1-4*slopeRho)*b < -s.slack,
	}
}

// widen adds a computed derivative to the certified points xa (the
// largest where it is certainly positive) and xb (the smallest where it
// is certainly negative).
func (s *sprtSlope) widen(xa, xb float64, e slopeSign) (float64, float64) {
	if e.pos && e.x > xa {
		xa = e.x
	}
	if e.neg && e.x < xb {
		xb = e.x
	}
	return xa, xb
}

// bisect is SUITEPollingP's bisection for the root of d between lower
// and upper, step for step, returning the same x. The bisection only
// asks for d's sign at each midpoint: at or below xa it is positive, at
// or above xb negative, and only in between is d computed.
func (s *sprtSlope) bisect(lower, upper, xa, xb float64) float64 {
	lo, hi := lower, upper
	for i := 0; i < 200; i++ {
		if sameBinade(lo, hi) {
			return s.bisectBits(lo, hi, xa, xb, 200-i)
		}
		mid := (lo + hi) / 2
		// math.Max(1, |mid|), without the call: the same value, NaN
		// included.
		scale := math.Abs(mid)
		if scale < 1 {
			scale = 1
		}
		if mid == lo || mid == hi || hi-lo <= 1e-9*scale {
			break
		}
		up := mid <= xa
		if mid > xa && mid < xb {
			e := s.at(mid)
			xa, xb = s.widen(xa, xb, e)
			up = e.d > 0
		}
		if up {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

const (
	mantissa = 1<<52 - 1 // a float64's fraction bits
	hidden   = 1 << 52   // its implicit leading bit
)

// sameBinade reports whether 1 <= lo <= hi < 2^k+1 for the k with 2^k <=
// lo: both finite, with one exponent.
func sameBinade(lo, hi float64) bool {
	return lo >= 1 && hi >= lo && !math.IsInf(hi, 1) && math.Float64bits(lo)>>52 == math.Float64bits(hi)>>52
}

// bisectBits goes on with bisect's loop, at most n more steps, once lo
// and hi share a binade [2^e, 2^(e+1)) with e >= 0, on their 53-bit
// significands L and H: every midpoint falls in that binade, and
// fl(lo+hi)/2 is the round-half-to-even of (L+H)/2 (the sum L+H, of 54
// bits, rounds to even; halving it is exact). hi−lo is exact there too
// (Sterbenz), and the scale max(1, |mid|) is mid. The float loop spent
// most of its time waiting on a mispredicted branch for each step's
// direction; this one keeps the dependency chain in integer registers.
func (s *sprtSlope) bisectBits(lo, hi, xa, xb float64, n int) float64 {
	top := math.Float64bits(lo) &^ mantissa // sign and exponent
	ulp := math.Float64frombits(top) * 0x1p-52
	L := math.Float64bits(lo)&mantissa | hidden
	H := math.Float64bits(hi)&mantissa | hidden
	// Positive floats order as their bits do; every midpoint is >= 1,
	// so a certified point at or below 0 counts as 0.
	bits := func(v float64) int64 {
		if !(v > 0) {
			return 0
		}
		return int64(math.Float64bits(v))
	}
	xaBits, xbBits := bits(xa), bits(xb)
	for range n {
		S := L + H
		M := S >> 1
		M += S & M & 1 // a tie goes to the even significand
		midBits := top | M&mantissa
		// hi−lo <= 1e-9·mid needs H−L < 1e-9·2⁵³·(1+u) < 9007200, which
		// also covers M == L or H: the float test only near the end.
		if H-L < 9007200 && (M == L || M == H || float64(H-L)*ulp <= 1e-9*math.Float64frombits(midBits)) {
			break
		}
		// xa < mid < xb as one unsigned comparison (xa < xb always: no
		// point is certified both ways): rarely true, so well predicted.
		if uint64(int64(midBits)-xaBits-1) < uint64(xbBits-xaBits-1) {
			e := s.at(math.Float64frombits(midBits))
			xa, xb = s.widen(xa, xb, e)
			xaBits, xbBits = bits(xa), bits(xb)
			if e.d > 0 {
				L = M
			} else {
				H = M
			}
			continue
		}
		// mid <= xa: lo takes mid, else hi does, without a branch.
		var up uint64
		if int64(midBits) <= xaBits {
			up = 1
		}
		mask := -up
		L ^= (L ^ M) & mask
		H ^= (H ^ M) &^ mask
	}
	lo = math.Float64frombits(top | L&mantissa)
	hi = math.Float64frombits(top | H&mantissa)
	return (lo + hi) / 2
}

// bracket looks for certified points xa < xb close around the root of d
// in (lower, upper), closer than the bisection's last interval, with a
// handful of evaluations: a model of d (Σ_{i<n} 1/(a−i) ≈
// n/(a − (n−1)/2)) gives a first guess; a Newton step on d itself, with
// the slope of a finer model, predicts the root; an evaluation just
// either side of the prediction certifies it, or makes the next guess.
// Neither the models nor the steps need be accurate: they only place
// the evaluations; a poor bracket costs evaluations in bisect, never a
// different answer. It returns ±Inf for a side it could not certify,
// and both when the model puts the root outside (lower, upper), where
// SUITEPollingP compares the likelihood at the ends instead.
//
// With a hint (corr, the last search's root minus its model root, and
// width, its probes' half-width), the first two evaluations go straight
// either side of the model root plus corr: the model's error changes
// slowly with the null margin, and they usually straddle the root.
func (s *sprtSlope) bracket(lower, upper, guess, corr, width float64) (xa, xb, root, delta float64) {
	xa, xb = math.Inf(-1), math.Inf(1)
	x, inside := s.modelRoot(lower, upper, guess)
	x0 := x
	if !inside {
		return xa, xb, x, 0
	}
	var e slopeSign
	if r := x + corr; width > 0 && r > lower && r < upper {
		delta = math.Max(0.05e-9*math.Max(1, math.Abs(r)), width)
		f, g := s.near(math.Max(r-delta, lower)), s.near(math.Min(r+delta, upper))
		xa, xb = s.widen(xa, xb, f)
		xa, xb = s.widen(xa, xb, g)
		if xb-xa <= 3*delta {
			return xa, xb, x0, delta
		}
		e = f
		if math.Abs(g.d) < math.Abs(f.d) {
			e = g
		}
	} else {
		e = s.near(x)
		xa, xb = s.widen(xa, xb, e)
	}
	a, b := lower, upper // d(a) > 0 >= d(b), as far as known
	for range 8 {
		slope := s.modelSlope(e.x)
		tol := 0.05e-9 * math.Max(1, math.Abs(e.x))
		// The half-width of the band around the root where d's sign is
		// uncertain, as at's certificate sets it.
		band := (s.slack + 4*slopeRho*(e.h12+e.h3)) / slope
		delta = math.Max(tol, 2*band)
		if xb-xa <= 3*delta {
			break
		}
		r := e.x // within the band, the root is as good as found
		if e.pos || e.neg {
			if e.pos {
				a = math.Max(a, e.x)
			} else {
				b = math.Min(b, e.x)
			}
			r += e.d / slope
			if !(r > a && r < b) {
				r = a + (b-a)/2
			}
		}
		// Probe both sides of the prediction; carry on from the probe
		// with the smaller derivative if they do not straddle the root.
		next, evaluated := e, false
		for _, y := range [2]float64{math.Max(r-delta, lower), math.Min(r+delta, upper)} {
			if y > xa && y < xb && y != e.x {
				f := s.near(y)
				xa, xb = s.widen(xa, xb, f)
				if !evaluated || math.Abs(f.d) < math.Abs(next.d) {
					next, evaluated = f, true
				}
			}
		}
		if !evaluated {
			break
		}
		e = next
	}
	return xa, xb, x0, delta
}

// modelSlope is −d′(x) for d's model Σ_{i<n} 1/(a−i) ≈ ln((a+½)/(a−n+½)):
// Σ 1/(a−n+½) − 1/(a+½), the winner's and loser's terms plus four
// times the others'.
func (s *sprtSlope) modelSlope(x float64) float64 {
	v := 0.0
	if a := x; s.nw > 0 {
		v += 1/(a-float64(s.nw)+0.5) - 1/(a+0.5)
	}
	if a := x - s.m; s.nl > 0 {
		v += 1/(a-float64(s.nl)+0.5) - 1/(a+0.5)
	}
	if a := s.n - 2*x + s.m; s.nu > 0 {
		v += 4 * (1/(a-float64(s.nu)+0.5) - 1/(a+0.5))
	}
	return v
}

// model is d's rational model Σ_{i<n} 1/(a−i) ≈ n/(a − (n−1)/2) at x,
// and its derivative.
func (s *sprtSlope) model(x float64) (v, dv float64) {
	if s.nw > 0 {
		q := 1 / (x - float64(s.nw-1)/2)
		v += float64(s.nw) * q
		dv -= float64(s.nw) * q * q
	}
	if s.nl > 0 {
		q := 1 / (x - s.m - float64(s.nl-1)/2)
		v += float64(s.nl) * q
		dv -= float64(s.nl) * q * q
	}
	if s.nu > 0 {
		q := 1 / (s.n - 2*x + s.m - float64(s.nu-1)/2)
		v -= 2 * float64(s.nu) * q
		dv -= 4 * float64(s.nu) * q * q
	}
	return v, dv
}

// modelShift is how fast the root of d's model moves with the null
// margin, dx/dm = (∂g/∂m)/(−∂g/∂x), at x.
func (s *sprtSlope) modelShift(x float64) float64 {
	var q1, q2, q3 float64
	if s.nw > 0 {
		q := 1 / (x - float64(s.nw-1)/2)
		q1 = float64(s.nw) * q * q
	}
	if s.nl > 0 {
		q := 1 / (x - s.m - float64(s.nl-1)/2)
		q2 = float64(s.nl) * q * q
	}
	if s.nu > 0 {
		q := 1 / (s.n - 2*x + s.m - float64(s.nu-1)/2)
		q3 = float64(s.nu) * q * q
	}
	return (q2 + 2*q3) / (q1 + q2 + 4*q3)
}

// modelRoot is the root of d's rational model, by Newton's method kept
// inside [lower, upper] by bisection, starting from guess if it is
// inside, else where the null's winner and loser votes have the sample's
// share of the ballots. inside is false
// when the model has no root strictly between lower and upper.
func (s *sprtSlope) modelRoot(lower, upper, guess float64) (x float64, inside bool) {
	if v, _ := s.model(upper); v >= 0 {
		return upper, false
	}
	if v, _ := s.model(lower); v <= 0 {
		return lower, false
	}
	lo, hi := lower, upper
	x = guess
	if !(x > lo && x < hi) {
		share := float64(s.nw+s.nl) / float64(s.nw+s.nl+s.nu)
		x = (share*s.n + s.m) / 2
	}
	if !(x > lo && x < hi) {
		x = lo + (hi-lo)/2
	}
	for range 40 {
		v, dv := s.model(x)
		if v > 0 {
			lo = x
		} else {
			hi = x
		}
		next := x - v/dv
		if !(next > lo && next < hi) {
			next = lo + (hi-lo)/2
		}
		// The model is good to about 1e-7; after a step this small,
		// Newton's next is far closer than that.
		if math.Abs(next-x) <= 1e-6*math.Abs(x) {
			return next, true
		}
		x = next
	}
	return x, true
}
