package campaign

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/vigil-elections/vigil"
)

// Technique names how a lookalike domain was made.
type Technique string

const (
	Omission      Technique = "omission"      // a letter left out: exampe.com
	Insertion     Technique = "insertion"     // a neighbouring key or a doubled letter added: examplle.com
	Transposition Technique = "transposition" // two letters swapped: exmaple.com
	Replacement   Technique = "replacement"   // a letter replaced by a neighbouring key or another vowel: exanple.com
	Homoglyph     Technique = "homoglyph"     // ASCII letters that look alike: rn for m, l for 1, vv for w
	IDNHomoglyph  Technique = "idn-homoglyph" // Unicode letters that look alike (Cyrillic а for a)
	Hyphenation   Technique = "hyphenation"   // a hyphen added: exam-ple.com
	OtherTLD      Technique = "tld"           // the same name under another top-level domain
)

// Techniques lists the techniques in the order Lookalikes emits them.
func Techniques() []Technique {
	return []Technique{Omission, Insertion, Transposition, Replacement, Homoglyph, IDNHomoglyph, Hyphenation, OtherTLD}
}

// Lookalike is one domain an attacker could register to impersonate the
// campaign's.
type Lookalike struct {
	// Domain is the registrable name in ASCII. An internationalized
	// (IDN) lookalike is given in its Punycode "xn--" form, which is what
	// registries, DNS and certificate-transparency logs record and what a
	// monitoring service needs; Unicode holds how a browser may show it.
	Domain    string
	Unicode   string
	Technique Technique
}

// otherTLDs are the top-level domains a campaign's name is tried under:
// the common generic ones, those made for politics, and the US.
var otherTLDs = []string{"com", "net", "org", "us", "info", "co", "io", "biz", "vote", "voto", "democrat", "republican", "app", "online", "site", "news", "me"}

// secondLevel are public suffixes of two labels whose registrable name is
// the third label from the right (a small built-in list, not the Public
// Suffix List).
var secondLevel = map[string]bool{
	"co.uk": true, "org.uk": true, "me.uk": true, "ltd.uk": true, "plc.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "co.nz": true, "org.nz": true,
	"co.jp": true, "com.br": true, "com.mx": true, "co.za": true, "org.za": true,
	"co.in": true, "com.ar": true, "com.co": true, "com.tw": true, "com.cn": true,
}

const maxLookalikeInput = 253

// Lookalikes returns the lookalike domains of domain, deduplicated, without
// domain itself, in a fixed order: by technique (see Techniques), then by
// position in the name, then by the replacement character's order.
//
// Only the registrable name is varied ("smith" in www.smith.co.uk); the
// subdomains are dropped, since an attacker registers the name, not a
// subdomain. domain may be given in Unicode or in its "xn--" form.
// Every returned Domain is a valid hostname: labels of letters, digits and
// hyphens, 1 to 63 long, not starting or ending with a hyphen, and no
// longer than 253 characters in all.
func Lookalikes(domain string) ([]Lookalike, error) {
	name, suffix, err := splitDomain(domain)
	if err != nil {
		return nil, err
	}
	original := mustASCII(name) + "." + suffix
	seen := map[string]bool{original: true}
	var out []Lookalike
	add := func(tech Technique, label []rune, sfx string) {
		ascii, ok := hostLabel(string(label))
		if !ok {
			return
		}
		d := ascii + "." + sfx
		if len(d) > maxLookalikeInput || seen[d] {
			return
		}
		seen[d] = true
		l := Lookalike{Domain: d, Technique: tech}
		if ascii != string(label) {
			l.Unicode = string(label) + "." + sfx
		}
		out = append(out, l)
	}
	r := []rune(name)
	with := func(i int, ins ...rune) []rune { // r with ins at i
		return append(append(append([]rune{}, r[:i]...), ins...), r[i:]...)
	}
	without := func(i, n int) []rune { // r without r[i:i+n]
		return append(append([]rune{}, r[:i]...), r[i+n:]...)
	}

	for i := range r {
		add(Omission, without(i, 1), suffix)
	}
	for i := 0; i <= len(r); i++ {
		var keys []rune
		if i > 0 {
			keys = append(keys, r[i-1]) // a doubled letter
			keys = append(keys, neighbours(r[i-1])...)
		}
		if i < len(r) {
			keys = append(keys, neighbours(r[i])...)
		}
		for _, k := range keys {
			add(Insertion, with(i, k), suffix)
		}
	}
	for i := 0; i+1 < len(r); i++ {
		if r[i] != r[i+1] {
			t := append([]rune{}, r...)
			t[i], t[i+1] = t[i+1], t[i]
			add(Transposition, t, suffix)
		}
	}
	for i := range r {
		subs := append(neighbours(r[i]), vowelSwaps(r[i])...)
		for _, k := range subs {
			t := append([]rune{}, r...)
			t[i] = k
			add(Replacement, t, suffix)
		}
	}
	for _, g := range asciiGlyphs {
		from := []rune(g[0])
		for i := 0; i+len(from) <= len(r); i++ {
			if string(r[i:i+len(from)]) == g[0] {
				t := append(append(append([]rune{}, r[:i]...), []rune(g[1])...), r[i+len(from):]...)
				add(Homoglyph, t, suffix)
			}
		}
	}
	whole, allConfusable := []rune{}, len(r) > 0
	for i, c := range r {
		for _, u := range unicodeGlyphs[c] {
			t := append([]rune{}, r...)
			t[i] = u
			add(IDNHomoglyph, t, suffix)
		}
		if alt := unicodeGlyphs[c]; len(alt) > 0 && isCyrillic(alt[0]) {
			whole = append(whole, alt[0])
		} else if c == '-' || c >= '0' && c <= '9' {
			whole = append(whole, c)
		} else {
			allConfusable = false
		}
	}
	if allConfusable { // a whole-script lookalike ("аррӏе" for apple) passes mixed-script checks
		add(IDNHomoglyph, whole, suffix)
	}
	for i := 1; i < len(r); i++ {
		if r[i-1] != '-' && r[i] != '-' {
			add(Hyphenation, with(i, '-'), suffix)
		}
	}
	for _, tld := range otherTLDs {
		add(OtherTLD, r, tld)
	}
	return out, nil
}

// splitDomain checks domain and returns its registrable name (in Unicode,
// lower case) and its public suffix (in ASCII).
func splitDomain(domain string) (name, suffix string, err error) {
	const op = "campaign.domains"
	bad := func(format string, args ...any) (string, string, error) {
		return "", "", vigil.FieldError(op, "domain", format, args...)
	}
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
	if d == "" {
		return bad("give the campaign's domain, such as smithforsenate.com")
	}
	if len(d) > maxLookalikeInput || !utf8.ValidString(d) {
		return bad("not a domain name")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return bad("%q has no top-level domain; give the full domain, such as smithforsenate.com", clip(d))
	}
	ascii := make([]string, len(labels))
	for i, l := range labels {
		u, err := toUnicodeLabel(l)
		if err != nil {
			return bad("label %q is not valid Punycode", clip(l))
		}
		labels[i] = u
		a, ok := hostLabel(u)
		if !ok {
			return bad("label %q is not a valid hostname label (letters, digits and inner hyphens, at most 63)", clip(l))
		}
		ascii[i] = a
	}
	n := 1
	if secondLevel[labels[len(labels)-2]+"."+labels[len(labels)-1]] {
		n = 2
	}
	if len(labels) <= n {
		return bad("%q is a public suffix; give the campaign's own domain", clip(d))
	}
	return labels[len(labels)-n-1], strings.Join(ascii[len(labels)-n:], "."), nil
}

// hostLabel returns the ASCII form of a label and whether it is a valid
// hostname label.
func hostLabel(label string) (string, bool) {
	for _, c := range label {
		if c >= 0x80 {
			if !isLetterish(c) {
				return "", false
			}
		} else if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return "", false
		}
	}
	a, err := toASCIILabel(label)
	if err != nil || a == "" || len(a) > 63 || a[0] == '-' || a[len(a)-1] == '-' {
		return "", false
	}
	// "ab--" labels are reserved for IDNA; only our own encoding may use them.
	if len(a) >= 4 && a[2:4] == "--" && (a == label || !strings.HasPrefix(a, acePrefix)) {
		return "", false
	}
	return a, true
}

// isLetterish admits the non-ASCII characters a hostname label may carry
// before Punycode: lower-case letters, digits and combining marks.
func isLetterish(c rune) bool {
	return (unicode.IsLetter(c) && !unicode.IsUpper(c)) || unicode.IsDigit(c) || unicode.IsMark(c)
}

func mustASCII(label string) string {
	a, _ := toASCIILabel(label)
	return a
}

func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

var keyboardRows = []string{"1234567890-", "qwertyuiop", "asdfghjkl", "zxcvbnm"}

// neighbours returns the keys next to c on a US QWERTY keyboard that may
// appear in a hostname, in a fixed order.
func neighbours(c rune) []rune {
	for row, keys := range keyboardRows {
		i := strings.IndexRune(keys, c)
		if i < 0 {
			continue
		}
		var out []rune
		pick := func(r, j int) {
			if r >= 0 && r < len(keyboardRows) && j >= 0 && j < len(keyboardRows[r]) {
				out = append(out, rune(keyboardRows[r][j]))
			}
		}
		pick(row-1, i)
		pick(row-1, i+1)
		pick(row, i-1)
		pick(row, i+1)
		pick(row+1, i-1)
		pick(row+1, i)
		return out
	}
	return nil
}

func vowelSwaps(c rune) []rune {
	const vowels = "aeiouy"
	if !strings.ContainsRune(vowels, c) {
		return nil
	}
	var out []rune
	for _, v := range vowels {
		if v != c {
			out = append(out, v)
		}
	}
	return out
}

// asciiGlyphs are ASCII sequences that read alike in common fonts.
var asciiGlyphs = [][2]string{
	{"m", "rn"}, {"rn", "m"}, {"nn", "m"}, {"w", "vv"}, {"vv", "w"}, {"d", "cl"}, {"cl", "d"},
	{"l", "1"}, {"1", "l"}, {"i", "1"}, {"l", "i"}, {"i", "l"}, {"o", "0"}, {"0", "o"},
	{"g", "q"}, {"q", "g"}, {"b", "6"}, {"s", "5"}, {"z", "2"}, {"e", "3"},
}

// unicodeGlyphs maps an ASCII letter to Unicode letters that look like it:
// Cyrillic first (whole-script lookalikes use the first entry when it is
// Cyrillic), then Greek, Latin and IPA lookalikes, then accented forms.
var unicodeGlyphs = map[rune][]rune{
	'a': {'а', 'ɑ', 'à', 'á', 'â', 'ä'},
	'b': {'ь'},
	'c': {'с', 'ç'},
	'd': {'ԁ'},
	'e': {'е', 'é', 'è', 'ê', 'ë'},
	'g': {'ɡ'},
	'h': {'һ'},
	'i': {'і', 'í', 'ì', 'ï'},
	'j': {'ј'},
	'k': {'κ'},
	'l': {'ӏ'},
	'n': {'ո', 'ñ'},
	'o': {'о', 'ο', 'ó', 'ò', 'ö', 'ô'},
	'p': {'р', 'ρ'},
	'q': {'ԛ'},
	's': {'ѕ'},
	'u': {'υ', 'ú', 'ù', 'ü'},
	'v': {'ν', 'ѵ'},
	'w': {'ԝ'},
	'x': {'х'},
	'y': {'у', 'ý'},
}

func isCyrillic(r rune) bool { return r >= 0x0400 && r <= 0x052F }
