package voter_test

import (
	"math"
	"slices"
	"testing"

	"github.com/vigil-elections/vigil/voter"
)

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"O'Brien", "OBRIEN"},
		{"  mary-ann  smith ", "MARY ANN SMITH"},
		{"José Muñoz", "JOSE MUNOZ"},
		{"MÜLLER-Lüdenscheidt", "MULLER LUDENSCHEIDT"},
		{"St. John", "ST JOHN"},
		{"Łukasz Żółć", "LUKASZ ZOLC"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in+" normalizes", func(t *testing.T) {
			if got := voter.NormalizeName(tt.in); got != tt.want {
				t.Fatalf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestSoundexMatchesTheStandardExamples(t *testing.T) {
	for name, want := range map[string]string{
		"Robert": "R163", "Rupert": "R163", "Rubin": "R150", "Ashcraft": "A261", "Ashcroft": "A261",
		"Tymczak": "T522", "Pfister": "P236", "Honeyman": "H555", "Lee": "L000", "": "",
	} {
		if got := voter.Soundex(name); got != want {
			t.Errorf("Soundex(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSimilarityMatchesPublishedValues(t *testing.T) {
	jw := []struct {
		a, b string
		want float64
	}{
		{"MARTHA", "MARHTA", 0.961}, {"DWAYNE", "DUANE", 0.840}, {"DIXON", "DICKSONX", 0.813},
		{"SAME", "SAME", 1}, {"ABC", "XYZ", 0},
	}
	for _, tt := range jw {
		t.Run("Jaro-Winkler of "+tt.a+" and "+tt.b, func(t *testing.T) {
			if got := voter.JaroWinkler(tt.a, tt.b); math.Abs(got-tt.want) > 0.001 {
				t.Fatalf("got %.4f want %.3f", got, tt.want)
			}
		})
	}
	dl := []struct {
		a, b string
		want int
	}{
		{"SMITH", "SMYTH", 1}, {"JOHN", "JHON", 1}, {"CA", "ABC", 3}, {"", "ABC", 3}, {"KITTEN", "SITTING", 3},
	}
	for _, tt := range dl {
		t.Run("edit distance of "+tt.a+" and "+tt.b, func(t *testing.T) {
			if got := voter.DamerauLevenshtein(tt.a, tt.b); got != tt.want {
				t.Fatalf("got %d want %d", got, tt.want)
			}
		})
	}
}

func TestNicknames(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"Bill", "William", true}, {"PEGGY", "Margaret", true}, {"Bob", "Robert", true}, {"Liz", "Elizabeth", true},
		{"Chris", "Christopher", true}, {"Chris", "Christina", true}, {"Christopher", "Christina", false},
		{"Bill", "Robert", false}, {"Al", "Alfred", true}, {"Zelda", "Zelda", true}, {"Tom", "Tim", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" and "+tt.b, func(t *testing.T) {
			if got := voter.SameGivenName(tt.a, tt.b); got != tt.same {
				t.Fatalf("SameGivenName = %v", got)
			}
		})
	}
	if got := voter.CanonicalNames("al"); !slices.Contains(got, "ALBERT") || !slices.Contains(got, "AL") {
		t.Fatalf("CanonicalNames(al) = %v", got)
	}
}
