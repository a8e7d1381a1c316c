package voter

import (
	"strings"
	"unicode/utf8"
)

// NormalizeName folds a name part for matching: upper case, Latin
// diacritics removed (JOSÉ → JOSE, MÜLLER → MULLER), apostrophes and
// periods dropped (O'BRIEN → OBRIEN, ST. → ST), hyphens and other
// punctuation turned into spaces, runs of spaces collapsed. The result is
// ASCII when the input is Latin script.
func NormalizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		if c < utf8.RuneSelf {
			r = rune(c)
			i++
		} else {
			var size int
			r, size = utf8.DecodeRuneInString(s[i:])
			i += size
		}
		switch {
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '\'' || r == '.' || r == '`' || r == '’':
			continue
		case r < utf8.RuneSelf:
			space = b.Len() > 0
			continue
		default:
			if f, ok := foldLatin(r); ok {
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteString(f)
				continue
			}
			if r == 0xA0 { // no-break space
				space = b.Len() > 0
				continue
			}
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// foldLatin maps Latin-1 and common Latin Extended-A letters to ASCII.
func foldLatin(r rune) (string, bool) {
	switch {
	case r >= 0xC0 && r <= 0xC5, r >= 0xE0 && r <= 0xE5, r >= 0x100 && r <= 0x105:
		return "A", true
	case r == 0xC6 || r == 0xE6:
		return "AE", true
	case r == 0xC7 || r == 0xE7, r >= 0x106 && r <= 0x10D:
		return "C", true
	case r == 0xD0 || r == 0xF0, r >= 0x10E && r <= 0x111:
		return "D", true
	case r >= 0xC8 && r <= 0xCB, r >= 0xE8 && r <= 0xEB, r >= 0x112 && r <= 0x11B:
		return "E", true
	case r >= 0x11C && r <= 0x123:
		return "G", true
	case r >= 0xCC && r <= 0xCF, r >= 0xEC && r <= 0xEF, r >= 0x128 && r <= 0x131:
		return "I", true
	case r >= 0x139 && r <= 0x142:
		return "L", true
	case r == 0xD1 || r == 0xF1, r >= 0x143 && r <= 0x148:
		return "N", true
	case r >= 0xD2 && r <= 0xD6, r == 0xD8, r >= 0xF2 && r <= 0xF6, r == 0xF8, r >= 0x14C && r <= 0x151:
		return "O", true
	case r == 0x152 || r == 0x153:
		return "OE", true
	case r >= 0x154 && r <= 0x159:
		return "R", true
	case r == 0xDF:
		return "SS", true
	case r >= 0x15A && r <= 0x161:
		return "S", true
	case r >= 0x162 && r <= 0x167:
		return "T", true
	case r >= 0xD9 && r <= 0xDC, r >= 0xF9 && r <= 0xFC, r >= 0x168 && r <= 0x173:
		return "U", true
	case r == 0xDD || r == 0xFD || r == 0xFF, r == 0x178:
		return "Y", true
	case r >= 0x179 && r <= 0x17E:
		return "Z", true
	}
	return "", false
}

// nameKey is a normalized name with spaces removed, the form compared
// by the similarity functions ("DE LA CRUZ" and "DELACRUZ" agree).
func nameKey(s string) string {
	n := NormalizeName(s)
	if strings.IndexByte(n, ' ') < 0 {
		return n
	}
	return strings.ReplaceAll(n, " ", "")
}

// firstToken returns the first word of a normalized name ("MARY ANN" →
// "MARY"), the part nicknames are looked up by.
func firstToken(n string) string {
	if i := strings.IndexByte(n, ' '); i >= 0 {
		return n[:i]
	}
	return n
}

// Soundex returns the American Soundex code of a name (ROBERT → R163), or
// "" for a name without letters. It is the phonetic key vigil indexes.
func Soundex(name string) string {
	n := nameKey(name)
	var out [4]byte
	k := 0
	var last byte
	for i := 0; i < len(n) && k < 4; i++ {
		c := n[i]
		if c < 'A' || c > 'Z' {
			continue
		}
		code := soundexCode[c-'A']
		if k == 0 {
			out[0] = c
			k = 1
			last = code
			continue
		}
		switch {
		case code == '0':
			if c != 'H' && c != 'W' {
				last = 0 // a vowel separates equal codes
			}
		case code != last:
			out[k] = code
			k++
			last = code
		}
	}
	if k == 0 {
		return ""
	}
	for ; k < 4; k++ {
		out[k] = '0'
	}
	return string(out[:])
}

// ABCDEFGHIJKLMNOPQRSTUVWXYZ
const soundexCode = "01230120022455012623010202"
