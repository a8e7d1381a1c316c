package vigil

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// A log entry's events are read far more often than anything else (every
// projection applies every entry), and a voter import's entries are
// megabytes of payload: encoding/json reads each line twice (it checks
// the whole line, then scans the payload again to copy it). decodeEvent
// reads a line in the exact form MarshalEntry writes in one pass, and
// gives up (ok false) on anything else, for encoding/json to decide: an
// escape in a field, a field out of order or missing, a payload that is
// not an object or an array, whitespace. What it accepts, encoding/json
// reads to the same Event (FuzzDecodeEvent); what it rejects is read as
// before, errors included.

// decodeEvent reads one line of an entry.
func decodeEvent(line []byte) (ev Event, ok bool) {
	d := eventDecoder{b: line}
	var s string
	if s, ok = d.field(`{"id":`); !ok {
		return ev, false
	}
	ev.ID = s
	if ev.Origin, ok = d.field(`,"origin":`); !ok {
		return ev, false
	}
	if ev.Actor, ok = d.field(`,"actor":`); !ok {
		return ev, false
	}
	if s, ok = d.field(`,"role":`); !ok {
		return ev, false
	}
	ev.Role = Role(s)
	if d.has(`,"scope":`) {
		if s, ok = d.field(`,"scope":`); !ok {
			return ev, false
		}
		ev.Scope = Scope(s)
	}
	if s, ok = d.field(`,"type":`); !ok {
		return ev, false
	}
	ev.Type = EventType(s)
	if !d.has(`,"time":"`) {
		return ev, false
	}
	d.i += len(`,"time":`)
	start := d.i
	if _, ok = d.str(); !ok || ev.Time.UnmarshalJSON(d.b[start:d.i]) != nil {
		return ev, false
	}
	if d.has(`,"key":`) {
		if ev.Key, ok = d.field(`,"key":`); !ok {
			return ev, false
		}
	}
	if d.has(`,"payload":`) {
		d.i += len(`,"payload":`)
		if d.i >= len(d.b) || (d.b[d.i] != '{' && d.b[d.i] != '[') {
			return ev, false
		}
		start := d.i
		if !d.value(0) {
			return ev, false
		}
		ev.Payload = append(json.RawMessage(nil), d.b[start:d.i]...)
	}
	return ev, d.i == len(d.b)-1 && d.b[d.i] == '}'
}

type eventDecoder struct {
	b []byte
	i int
}

func (d *eventDecoder) has(prefix string) bool {
	return bytes.HasPrefix(d.b[d.i:], []byte(prefix))
}

// field reads prefix and a string without escapes.
func (d *eventDecoder) field(prefix string) (string, bool) {
	if !d.has(prefix) {
		return "", false
	}
	d.i += len(prefix)
	return d.str()
}

// str reads a string without escapes, in valid UTF-8 (encoding/json
// would replace invalid bytes).
func (d *eventDecoder) str() (string, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			s := d.b[start:j]
			if !ascii && !utf8.Valid(s) {
				return "", false
			}
			d.i = j + 1
			return string(s), true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// maxFastDepth bounds the nesting decodeEvent follows; deeper payloads are
// left to encoding/json (which allows 10,000 levels).
const maxFastDepth = 200

// value checks one JSON value without surrounding whitespace, as
// encoding/json's scanner would.
func (d *eventDecoder) value(depth int) bool {
	if d.i >= len(d.b) || depth > maxFastDepth {
		return false
	}
	switch c := d.b[d.i]; c {
	case '{', '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		d.i++
		d.ws()
		if d.i < len(d.b) && d.b[d.i] == closing {
			d.i++
			return true
		}
		for {
			if c == '{' {
				if !d.anyString() {
					return false
				}
				d.ws()
				if d.i >= len(d.b) || d.b[d.i] != ':' {
					return false
				}
				d.i++
				d.ws()
			}
			if !d.value(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.b) {
				return false
			}
			switch d.b[d.i] {
			case ',':
				d.i++
				d.ws()
			case closing:
				d.i++
				return true
			default:
				return false
			}
		}
	case '"':
		return d.anyString()
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		return d.number()
	}
}

func (d *eventDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *eventDecoder) literal(s string) bool {
	if !d.has(s) {
		return false
	}
	d.i += len(s)
	return true
}

// anyString checks a string with any escapes; like encoding/json's
// scanner, it allows any byte from 0x20 up, valid UTF-8 or not.
func (d *eventDecoder) anyString() bool {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return false
	}
	for j := d.i + 1; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			j++
			if j >= len(d.b) {
				return false
			}
			switch d.b[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(d.b) {
					return false
				}
				for _, h := range d.b[j+1 : j+5] {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return false
					}
				}
				j += 4
			default:
				return false
			}
		}
	}
	return false
}

func (d *eventDecoder) digits() int {
	n := 0
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *eventDecoder) number() bool {
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	if d.i >= len(d.b) {
		return false
	}
	if d.b[d.i] == '0' {
		d.i++
	} else if d.digits() == 0 {
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

// validJSON is json.Valid, in one fast pass for the usual payload (an
// object or array without surrounding whitespace).
func validJSON(b []byte) bool {
	if len(b) > 0 && (b[0] == '{' || b[0] == '[') {
		d := eventDecoder{b: b}
		if d.value(0) && d.i == len(b) {
			return true
		}
	}
	return json.Valid(b)
}

// appendEvent appends ev as json.Marshal writes it, without
// encoding/json's reflection and its second pass over the payload (it
// compacts and escapes a json.RawMessage); ok is false when ev needs
// that: a field with bytes that JSON escapes, a payload that is not
// already compact and escaped, or not valid. The caller then uses
// json.Marshal, which also reports the errors.
func appendEvent(b []byte, ev *Event) (_ []byte, ok bool) {
	for _, s := range []string{ev.ID, ev.Origin, ev.Actor, string(ev.Role), string(ev.Scope), string(ev.Type), ev.Key} {
		if !plainText(s) {
			return b, false
		}
	}
	if len(ev.Payload) > 0 && !compactPayload(ev.Payload) {
		return b, false
	}
	t, err := ev.Time.MarshalJSON()
	if err != nil {
		return b, false
	}
	b = append(b, `{"id":"`...)
	b = append(b, ev.ID...)
	b = append(b, `","origin":"`...)
	b = append(b, ev.Origin...)
	b = append(b, `","actor":"`...)
	b = append(b, ev.Actor...)
	b = append(b, `","role":"`...)
	b = append(b, ev.Role...)
	if ev.Scope != "" {
		b = append(b, `","scope":"`...)
		b = append(b, ev.Scope...)
	}
	b = append(b, `","type":"`...)
	b = append(b, ev.Type...)
	b = append(b, `","time":`...)
	b = append(b, t...)
	if ev.Key != "" {
		b = append(b, `,"key":"`...)
		b = append(b, ev.Key...)
		b = append(b, '"')
	}
	if len(ev.Payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, ev.Payload...)
	}
	return append(b, '}'), true
}

// plainText reports whether json.Marshal writes s between quotes as it is.
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// compactPayload reports whether p is a valid JSON object or array that
// json.Marshal would copy unchanged: no whitespace outside strings, none
// of the characters it escapes for HTML (<, >, &, U+2028, U+2029).
func compactPayload(p []byte) bool {
	if p[0] != '{' && p[0] != '[' {
		return false
	}
	in := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '<', '>', '&':
			return false
		case 0xE2:
			if i+2 < len(p) && p[i+1] == 0x80 && (p[i+2] == 0xA8 || p[i+2] == 0xA9) {
				return false
			}
		case '"':
			in = !in
		case '\\':
			if in {
				i++ // the escaped byte; \u's hex digits pass as they are
			}
		case ' ', '\t', '\n', '\r':
			if !in {
				return false
			}
		}
	}
	d := eventDecoder{b: p}
	return d.value(0) && d.i == len(p)
}
