package rla_test

import (
	"fmt"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

// BenchmarkDraw100kFrom10M is the sampling budget: 100,000 draws
// from a 10,000,000-ballot manifest in under 2 s.
func BenchmarkDraw100kFrom10M(b *testing.B) {
	m := make([]rla.Batch, 10_000)
	for i := range m {
		m[i] = rla.Batch{Name: fmt.Sprintf("Precinct %05d", i), Ballots: 1_000}
	}
	for b.Loop() {
		draws, err := rla.Sample(arloSeed, m, 100_000, true)
		if err != nil || len(draws) != 100_000 {
			b.Fatal(len(draws), err)
		}
	}
}

// benchContests are 100 two- and three-choice contests of 100,000 ballots
// with winner margins from 2 % to 40 %, and a first-round sample each.
func benchContests() ([]rla.Contest, []map[string]int) {
	var cs []rla.Contest
	var samples []map[string]int
	for i := range 100 {
		margin := 2000 + 380*i // votes, of 100,000 ballots
		w := 45000 + margin/2
		l := 45000 - margin/2
		c := rla.Contest{Name: fmt.Sprint("c", i), Ballots: 100_000, Winners: 1,
			Tally: []rla.Choice{{"w", w}, {"l", l}, {"o", 100_000 - w - l}}}
		cs = append(cs, c)
		samples = append(samples, map[string]int{"w": w / 100, "l": l / 100, "o": (100_000 - w - l) / 100})
	}
	return cs, samples
}

// BenchmarkSampleSizes100Contests is the budget for the math:
// sample sizes and risk measures for 100 contests in under 100 ms. Each
// contest gets BRAVO sizes and risk, Minerva risk, and super-simple size
// and risk.
func BenchmarkSampleSizes100Contests(b *testing.B) {
	cs, samples := benchContests()
	for b.Loop() {
		for i, c := range cs {
			if _, err := rla.BRAVOSampleSizes(c, 0.1, nil); err != nil {
				b.Fatal(err)
			}
			if _, err := rla.BRAVO(c, 0.1, samples[i]); err != nil {
				b.Fatal(err)
			}
			if _, err := rla.MinervaRisk(c, 0.1, []map[string]int{samples[i]}); err != nil {
				b.Fatal(err)
			}
			if _, err := rla.SuperSimpleSampleSize(c, 0.1, 0, rla.Discrepancies{}); err != nil {
				b.Fatal(err)
			}
			if _, _, err := rla.SuperSimpleRisk(c, 0.1, 100, rla.Discrepancies{O1: 1}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkMinervaSampleSizes100Contests sizes Minerva first rounds for
// the same 100 contests, the costliest search in the package.
func BenchmarkMinervaSampleSizes100Contests(b *testing.B) {
	cs, _ := benchContests()
	for b.Loop() {
		for _, c := range cs {
			if _, err := rla.MinervaSampleSizes(c, 0.1, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkSUITE100Contests times hybrid audits of the same 100 contests,
// split 90 % / 10 % between the CVR and the no-CVR stratum: each gets its
// first-round stratum sizes and the SUITE risk of a clean first round.
func BenchmarkSUITE100Contests(b *testing.B) {
	cs, _ := benchContests()
	var hs []rla.HybridContest
	var ss []rla.HybridSample
	for _, c := range cs {
		h := rla.HybridContest{Contest: c, CVR: rla.Stratum{Ballots: 90_000, Votes: map[string]int{}}, NoCVR: rla.Stratum{Ballots: 10_000, Votes: map[string]int{}}}
		for _, ch := range c.Tally {
			h.NoCVR.Votes[ch.Name] = ch.Votes / 10
			h.CVR.Votes[ch.Name] = ch.Votes - ch.Votes/10
		}
		hs = append(hs, h)
	}
	for _, h := range hs {
		cvr, no, err := rla.SUITESampleSize(h, 0.1, rla.HybridSample{})
		if err != nil {
			b.Fatal(err)
		}
		s := rla.HybridSample{CVRSampled: cvr, NoCVRSampled: no, NoCVRVotes: map[string]int{}}
		for name, v := range h.NoCVR.Votes {
			s.NoCVRVotes[name] = v * no / h.NoCVR.Ballots
		}
		ss = append(ss, s)
	}
	for b.Loop() {
		for i, h := range hs {
			if _, _, err := rla.SUITESampleSize(h, 0.1, rla.HybridSample{}); err != nil {
				b.Fatal(err)
			}
			if _, err := rla.SUITERisk(h, 0.1, ss[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
}
