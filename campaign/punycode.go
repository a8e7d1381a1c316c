package campaign

import (
	"errors"
	"math"
	"strings"
	"unicode/utf8"
)

// Punycode (RFC 3492) with the parameters of IDNA. Only what lookalike
// generation needs: encoding a label to its "xn--" form and decoding one
// back. No IDNA mapping or validity tables are applied (golang.org/x/net/idna
// is not a dependency of this module); labels are lower-cased by the caller.

const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
	acePrefix     = "xn--"
)

var errPunycode = errors.New("punycode: invalid input")

// maxPunyRunes bounds labels both ways; DNS labels are at most 63 octets,
// so nothing real comes near it.
const maxPunyRunes = 256

func pcAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcThreshold(k, bias int) int {
	switch {
	case k <= bias:
		return pcTMin
	case k >= bias+pcTMax:
		return pcTMax
	}
	return k - bias
}

// punyEncode returns the Punycode of s (without the "xn--" prefix).
func punyEncode(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", errPunycode
	}
	runes := []rune(s)
	if len(runes) > maxPunyRunes {
		return "", errPunycode // the decoder's bound, so every encoding decodes
	}
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := pcInitialN, 0, pcInitialBias
	for h < len(runes) {
		m := math.MaxInt32
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		if (m - n) > (math.MaxInt32-delta)/(h+1) {
			return "", errPunycode
		}
		delta += (m - n) * (h + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
				if delta < 0 {
					return "", errPunycode
				}
			}
			if int(r) == n {
				q := delta
				for k := pcBase; ; k += pcBase {
					t := pcThreshold(k, bias)
					if q < t {
						break
					}
					out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
					q = (q - t) / (pcBase - t)
				}
				out = append(out, pcDigit(q))
				bias = pcAdapt(delta, h+1, h == b)
				delta = 0
				h++
			}
		}
		delta++
		n++
	}
	return string(out), nil
}

// punyDecode decodes Punycode (without the "xn--" prefix).
func punyDecode(s string) (string, error) {
	var out []rune
	pos := 0
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		for _, c := range []byte(s[:i]) {
			if c >= 0x80 {
				return "", errPunycode
			}
			out = append(out, rune(c))
		}
		pos = i + 1
	}
	n, i, bias := pcInitialN, 0, pcInitialBias
	for pos < len(s) {
		oldi, w := i, 1
		for k := pcBase; ; k += pcBase {
			if pos >= len(s) {
				return "", errPunycode
			}
			c := s[pos]
			pos++
			var digit int
			switch {
			case c >= 'a' && c <= 'z':
				digit = int(c - 'a')
			case c >= 'A' && c <= 'Z':
				digit = int(c - 'A')
			case c >= '0' && c <= '9':
				digit = int(c-'0') + 26
			default:
				return "", errPunycode
			}
			if digit > (math.MaxInt32-i)/w {
				return "", errPunycode
			}
			i += digit * w
			t := pcThreshold(k, bias)
			if digit < t {
				break
			}
			if w > math.MaxInt32/(pcBase-t) {
				return "", errPunycode
			}
			w *= pcBase - t
		}
		bias = pcAdapt(i-oldi, len(out)+1, oldi == 0)
		if i/(len(out)+1) > math.MaxInt32-n {
			return "", errPunycode
		}
		n += i / (len(out) + 1)
		i %= len(out) + 1
		if n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF || n < 0x80 {
			return "", errPunycode
		}
		out = append(out, 0)
		copy(out[i+1:], out[i:])
		out[i] = rune(n)
		i++
		if len(out) > maxPunyRunes {
			return "", errPunycode
		}
	}
	return string(out), nil
}

// toASCIILabel returns label itself when it is ASCII, else its "xn--" form.
func toASCIILabel(label string) (string, error) {
	for i := 0; i < len(label); i++ {
		if label[i] >= 0x80 {
			p, err := punyEncode(label)
			if err != nil {
				return "", err
			}
			return acePrefix + p, nil
		}
	}
	return label, nil
}

// toUnicodeLabel decodes an "xn--" label; other labels are returned as they are.
func toUnicodeLabel(label string) (string, error) {
	p, ok := strings.CutPrefix(strings.ToLower(label), acePrefix)
	if !ok {
		return label, nil
	}
	u, err := punyDecode(p)
	if err != nil {
		return "", err
	}
	// A label must not decode to plain ASCII or re-encode differently:
	// such labels are not canonical and would hide a different name.
	if back, err := toASCIILabel(u); err != nil || back != strings.ToLower(label) {
		return "", errPunycode
	}
	return u, nil
}
