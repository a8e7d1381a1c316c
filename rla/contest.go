package rla

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Choice is one line of a contest's reported tally.
type Choice struct {
	Name  string
	Votes int
}

// Contest is a contest's reported outcome, the hypothesis an audit checks.
type Contest struct {
	Name string
	// Ballots is the number of ballots cast in the contest; the audit
	// samples among these, so shares are computed against it.
	Ballots int
	// Winners is how many choices win (vote for N); 0 means 1.
	Winners int
	// Tally lists every choice with its reported votes. Ties in votes are
	// broken by this order, as in Arlo.
	Tally []Choice
}

// Contest errors.
var (
	ErrNoChoices     = errors.New("the contest has no choices")
	ErrChoiceName    = errors.New("a choice must have a name")
	ErrChoiceDup     = errors.New("a choice appears twice in the tally")
	ErrVotes         = errors.New("votes cannot be negative or exceed the ballots cast")
	ErrBallots       = errors.New("the contest must have at least one ballot")
	ErrWinners       = errors.New("the number of winners must be between 1 and the number of choices")
	ErrUnknownChoice = errors.New("the choice is not in the contest's tally")
	ErrRiskLimit     = errors.New("the risk limit must be between 0 and 1, exclusive")
	ErrNoLosers      = errors.New("every choice won: there is no outcome to audit")
	ErrAuditOver     = errors.New("the sample already confirms the outcome")
	ErrProbability   = errors.New("the probability must be between 0 and 1, exclusive")
	ErrNoLoserVotes  = errors.New("no loser has a vote: use BRAVOSampleSizes")
)

// Validate reports whether c is a well-formed contest.
func (c Contest) Validate() error {
	if len(c.Tally) == 0 {
		return ErrNoChoices
	}
	if c.Ballots < 1 {
		return ErrBallots
	}
	seen := map[string]bool{}
	for _, ch := range c.Tally {
		if ch.Name == "" {
			return ErrChoiceName
		}
		if seen[ch.Name] {
			return fmt.Errorf("choice %q: %w", ch.Name, ErrChoiceDup)
		}
		seen[ch.Name] = true
		if ch.Votes < 0 || ch.Votes > c.Ballots {
			return fmt.Errorf("choice %q: %w", ch.Name, ErrVotes)
		}
	}
	if w := c.winners(); w < 1 || w > len(c.Tally) {
		return ErrWinners
	}
	return nil
}

func (c Contest) winners() int {
	if c.Winners == 0 {
		return 1
	}
	return c.Winners
}

// Outcome splits the tally into reported winners and losers, most votes
// first; equal votes keep their tally order.
func (c Contest) Outcome() (winners, losers []Choice) {
	sorted := append([]Choice(nil), c.Tally...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Votes > sorted[j].Votes })
	w := min(c.winners(), len(sorted))
	return sorted[:w], sorted[w:]
}

// DilutedMargin is the smallest margin between a reported winner and a
// reported loser, in votes, divided by the ballots cast; -1 if there is
// no loser.
func (c Contest) DilutedMargin() float64 {
	w, l := c.Outcome()
	if len(l) == 0 {
		return -1
	}
	return float64(w[len(w)-1].Votes-l[0].Votes) / float64(c.Ballots)
}

// Pair is a reported winner and a reported loser, the unit of pairwise
// tests.
type Pair struct {
	Winner, Loser string
}

func (p Pair) String() string { return p.Winner + " > " + p.Loser }

// PairRisk is the risk measured for one winner-loser pair.
type PairRisk struct {
	Pair
	Risk float64
}

// Risk is the result of a risk measurement.
type Risk struct {
	// Pairs has one entry per winner-loser pair, winners in outcome order,
	// then losers in outcome order.
	Pairs []PairRisk
	// Max is the largest risk over the pairs: the risk of the contest.
	Max float64
	// Confirmed reports whether the audit may stop: every pair's risk is
	// at or below the risk limit.
	Confirmed bool
}

func (c Contest) index() map[string]int {
	m := make(map[string]int, len(c.Tally))
	for i, ch := range c.Tally {
		m[ch.Name] = i
	}
	return m
}

// checkSample verifies that every sampled choice is in the tally.
func (c Contest) checkSample(sample map[string]int) error {
	idx := c.index()
	for name, v := range sample {
		if _, ok := idx[name]; !ok {
			return fmt.Errorf("choice %q: %w", name, ErrUnknownChoice)
		}
		if v < 0 {
			return fmt.Errorf("choice %q: %w", name, ErrVotes)
		}
	}
	return nil
}

func checkRiskLimit(alpha float64) error {
	if !(alpha > 0 && alpha < 1) {
		return ErrRiskLimit
	}
	return nil
}

// ceilInt is ceil(x) as an int, saturating rather than overflowing.
func ceilInt(x float64) int {
	if x >= math.MaxInt32*float64(1<<31) {
		return math.MaxInt
	}
	return int(math.Ceil(x))
}
