package rla

import (
	"errors"
	"math"
)

// SHANGRLA (Stark, "Sets of Half-Average Nulls Generate Risk-Limiting
// Audits", 2020) reduces an audit to assertions: for each assertion an
// assorter maps a ballot to a number in [0, u], and the assertion holds
// if the assorter's mean over all ballots exceeds 1/2. An audit tests
// the complementary null hypotheses, mean <= 1/2, one per assertion.

// Assertion is the plurality assertion "Winner beats Loser": its
// assorter is 1 for a vote for the winner, 0 for a vote for the loser
// and 1/2 otherwise (upper bound u = 1).
type Assertion struct {
	Winner, Loser string
}

// Assertions returns the plurality assertions that together imply a
// contest's reported outcome: every reported winner beats every reported
// loser.
func Assertions(c Contest) []Assertion {
	winners, losers := c.Outcome()
	var out []Assertion
	for _, w := range winners {
		for _, l := range losers {
			out = append(out, Assertion{w.Name, l.Name})
		}
	}
	return out
}

// Assort is the assorter for ballot polling: votes maps choices to 0 or
// 1 as marked on the ballot.
func (a Assertion) Assort(votes map[string]int) float64 {
	return float64(sign(votes[a.Winner])-sign(votes[a.Loser])+1) / 2
}

// Margin is the assertion's reported assorter margin v = 2·mean − 1:
// the winner's lead over the loser in votes divided by the ballots.
func (a Assertion) Margin(c Contest) float64 {
	var vw, vl int
	for _, ch := range c.Tally {
		switch ch.Name {
		case a.Winner:
			vw = ch.Votes
		case a.Loser:
			vl = ch.Votes
		}
	}
	return float64(vw-vl) / float64(c.Ballots)
}

// OverstatementAssort is the assorter for ballot comparison (SHANGRLA
// section 3.2): with ω = A(cvr) − A(mvr) the overstatement of the
// ballot's assorter by its cast vote record and v the reported margin,
// it is (1 − ω)/(2 − v), with upper bound 2/(2 − v). A ballot without
// error scores 1/(2 − v) > 1/2.
func (a Assertion) OverstatementAssort(cvr, mvr map[string]int, margin float64) float64 {
	omega := a.Assort(cvr) - a.Assort(mvr)
	return (1 - omega) / (2 - margin)
}

// OverstatementUpper is the upper bound of OverstatementAssort.
func OverstatementUpper(margin float64) float64 { return 2 / (2 - margin) }

func sign(v int) int {
	if v > 0 {
		return 1
	}
	return 0
}

// ALPHA is Stark's ALPHA supermartingale test of the null hypothesis
// that the mean of a population of numbers in [0, Upper] is at most T
// ("ALPHA: Audit that Learns from Previously Hand-Audited Ballots",
// Annals of Applied Statistics, 2023), as implemented in SHANGRLA's
// NonnegMean.alpha_mart with the truncated shrinkage estimator
// shrink_trunc.
//
// After j draws with values x_1..x_j the test statistic is
//
//	T_j = ∏ (x_i η_i/m_i + (u − x_i)(u − η_i)/(u − m_i)) / u
//
// where m_i is the mean the undrawn population must have under the null
// and η_i the alternative, estimated from the earlier draws and shrunk
// towards Eta0. The P-value is min(1, 1/max T_j).
type ALPHA struct {
	// N is the population size for sampling without replacement; 0
	// means sampling with replacement (an infinite population).
	N int
	// T is the hypothesized mean; 0 means 1/2, the SHANGRLA null.
	T float64
	// Upper is the upper bound u of the values; 0 means 1.
	Upper float64
	// Eta0 is the initial guess of the true mean, in (T, Upper].
	Eta0 float64
	// D is the weight of Eta0 against the data (SHANGRLA's d); C scales
	// the minimum margin η_i keeps above m_i, c/sqrt(d+i−1); 0 means
	// (Eta0 − T)/2. Fixed keeps η_i = Eta0 throughout, the "fixed
	// alternative" of SHANGRLA's fixed_alternative_mean.
	D, C  float64
	Fixed bool
}

// ErrALPHA reports parameters or data outside the test's domain.
var ErrALPHA = errors.New("ALPHA needs Upper > Eta0 > T > 0, D >= 0 and values in [0, Upper]")

func (a ALPHA) params() (t, u, c float64, err error) {
	t, u, c = a.T, a.Upper, a.C
	if t == 0 {
		t = 0.5
	}
	if u == 0 {
		u = 1
	}
	if c == 0 {
		c = (a.Eta0 - t) / 2
	}
	if !(t > 0 && a.Eta0 > t && a.Eta0 <= u && a.D >= 0) {
		return 0, 0, 0, ErrALPHA
	}
	return t, u, c, nil
}

// PValues returns the P-value after each draw of x, in draw order:
// min(1, 1/max_{i<=j} T_i). Once the population is exhausted (or the
// draws prove the mean exceeds T) the P-value is 0.
func (a ALPHA) PValues(x []float64) ([]float64, error) {
	t, u, c, err := a.params()
	if err != nil {
		return nil, err
	}
	finite := a.N > 0
	if finite && len(x) > a.N {
		return nil, ErrALPHA
	}
	out := make([]float64, len(x))
	logT, maxLogT := 0.0, 0.0
	var sum float64
	for i, xi := range x {
		if !(xi >= 0 && xi <= u) {
			return nil, ErrALPHA
		}
		j := float64(i + 1)
		m := t
		if finite {
			m = (float64(a.N)*t - sum) / (float64(a.N) - j + 1)
		}
		eta := a.Eta0
		if !a.Fixed {
			est := (a.D*a.Eta0 + sum) / (a.D + j - 1)
			eta = math.Min(math.Max(m+c/math.Sqrt(a.D+j-1), est), u*(1-epsilon))
		}
		switch {
		case math.IsInf(logT, 1):
			// Proven already; stays proven.
		case m < 0 || (m == 0 && xi > 0):
			// The draws already exceed what a mean of T allows.
			logT = math.Inf(1)
		case m > u:
			// The population mean is certainly below T: the null is true,
			// and the statistic can grow no further.
		default:
			term := (u - xi) * (u - eta) / (u - m)
			if xi > 0 {
				// xi > 0 implies m > 0 here; skipping the product when
				// xi = 0 avoids 0/0 once the null leaves nothing for the
				// undrawn values (m = 0).
				term += xi * eta / m
			}
			term /= u
			logT += math.Log(term)
		}
		maxLogT = math.Max(maxLogT, logT)
		out[i] = math.Min(1, math.Exp(-maxLogT))
		sum += xi
	}
	return out, nil
}

// epsilon keeps η_i strictly below u, as SHANGRLA does with
// numpy's float epsilon.
const epsilon = 0x1p-52

// SampleSize is the number of draws after which the P-value first
// reaches alpha when the population is x repeated (as SHANGRLA's
// NonnegMean.sample_size does without simulation); 0 if it never does.
// With sampling with replacement the draws cycle through x for up to
// 100 × len(x) + 10,000 draws.
func (a ALPHA) SampleSize(x []float64, alpha float64) (int, error) {
	if err := checkRiskLimit(alpha); err != nil {
		return 0, err
	}
	if len(x) == 0 {
		return 0, ErrALPHA
	}
	n := a.N
	if n == 0 {
		n = 100*len(x) + 10_000
	}
	pop := make([]float64, n)
	for i := range pop {
		pop[i] = x[i%len(x)]
	}
	p, err := a.PValues(pop)
	if err != nil {
		return 0, err
	}
	for i, v := range p {
		if v <= alpha {
			return i + 1, nil
		}
	}
	return 0, nil
}
