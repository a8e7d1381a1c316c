package rla

import (
	"errors"
	"fmt"
	"math/bits"
)

// Audit is several contests audited from one ballot-polling sample of
// the same manifest. Targeted contests decide the sample size and must
// each be confirmed for the audit to end; opportunistic contests are
// measured from the same ballots and reported, but hold nothing back.
//
// A draw from the manifest holds a contest with probability
// Contest.Ballots / Ballots, so a contest on a fraction of the ballots
// needs proportionally more draws.
type Audit struct {
	// Ballots is the number of ballots in the manifest sampled.
	Ballots int
	// RiskLimit is alpha, e.g. 0.1.
	RiskLimit float64
	Contests  []AuditContest
}

// AuditContest is one contest of an Audit.
type AuditContest struct {
	Contest
	Targeted bool
}

// ContestRisk is one contest's measured risk.
type ContestRisk struct {
	Name     string
	Targeted bool
	Risk
}

// AuditRisk is the result of measuring every contest of an Audit.
type AuditRisk struct {
	Contests []ContestRisk
	// Confirmed reports that every targeted contest is confirmed.
	Confirmed bool
}

// Audit errors.
var (
	ErrNoTarget       = errors.New("an audit needs at least one targeted contest")
	ErrContestBallots = errors.New("a contest cannot have more ballots than the manifest")
	ErrContestName    = errors.New("contest names must be non-empty and distinct")
)

func (a Audit) validate() error {
	targets := 0
	names := map[string]bool{}
	for _, c := range a.Contests {
		if c.Name == "" || names[c.Name] {
			return fmt.Errorf("contest %q: %w", c.Name, ErrContestName)
		}
		names[c.Name] = true
		if err := c.Validate(); err != nil {
			return fmt.Errorf("contest %q: %w", c.Name, err)
		}
		if c.Contest.Ballots > a.Ballots {
			return fmt.Errorf("contest %q: %w", c.Name, ErrContestBallots)
		}
		if c.Targeted {
			targets++
		}
	}
	if targets == 0 {
		return ErrNoTarget
	}
	return checkRiskLimit(a.RiskLimit)
}

// BRAVOSampleSizes sizes the next round: for each targeted contest its
// BRAVO sizes scaled from its ballots to the manifest's, and for each
// option the largest over the targeted contests. samples maps contest
// names to the votes already sampled in them (nil before the first
// round). Contests already confirmed by their sample need nothing more;
// if all are, ErrAuditOver.
func (a Audit) BRAVOSampleSizes(samples map[string]map[string]int) (SampleSizes, error) {
	if err := a.validate(); err != nil {
		return SampleSizes{}, err
	}
	var out SampleSizes
	found := false
	for _, c := range a.Contests {
		if !c.Targeted {
			continue
		}
		s, err := BRAVOSampleSizes(c.Contest, a.RiskLimit, samples[c.Name])
		if errors.Is(err, ErrAuditOver) {
			continue
		}
		if err != nil {
			return SampleSizes{}, fmt.Errorf("contest %q: %w", c.Name, err)
		}
		found = true
		out.ASN = max(out.ASN, scaleUp(s.ASN, a.Ballots, c.Contest.Ballots))
		for i := range out.Sizes {
			out.Sizes[i] = max(out.Sizes[i], scaleUp(s.Sizes[i], a.Ballots, c.Contest.Ballots))
		}
		out.FullCount = out.FullCount || s.FullCount
	}
	if !found {
		return SampleSizes{}, ErrAuditOver
	}
	return out, nil
}

// scaleUp is ceil(n·to/from).
func scaleUp(n, to, from int) int {
	hi, lo := bits.Mul64(uint64(n), uint64(to))
	q, r := bits.Div64(hi, lo, uint64(from))
	if r != 0 {
		q++
	}
	return int(q)
}

// BRAVO measures every contest's risk from the same sample; samples
// maps contest names to the votes found in each, cumulated over rounds.
func (a Audit) BRAVO(samples map[string]map[string]int) (AuditRisk, error) {
	return a.measure(func(c Contest) (Risk, error) { return BRAVO(c, a.RiskLimit, samples[c.Name]) })
}

// Minerva measures every contest's risk with Minerva; rounds maps
// contest names to the votes found in each round.
func (a Audit) Minerva(rounds map[string][]map[string]int) (AuditRisk, error) {
	return a.measure(func(c Contest) (Risk, error) { return MinervaRisk(c, a.RiskLimit, rounds[c.Name]) })
}

func (a Audit) measure(risk func(Contest) (Risk, error)) (AuditRisk, error) {
	if err := a.validate(); err != nil {
		return AuditRisk{}, err
	}
	out := AuditRisk{Confirmed: true}
	for _, c := range a.Contests {
		r, err := risk(c.Contest)
		if err != nil {
			return AuditRisk{}, fmt.Errorf("contest %q: %w", c.Name, err)
		}
		out.Contests = append(out.Contests, ContestRisk{Name: c.Name, Targeted: c.Targeted, Risk: r})
		if c.Targeted && !r.Confirmed {
			out.Confirmed = false
		}
	}
	return out, nil
}
