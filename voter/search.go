package voter

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
)

// Search keys: how the SQLite layer finds candidates for a name search in
// a few milliseconds among millions of voters.
//
// The projection stores, for every voter, the rows (key, voter_id) of
// SearchKeys(v) in a table with an index on key. A search computes
// QueryKeys(q), selects the voters having any of those keys (a few index
// probes), and orders them by Rank. Keys combine two facts, so each one
// is selective — a key table with one row per common last name would
// return tens of thousands of Smiths — and together they tolerate:
//
//	nicknames          BILL SMITH finds WILLIAM SMITH   (fl: with canonical first names)
//	a typo in the last name     WILLIAM SMYTH, WILLIAM XMITH
//	                            (fs: fp: fx: first + Soundex, first or last three letters of last)
//	a typo in the first name    WILIAM SMITH
//	                            (sl: pl: xl: Soundex, first or last three letters of first + last)
//	an initial                  W SMITH                 (li: last + first initial)
//	name order                  SMITH WILLIAM, SMITH, WILLIAM (QueryKeys tries both orders)
//	date of birth, voter ID, address, ZIP (d:, i:, a:, l: for a last name alone)
//
// Keys are ASCII, at most ~70 bytes, and stable across versions unless
// the key prefix changes; a projection rebuild refreshes them.

// SearchKeys returns the index keys of v, without duplicates.
func SearchKeys(v *vigil.Voter) []string {
	last := nameKey(v.Name.Last)
	first := firstToken(NormalizeName(v.Name.First))
	keys := make([]string, 0, 24)
	if last != "" {
		keys = append(keys, "l:"+last)
		if first != "" {
			keys = append(keys, "li:"+last+"|"+head(first, 1))
			canon := CanonicalNames(first)
			for _, c := range canon {
				keys = lastNameKeys(keys, c, last, false)
			}
			keys = firstNameKeys(keys, first, last, false)
			for _, c := range canon {
				if c != first {
					keys = firstNameKeys(keys, c, last, false)
				}
			}
		}
	} else if first != "" {
		keys = append(keys, "l:"+first)
	}
	if !v.BirthDate.IsZero() && !v.BirthDate.YearOnly() {
		keys = append(keys, "d:"+v.BirthDate.String())
	}
	if v.ID != "" {
		keys = append(keys, "i:"+strings.ToUpper(string(v.ID)))
	}
	if a := addressKey(v.Residence.Line1); a != "" {
		keys = append(keys, "a:"+a)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// lastNameKeys adds the keys that find a last name, exact or with one
// typo, given the (canonical) first name: the exact name, its Soundex
// code, its first three and its last three letters. One slip leaves at
// least one of them intact for names of six letters or more, and Soundex
// covers most slips in shorter ones.
//
// The pieces are two letters long for names of up to five letters and
// three for longer ones. A query does not know the true length (its typo
// may have added or dropped a letter), so it asks for the pieces of both
// neighbouring lengths.
func lastNameKeys(keys []string, first, last string, query bool) []string {
	keys = append(keys, "fl:"+first+"|"+last, "fs:"+first+"|"+Soundex(last))
	for _, k := range pieceLens(len(last), query) {
		keys = append(keys, "fp:"+first+"|"+head(last, k), "fx:"+first+"|"+tail(last, k))
	}
	return keys
}

// firstNameKeys adds the keys that find a first name with one typo given
// the exact last name.
func firstNameKeys(keys []string, first, last string, query bool) []string {
	keys = append(keys, "sl:"+Soundex(first)+"|"+last)
	for _, k := range pieceLens(len(first), query) {
		keys = append(keys, "pl:"+head(first, k)+"|"+last, "xl:"+tail(first, k)+"|"+last)
	}
	return keys
}

// head and tail return about k bytes from either end of s, widened to
// whole UTF-8 characters.
func head(s string, k int) string {
	i := min(k, len(s))
	for i < len(s) && !utf8.RuneStart(s[i]) {
		i++
	}
	return s[:i]
}

func tail(s string, k int) string {
	j := max(0, len(s)-k)
	for j > 0 && !utf8.RuneStart(s[j]) {
		j--
	}
	return s[j:]
}

func pieceLen(n int) int {
	if n <= 5 {
		return 2
	}
	return 3
}

func pieceLens(n int, query bool) []int {
	k := pieceLen(n)
	if !query {
		return []int{k}
	}
	if lo, hi := pieceLen(n-1), pieceLen(n+1); lo != k || hi != k {
		return []int{2, 3}
	}
	return []int{k}
}

// addressKey is the house number and the first word of the street name,
// skipping a direction: "123 MAIN ST" and "123 N MAIN STREET" both give
// "123 MAIN".
func addressKey(line1 string) string {
	f := strings.Fields(NormalizeName(line1))
	if len(f) < 2 || f[0][0] < '0' || f[0][0] > '9' {
		return ""
	}
	for _, w := range f[1:] {
		switch w {
		case "N", "S", "E", "W", "NE", "NW", "SE", "SW", "NORTH", "SOUTH", "EAST", "WEST":
			continue
		}
		return f[0] + " " + w
	}
	return ""
}

// Query is a parsed search: name words, a date of birth, a voter ID, an
// address. ParseQuery recognises each part by its shape, so a clerk can
// type "smith john 1980-02-03" or "bill smyth" or "12 main st".
type Query struct {
	Names     []string // normalized name words, in the order typed
	BirthDate vigil.Date
	ID        string // a token with digits that is not a date
	Address   string // addressKey of an address-looking query
}

// ParseQuery splits a search string into its parts.
func ParseQuery(q string) Query {
	var out Query
	q = strings.TrimSpace(q)
	if len(q) > 256 {
		q = q[:256]
	}
	if a := addressKey(q); a != "" && len(strings.Fields(q)) >= 2 && !digits(strings.Fields(q)[1]) {
		if _, ok := parseDate(strings.Fields(q)[0], DateMDY); !ok {
			out.Address = a
			return out
		}
	}
	for _, tok := range strings.FieldsFunc(q, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' }) {
		if hasDigit(tok) {
			if d, ok := parseQueryDate(tok); ok {
				out.BirthDate = d
			} else if out.ID == "" {
				out.ID = strings.ToUpper(tok)
			}
			continue
		}
		if n := nameKey(tok); n != "" {
			out.Names = append(out.Names, n)
		}
	}
	if len(out.Names) > 6 {
		out.Names = out.Names[:6]
	}
	return out
}

func parseQueryDate(tok string) (vigil.Date, bool) {
	for _, f := range []DateFormat{DateISO, DateMDY} {
		if d, ok := parseDateAs(tok, f); ok && !d.YearOnly() {
			return d, true
		}
	}
	return vigil.Date{}, false
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// QueryKeys returns the keys to look up for a search string; a voter
// sharing any of them is a candidate. See SearchKeys.
func QueryKeys(q string) []string {
	return ParseQuery(q).Keys()
}

// Keys returns the index keys of the query.
func (q Query) Keys() []string {
	var keys []string
	if q.ID != "" {
		keys = append(keys, "i:"+q.ID)
	}
	if q.Address != "" {
		keys = append(keys, "a:"+q.Address)
	}
	if !q.BirthDate.IsZero() {
		keys = append(keys, "d:"+q.BirthDate.String())
	}
	switch len(q.Names) {
	case 0:
	case 1:
		keys = append(keys, "l:"+q.Names[0])
	default:
		// Any word may be the first name and any other the last name:
		// "JOHN SMITH", "SMITH JOHN", "MARY ANN DE LA CRUZ".
		for i, first := range q.Names {
			for j, last := range q.Names {
				if i == j {
					continue
				}
				if utf8.RuneCountInString(first) == 1 {
					keys = append(keys, "li:"+last+"|"+first)
					continue
				}
				for _, c := range CanonicalNames(first) {
					keys = lastNameKeys(keys, c, last, true)
				}
				keys = firstNameKeys(keys, first, last, true)
			}
		}
		// Multi-word last names are indexed joined: DE LA CRUZ → DELACRUZ.
		if len(q.Names) >= 3 {
			joined := strings.Join(q.Names[1:], "")
			for _, c := range CanonicalNames(q.Names[0]) {
				keys = append(keys, "fl:"+c+"|"+joined)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Rank scores how well candidate matches query, in [0, 1]; higher is
// better. It is meant to order the candidates QueryKeys found.
func Rank(query string, candidate *vigil.Voter) float64 {
	return ParseQuery(query).Rank(candidate)
}

// Rank scores candidate against the parsed query; see the function Rank.
// Parse once and call this per candidate when ranking many.
func (q Query) Rank(v *vigil.Voter) float64 {
	var score, weight float64
	if q.ID != "" {
		weight += 1
		if strings.EqualFold(q.ID, string(v.ID)) || strings.EqualFold(q.ID, v.LocalID) {
			score += 1
		}
	}
	if !q.BirthDate.IsZero() {
		weight += 1
		score += dobSim(q.BirthDate, v.BirthDate)
	}
	if q.Address != "" {
		weight += 1
		if addressKey(v.Residence.Line1) == q.Address {
			score += 1
		}
	}
	if len(q.Names) > 0 {
		weight += 2
		score += 2 * namesScore(q.Names, v)
	}
	if weight == 0 {
		return 0
	}
	return score / weight
}

// namesScore finds the best reading of the query words as first and last
// name (either order) and scores it.
func namesScore(words []string, v *vigil.Voter) float64 {
	last := nameKey(v.Name.Last)
	first := firstToken(NormalizeName(v.Name.First))
	if len(words) == 1 {
		return max(nameSim(words[0], last), 0.9*givenSim(words[0], first))
	}
	best := 0.0
	for i, f := range words {
		for j, l := range words {
			if i == j {
				continue
			}
			var fs float64
			if len(f) == 1 && first != "" {
				if first[0] == f[0] {
					fs = 0.8
				}
			} else {
				fs = givenSim(f, first)
			}
			s := 0.6*nameSim(l, last) + 0.4*fs
			if i > j {
				s *= 0.98 // prefer the order as typed when both fit
			}
			best = max(best, s)
		}
	}
	if len(words) >= 3 {
		best = max(best, 0.6*nameSim(strings.Join(words[1:], ""), last)+0.4*givenSim(words[0], first))
	}
	return best
}

// givenSim compares first names: nickname-equivalent names score 0.95.
func givenSim(a, b string) float64 {
	if a == b {
		return nameSim(a, b)
	}
	s := nameSim(a, b)
	if s < 0.95 && SameGivenName(a, b) {
		return 0.95
	}
	return s
}

// dobSim scores two birth dates: 1 equal; 0.8 for a likely slip (day and
// month swapped, one digit wrong, two adjacent digits swapped); 0.5 for the same year when one side
// knows only the year; 0 otherwise or when either is unknown.
func dobSim(a, b vigil.Date) float64 {
	if a.IsZero() || b.IsZero() {
		return 0
	}
	if a == b {
		return 1
	}
	if a.YearOnly() || b.YearOnly() {
		if a.Year == b.Year {
			return 0.5
		}
		return 0
	}
	if a.Year == b.Year && int(a.Month) == b.Day && a.Day == int(b.Month) {
		return 0.8 // day and month swapped
	}
	if DamerauLevenshtein(dateDigits(a), dateDigits(b)) == 1 {
		return 0.8 // one digit wrong, or two adjacent digits swapped
	}
	return 0
}

// dateDigits writes a date as YYYYMMDD.
func dateDigits(d vigil.Date) string {
	return itoa4(d.Year) + itoa4(int(d.Month)*100+d.Day)
}

func itoa4(n int) string {
	var b [4]byte
	for i := 3; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[:])
}
