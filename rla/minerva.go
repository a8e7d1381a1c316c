package rla

import (
	"errors"
	"math"
	"math/bits"
)

// Minerva is the round-by-round ballot-polling audit of Zagórski, Morin,
// McClearn, Vora and Sarwate ("Minerva: A Ballot-Polling Risk-Limiting
// Audit", arXiv:2008.02315, 2021), pairwise for every reported winner w
// and loser l, as implemented by the athena package that Arlo uses.
//
// For a pair, only ballots with a vote for w or l count ("relevant"
// ballots). After round j the audit has drawn n_j relevant ballots in
// all, k_j of them for w. The risk of the round is the ratio of tail
// probabilities
//
//	P(K_j >= k_j, not stopped earlier | tie) / P(K_j >= k_j, not stopped earlier | reported shares)
//
// where K_j counts w's votes; a round stops the pair when the risk is at
// or below alpha. Earlier rounds enter through the thresholds k_min they
// set: the distributions are carried forward by convolution and cut at
// each round's k_min, the smallest k with alpha·P(K >= k | reported) >=
// P(K >= k | tie).

// ErrMinervaRounds reports a round with fewer relevant votes than needed.
var ErrMinervaRounds = errors.New("every Minerva round must add at least one vote for a winner or a loser of each pair")

// MinervaRisk measures the risk of a Minerva audit after the given
// rounds; rounds[i] maps each choice to the votes found for it in round
// i's ballots (not cumulated). A pair confirmed in some round stays
// confirmed with that round's risk, as athena stops auditing it.
func MinervaRisk(c Contest, alpha float64, rounds []map[string]int) (Risk, error) {
	for _, r := range rounds {
		if err := checkPolling(c, alpha, r); err != nil {
			return Risk{}, err
		}
	}
	if len(rounds) == 0 {
		return Risk{}, ErrMinervaRounds
	}
	winners, losers := c.Outcome()
	out := Risk{Confirmed: true}
	for _, w := range winners {
		for _, l := range losers {
			var schedule, wins []int
			n, k := 0, 0
			for _, r := range rounds {
				n += r[w.Name] + r[l.Name]
				k += r[w.Name]
				schedule = append(schedule, n)
				wins = append(wins, k)
			}
			risk := minervaPairRisk(share(w.Votes, l.Votes), alpha, schedule, wins)
			out.Pairs = append(out.Pairs, PairRisk{Pair{w.Name, l.Name}, risk})
			out.Max = math.Max(out.Max, risk)
			if risk > alpha {
				out.Confirmed = false
			}
		}
	}
	return out, nil
}

// minervaPairRisk returns the risk of one pair after its rounds: that of
// the first round that stops it, or of the last round.
func minervaPairRisk(p, alpha float64, schedule, wins []int) float64 {
	if p <= 0.5 {
		// A tie (or a reversed pair) can only be confirmed by counting.
		return 1
	}
	m := newMinervaWalk(p)
	risk := 1.0
	for j, n := range schedule {
		if n <= m.n {
			// No relevant ballot in this round: nothing changes.
			continue
		}
		m.extend(n)
		risk = ratioAt(m.null, m.alt, wins[j])
		if risk <= alpha {
			return risk
		}
		m.cut(m.kmin(alpha))
	}
	return risk
}

// minervaWalk carries the distributions of the winner's votes among n
// relevant ballots, under the reported shares (alt) and under a tie
// (null), over the paths the audit has not stopped on.
type minervaWalk struct {
	p         float64
	n         int
	alt, null []float64
}

func newMinervaWalk(p float64) *minervaWalk {
	return &minervaWalk{p: p, alt: []float64{1}, null: []float64{1}}
}

// extend adds relevant ballots up to n in all.
func (m *minervaWalk) extend(n int) {
	d := n - m.n
	m.alt = convolve(m.alt, binomPMFs(d, m.p))
	m.null = convolve(m.null, binomPMFs(d, 0.5))
	m.n = n
}

// kmin is the smallest k >= floor(n/2) at which the round would stop:
// alpha·P(K >= k | alt) >= P(K >= k | null); n+1 if none. The scan runs
// upwards, as athena's does, so the first such k is taken even where
// earlier cuts make the condition hold, fail and hold again.
func (m *minervaWalk) kmin(alpha float64) int {
	lo := m.n / 2
	ta := make([]float64, m.n+2)
	tn := make([]float64, m.n+2)
	for k := m.n; k >= lo; k-- {
		ta[k] = ta[k+1] + m.alt[k]
		tn[k] = tn[k+1] + m.null[k]
	}
	for k := lo; k <= m.n; k++ {
		if alpha*ta[k] >= tn[k] {
			return k
		}
	}
	return m.n + 1
}

// cut removes the paths that stopped: k >= kmin.
func (m *minervaWalk) cut(kmin int) {
	for k := kmin; k <= m.n; k++ {
		m.alt[k], m.null[k] = 0, 0
	}
}

// stopProb is the probability, under the reported shares, of stopping in
// the current round: P(K >= kmin).
func (m *minervaWalk) stopProb(kmin int) float64 {
	var s float64
	for k := kmin; k <= m.n; k++ {
		s += m.alt[k]
	}
	return s
}

func (m *minervaWalk) clone() *minervaWalk {
	return &minervaWalk{p: m.p, n: m.n, alt: append([]float64(nil), m.alt...), null: append([]float64(nil), m.null...)}
}

// ratioAt is P(K >= k | null) / P(K >= k | alt), at most 1. When both
// tails underflow, k lies far above both means where the likelihood
// ratio is tiny, so the risk is 0, as in athena.
func ratioAt(null, alt []float64, k int) float64 {
	var tn, ta float64
	for i := len(alt) - 1; i >= k && i >= 0; i-- {
		tn += null[i]
		ta += alt[i]
	}
	switch {
	case ta > 0:
		return math.Min(tn/ta, 1)
	case tn == 0:
		return 0
	default:
		return 1
	}
}

// convolve is the distribution of the sum of two independent counts.
func convolve(a, b []float64) []float64 {
	out := make([]float64, len(a)+len(b)-1)
	for i, x := range a {
		if x == 0 {
			continue
		}
		for j, y := range b {
			out[i+j] += x * y
		}
	}
	return out
}

// MinervaSampleSizes computes the size of the next Minerva round that
// stops the audit with a 70, 80 or 90 % chance if the reported outcome
// is right, given the rounds already audited (nil before the first).
//
// For each pair it finds, by bisection over the pair's relevant ballots,
// the smallest next cumulative count whose conditional stopping
// probability reaches the goal, scales relevant ballots to ballots by
// the pair's share of the ballots, and takes the largest size over the
// pairs. The size is that of the new round (not cumulative). As in Arlo,
// a size may exceed the ballots cast (draws are with replacement); a
// full hand count is then the better plan. A tie gives the number of
// ballots with FullCount set.
//
// Arlo's athena stops its search at the first size whose probability is
// within 0.01 above the goal, so its sizes can be somewhat larger than
// these, which are the smallest the bisection finds.
func MinervaSampleSizes(c Contest, alpha float64, rounds []map[string]int) (SampleSizes, error) {
	if err := checkPolling(c, alpha, nil); err != nil {
		return SampleSizes{}, err
	}
	for _, r := range rounds {
		if err := c.checkSample(r); err != nil {
			return SampleSizes{}, err
		}
	}
	sampled := 0
	for _, r := range rounds {
		for _, v := range r {
			sampled += v
		}
	}
	winners, losers := c.Outcome()
	var out SampleSizes
	for i, q := range StopProbabilities {
		size := 0
		for _, w := range winners {
			for _, l := range losers {
				bc := w.Votes + l.Votes
				if w.Votes <= l.Votes {
					return fullCount(c.Ballots), nil
				}
				walk, stopped := minervaReplay(share(w.Votes, l.Votes), alpha, rounds, w.Name, l.Name)
				if stopped {
					continue
				}
				n, ok := minervaNextRound(walk, alpha, q, maxMinervaRelevant)
				if !ok {
					return fullCount(c.Ballots), nil
				}
				// Relevant ballots to ballots, rounding up: n·ballots/bc.
				hi, lo := bits.Mul64(uint64(n-walk.n), uint64(c.Ballots))
				quo, rem := bits.Div64(hi, lo, uint64(bc))
				if rem != 0 {
					quo++
				}
				size = max(size, int(quo))
			}
		}
		if size == 0 {
			return SampleSizes{}, ErrAuditOver
		}
		out.Sizes[i] = size
	}
	return out, nil
}

// maxMinervaRelevant bounds the search for a round size; past it the
// contest is too close for ballot polling.
const maxMinervaRelevant = 1 << 27

// minervaReplay rebuilds a pair's walk through the audited rounds,
// cutting at each round's k_min; stopped reports that a round already
// confirmed the pair.
func minervaReplay(p, alpha float64, rounds []map[string]int, w, l string) (*minervaWalk, bool) {
	m := newMinervaWalk(p)
	n, k := 0, 0
	for _, r := range rounds {
		n += r[w] + r[l]
		k += r[w]
		if n <= m.n {
			continue
		}
		m.extend(n)
		if ratioAt(m.null, m.alt, k) <= alpha {
			return m, true
		}
		m.cut(m.kmin(alpha))
	}
	return m, false
}

// minervaNextRound finds the smallest cumulative relevant count n (at
// most limit) whose stopping probability, given that the audit has not
// stopped before, is at least q. The probability is not exactly monotone
// in n (the threshold moves in whole votes); the bisection assumes it is,
// which keeps the answer deterministic and within a vote or two of the
// first crossing.
func minervaNextRound(m *minervaWalk, alpha, q float64, limit int) (int, bool) {
	remaining := 0.0
	for _, x := range m.alt {
		remaining += x
	}
	if remaining <= 0 {
		return 0, false
	}
	prob := func(n int) float64 {
		t := m.clone()
		t.extend(n)
		return t.stopProb(t.kmin(alpha)) / remaining
	}
	lo, hi := m.n, m.n+1
	for prob(hi) < q {
		if hi >= limit {
			return 0, false
		}
		lo, hi = hi, min(limit, m.n+2*(hi-m.n))
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if prob(mid) >= q {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, true
}
