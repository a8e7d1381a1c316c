package voter

import (
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// parseDate reads a date written in format f. It is lenient where state
// files are inconsistent and strict where a mistake would be silent:
//
//   - a trailing time of day is ignored ("3/4/1990 12:00:00 AM",
//     "1993-11-12T00:00:00");
//   - a value that is only a time of day ("12:00:00 AM", what a
//     spreadsheet writes for an empty date) is treated as blank;
//   - a bare four-digit year is a year-only date, and so is a date whose
//     month or day is 00 (the state does not know it);
//   - when the value does not fit f but has an unambiguous other shape
//     (dashes with the year first, slashes), that shape is used;
//   - anything else, and any impossible day, is an error.
func parseDate(s string, f DateFormat) (vigil.Date, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return vigil.Date{}, true
	}
	if isTimeOfDay(s) {
		return vigil.Date{}, true
	}
	if i := strings.IndexAny(s, " T"); i > 0 && isTimeOfDay(s[i+1:]) {
		s = s[:i]
	}
	if len(s) == 4 && digits(s) {
		y := atoi(s)
		return vigil.Date{Year: y}, y > 0
	}
	if d, ok := parseDateAs(s, f); ok {
		return d, true
	}
	for _, g := range []DateFormat{DateISO, DateMDY, DateYMD, DateMDYPlain} {
		if g == f {
			continue
		}
		if d, ok := parseDateAs(s, g); ok {
			return d, true
		}
	}
	return vigil.Date{}, false
}

func isTimeOfDay(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "AM"), "PM")
	s = strings.TrimSuffix(strings.TrimSpace(s), "Z")
	if s == "" || strings.Count(s, ":") < 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

func parseDateAs(s string, f DateFormat) (vigil.Date, bool) {
	var y, m, d int
	switch f {
	case DateISO:
		a, b, c, ok := split3(s, '-')
		if !ok || len(a) != 4 {
			return vigil.Date{}, false
		}
		y, m, d = atoi(a), atoi(b), atoi(c)
	case DateMDY:
		sep := byte('/')
		if strings.IndexByte(s, '/') < 0 {
			sep = '-'
		}
		a, b, c, ok := split3(s, sep)
		if !ok || len(c) != 4 {
			return vigil.Date{}, false
		}
		m, d, y = atoi(a), atoi(b), atoi(c)
	case DateYMD:
		if len(s) != 8 || !digits(s) {
			return vigil.Date{}, false
		}
		y, m, d = atoi(s[:4]), atoi(s[4:6]), atoi(s[6:])
	case DateMDYPlain:
		if len(s) != 8 || !digits(s) {
			return vigil.Date{}, false
		}
		m, d, y = atoi(s[:2]), atoi(s[2:4]), atoi(s[4:])
	default:
		return vigil.Date{}, false
	}
	if y <= 0 || m < 0 || d < 0 || m > 12 {
		return vigil.Date{}, false
	}
	if m == 0 || d == 0 {
		// An unknown month or day ("19960300") keeps the year only.
		return vigil.Date{Year: y}, true
	}
	date := vigil.Date{Year: y, Month: time.Month(m), Day: d}
	return date, date.Valid()
}

// split3 splits s into three non-empty digit runs of at most four digits.
func split3(s string, sep byte) (a, b, c string, ok bool) {
	i := strings.IndexByte(s, sep)
	if i <= 0 {
		return
	}
	j := strings.IndexByte(s[i+1:], sep)
	if j <= 0 {
		return
	}
	a, b, c = s[:i], s[i+1:i+1+j], s[i+2+j:]
	for _, p := range []string{a, b, c} {
		if p == "" || len(p) > 4 || !digits(p) {
			return "", "", "", false
		}
	}
	return a, b, c, true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a short run of ASCII digits; callers check digits first.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
