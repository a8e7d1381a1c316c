package rla

import (
	"math"
	"math/bits"
)

// BRAVO is a ballot-polling audit by Wald's sequential probability ratio
// test, pairwise for every reported winner w and loser l (Lindeman, Stark
// and Yates, "BRAVO: Ballot-polling Risk-limiting Audits to Verify
// Outcomes", EVT/WOTE 2012). Each sampled vote for w multiplies the test
// statistic T_wl by s_wl/0.5 and each vote for l by (1-s_wl)/0.5, where
// s_wl = v_w/(v_w+v_l) is w's reported share of the two. The risk of a
// pair is 1/T_wl (at most 1); the contest is confirmed when every pair's
// risk is at or below alpha. Because the test is pairwise, vote-for-N
// contests need nothing more than Contest.Winners.
//
// sample maps each choice to the votes found for it on the sampled
// ballots, cumulated over all rounds. A sample with at least as many
// votes as the contest has ballots is a full hand count: every risk is 0.
func BRAVO(c Contest, alpha float64, sample map[string]int) (Risk, error) {
	if err := checkPolling(c, alpha, sample); err != nil {
		return Risk{}, err
	}
	total := 0
	for _, v := range sample {
		total += v
	}
	logT := bravoLogT(c, sample)
	r := Risk{Confirmed: true}
	for _, p := range logT {
		risk := math.Min(math.Exp(-p.log), 1)
		if total >= c.Ballots {
			risk = 0
		}
		r.Pairs = append(r.Pairs, PairRisk{p.Pair, risk})
		r.Max = math.Max(r.Max, risk)
		if risk > alpha {
			r.Confirmed = false
		}
	}
	return r, nil
}

func checkPolling(c Contest, alpha float64, sample map[string]int) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if err := checkRiskLimit(alpha); err != nil {
		return err
	}
	if err := c.checkSample(sample); err != nil {
		return err
	}
	if _, l := c.Outcome(); len(l) == 0 {
		return ErrNoLosers
	}
	return nil
}

type pairLog struct {
	Pair
	log float64
}

// bravoLogT returns ln T_wl for every pair. Logarithms keep the statistic
// finite for samples of millions of ballots.
func bravoLogT(c Contest, sample map[string]int) []pairLog {
	winners, losers := c.Outcome()
	var out []pairLog
	for _, w := range winners {
		for _, l := range losers {
			var lt float64
			sw := share(w.Votes, l.Votes)
			if v := sample[w.Name]; v > 0 {
				lt += float64(v) * math.Log(sw/0.5)
			}
			if v := sample[l.Name]; v > 0 {
				lt += float64(v) * math.Log((1-sw)/0.5)
			}
			out = append(out, pairLog{Pair{w.Name, l.Name}, lt})
		}
	}
	return out
}

// share is v_w/(v_w+v_l), the winner's share of the pair's votes; 1/2
// when neither has a vote, which makes the pair's statistic inert.
func share(vw, vl int) float64 {
	if vw+vl == 0 {
		return 0.5
	}
	return float64(vw) / float64(vw+vl)
}

// StopProbabilities are the chances of finishing in one round for which
// sample sizes are offered, as in Arlo.
var StopProbabilities = [3]float64{0.7, 0.8, 0.9}

// SampleSizes are the options for the size of the next round.
type SampleSizes struct {
	// ASN is the average sample number: the expected number of ballots
	// to draw before the audit stops if the reported outcome is right.
	// 0 if the method has none.
	ASN int
	// ASNProb is the chance that a round of ASN ballots stops the audit,
	// rounded to two decimals; 0 if not computed.
	ASNProb float64
	// Sizes[i] is the round size that stops the audit with probability
	// StopProbabilities[i] if the reported outcome is right.
	Sizes [3]int
	// FullCount reports that a full hand count is the better plan (a tie,
	// or a sample too large a share of the ballots); then every size is
	// the number of ballots.
	FullCount bool
}

func fullCount(ballots int) SampleSizes {
	return SampleSizes{ASN: ballots, Sizes: [3]int{ballots, ballots, ballots}, FullCount: true}
}

// largeElection and fullCountShare are Arlo's rule for recommending a
// full hand count instead of a large BRAVO round: more than 100,000
// ballots and a 90 % round of a quarter of them or more.
const (
	largeElection  = 100_000
	fullCountShare = 0.25
)

// BRAVOSampleSizes computes the next round's size options for a BRAVO
// audit, given the votes already sampled (nil before the first round).
//
// The ASN is Lindeman and Stark's approximation for the closest pair
// (smallest winner share p_w, largest loser share p_l); the sizes for a
// 70/80/90 % chance of finishing in one round are Mark Lindeman's
// analytic quantile method, made exact by a binomial search. Both follow
// Arlo's bravo.py so that the numbers agree with Arlo's.
//
// Arlo has no size for a contest whose losers have no votes at all; here
// each sampled winner vote then doubles T, so the sizes are those that
// see enough winner votes to reach 1/alpha.
func BRAVOSampleSizes(c Contest, alpha float64, sample map[string]int) (SampleSizes, error) {
	if err := checkPolling(c, alpha, sample); err != nil {
		return SampleSizes{}, err
	}
	winners, losers := c.Outcome()
	worst, best := winners[len(winners)-1], losers[0]
	pw := float64(worst.Votes) / float64(c.Ballots)
	pl := float64(best.Votes) / float64(c.Ballots)
	if pw == pl {
		return fullCount(c.Ballots), nil
	}
	minLogT := math.Inf(1)
	for _, p := range bravoLogT(c, sample) {
		minLogT = math.Min(minLogT, p.log)
	}
	if pl == 0 {
		return bravoUnopposed(c, alpha, pw, minLogT)
	}

	// Arlo's get_expected_sample_sizes.
	sw := pw / (pw + pl)
	zw, zl := math.Log(2*sw), math.Log(2-2*sw)
	asn := ceilInt((math.Log(1/alpha) - minLogT + zw/2) / (pw*zw + pl*zl))
	if asn <= 0 {
		return SampleSizes{}, ErrAuditOver
	}
	sampleW, sampleL := sample[worst.Name], sample[best.Name]
	out := SampleSizes{ASN: asn, ASNProb: bravoASNProb(alpha, pw, pl, sampleW, sampleL, asn)}
	for i, q := range StopProbabilities {
		out.Sizes[i] = bravoQuantileSize(alpha, worst.Votes, best.Votes, c.Ballots, sampleW, sampleL, q)
	}
	if c.Ballots > largeElection && float64(out.Sizes[2]) >= fullCountShare*float64(c.Ballots) {
		return fullCount(c.Ballots), nil
	}
	return out, nil
}

// BRAVORoundSize is the size of the next BRAVO round that finishes the
// audit with probability prob (0 < prob < 1) if the reported outcome is
// right, for the closest winner-loser pair; 0 if the sample already
// suffices. BRAVOSampleSizes gives it for the usual 70/80/90 %.
func BRAVORoundSize(c Contest, alpha float64, sample map[string]int, prob float64) (int, error) {
	if err := checkPolling(c, alpha, sample); err != nil {
		return 0, err
	}
	if !(prob > 0 && prob < 1) {
		return 0, ErrProbability
	}
	winners, losers := c.Outcome()
	worst, best := winners[len(winners)-1], losers[0]
	if worst.Votes == best.Votes {
		return c.Ballots, nil
	}
	if best.Votes == 0 {
		return 0, ErrNoLoserVotes
	}
	return bravoQuantileSize(alpha, worst.Votes, best.Votes, c.Ballots, sample[worst.Name], sample[best.Name], prob), nil
}

// bravoQuantileSize is Mark Lindeman's analytic round size (Arlo's
// bravo_sample_sizes): the size at which the (1-q) quantile of the
// winner's votes still reaches the risk limit, from the normal
// approximation and then made exact with the binomial quantile.
//
// The last step scales the pair's votes up to ballots, dividing by the
// pair's share of the ballots; it is done in integers, since Arlo's
// Decimal(float) shares are off in the 17th digit and can push a whole
// number over the next integer (Arlo gets 2476 for 1683 / 0.68).
func bravoQuantileSize(alpha float64, votesW, votesR, ballots, sampleW, sampleR int, q float64) int {
	pw2 := float64(votesW) / float64(votesW+votesR)
	pr2 := 1 - pw2
	plus, minus := math.Log(pw2/0.5), math.Log(pr2/0.5)
	threshold := math.Log(1/alpha) - (float64(sampleW)*plus + float64(sampleR)*minus)
	if threshold <= 0 {
		return 0
	}
	z := -normPPF(q)
	// E_x = n p_w2 + z sqrt(n p_w2 p_r2) equals R_x = (threshold - minus n)/(plus - minus):
	// a quadratic in n; take the larger root for q > 0.5.
	d := pw2 * pr2
	f := threshold / (plus - minus)
	g := minus/(plus-minus) + pw2
	qa, qb, qc := g*g, -(z*z*d + 2*f*g), f*f
	radical := math.Sqrt(math.Max(0, qb*qb-4*qa*qc))
	var size int
	if q > 0.5 {
		size = int(math.Floor((-qb + radical) / (2 * qa)))
	} else {
		size = int(math.Floor((-qb - radical) / (2 * qa)))
	}
	for {
		xc := float64(binomPPF(1-q, size, pw2))
		if xc*plus+(float64(size)-xc)*minus > threshold {
			break
		}
		size++
	}
	// Scale from the pair's votes to all ballots: ceil(size * ballots / (v_w + v_r)).
	hi, lo := bits.Mul64(uint64(size), uint64(ballots))
	quo, rem := bits.Div64(hi, lo, uint64(votesW+votesR))
	if rem != 0 {
		quo++
	}
	return int(quo)
}

// bravoASNProb is Arlo's expected_prob: the chance, by the normal
// approximation, that a round of asn ballots finishes the audit.
func bravoASNProb(alpha, pw, pr float64, sampleW, sampleR, asn int) float64 {
	pwr := pw + pr
	pw2 := pw / pwr
	pr2 := 1 - pw2
	plus, minus := math.Log(pw2/0.5), math.Log(pr2/0.5)
	threshold := math.Log(1/alpha) - (float64(sampleW)*plus + float64(sampleR)*minus)
	if threshold <= 0 {
		return 0
	}
	n := float64(asn) * pwr
	rx := (threshold - minus*n) / (plus - minus)
	z := (rx - n*pw2) / math.Sqrt(n*pw2*pr2)
	return math.Round(normCDF(-z)*100) / 100
}

// bravoUnopposed sizes a contest whose losers have no reported votes:
// k winner votes give T = 2^k, so k = ceil(log2(1/(alpha T0))) more are
// needed, and a ballot carries a winner vote with probability pw.
func bravoUnopposed(c Contest, alpha, pw, logT0 float64) (SampleSizes, error) {
	k := ceilInt((math.Log(1/alpha) - logT0) / math.Ln2)
	if k <= 0 {
		return SampleSizes{}, ErrAuditOver
	}
	out := SampleSizes{ASN: min(ceilInt(float64(k)/pw), c.Ballots)}
	for i, q := range StopProbabilities {
		// Smallest n with P(Binomial(n, pw) >= k) >= q.
		n := k
		for n < c.Ballots && 1-binomCDF(k-1, n, pw) < q {
			n++
		}
		out.Sizes[i] = n
	}
	return out, nil
}
