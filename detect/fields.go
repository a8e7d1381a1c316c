package detect

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-elections/vigil"
)

// item is what a rule counts: an event, or one element of the event's
// payload array when the rule says `each`.
type item struct {
	ev      *vigil.Event
	payload any // decoded payload (nil when absent or not JSON)
	elem    any // the element of the Each array
}

// decodePayload decodes an event's payload once; numbers stay exact.
func decodePayload(ev *vigil.Event) any {
	if len(ev.Payload) == 0 {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(ev.Payload)))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// lookup walks a dotted path inside a decoded JSON value.
func lookup(v any, path []string) (any, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, v != nil
}

func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// get returns a field's value as text. Field names are checked by the
// parser (fieldRe); an unknown or missing field is ("", false).
func (it *item) get(field string) (string, bool) {
	ev := it.ev
	switch field {
	case "type":
		return string(ev.Type), true
	case "actor":
		return ev.Actor, true
	case "role":
		return string(ev.Role), true
	case "scope":
		return string(ev.Scope), true
	case "key":
		return ev.Key, true
	case "origin":
		return ev.Origin, true
	case "id":
		return ev.ID, true
	case "county":
		for _, f := range []string{"item.county", "payload.county"} {
			if v, ok := it.get(f); ok && v != "" {
				return v, true
			}
		}
		if v, ok := it.get("payload.target"); ok {
			if c := vigil.Scope(v).County(); c != "" {
				return c, true
			}
		}
		c := ev.Scope.County()
		return c, c != ""
	case "place":
		for _, f := range []string{"item.place", "payload.place"} {
			if v, ok := it.get(f); ok && v != "" {
				return v, true
			}
		}
		parts := strings.Split(string(ev.Scope), "/")
		if len(parts) == 4 && parts[2] == "place" {
			return parts[3], true
		}
		return "", false
	}
	root, rest, _ := strings.Cut(field, ".")
	var v any
	var ok bool
	switch root {
	case "payload":
		v, ok = lookup(it.payload, strings.Split(rest, "."))
	case "item":
		v, ok = lookup(it.elem, strings.Split(rest, "."))
	}
	if !ok {
		return "", false
	}
	return text(v)
}

// items unrolls an event for a rule: one item, or one per element of the
// rule's Each array (none when the array is missing or empty).
func items(ev *vigil.Event, payload any, each string) []item {
	if each == "" {
		return []item{{ev: ev, payload: payload}}
	}
	path := strings.Split(each, ".")[1:]
	var arr any = payload
	if len(path) > 0 {
		arr, _ = lookup(payload, path)
	}
	list, _ := arr.([]any)
	out := make([]item, 0, len(list))
	for _, e := range list {
		out = append(out, item{ev: ev, payload: payload, elem: e})
	}
	return out
}

func (c Cond) match(it *item) bool {
	v, ok := it.get(c.Field)
	switch c.Op {
	case "exists":
		return ok && v != ""
	case "=":
		return ok && strings.EqualFold(v, c.Values[0])
	case "!=":
		return !ok || !strings.EqualFold(v, c.Values[0])
	case "~":
		return ok && strings.Contains(strings.ToLower(v), strings.ToLower(c.Values[0]))
	case "in", "!in":
		in := false
		for _, x := range c.Values {
			in = in || (ok && strings.EqualFold(v, x))
		}
		return in == (c.Op == "in")
	}
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return false
	}
	switch c.Op {
	case ">":
		return f > c.Num
	case ">=":
		return f >= c.Num
	case "<":
		return f < c.Num
	case "<=":
		return f <= c.Num
	}
	return false
}

// groupKey names an item's group: "county=ADAMS actor=clerk1". Values are
// normalized (upper case, single spaces) so that "12 Main St" and
// "12  MAIN ST" are one address.
func groupKey(it *item, fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	var b strings.Builder
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(' ')
		}
		v, _ := it.get(f)
		if len(v) > maxGroupValue {
			v = strings.ToValidUTF8(v[:maxGroupValue], "") + "…"
		}
		b.WriteString(shortName(f))
		b.WriteByte('=')
		b.WriteString(strings.Join(strings.Fields(strings.ToUpper(v)), "_"))
	}
	return b.String()
}

// maxGroupValue bounds one value in a group key: values can come from
// input (a user name typed at the login page).
const maxGroupValue = 128

func shortName(field string) string {
	if i := strings.LastIndex(field, "."); i >= 0 {
		return field[i+1:]
	}
	return field
}

// timeField reads a timestamp field (RFC 3339).
func (it *item) timeField(field string) (time.Time, bool) {
	v, ok := it.get(field)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}
