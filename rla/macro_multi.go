package rla

import (
	"fmt"
	"math"
)

// MACRO across several contests, as Stark defines it ("Efficient
// post-election audits of multiple contests: 2009 California tests"):
// one PPEB sample of batches serves every contest. A batch's error bound
// is the largest over the contests, u_p = max_c u_cp, the batches are drawn
// with probability u_p/U (U = Σ u_p), and each contest c is measured with
// the Kaplan-Markov bound on its own taints e_cp/u_p:
//
//	P_c = ∏ over draws (1 − 1/U) / (1 − e_cp/u_p).
//
// Because e_cp <= u_cp <= u_p, each P_c is a valid P-value for contest c,
// and it is never larger than the bound on the across-contest maximum
// e_p = max_c e_cp, which confirms all the contests at once. With one
// contest this is MACRO exactly. (Arlo audits each contest "as if we did
// MACRO on one contest", each with its own sample; here one sample does.)

// MultiBatch is one batch's tallies in several contests.
type MultiBatch struct {
	Batch string
	// Results maps a contest's name to the batch's tally in it; a contest
	// the batch does not hold is absent or has 0 ballots.
	Results map[string]BatchResult
}

// MACROMultiMaxError is u_p, the largest relative overstatement the batch
// could hide in any of the contests.
func MACROMultiMaxError(cs []Contest, b MultiBatch) float64 {
	var u float64
	for _, c := range cs {
		u = math.Max(u, MACROMaxError(c, b.Results[c.Name]))
	}
	return u
}

func checkMulti(cs []Contest, alpha float64) error {
	if len(cs) == 0 {
		return ErrNoTarget
	}
	names := map[string]bool{}
	for _, c := range cs {
		if c.Name == "" || names[c.Name] {
			return fmt.Errorf("contest %q: %w", c.Name, ErrContestName)
		}
		names[c.Name] = true
		if err := c.Validate(); err != nil {
			return fmt.Errorf("contest %q: %w", c.Name, err)
		}
	}
	return checkRiskLimit(alpha)
}

// MACROMulti measures every contest's risk after the drawn batches were
// counted. draws lists the counted batches in draw (ticket) order, a batch
// drawn twice appearing twice. risks[i] and confirmed[i] are contest
// cs[i]'s; a contest stops at the first draw at which its P reaches the
// risk limit. Counting every batch that holds a contest is its full hand
// count: its risk is 0, as MACRO's.
func MACROMulti(cs []Contest, alpha float64, reported []MultiBatch, draws []MultiBatch) (risks []float64, confirmed []bool, err error) {
	if err := checkMulti(cs, alpha); err != nil {
		return nil, nil, err
	}
	byName := map[string]MultiBatch{}
	U := 0.0
	for _, b := range reported {
		byName[b.Batch] = b
		U += MACROMultiMaxError(cs, b)
	}
	for _, d := range draws {
		if _, ok := byName[d.Batch]; !ok {
			return nil, nil, ErrBatchUnknown
		}
	}
	risks, confirmed = make([]float64, len(cs)), make([]bool, len(cs))
	for i, c := range cs {
		holding, counted := 0, map[string]bool{}
		for _, b := range reported {
			if b.Results[c.Name].Ballots > 0 {
				holding++
			}
		}
		for _, d := range draws {
			if byName[d.Batch].Results[c.Name].Ballots > 0 {
				counted[d.Batch] = true
			}
		}
		if holding == 0 {
			return nil, nil, fmt.Errorf("contest %q: %w", c.Name, ErrNoBatches)
		}
		if len(counted) == holding {
			risks[i], confirmed[i] = 0, true
			continue
		}
		risks[i], confirmed[i] = macroMultiRisk(cs, c, alpha, U, byName, draws)
	}
	return risks, confirmed, nil
}

func macroMultiRisk(cs []Contest, c Contest, alpha, U float64, byName map[string]MultiBatch, draws []MultiBatch) (float64, bool) {
	if math.IsInf(U, 1) {
		return 1, false
	}
	logP := 0.0
	for _, d := range draws {
		r := byName[d.Batch]
		up := MACROMultiMaxError(cs, r)
		if up == 0 {
			continue // PPEB never draws a batch that can hide no error
		}
		ep := 0.0
		if r.Results[c.Name].Ballots > 0 {
			ep = macroError(c, r.Results[c.Name], d.Results[c.Name])
		}
		if math.IsInf(ep, 1) {
			return 1, false
		}
		taint := ep / up
		if taint >= 1 {
			return 1, false
		}
		logP += math.Log1p(-1/U) - math.Log1p(-taint)
		if p := math.Exp(logP); p <= alpha {
			return p, true
		}
	}
	p := math.Min(math.Exp(logP), 1)
	return p, p <= alpha
}

// MACROMultiSampleSize is the number of draws that would confirm the
// targeted contests (targeted[i] for cs[i]) if no more error turns up: the
// smallest n with (1 − 1/U)^n <= alpha, where U counts, for the batches
// already counted (in counted), the largest relative overstatement they
// showed in a targeted contest instead of their bound. A tie gives the
// number of batches: count them all.
func MACROMultiSampleSize(cs []Contest, targeted []bool, alpha float64, reported []MultiBatch, counted map[string]MultiBatch) (int, error) {
	if err := checkMulti(cs, alpha); err != nil {
		return 0, err
	}
	var U float64
	for _, b := range reported {
		got, ok := counted[b.Batch]
		if !ok {
			U += MACROMultiMaxError(cs, b)
			continue
		}
		e := 0.0
		for i, c := range cs {
			if targeted[i] && b.Results[c.Name].Ballots > 0 {
				e = math.Max(e, macroError(c, b.Results[c.Name], got.Results[c.Name]))
			}
		}
		U += e
	}
	switch {
	case U < 1:
		return 0, nil
	case U == 1:
		return 1, nil
	case math.IsInf(U, 1):
		return len(reported), nil
	}
	n := ceilInt(math.Log(alpha) / math.Log1p(-1/U))
	return min(n, len(reported)), nil
}
