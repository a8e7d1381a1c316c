package voter_test

import (
	"bytes"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
	"github.com/vigil-elections/vigil/voter"
)

// Seeds live in testdata/fuzz/<FuzzName>/; they are cut from the sample
// files and the NIST examples.

// drain reads at most max rows and checks what every parser promises:
// no panic, accepted records validate and have a fingerprint, rejections
// name a line.
func drain(t *testing.T, r *voter.Reader, max int) {
	t.Helper()
	var rec voter.Record
	for i := 0; i < max; i++ {
		if err := r.Read(&rec); err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid && err.Error() != "EOF" {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if rec.OK() {
			if err := rec.Voter.Validate(); err != nil {
				t.Fatalf("accepted an invalid record: %v", err)
			}
			if rec.Fingerprint.IsZero() {
				t.Fatal("accepted record without fingerprint")
			}
		}
		for _, x := range rec.Rejections {
			if x.Line < 1 || x.Reason == "" || !utf8.ValidString(x.Reason) {
				t.Fatalf("bad rejection %+v", x)
			}
		}
	}
}

func FuzzReader(f *testing.F) {
	layouts := voter.Layouts()
	f.Fuzz(func(t *testing.T, layout uint8, data []byte) {
		l := layouts[int(layout)%len(layouts)]
		r, err := voter.NewReader(l.Name, bytes.NewReader(data), voter.Options{MaxRecordBytes: 1 << 16})
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("NewReader error kind: %v", err)
			}
			return
		}
		drain(t, r, 1000)
	})
}

func FuzzNISTJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := voter.NewReader(voter.FormatNISTJSON, bytes.NewReader(data), voter.Options{})
		if err != nil {
			return
		}
		drain(t, r, 1000)
	})
}

func FuzzNISTXML(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := voter.NewReader(voter.FormatNISTXML, bytes.NewReader(data), voter.Options{})
		if err != nil {
			return
		}
		drain(t, r, 1000)
	})
}

func FuzzParseMapping(f *testing.F) {
	f.Fuzz(func(t *testing.T, mapping []byte, data []byte) {
		l, err := voter.ParseMapping(bytes.NewReader(mapping))
		if err != nil {
			if vigil.ErrorKind(err) != vigil.Invalid {
				t.Fatalf("error kind: %v", err)
			}
			return
		}
		r, err := voter.NewReader(voter.FormatCSV, bytes.NewReader(data), voter.Options{Mapping: l})
		if err != nil {
			return
		}
		drain(t, r, 1000)
	})
}

func FuzzSearch(f *testing.F) {
	v := vigil.Voter{ID: "A1", Name: vigil.Name{First: "William", Last: "O'Brien"}, BirthDate: vigil.Date{Year: 1970, Month: 1, Day: 2},
		Residence: vigil.Address{Line1: "12 N Main St"}}
	f.Fuzz(func(t *testing.T, q string) {
		for _, k := range voter.QueryKeys(q) {
			if !utf8.ValidString(k) && utf8.ValidString(q) {
				t.Fatalf("invalid key %q", k)
			}
		}
		if s := voter.Rank(q, &v); s < 0 || s > 1 || math.IsNaN(s) {
			t.Fatalf("Rank = %v", s)
		}
	})
}

func FuzzNames(f *testing.F) {
	f.Fuzz(func(t *testing.T, a, b string) {
		n := voter.NormalizeName(a)
		if voter.NormalizeName(n) != n {
			t.Fatalf("NormalizeName not idempotent: %q → %q → %q", a, n, voter.NormalizeName(n))
		}
		if s := voter.Soundex(a); s != "" && (len(s) != 4 || s[0] < 'A' || s[0] > 'Z') {
			t.Fatalf("Soundex(%q) = %q", a, s)
		}
		jw, jw2 := voter.JaroWinkler(a, b), voter.JaroWinkler(b, a)
		if jw < 0 || jw > 1 || math.Abs(jw-jw2) > 1e-9 {
			t.Fatalf("JaroWinkler(%q,%q) = %v, %v", a, b, jw, jw2)
		}
		d := voter.DamerauLevenshtein(a, b)
		if d != voter.DamerauLevenshtein(b, a) || d > max(len(a), len(b)) || (d == 0) != (a == b) {
			t.Fatalf("DamerauLevenshtein(%q,%q) = %d", a, b, d)
		}
		if s := voter.NameSimilarity(a, b); s < 0 || s > 1 {
			t.Fatalf("NameSimilarity = %v", s)
		}
	})
}
