package rla

import (
	"errors"
	"math"
)

// SuperSimpleGamma is the error inflation factor γ of Stark's
// super-simple method; 1.03905 is the value of Stark's online tools,
// Colorado's RLA software and Arlo.
const SuperSimpleGamma = 1.03905

// Discrepancies counts the sampled ballots of a ballot-comparison audit
// by how the cast vote record misstated the ballot, measured on the
// closest winner-loser pair: an overstatement made the reported winner
// look better than the ballot does (O1: by one vote, e.g. a winner vote
// recorded for a blank; O2: by two votes, a loser vote recorded as a
// winner vote); an understatement made it look worse (U1, U2).
type Discrepancies struct {
	O1, O2, U1, U2 int
}

// ErrDiscrepancies reports counts that cannot be.
var ErrDiscrepancies = errors.New("discrepancy counts must be non-negative and at most the ballots sampled")

// SuperSimpleRisk is the Kaplan-Markov P-value of a ballot-comparison
// audit by Stark's super-simple method ("Super-simple simultaneous
// single-ballot risk-limiting audits", EVT/WOTE 2010; formula of Lindeman
// and Stark, "A Gentle Introduction to Risk-limiting Audits", 2012):
//
//	P = (1 - μ/(2γ))^n / ((1 - 1/(2γ))^o1 (1 - 1/γ)^o2 (1 + 1/(2γ))^u1 (1 + 1/γ)^u2)
//
// where μ is the contest's diluted margin and n the number of ballots
// drawn (with multiplicity). P is capped at 1. A sample of at least as
// many draws as the contest has ballots counts as a full hand count: P
// is 0. The audit may stop when P is at or below alpha.
func SuperSimpleRisk(c Contest, alpha float64, sampled int, d Discrepancies) (float64, bool, error) {
	if err := checkComparison(c, alpha, sampled, d); err != nil {
		return 0, false, err
	}
	if sampled >= c.Ballots {
		return 0, true, nil
	}
	mu := c.DilutedMargin()
	g := SuperSimpleGamma
	logP := float64(sampled)*math.Log1p(-mu/(2*g)) -
		float64(d.O1)*math.Log1p(-1/(2*g)) - float64(d.O2)*math.Log1p(-1/g) -
		float64(d.U1)*math.Log1p(1/(2*g)) - float64(d.U2)*math.Log1p(1/g)
	p := math.Min(math.Exp(logP), 1)
	return p, p <= alpha, nil
}

func checkComparison(c Contest, alpha float64, sampled int, d Discrepancies) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := checkRiskLimit(alpha); err != nil {
		return err
	}
	if _, l := c.Outcome(); len(l) == 0 {
		return ErrNoLosers
	}
	if sampled < 0 || d.O1 < 0 || d.O2 < 0 || d.U1 < 0 || d.U2 < 0 || d.O1+d.O2+d.U1+d.U2 > sampled {
		return ErrDiscrepancies
	}
	return nil
}

// Expected discrepancy rates before any ballot is sampled: one-vote
// misstatements 1 in 1,000 ballots, two-vote ones 1 in 10,000 (Arlo,
// following Stark's tools).
const (
	superSimpleRate1 = 0.001
	superSimpleRate2 = 0.0001
)

// SuperSimpleSampleSize is how many more ballots a super-simple audit
// should draw, given the ballots already sampled and their discrepancies
// (zero before the first round), following Arlo's supersimple.py:
//
// Before the first round it assumes the default discrepancy rates; after,
// the observed overstatement rates (understatements, which favour the
// reported outcome, are ignored to stay conservative). It solves for the
// size n0 at which the expected P-value reaches alpha, rounds the
// expected discrepancies in n0 ballots (one-vote up, two-vote to
// nearest) and returns Stark's nMin for those counts, less the ballots
// already drawn, capped at the contest's ballots.
func SuperSimpleSampleSize(c Contest, alpha float64, sampled int, d Discrepancies) (int, error) {
	if err := checkComparison(c, alpha, sampled, d); err != nil {
		return 0, err
	}
	mu := c.DilutedMargin()
	g := SuperSimpleGamma
	r1, r2 := superSimpleRate1, superSimpleRate2
	s1, s2 := superSimpleRate1, superSimpleRate2
	if sampled > 0 {
		r1, r2 = float64(d.O1)/float64(sampled), float64(d.O2)/float64(sampled)
		s1, s2 = 0, 0
	}
	lo1, lo2 := math.Log1p(-1/(2*g)), math.Log1p(-1/g)
	lu1, lu2 := math.Log1p(1/(2*g)), math.Log1p(1/g)
	denom := math.Log1p(-mu/(2*g)) - r1*lo1 - r2*lo2 - s1*lu1 - s2*lu2
	stop := c.Ballots
	if denom < 0 {
		n0 := math.Ceil(math.Log(alpha) / denom)
		o1, u1 := math.Ceil(r1*n0), math.Ceil(s1*n0)
		o2, u2 := math.Floor(r2*n0+0.5), math.Floor(s2*n0+0.5)
		nMin := math.Max(o1+o2+u1+u2,
			math.Ceil(-2*g*(math.Log(alpha)+o1*lo1+o2*lo2+u1*lu1+u2*lu2)/mu))
		if nMin < float64(c.Ballots) {
			stop = int(nMin)
		}
	}
	return max(stop-sampled, 0), nil
}
