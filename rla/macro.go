package rla

import (
	"errors"
	"math"
)

// MACRO is a batch-comparison audit: whole batches are drawn with
// probability proportional to an error bound (PPEB) and hand counted, and
// each batch's counted votes are compared with its reported tally. The
// risk is Stark's Kaplan-Markov bound on the maximum across-contest
// relative overstatement ("Efficient post-election audits of multiple
// contests: 2009 California tests", 2009, and Stark, "Risk-limiting
// post-election audits: P-values from common probability inequalities",
// 2009), per contest as Arlo's macro.py applies it:
//
//	P = ∏ over draws (1 − 1/U) / (1 − t_p),  t_p = e_p / u_p,
//
// where u_p is the batch's maximum possible relative overstatement, U =
// Σ u_p over all batches, and e_p the batch's observed relative
// overstatement (negative errors count as zero). The audit stops at the
// first draw at which P reaches the risk limit.

// BatchResult is one batch's votes in one contest: reported, or counted
// by hand.
type BatchResult struct {
	Batch string
	// Ballots is the number of ballots in the batch that contain the
	// contest; 0 if the contest is not in the batch.
	Ballots int
	Votes   map[string]int
}

// MACRO errors.
var (
	ErrBatchUnknown = errors.New("a drawn batch is not among the reported batches")
	ErrNoBatches    = errors.New("no reported batch contains the contest")
)

// MACROMaxError is u_p, the largest relative overstatement batch b could
// hide: max over winner-loser pairs of (v_w − v_l + b)/V_wl, with V_wl the
// contest-wide margin of the pair in votes; +Inf for a tied pair.
func MACROMaxError(c Contest, b BatchResult) float64 {
	if b.Ballots == 0 {
		return 0
	}
	winners, losers := c.Outcome()
	var u float64
	for _, w := range winners {
		for _, l := range losers {
			margin := w.Votes - l.Votes
			if margin <= 0 {
				return math.Inf(1)
			}
			u = math.Max(u, float64(b.Votes[w.Name]-b.Votes[l.Name]+b.Ballots)/float64(margin))
		}
	}
	return u
}

// macroError is e_p: the largest relative overstatement the hand count
// found in the batch, over the pairs, or 0 if the errors favour the
// losers. (Arlo takes the pair with the largest weighted error and counts
// it only if positive; the same thing.)
func macroError(c Contest, reported, counted BatchResult) float64 {
	winners, losers := c.Outcome()
	var e float64
	for _, w := range winners {
		for _, l := range losers {
			diff := (reported.Votes[w.Name] - reported.Votes[l.Name]) - (counted.Votes[w.Name] - counted.Votes[l.Name])
			if diff <= 0 {
				continue
			}
			margin := w.Votes - l.Votes
			if margin <= 0 {
				return math.Inf(1)
			}
			e = math.Max(e, float64(diff)/float64(margin))
		}
	}
	return e
}

func macroU(c Contest, reported []BatchResult) float64 {
	var u float64
	for _, b := range reported {
		u += MACROMaxError(c, b)
	}
	return u
}

// MACRO measures the risk after hand counting the drawn batches. draws
// lists the counted batches in draw (ticket) order, a batch drawn twice
// appearing twice. Drawing every batch that contains the contest is a
// full hand count: the risk is 0.
func MACRO(c Contest, alpha float64, reported []BatchResult, draws []BatchResult) (float64, bool, error) {
	if err := c.Validate(); err != nil {
		return 0, false, err
	}
	if err := checkRiskLimit(alpha); err != nil {
		return 0, false, err
	}
	byName := map[string]BatchResult{}
	withContest := 0
	for _, b := range reported {
		byName[b.Batch] = b
		if b.Ballots > 0 {
			withContest++
		}
	}
	if withContest == 0 {
		return 0, false, ErrNoBatches
	}
	counted := map[string]bool{}
	for _, d := range draws {
		r, ok := byName[d.Batch]
		if !ok {
			return 0, false, ErrBatchUnknown
		}
		if r.Ballots > 0 {
			counted[d.Batch] = true
		}
	}
	if len(counted) == withContest {
		return 0, true, nil
	}
	U := macroU(c, reported)
	if math.IsInf(U, 1) {
		return 1, false, nil
	}
	logP := 0.0
	for _, d := range draws {
		r := byName[d.Batch]
		if r.Ballots == 0 {
			continue
		}
		up := MACROMaxError(c, r)
		ep := macroError(c, r, d)
		if math.IsInf(ep, 1) || math.IsInf(up, 1) {
			return 1, false, nil
		}
		taint := ep / up
		if taint >= 1 {
			// The batch holds all the error it could: the bound is void.
			return 1, false, nil
		}
		logP += math.Log1p(-1/U) - math.Log1p(-taint)
		if p := math.Exp(logP); p <= alpha {
			return p, true, nil
		}
	}
	p := math.Min(math.Exp(logP), 1)
	return p, p <= alpha, nil
}

// MACROSampleSize is the number of batch draws that would confirm the
// contest if no more error turns up: the smallest n with (1 − 1/U)^n <=
// alpha, where U counts, for batches already counted (in counted), their
// observed error instead of their bound. A tie gives the number of
// batches: count them all. (Arlo's current macro.py adds one batch to
// this, on a recommendation of Mark Lindeman; the formula is Stark's.)
func MACROSampleSize(c Contest, alpha float64, reported []BatchResult, counted map[string]BatchResult) (int, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	if err := checkRiskLimit(alpha); err != nil {
		return 0, err
	}
	var U float64
	for _, b := range reported {
		if got, ok := counted[b.Batch]; ok {
			U += macroError(c, b, got)
		} else {
			U += MACROMaxError(c, b)
		}
	}
	switch {
	case U < 1:
		// Even the largest possible errors could not change the outcome.
		return 0, nil
	case U == 1:
		// Just enough possible error to change it: one batch, as Arlo.
		return 1, nil
	case math.IsInf(U, 1):
		return len(reported), nil
	}
	n := ceilInt(math.Log(alpha) / math.Log1p(-1/U))
	return min(n, len(reported)), nil
}
