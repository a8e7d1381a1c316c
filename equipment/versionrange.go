package equipment

import (
	"strings"

	"github.com/vigil-elections/vigil"
)

// Range is a set of versions, as written in the affected_versions field of
// an advisory. The syntax:
//
//	range       = alternative *( ( "||" / "," ) alternative )
//	alternative = comparator *( SP comparator )   ; every comparator must hold
//	comparator  = [ op ] version                  ; no op means "="
//	            / wildcard                        ; "5.4.x": 5.4 and every 5.4.*
//	            / "*"                             ; every version (alone only)
//	op          = ">=" / ">" / "<=" / "<" / "="
//	wildcard    = number *( "." number ) ( ".x" / ".X" / ".*" )
//
// Examples: ">=5.10.0 <5.10.50.85" (one interval), "5.4.x" (a series),
// "<=1.2" (everything up to 1.2), "2.0.1, 2.0.3 || >=3 <3.1.2" (three
// alternatives). A comma and "||" mean the same thing: OR. This differs
// from pip, where a comma means AND; to keep a pip-style ">=1.0,<2.0" from
// silently meaning "every version", a range whose alternatives together
// cover every version is rejected unless it is written as "*".
//
// Comparisons follow Version.Compare, so "=6.2" matches "6.2.0.0", and
// "<5.10.50.85" includes the prerelease "5.10.50.85-rc1". A wildcard
// matches by number prefix only, prereleases included. Hyphen ranges
// ("1.2 - 1.4") and npm's "~" and "^" are rejected: they read differently
// in different tools.
type Range struct {
	alts [][]comparator
	text string
}

type comparator struct {
	op     string // ">=", ">", "<=", "<", "=", "x" (wildcard prefix), "*"
	v      Version
	prefix []int // for "x"
}

const maxRangeLen = 1024

// ParseRange parses s strictly. Errors name the field "affected_versions".
func ParseRange(s string) (Range, error) {
	const op = "equipment.range"
	bad := func(format string, args ...any) (Range, error) {
		return Range{}, vigil.FieldError(op, "affected_versions", "%q: "+format, append([]any{clip(s)}, args...)...)
	}
	if len(s) > maxRangeLen {
		return bad("longer than %d characters", maxRangeLen)
	}
	if strings.TrimSpace(s) == "" {
		return bad("the range is empty; write * for every version")
	}
	r := Range{text: s}
	for _, alt := range strings.Split(strings.ReplaceAll(s, "||", ","), ",") {
		fields := strings.Fields(alt)
		if len(fields) == 0 {
			return bad("an alternative between commas or || is empty")
		}
		var comps []comparator
		for i := 0; i < len(fields); i++ {
			f := fields[i]
			if isOp(f) { // ">= 5.4": the operator stands alone
				if i+1 == len(fields) {
					return bad("%q has no version after it", f)
				}
				i++
				f += fields[i]
			}
			c, err := parseComparator(f)
			if err != nil {
				return bad("%s", err)
			}
			if c.op == "*" && (len(fields) > 1 || strings.Contains(s, ",") || strings.Contains(s, "||")) {
				return bad("* means every version and must stand alone")
			}
			comps = append(comps, c)
		}
		if len(comps) > 1 {
			for _, c := range comps {
				if c.op == "x" {
					return bad("a wildcard such as 5.4.x cannot be combined with other comparators; use >= and <")
				}
			}
		}
		if iv := interval(comps); iv.empty() {
			return bad("%q matches no version", strings.Join(fields, " "))
		}
		r.alts = append(r.alts, comps)
	}
	if !r.isStar() && r.coversEverything() {
		return bad("the alternatives together match every version; a comma means OR, so write >=1.0 <2.0 for both bounds, or * if every version is affected")
	}
	return r, nil
}

// MustParseRange is ParseRange for constants in code and tests.
func MustParseRange(s string) Range {
	r, err := ParseRange(s)
	if err != nil {
		panic(err)
	}
	return r
}

// String returns the range as it was written.
func (r Range) String() string { return r.text }

// Contains reports whether v is in the range.
func (r Range) Contains(v Version) bool {
	for _, alt := range r.alts {
		ok := true
		for _, c := range alt {
			if !c.holds(v) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func (r Range) isStar() bool {
	return len(r.alts) == 1 && len(r.alts[0]) == 1 && r.alts[0][0].op == "*"
}

func isOp(s string) bool {
	switch s {
	case ">=", ">", "<=", "<", "=":
		return true
	}
	return false
}

type parseError string

func (e parseError) Error() string { return string(e) }

func parseComparator(f string) (comparator, error) {
	if f == "*" {
		return comparator{op: "*"}, nil
	}
	switch f[0] {
	case '~', '^':
		return comparator{}, parseError("~ and ^ are not supported; write the bounds with >= and <")
	case '-':
		return comparator{}, parseError("hyphen ranges are not supported; write >=1.2 <=1.4")
	}
	op := "="
	for _, o := range []string{">=", "<=", ">", "<", "="} {
		if strings.HasPrefix(f, o) {
			op, f = o, f[len(o):]
			break
		}
	}
	if f == "" {
		return comparator{}, parseError("an operator has no version after it")
	}
	if stem, ok := cutWildcard(f); ok {
		if op != "=" || strings.HasPrefix(stem, "=") {
			return comparator{}, parseError("a wildcard such as 5.4.x cannot take an operator")
		}
		v, err := ParseVersion(stem)
		if err != nil || len(v.Prerelease) > 0 || v.Build != "" {
			return comparator{}, parseError("a wildcard must be numbers followed by .x, such as 5.4.x")
		}
		return comparator{op: "x", prefix: v.Nums}, nil
	}
	v, err := ParseVersion(f)
	if err != nil {
		return comparator{}, parseError(plainMessage(err))
	}
	return comparator{op: op, v: v}, nil
}

func cutWildcard(f string) (string, bool) {
	for _, suf := range []string{".x", ".X", ".*"} {
		if stem, ok := strings.CutSuffix(f, suf); ok {
			return stem, true
		}
	}
	return "", false
}

func (c comparator) holds(v Version) bool {
	switch c.op {
	case "*":
		return true
	case "x":
		for i, n := range c.prefix {
			if at(v.Nums, i) != n {
				return false
			}
		}
		return true
	}
	d := v.Compare(c.v)
	switch c.op {
	case ">=":
		return d >= 0
	case ">":
		return d > 0
	case "<=":
		return d <= 0
	case "<":
		return d < 0
	}
	return d == 0
}

// bounds is the interval an alternative covers; used only to reject empty
// alternatives and ranges that cover everything.
type bounds struct {
	lo, hi         *Version
	loIncl, hiIncl bool
}

func interval(comps []comparator) bounds {
	var b bounds
	raise := func(v Version, incl bool) {
		if b.lo == nil || v.Compare(*b.lo) > 0 || v.Compare(*b.lo) == 0 && !incl {
			b.lo, b.loIncl = &v, incl
		}
	}
	lower := func(v Version, incl bool) {
		if b.hi == nil || v.Compare(*b.hi) < 0 || v.Compare(*b.hi) == 0 && !incl {
			b.hi, b.hiIncl = &v, incl
		}
	}
	for _, c := range comps {
		switch c.op {
		case ">=":
			raise(c.v, true)
		case ">":
			raise(c.v, false)
		case "<=":
			lower(c.v, true)
		case "<":
			lower(c.v, false)
		case "=":
			raise(c.v, true)
			lower(c.v, true)
		case "x":
			lo := Version{Nums: c.prefix}
			next := append([]int(nil), c.prefix...)
			next[len(next)-1]++
			raise(lo, true)
			lower(Version{Nums: next}, false)
		}
	}
	return b
}

func (b bounds) empty() bool {
	if b.lo == nil || b.hi == nil {
		return false
	}
	d := b.lo.Compare(*b.hi)
	return d > 0 || d == 0 && !(b.loIncl && b.hiIncl)
}

// coversEverything reports whether the union of the alternatives has no gap.
func (r Range) coversEverything() bool {
	ivs := make([]bounds, 0, len(r.alts))
	for _, alt := range r.alts {
		ivs = append(ivs, interval(alt))
	}
	// Grow a covered prefix (-inf, reach] from the unbounded-below
	// alternatives until no alternative extends it.
	var reach *Version
	reachIncl, started := false, false
	for _, iv := range ivs {
		if iv.lo == nil {
			if iv.hi == nil {
				return true
			}
			if !started || iv.hi.Compare(*reach) > 0 || iv.hi.Compare(*reach) == 0 && iv.hiIncl {
				reach, reachIncl, started = iv.hi, iv.hiIncl, true
			}
		}
	}
	if !started {
		return false
	}
	for grown := true; grown; {
		grown = false
		for _, iv := range ivs {
			if iv.lo == nil {
				continue
			}
			d := iv.lo.Compare(*reach)
			touches := d < 0 || d == 0 && (iv.loIncl || reachIncl)
			if !touches {
				continue
			}
			if iv.hi == nil {
				return true
			}
			if e := iv.hi.Compare(*reach); e > 0 || e == 0 && iv.hiIncl && !reachIncl {
				reach, reachIncl, grown = iv.hi, iv.hiIncl, true
			}
		}
	}
	return false
}
