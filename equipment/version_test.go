package equipment_test

import (
	"strings"
	"testing"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/equipment"
)

func TestParseVersion(t *testing.T) {
	valid := []struct{ name, in string }{
		{"a four-part vendor version parses", "5.10.50.85"},
		{"a single number parses", "7"},
		{"a semantic version with prerelease and build parses", "2.7.1-rc.1+build.5"},
		{"a leading v is allowed", "v1.2.3"},
		{"leading zeros are allowed", "5.10.05"},
		{"eight numbers are allowed", "1.2.3.4.5.6.7.8"},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			v, err := equipment.ParseVersion(tt.in)
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", tt.in, err)
			}
			if v.String() != tt.in {
				t.Errorf("String() = %q, want %q", v.String(), tt.in)
			}
		})
	}
	invalid := []struct{ name, in string }{
		{"an empty string is refused", ""},
		{"a wildcard is refused outside a range", "5.4.x"},
		{"an empty number between dots is refused", "5..1"},
		{"a trailing dot is refused", "5.1."},
		{"letters glued to a number are refused", "5.1a"},
		{"surrounding spaces are refused", " 5.1"},
		{"a product name is refused", "Verity 2.7"},
		{"nine numbers are refused", "1.2.3.4.5.6.7.8.9"},
		{"a ten-digit number is refused", "1234567890.1"},
		{"an empty prerelease is refused", "1.2-"},
		{"an empty build is refused", "1.2+"},
		{"a prerelease with an empty identifier is refused", "1.2-rc..1"},
		{"a lone v is refused", "v"},
		{"a version longer than 64 characters is refused", strings.Repeat("1", 65)},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ParseVersion(tt.in)
			if err == nil {
				t.Fatalf("ParseVersion(%q) succeeded", tt.in)
			}
			if vigil.ErrorKind(err) != vigil.Invalid || vigil.ErrorField(err) != "version" {
				t.Errorf("error %v: kind %v field %q, want invalid and version", err, vigil.ErrorKind(err), vigil.ErrorField(err))
			}
		})
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"missing numbers count as zero", "6.2", "6.2.0.0", 0},
		{"numbers compare numerically, not as text", "5.10.50.85", "5.9.99", 1},
		{"a longer version with a nonzero tail is newer", "5.10.50.85", "5.10.50", 1},
		{"leading zeros compare numerically", "5.10.05", "5.10.5", 0},
		{"a prerelease sorts before its release", "1.0.0-rc.1", "1.0.0", -1},
		{"numeric prerelease identifiers compare numerically", "1.0.0-rc.2", "1.0.0-rc.10", -1},
		{"numeric identifiers sort before alphanumeric ones", "1.0.0-1", "1.0.0-alpha", -1},
		{"a longer prerelease sorts after its prefix", "1.0.0-alpha.1", "1.0.0-alpha", 1},
		{"build metadata is ignored", "1.0.0+a", "1.0.0+b", 0},
		{"a leading v is ignored", "v2.7", "2.7", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := equipment.MustParseVersion(tt.a), equipment.MustParseVersion(tt.b)
			if got := a.Compare(b); got != tt.want {
				t.Errorf("%s vs %s = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if got := b.Compare(a); got != -tt.want {
				t.Errorf("%s vs %s = %d, want %d", tt.b, tt.a, got, -tt.want)
			}
		})
	}
}

func TestRangeContains(t *testing.T) {
	tests := []struct {
		name    string
		rng     string
		in, out []string
	}{
		{"an interval holds its lower bound and excludes its upper bound", ">=5.10.0 <5.10.50.85",
			[]string{"5.10.0", "5.10", "5.10.50.84", "5.10.50.85-rc1"}, []string{"5.9.99", "5.10.50.85", "5.11"}},
		{"a wildcard holds every version of the series", "5.4.x",
			[]string{"5.4", "5.4.0", "5.4.9.1", "5.4.1-beta"}, []string{"5.5", "5.3.9", "6.4"}},
		{"an upper bound holds everything up to it", "<=1.2", []string{"0.1", "1.2", "1.2.0.0"}, []string{"1.2.1", "2"}},
		{"a comma separates alternatives", "2.0.1, 2.0.3", []string{"2.0.1", "2.0.3"}, []string{"2.0.2", "2.0"}},
		{"|| separates alternatives", "<1 || >=3 <3.1.2", []string{"0.9", "3.1.1"}, []string{"1", "2.5", "3.1.2"}},
		{"an operator may stand apart from its version", ">= 2.0 < 3", []string{"2.5"}, []string{"3.0"}},
		{"an exact version matches with zero padding", "=6.2", []string{"6.2.0.0"}, []string{"6.2.0.1"}},
		{"a star holds every version", "*", []string{"0", "99.1-rc"}, nil},
		{"an upper-case X is a wildcard too", "1.X", []string{"1.7"}, []string{"2.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := equipment.ParseRange(tt.rng)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tt.in {
				if !r.Contains(equipment.MustParseVersion(v)) {
					t.Errorf("%q does not contain %s", tt.rng, v)
				}
			}
			for _, v := range tt.out {
				if r.Contains(equipment.MustParseVersion(v)) {
					t.Errorf("%q contains %s", tt.rng, v)
				}
			}
		})
	}
}

func TestParseRangeRefuses(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"an empty range is refused", " ", "empty"},
		{"a pip-style comma that would match everything is refused", ">=1.0,<2.0", "match every version"},
		{"overlapping alternatives that cover everything are refused", "<3 || >=2", "match every version"},
		{"an alternative that matches nothing is refused", ">2 <1", "matches no version"},
		{"an open interval with equal bounds is refused", ">2 <2", "matches no version"},
		{"a hyphen range is refused", "1.2 - 1.4", "hyphen"},
		{"a tilde range is refused", "~1.2", "~"},
		{"a caret range is refused", "^1.2", "^"},
		{"a wildcard with an operator is refused", ">=5.x", "cannot take an operator"},
		{"a wildcard in the middle is refused", "5.x.1", "not a version"},
		{"a wildcard combined with a bound is refused", "5.x <5.5", "cannot be combined"},
		{"a star with other alternatives is refused", "*, 1.0", "stand alone"},
		{"an empty alternative is refused", "1.0,,2.0", "empty"},
		{"an operator without a version is refused", ">=", "no version"},
		{"a malformed version is refused", ">=5..1", "not a version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := equipment.ParseRange(tt.in)
			if err == nil {
				t.Fatalf("ParseRange(%q) succeeded", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if vigil.ErrorField(err) != "affected_versions" {
				t.Errorf("field = %q, want affected_versions", vigil.ErrorField(err))
			}
		})
	}
	t.Run("bounds that touch at an included point cover everything", func(t *testing.T) {
		if _, err := equipment.ParseRange("<=2 || >=2"); err == nil {
			t.Error("accepted")
		}
	})
	t.Run("bounds that leave one version out are accepted", func(t *testing.T) {
		r, err := equipment.ParseRange("<2 || >2")
		if err != nil {
			t.Fatal(err)
		}
		if r.Contains(equipment.MustParseVersion("2.0")) {
			t.Error("contains 2.0")
		}
	})
}

func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{"5.10.50.85", "1.0.0-rc.1+b", "v7", "", "5..1", "1.2-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := equipment.ParseVersion(s)
		if err != nil {
			return
		}
		if v.String() != s {
			t.Errorf("String() = %q, want %q", v.String(), s)
		}
		if v.Compare(v) != 0 {
			t.Errorf("%q does not equal itself", s)
		}
		w := equipment.MustParseVersion("5.10.50.85")
		if v.Compare(w) != -w.Compare(v) {
			t.Errorf("Compare is not antisymmetric for %q", s)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{">=5.10.0 <5.10.50.85", "5.4.x", "<=1.2", "1, 2 || >=3 <4", "*", ">=1.0,<2.0", "~1"} {
		f.Add(s, "5.4.1")
	}
	f.Fuzz(func(t *testing.T, s, version string) {
		r, err := equipment.ParseRange(s)
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Errorf("error kind %v", vigil.ErrorKind(err))
			}
			return
		}
		if r.String() != s {
			t.Errorf("String() = %q", r.String())
		}
		if v, err := equipment.ParseVersion(version); err == nil {
			r.Contains(v)
		}
	})
}
