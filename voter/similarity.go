package voter

// The similarity functions compare bytes, which is exact for the ASCII
// that NormalizeName produces from Latin-script names. They allocate
// nothing for names up to 64 bytes, which is all of them.

// JaroWinkler returns the Jaro-Winkler similarity of a and b in [0, 1]:
// 1 for equal strings, 0 for strings with nothing in common. It rewards a
// common prefix (scale 0.1, up to four bytes), which suits names, whose
// typos cluster at the end.
func JaroWinkler(a, b string) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	if la > lb {
		a, b, la, lb = b, a, lb, la
	}
	window := lb/2 - 1
	if window < 0 {
		window = 0
	}
	var ma, mb [64]bool
	var fa, fb []bool
	if lb <= 64 {
		fa, fb = ma[:la], mb[:lb]
	} else {
		fa, fb = make([]bool, la), make([]bool, lb)
	}
	m := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb, i+window+1)
		for j := lo; j < hi; j++ {
			if !fb[j] && a[i] == b[j] {
				fa[i], fb[j] = true, true
				m++
				break
			}
		}
	}
	if m == 0 {
		return 0
	}
	t, j := 0, 0
	for i := 0; i < la; i++ {
		if !fa[i] {
			continue
		}
		for !fb[j] {
			j++
		}
		if a[i] != b[j] {
			t++
		}
		j++
	}
	mf := float64(m)
	jaro := (mf/float64(la) + mf/float64(lb) + (mf-float64(t)/2)/mf) / 3
	p := 0
	for p < 4 && p < la && a[p] == b[p] {
		p++
	}
	return jaro + float64(p)*0.1*(1-jaro)
}

// DamerauLevenshtein returns the edit distance between a and b counting
// insertions, deletions, substitutions and transpositions of adjacent
// bytes (the optimal-string-alignment variant): SMITH/SMYTH 1,
// JOHN/JHON 1.
func DamerauLevenshtein(a, b string) int {
	la, lb := len(a), len(b)
	if la == 0 {
		return lb
	}
	if lb == 0 {
		return la
	}
	var buf [3 * 65]int
	var prev2, prev, cur []int
	if lb < 65 {
		prev2, prev, cur = buf[0:lb+1], buf[65:65+lb+1], buf[130:130+lb+1]
	} else {
		prev2, prev, cur = make([]int, lb+1), make([]int, lb+1), make([]int, lb+1)
	}
	for j := 0; j <= lb; j++ {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// NameSimilarity scores two name parts in [0, 1] after normalization:
// the larger of Jaro-Winkler and an edit-distance score, so that both a
// shared prefix (JOHNSON/JOHNSTON) and a single slip anywhere
// (GARCIA/GRACIA) count as close.
func NameSimilarity(a, b string) float64 {
	return nameSim(nameKey(a), nameKey(b))
}

// nameSim is NameSimilarity on already normalized keys.
func nameSim(a, b string) float64 {
	if a == b {
		if a == "" {
			return 0
		}
		return 1
	}
	if a == "" || b == "" {
		return 0
	}
	jw := JaroWinkler(a, b)
	d := DamerauLevenshtein(a, b)
	l := max(len(a), len(b))
	ed := 1 - float64(d)/float64(l)
	if d == 1 && l >= 4 {
		ed = max(ed, 0.9) // one typo in a real name is close whatever its length
	}
	return max(jw, ed)
}
