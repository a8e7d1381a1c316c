package rla

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// These tests reach the sampler's primitives, which the public API only
// exposes through (batch, position) ids, to check them against the
// doctests of the reference implementation
// (ron-rivest/consistent_sampler, pkg/consistent_sampler/consistent_sampler.py).
func TestConsistentSamplerPrimitives(t *testing.T) {
	t.Run("sha256_uniform of abc matches the reference docstring", func(t *testing.T) {
		// consistent_sampler.py, sha256_uniform docstring: sha256_uniform("abc").
		want := "0.56998071861792858926477341561059638840106636224182943832566300809078486324348"
		if got := uniformFromDigest(sha256.Sum256([]byte("abc"))); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	t.Run("first_fraction of an id and seed matches the reference docstring", func(t *testing.T) {
		// consistent_sampler.py, first_fraction docstring:
		// first_fraction('AB-130', '01382438112797316654').
		seed := sha256.Sum256([]byte("01382438112797316654"))
		in := hexString(seed) + "AB-130"
		want := "0.26299714122838008416507544297546663599715395525154425586041245287750224561854"
		if got := uniformFromDigest(sha256.Sum256([]byte(in))); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	t.Run("next_fraction matches the reference docstrings", func(t *testing.T) {
		for _, tc := range []struct{ x, want string }{
			// consistent_sampler.py, next_fraction docstring.
			{"0.25471", "0.642853261655004694691182528114375607701032283189922170593838029306715548381901"},
			// consistent_sampler.py, next_ticket docstring (generation 1 -> 2 of 'AB-130').
			{"0.26299714122838008416507544297546663599715395525154425586041245287750224561854",
				"0.8232357229934205790595761924514048157652891124687533667363938813600770093316"},
			// consistent_sampler.py, draw_with_replacement docstring: ticket '0.234'.
			{"0.234", "0.547830802749402616364646686795722512609112766306951592422621788875312684400211"},
		} {
			if got := nextFraction(tc.x); got != tc.want {
				t.Errorf("nextFraction(%s) = %s, want %s", tc.x, got, tc.want)
			}
		}
	})

	t.Run("trim keeps digits after a run of nines", func(t *testing.T) {
		// consistent_sampler.py, trim docstring: trim('0.9991234567890', 4).
		if got := trimTicket("0.9991234567890", 4); got != "0.9991234" {
			t.Fatalf("got %s", got)
		}
	})

	t.Run("ids are hashed as Python prints them", func(t *testing.T) {
		// Python 3 repr() of str: the expected strings are what
		// `python3 -c 'print(repr(s))'` prints for each input
		// (language reference, "String and Bytes literals"; str.isprintable).
		for _, tc := range []struct{ in, want string }{
			{"pct 1", `'pct 1'`},
			{"O'Brien", `"O'Brien"`},
			{`say "hi" it's`, `'say "hi" it\'s'`},
			{`back\slash`, `'back\\slash'`},
			{"tab\tnew\nline", `'tab\tnew\nline'`},
			{"bell\x07", `'bell\x07'`},
			{"nb\u00a0sp", `'nb\xa0sp'`},
			{"zw\u200bsp", `'zw\u200bsp'`},
			{"Zürich 😊", `'Zürich 😊'`},
		} {
			if got := pyRepr(tc.in); got != tc.want {
				t.Errorf("pyRepr(%q) = %s, want %s", tc.in, got, tc.want)
			}
		}
	})

	t.Run("the 19-digit key is the start of the full ticket", func(t *testing.T) {
		inputs := []string{"abc", "a", "", "pct 1"}
		for i := range 1000 {
			inputs = append(inputs, fmt.Sprint(i))
		}
		for _, s := range inputs {
			d := sha256.Sum256([]byte(s))
			full := uniformFromDigest(d)
			var want uint64
			for _, c := range full[2:21] {
				want = want*10 + uint64(c-'0')
			}
			if got := keyFromDigest(&d); got != want {
				t.Errorf("key(%q) = %d, want %d from %s", s, got, want, full)
			}
			if got := keyPrefix(&d); got != want/1e15 {
				t.Errorf("keyPrefix(%q) = %d, want %d from %s", s, got, want/1e15, full)
			}
		}
	})
}

func hexString(d [32]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range d {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

func TestParallelScanAgreesWithFullScan(t *testing.T) {
	// The parallel top-k scan must pick exactly the ballots whose keys a
	// plain scan of every ballot ranks first.
	m := []Batch{{"a", 9000}, {"b", 1}, {"c", 12000}}
	s := newSampler("01234567890123456789", m)
	got := s.smallest(500)
	all := s.atOrBelow(^uint64(0) >> 1)
	if len(got) != 500 {
		t.Fatalf("got %d candidates", len(got))
	}
	for i := range got {
		if got[i] != all[i] {
			t.Fatalf("candidate %d: %+v, want %+v", i, got[i], all[i])
		}
	}
}
