package rla

import "math"

// This file keeps the SUITE search as it was before the no-CVR SPRT
// learned to skip evaluations whose sign is already known, and before
// maximize cached what does not depend on λ. It is the reference the
// equivalence tests compare the package with, bit for bit; it must not
// be "improved".

func refSUITEComparisonP(ballots, sampled int, d Discrepancies, margin int, lambda float64) float64 {
	if sampled == 0 || margin == 0 {
		return 1
	}
	if sampled >= ballots {
		if float64(d.O1+2*d.O2-d.U1-2*d.U2) < lambda*float64(margin) {
			return 0
		}
		return 1
	}
	g := SuperSimpleGamma
	u := 2 * float64(ballots) / float64(margin)
	mult := 1 - lambda/(g*u)
	if mult <= 0 {
		return 1
	}
	logP := float64(sampled)*math.Log(mult) -
		float64(d.O1)*math.Log1p(-1/(2*g)) - float64(d.O2)*math.Log1p(-1/g) -
		float64(d.U1)*math.Log1p(1/(2*g)) - float64(d.U2)*math.Log1p(1/g)
	return math.Min(math.Exp(logP), 1)
}

func refSUITEPollingP(ballots, vw, vl, sampled, nw, nl, margin int, lambda float64) float64 {
	if sampled == 0 || margin == 0 {
		return 1
	}
	nu := sampled - nw - nl
	vu := ballots - vw - vl
	if !(vw >= nw && vl >= nl && vu >= nu) || nu < 0 {
		return 1
	}
	N := float64(ballots)
	nullMargin := float64(vw-vl) - lambda*float64(margin)
	alt := refLogFalling(float64(vw), nw) + refLogFalling(float64(vl), nl) + refLogFalling(float64(vu), nu)
	null := func(x float64) float64 {
		return refLogFalling(x, nw) + refLogFalling(x-nullMargin, nl) + refLogFalling(N-2*x+nullMargin, nu)
	}
	deriv := func(x float64) float64 {
		return refHarmonicFalling(x, nw) + refHarmonicFalling(x-nullMargin, nl) - 2*refHarmonicFalling(N-2*x+nullMargin, nu)
	}
	upper := (N - float64(nu) + nullMargin) / 2
	lower := math.Max(float64(nw), float64(nl)+nullMargin)
	if upper < float64(nw) {
		return 0
	}
	if upper-nullMargin < float64(nl) {
		return 1
	}
	var x float64
	if du, dl := deriv(upper), deriv(lower); du*dl > 0 {
		x = lower
		if null(upper) >= null(lower) {
			x = upper
		}
	} else {
		lo, hi := lower, upper
		for range 200 {
			mid := (lo + hi) / 2
			if mid == lo || mid == hi || hi-lo <= 1e-9*math.Max(1, math.Abs(mid)) {
				break
			}
			if deriv(mid) > 0 {
				lo = mid
			} else {
				hi = mid
			}
		}
		x = (lo + hi) / 2
	}
	return math.Min(math.Exp(null(x)-alt), 1)
}

func refChi2ISF4(p float64) float64 {
	switch {
	case p >= 1:
		return 0
	case p <= 0:
		return math.Inf(1)
	}
	target := math.Log(p)
	lo, hi := 0.0, 4000.0
	for range 200 {
		mid := (lo + hi) / 2
		if -mid/2+math.Log1p(mid/2) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

func refCvrP(p suitePair, lambda float64) float64 {
	return math.Min(1, refSUITEComparisonP(p.cvrBallots, p.cvrSampled, p.d, p.margin, lambda))
}

func refBpP(p suitePair, lambda float64) float64 {
	return math.Min(1, refSUITEPollingP(p.bpBallots, p.bpW, p.bpL, p.bpSampled, p.nw, p.nl, p.margin, lambda))
}

func refMaximize(p suitePair, alpha float64, overAlpha bool) float64 {
	V := float64(p.margin)
	switch {
	case p.margin <= 0:
		return 1
	case p.bpBallots == 0:
		return refCvrP(p, 1)
	case p.cvrBallots == 0:
		return refBpP(p, 1)
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
	for iter := 0; ; iter++ {
		lambdas := refArange(lower, upper+step, step)
		if len(lambdas) < 5 {
			step = (upper + 1 - lower) / 5
			lambdas = refArange(lower, upper+step, step)
		}
		best, at := -1.0, 0.0
		for _, l := range lambdas {
			p1 := refCvrP(p, l)
			if refFisher4(p1, 1) <= best {
				continue
			}
			if f := refFisher4(p1, refBpP(p, 1-l)); f > best {
				best, at = f, l
				if overAlpha && best > alpha {
					return math.Min(best, 1)
				}
			}
		}
		if best > alpha || iter >= 30 {
			return math.Min(best, 1)
		}
		dist := math.Abs(refChi2ISF4(best) - refChi2ISF4(alpha))
		if modulus(step) <= dist {
			return math.Min(best, 1)
		}
		lower, upper = at-2*step, at+2*step
		step /= 10
	}
}

func refSuiteTry(p suitePair, n int, alpha, ratio float64) float64 {
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
	more := float64(n - n1o)
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
	return refMaximize(hyp, alpha, true)
}

func refSuitePairSize(p suitePair, alpha float64, ballots int) (int, int) {
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
			next = n + 1
		}
		n = next
		if n > ballots {
			cvr := int(math.Ceil(ratio * float64(ballots)))
			return cvr, ballots - cvr
		}
		pv = refSuiteTry(p, n, alpha, ratio)
	}
	low, high := float64(n)/coef, float64(n)
	mid := 1.0
	for mid > alpha || mid < 0.8*alpha {
		m := math.Floor((low + high) / 2)
		if m == low || m == high {
			break
		}
		mid = refSuiteTry(p, int(m), alpha, ratio)
		if mid <= alpha {
			high = m
		} else {
			low = m
		}
	}
	cvr := int(math.Ceil(ratio * high))
	return cvr, int(math.Ceil(high - float64(cvr)))
}

func refSUITESampleSize(h HybridContest, alpha float64, s HybridSample) (cvr, noCVR int, err error) {
	if err := h.check(alpha, s); err != nil {
		return 0, 0, err
	}
	winners, losers := h.Outcome()
	if s.CVRSampled == 0 && s.NoCVRSampled == 0 {
		w, l := winners[len(winners)-1], losers[0]
		cvr, noCVR = refSuitePairSize(h.pair(w.Name, l.Name, s), alpha, h.Ballots)
	} else {
		best := -1
		for _, w := range winners {
			for _, l := range losers {
				c, b := refSuitePairSize(h.pair(w.Name, l.Name, s), alpha, h.Ballots)
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

func refSUITERisk(h HybridContest, alpha float64, s HybridSample) (Risk, error) {
	if err := h.check(alpha, s); err != nil {
		return Risk{}, err
	}
	winners, losers := h.Outcome()
	r := Risk{Confirmed: true}
	for _, w := range winners {
		for _, l := range losers {
			p := refMaximize(h.pair(w.Name, l.Name, s), alpha, false)
			r.Pairs = append(r.Pairs, PairRisk{Pair{w.Name, l.Name}, p})
			r.Max = math.Max(r.Max, p)
			if p > alpha {
				r.Confirmed = false
			}
		}
	}
	return r, nil
}

func refLogFalling(x float64, n int) float64 {
	if n <= 0 {
		return 0
	}
	if n <= 32 {
		s := 0.0
		for i := range n {
			s += math.Log(x - float64(i))
		}
		return s
	}
	a, _ := math.Lgamma(x + 1)
	b, _ := math.Lgamma(x - float64(n) + 1)
	return a - b
}

func refHarmonicFalling(x float64, n int) float64 {
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
	return refDigamma(x+1) - refDigamma(x-float64(n)+1)
}

func refDigamma(x float64) float64 {
	r := 0.0
	for x < 10 {
		r -= 1 / x
		x++
	}
	f := 1 / (x * x)
	return r + math.Log(x) - 0.5/x - f*(1.0/12-f*(1.0/120-f*(1.0/252-f*(1.0/240-f*(1.0/132)))))
}

func refFisher4(p1, p2 float64) float64 {
	if p1 <= 0 || p2 <= 0 {
		return 0
	}
	return refChi2SF4(-2 * (math.Log(p1) + math.Log(p2)))
}

func refChi2SF4(x float64) float64 {
	if x <= 0 {
		return 1
	}
	return math.Exp(-x/2) * (1 + x/2)
}

func refArange(start, stop, step float64) []float64 {
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
