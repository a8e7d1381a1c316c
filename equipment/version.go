package equipment

import (
	"strconv"
	"strings"

	"github.com/vigil-elections/vigil"
)

// Version is a parsed product version: semantic versions ("2.7.1-rc.1")
// and the dotted vendor versions of voting systems ("5.10.50.85",
// "6.2.0.0") alike.
//
// The grammar is strict:
//
//	version    = [ "v" ] number *7( "." number ) [ "-" prerelease ] [ "+" build ]
//	number     = 1*9DIGIT
//	prerelease = ident *( "." ident )      ; ident = 1*( ALPHA / DIGIT / "-" )
//	build      = ident *( "." ident )
//
// Versions compare number by number, a missing number counting as 0, so
// "6.2" equals "6.2.0.0". A version with a prerelease sorts before the
// same version without one, and prereleases compare as in Semantic
// Versioning 2.0.0. Build metadata is kept but never compared. Leading
// zeros are accepted and compare numerically ("5.10.05" equals "5.10.5").
type Version struct {
	Nums       []int
	Prerelease []string
	Build      string
	text       string
}

const (
	maxVersionLen  = 64
	maxVersionNums = 8
)

// ParseVersion parses s strictly; surrounding spaces are not allowed.
func ParseVersion(s string) (Version, error) {
	const op = "equipment.version"
	bad := func(why string) (Version, error) {
		return Version{}, vigil.FieldError(op, "version", "%q is not a version: %s", clip(s), why)
	}
	if s == "" {
		return bad("it is empty")
	}
	if len(s) > maxVersionLen {
		return bad("longer than 64 characters")
	}
	v := Version{text: s}
	rest := s
	if rest[0] == 'v' || rest[0] == 'V' {
		rest = rest[1:]
	}
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.Build = rest[i+1:]
		rest = rest[:i]
		if !validIdents(v.Build) {
			return bad("build metadata after '+' must be dot-separated letters, digits and hyphens")
		}
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		if !validIdents(pre) {
			return bad("a prerelease after '-' must be dot-separated letters, digits and hyphens")
		}
		v.Prerelease = strings.Split(pre, ".")
	}
	parts := strings.Split(rest, ".")
	if len(parts) > maxVersionNums {
		return bad("more than 8 numbers")
	}
	for _, p := range parts {
		if p == "" {
			return bad("a number is missing between dots")
		}
		if len(p) > 9 {
			return bad("a number has more than 9 digits")
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return bad("only digits may appear between dots (write 5.4.x only in a range)")
			}
		}
		n, _ := strconv.Atoi(p)
		v.Nums = append(v.Nums, n)
	}
	return v, nil
}

// MustParseVersion is ParseVersion for constants in code and tests.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

// String returns the version as it was written.
func (v Version) String() string { return v.text }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	n := max(len(v.Nums), len(w.Nums))
	for i := 0; i < n; i++ {
		a, b := at(v.Nums, i), at(w.Nums, i)
		if a != b {
			return sign(a - b)
		}
	}
	switch {
	case len(v.Prerelease) == 0 && len(w.Prerelease) == 0:
		return 0
	case len(v.Prerelease) == 0:
		return 1
	case len(w.Prerelease) == 0:
		return -1
	}
	for i := 0; i < len(v.Prerelease) && i < len(w.Prerelease); i++ {
		if c := compareIdent(v.Prerelease[i], w.Prerelease[i]); c != 0 {
			return c
		}
	}
	return sign(len(v.Prerelease) - len(w.Prerelease))
}

func compareIdent(a, b string) int {
	an, aerr := strconv.Atoi(a)
	bn, berr := strconv.Atoi(b)
	switch {
	case aerr == nil && berr == nil:
		return sign(an - bn)
	case aerr == nil:
		return -1 // numeric identifiers sort before alphanumeric ones
	case berr == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func validIdents(s string) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
	}
	return true
}

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// clip shortens user input quoted in an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
