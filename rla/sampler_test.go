package rla_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-elections/vigil/rla"
)

// arloSeed is the seed of Arlo's sampler tests
// (votingworks/arlo server/tests/audit_math/test_sampler.py, SEED).
const arloSeed = "12345678901234567890abcdefghijklmnopqrstuvwxyz😊"

// arloManifest is the manifest of Arlo's test_draw_sample: four batches
// "pct 1".."pct 4" of 25 ballots each.
var arloManifest = []rla.Batch{{"pct 1", 25}, {"pct 2", 25}, {"pct 3", 25}, {"pct 4", 25}}

// arloDrawSample is Arlo's snapshot for test_draw_sample
// (votingworks/arlo server/tests/audit_math/snapshots/snap_test_sampler.py,
// snapshots["test_draw_sample 1"]): draw_sample(SEED, manifest, 20, 0).
var arloDrawSample = []rla.Draw{
	{"0.000617786129909912", rla.BallotID{"pct 2", 3}, 1},
	{"0.002991631653037245", rla.BallotID{"pct 3", 24}, 1},
	{"0.012057030610635061", rla.BallotID{"pct 1", 25}, 1},
	{"0.017930028930651931", rla.BallotID{"pct 4", 19}, 1},
	{"0.025599454926985137", rla.BallotID{"pct 3", 15}, 1},
	{"0.045351055354441163", rla.BallotID{"pct 1", 7}, 1},
	{"0.063913979803461405", rla.BallotID{"pct 1", 8}, 1},
	{"0.064553852798863609", rla.BallotID{"pct 1", 22}, 1},
	{"0.078998835671540970", rla.BallotID{"pct 1", 20}, 1},
	{"0.090240829778172783", rla.BallotID{"pct 3", 12}, 1},
	{"0.096136506157297637", rla.BallotID{"pct 1", 20}, 2},
	{"0.104280162683637014", rla.BallotID{"pct 4", 17}, 1},
	{"0.108948480696023984", rla.BallotID{"pct 1", 25}, 2},
	{"0.111195681310332785", rla.BallotID{"pct 1", 4}, 1},
	{"0.114438612046531251", rla.BallotID{"pct 4", 3}, 1},
	{"0.130457464320709301", rla.BallotID{"pct 2", 1}, 1},
	{"0.133484785501449819", rla.BallotID{"pct 1", 12}, 1},
	{"0.134519219670087860", rla.BallotID{"pct 3", 20}, 1},
	{"0.135840440920085144", rla.BallotID{"pct 3", 10}, 1},
	{"0.138772253094235762", rla.BallotID{"pct 4", 20}, 1},
}

func TestSample(t *testing.T) {
	t.Run("a draw with replacement matches Arlo's snapshot draw for draw", func(t *testing.T) {
		got, err := rla.Sample(arloSeed, arloManifest, 20, true)
		if err != nil {
			t.Fatal(err)
		}
		assertDraws(t, got, arloDrawSample)
	})

	t.Run("a smaller draw is a prefix of a larger one", func(t *testing.T) {
		// Arlo's test_draw_more_samples snapshots 1 and 2 are the first and
		// second halves of test_draw_sample 1 (snap_test_sampler.py).
		got, err := rla.Sample(arloSeed, arloManifest, 10, true)
		if err != nil {
			t.Fatal(err)
		}
		assertDraws(t, got, arloDrawSample[:10])
	})

	t.Run("the order of batches in the manifest does not matter", func(t *testing.T) {
		reversed := []rla.Batch{arloManifest[3], arloManifest[2], arloManifest[1], arloManifest[0]}
		got, err := rla.Sample(arloSeed, reversed, 20, true)
		if err != nil {
			t.Fatal(err)
		}
		assertDraws(t, got, arloDrawSample)
	})

	t.Run("a draw without replacement skips the repeats of the same ticket stream", func(t *testing.T) {
		// Consistent sampling: without replacement, the draws are the
		// first-generation tickets of the with-replacement stream in the
		// same order (Rivest, consistent_sampler.py module docstring). The
		// expected values are the generation-1 rows of Arlo's snapshot.
		var want []rla.Draw
		for _, d := range arloDrawSample {
			if d.Times == 1 {
				want = append(want, d)
			}
		}
		got, err := rla.Sample(arloSeed, arloManifest, len(want), false)
		if err != nil {
			t.Fatal(err)
		}
		assertDraws(t, got, want)
	})

	t.Run("a draw without replacement larger than the manifest yields every ballot once", func(t *testing.T) {
		got, err := rla.Sample(arloSeed, arloManifest, 1000, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 100 {
			t.Fatalf("got %d draws, want the 100 ballots of the manifest", len(got))
		}
		seen := map[rla.BallotID]bool{}
		for _, d := range got {
			if seen[d.Ballot] {
				t.Fatalf("ballot %v drawn twice", d.Ballot)
			}
			seen[d.Ballot] = true
		}
	})

	t.Run("ballot positions stay within their batch", func(t *testing.T) {
		// The property of Arlo's test_ballot_labels, over uneven batches.
		m := []rla.Batch{{"a", 1}, {"b", 7}, {"c", 2}, {"d", 10}}
		got, err := rla.Sample(arloSeed, m, 100, true)
		if err != nil {
			t.Fatal(err)
		}
		size := map[string]int{}
		for _, b := range m {
			size[b.Name] = b.Ballots
		}
		for _, d := range got {
			if d.Ballot.Position < 1 || d.Ballot.Position > size[d.Ballot.Batch] {
				t.Fatalf("draw %v is outside its batch", d)
			}
		}
	})

	for _, tc := range []struct {
		name     string
		manifest []rla.Batch
		count    int
		want     error
	}{
		{"an empty manifest is refused", nil, 1, rla.ErrEmptyManifest},
		{"a batch without ballots is refused", []rla.Batch{{"a", 0}}, 1, rla.ErrBatchCount},
		{"a duplicated batch is refused", []rla.Batch{{"a", 1}, {"a", 2}}, 1, rla.ErrBatchDuplicate},
		{"an unnamed batch is refused", []rla.Batch{{"", 1}}, 1, rla.ErrBatchName},
		{"a draw of no ballots is refused", []rla.Batch{{"a", 1}}, 0, rla.ErrCount},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rla.Sample(arloSeed, tc.manifest, tc.count, true)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCheckSeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		seed string
		ok   bool
	}{
		// 20 digits: the rule of the issue and of Arlo's seed field.
		{"twenty dice rolls are enough", "01234567890123456789", true},
		{"Arlo's test seed has twenty digits among its letters", arloSeed, true},
		{"nineteen digits are too few", "0123456789012345678", false},
		{"letters do not count as digits", "abcdefghijklmnopqrstuvwxyz", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := rla.CheckSeed(tc.seed)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckSeed(%q) = %v", tc.seed, err)
			}
		})
	}
}

func assertDraws(t *testing.T, got, want []rla.Draw) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d draws, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("draw %d: got %s, want %s", i+1, fmtDraw(got[i]), fmtDraw(want[i]))
		}
	}
}

func fmtDraw(d rla.Draw) string {
	return fmt.Sprintf("(%s, (%q, %d), %d)", d.Ticket, d.Ballot.Batch, d.Ballot.Position, d.Times)
}
