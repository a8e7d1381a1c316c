// Package rla is the mathematics of risk-limiting audits: drawing the
// sample, sizing it, and measuring the risk that remains after the audit
// boards have read the sampled ballots.
//
// The package does no input or output. Every function is a pure function
// of its arguments, so the same inputs give the same answer on every
// machine; that is what lets an observer recompute an audit from its
// published inputs.
//
// # Sampling
//
// [Sample] implements Ronald Rivest's consistent sampler
// (github.com/ron-rivest/consistent_sampler) exactly as Arlo calls it: each
// ballot (batch, position) gets a pseudo-random ticket number computed with
// SHA-256 from a public seed, and ballots are drawn in increasing ticket
// order. The output is identical to Arlo's for the same seed and manifest,
// including the 18-digit ticket strings, so either tool can check the other.
//
// # Ballot polling
//
// [BRAVO] is Wald's sequential probability ratio test as described by
// Lindeman, Stark and Yates (2012), pairwise for every reported winner
// and loser, which covers vote-for-N contests. [MinervaRisk] is the
// round-by-round Minerva test of Zagórski et al. (2021).
// [BRAVOSampleSizes] and [MinervaSampleSizes] give first-round sizes: the
// expected (average) sample number and the sizes that finish the audit in
// one round with a 70, 80 or 90 % chance when the reported outcome is right.
//
// # Ballot comparison
//
// [SuperSimpleRisk] is the Kaplan-Markov P-value of Stark's super-simple
// method with one- and two-vote over- and understatements;
// [SuperSimpleSampleSize] sizes it as Arlo and Stark's tools do.
// [Assertion] and [ALPHA] are SHANGRLA-style assertions tested with
// Stark's ALPHA supermartingale.
//
// # Batch comparison
//
// [MACRO] measures risk from batch tallies (maximum across contests
// relative overstatement).
//
// # Hybrid (stratified) audits
//
// [SUITERisk] and [SUITESampleSize] audit a contest whose ballots fall
// into a stratum with cast vote records (ballot comparison) and one
// without (ballot polling), combining the strata's P-values with Fisher's
// function and maximising over the allocation of error between them
// (SUITE, Ottoboni, Stark, Lindeman and McBurnett, 2018), as Arlo's
// hybrid audits do.
//
// # Several contests
//
// [Audit] audits several contests from one sample: targeted contests
// must meet the risk limit, opportunistic ones are measured from the same
// ballots and reported.
package rla
